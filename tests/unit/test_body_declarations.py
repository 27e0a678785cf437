"""Each request body's schema is named where its route is declared (a lazy reference: pydantic loads only when a
body is validated, which keeps the cold start) and in its view's annotation (for the type checker). This holds
the two to one schema, so that neither can name another."""

import inspect

import app as app_module
from chalicelib.http.contract import OPERATIONS


def test_every_views_data_annotation_names_the_schema_its_route_declares():
    checked = 0
    for operation in OPERATIONS:
        if operation.body is None:
            continue
        entry = app_module.app.routes[operation.path][operation.method]
        view = inspect.unwrap(entry.view_function)
        annotation = view.__annotations__["data"]
        name = annotation if isinstance(annotation, str) else annotation.__name__
        assert name == operation.body.name, (operation.method, operation.path)
        # The module the view imports it from (for type checking only) is the one the route loads it from.
        source = inspect.getsource(inspect.getmodule(view))
        assert f"from chalicelib.schemas.{operation.body.module} import" in source, (operation.method, operation.path)
        checked += 1
    assert checked >= 10
