"""Request schemas (pydantic v2) with DRF messages, validated at the edge; loaded only when a request with a
body is served (answers are described by http/views.py)."""
