"""Environment for every test: set before the app is imported, since settings load at cold start."""

from devstack.inprocess import configure_environment

TEST_SIGNING_KEY = "test-signing-key-that-is-long-enough-0123456789"

configure_environment(TEST_SIGNING_KEY)
