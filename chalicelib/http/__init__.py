"""HTTP: Chalice blueprints with thin routes, request parsing, and the one place errors become responses."""
