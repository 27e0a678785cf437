"""HTTP: Chalice blueprints with thin routes, request parsing, and the one place errors become responses.

Every route's declaration loads with the app (Chalice needs the whole route table), but a view imports its
services inside its body: a cold start then loads the code of the route it serves, not of every route
(`tests/e2e/test_cold_path.py` checks it)."""
