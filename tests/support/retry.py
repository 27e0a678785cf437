"""What a transient failure's Retry-After may say (chalicelib.http.responses.TRANSIENT_RETRY_AFTER: 1 to 3 s, at
random, so that a crowd refused together does not come back together)."""

RETRY_AFTER = frozenset({"1", "2", "3"})
