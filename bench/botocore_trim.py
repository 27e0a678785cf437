"""Prototype (research for the cold start, not used by the app yet): a trimmed botocore data folder for a
DynamoDB-only function, to be found through botocore's documented data search path (AWS_DATA_PATH, or the
`data_path` config variable), which botocore searches before its own bundled models.

    python -m bench.botocore_trim OUT [--plain] [--endpoints] [--operations GetItem,Query,...]

writes OUT/dynamodb/<version>/service-2.json.gz holding only the operations the function calls and the shapes
they reach, without documentation (the bulk of the file). --plain writes uncompressed JSON instead. --endpoints
also writes OUT/endpoints.json with only DynamoDB's entries; see the caveat in `trimmed_endpoints`.

Nothing in botocore is patched: a model found first on the search path is simply the one botocore loads.
If adopted, this belongs in deploy/ and runs at package time against the botocore version the layer ships."""

from __future__ import annotations

import argparse
import gzip
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

# What the app (through pynamodb) calls on the request paths, and DescribeTable, which pynamodb uses when a
# model checks its table.
OPERATIONS = (
    "GetItem",
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "Query",
    "BatchGetItem",
    "TransactWriteItems",
    "TransactGetItems",
    "DescribeTable",
)
SERVICE = "dynamodb"


def _loader() -> Any:
    import botocore.loaders

    # Only botocore's own data: a previous trimmed folder on AWS_DATA_PATH must not feed the next one.
    return botocore.loaders.Loader(include_default_search_paths=False, extra_search_paths=[_builtin_data()])


def _builtin_data() -> str:
    import botocore.loaders

    return str(botocore.loaders.Loader.BUILTIN_DATA_PATH)


def _shape_refs(shape: dict[str, Any]) -> Iterable[str]:
    for key in ("member", "key", "value"):
        if key in shape:
            yield shape[key]["shape"]
    for member in shape.get("members", {}).values():
        yield member["shape"]


def trimmed_service_model(model: dict[str, Any], operations: Iterable[str]) -> dict[str, Any]:
    """The service model with only `operations`, the shapes they reach (input, output, errors) and no docs."""
    wanted = list(operations)
    missing = [name for name in wanted if name not in model["operations"]]
    if missing:
        raise SystemExit(f"not operations of {SERVICE}: {', '.join(missing)}")
    kept_operations = {}
    pending: list[str] = []
    for name in wanted:
        operation = {k: v for k, v in model["operations"][name].items() if k != "documentation"}
        kept_operations[name] = operation
        for ref in ("input", "output"):
            if ref in operation:
                pending.append(operation[ref]["shape"])
        pending.extend(error["shape"] for error in operation.get("errors", []))
    shapes: dict[str, Any] = {}
    while pending:
        name = pending.pop()
        if name in shapes:
            continue
        shape = _without_docs(model["shapes"][name])
        shapes[name] = shape
        pending.extend(_shape_refs(shape))
    metadata = dict(model["metadata"])
    return {
        "version": model.get("version", "2.0"),
        "metadata": metadata,
        "operations": kept_operations,
        "shapes": shapes,
    }


def _without_docs(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_docs(v) for k, v in value.items() if k != "documentation"}
    if isinstance(value, list):
        return [_without_docs(v) for v in value]
    return value


def trimmed_endpoints(endpoints: dict[str, Any]) -> dict[str, Any]:
    """endpoints.json with only DynamoDB's service entries in each partition.

    Caveat: botocore treats an endpoints.json found outside its own folder as customer data and then hands the
    legacy-resolved URL to the endpoint ruleset as a fixed endpoint, which turns off the ruleset's own choices
    (account-based DynamoDB endpoints, for one). Measured, not recommended (see the research notes)."""
    partitions = []
    for partition in endpoints["partitions"]:
        kept = dict(partition)
        kept["services"] = {k: v for k, v in partition["services"].items() if k == SERVICE}
        partitions.append(kept)
    return {**endpoints, "partitions": partitions}


def generate(out: Path, operations: Iterable[str] = OPERATIONS, compress: bool = True, endpoints: bool = False) -> Path:
    """Write the trimmed data folder to `out` (for AWS_DATA_PATH) and return it."""
    loader = _loader()
    version = loader.determine_latest_version(SERVICE, "service-2")
    model = loader.load_data(f"{SERVICE}/{version}/service-2")
    folder = out / SERVICE / version
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("service-2.json*"):
        stale.unlink()
    payload = json.dumps(trimmed_service_model(model, operations), separators=(",", ":")).encode()
    if compress:
        # mtime=0 keeps the output byte-identical between builds.
        (folder / "service-2.json.gz").write_bytes(gzip.compress(payload, mtime=0))
    else:
        (folder / "service-2.json").write_bytes(payload)
    if endpoints:
        data = trimmed_endpoints(loader.load_data("endpoints"))
        (out / "endpoints.json").write_text(json.dumps(data, separators=(",", ":")))
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("--plain", action="store_true", help="uncompressed service-2.json")
    parser.add_argument("--endpoints", action="store_true", help="also a DynamoDB-only endpoints.json")
    parser.add_argument("--operations", default=",".join(OPERATIONS))
    args = parser.parse_args(argv)
    generate(args.out, args.operations.split(","), compress=not args.plain, endpoints=args.endpoints)
    print(args.out)


if __name__ == "__main__":
    main()
