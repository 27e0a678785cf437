"""Lambda entry point: builds the Sessions Marketplace API."""

from chalicelib.http.application import build_app

app = build_app()
