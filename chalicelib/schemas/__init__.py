"""Request and response schemas, declared once (pydantic v2) and validated at the edge."""
