"""bench's in-process setup: devstack's, with its own key and a scratch folder for the e-mails it triggers."""

from __future__ import annotations

import tempfile

from devstack.inprocess import InProcessApi as Api
from devstack.inprocess import configure_environment as _configure

__all__ = ["Api", "configure_environment"]
SIGNING_KEY = "bench-signing-key-that-is-long-enough-0123456789"


def configure_environment() -> None:
    """Set, before the app is imported, what it needs on moto's mock_aws."""
    _configure(SIGNING_KEY, MAIL_DIR=tempfile.mkdtemp(prefix="bench-mail-"))
