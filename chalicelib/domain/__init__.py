"""The marketplace's entities and their rules, free of HTTP and DynamoDB: plain dataclasses and enumerations,
one module per family so that a route loads only the entities it handles (each dataclass costs about a
millisecond to create at a cold start)."""
