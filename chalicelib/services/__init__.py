"""Services: the marketplace's rules as plain functions over primitives and repositories."""
