"""Shared test helpers: fakes, factories and clients."""
