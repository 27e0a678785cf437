"""Interfaces the services need from persistence and the outside world, one module per feature; DynamoDB and
AWS implement them (chalicelib.persistence and friends), unit tests fake them (tests/support/fakes.py). Each
method's docstring names the failures it may raise. Split by feature so that a route loads only its own."""
