"""Run by `make checkov` with checkov's own Python: writes the parse tables of the JSONPath grammar checkov uses
(bc_jsonpath_ng's extended parser) where PLY looks for them.

bc_jsonpath_ng builds its LALR tables again on every parse (it never writes them, and would write them where it
does not read them), and checkov parses a path for each attribute it renders: 639 times for one of our templates,
25 of its 28 s. With the tables in place PLY reads them instead, once per process, after checking that their
grammar's signature is the one it is given (a different grammar, after an upgrade, is built as before: slower,
never wrong). checkov's report is the same byte for byte."""

from __future__ import annotations

import os

import ply.yacc
from bc_jsonpath_ng.ext import parser

TABLES = "parser_jsonpath_parsetab"  # the name bc_jsonpath_ng asks PLY for ("<module>_<start symbol>_parsetab")

folder = os.path.dirname(parser.__file__)
ply.yacc.yacc(
    module=parser.ExtentedJsonPathParser(),
    start="jsonpath",
    tabmodule=TABLES,
    outputdir=folder,
    write_tables=True,
    debug=False,
)
print(f"wrote {os.path.join(folder, TABLES)}.py")
