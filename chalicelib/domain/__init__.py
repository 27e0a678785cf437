"""The marketplace's entities and their rules, free of HTTP and DynamoDB: frozen dataclasses and enumerations,
one module per family so that a route loads only the entities it handles (each dataclass costs about a
millisecond to create at a cold start). The small values every route handles (Principal, Page, RateLimits)
are NamedTuples, immutable and typed too, at a quarter of that cost."""
