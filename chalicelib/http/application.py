"""Build the Chalice app: settings checked, tables bound, blueprints and middleware registered."""

from __future__ import annotations

from chalice.app import Chalice

from chalicelib import bootstrap
from chalicelib.http.accounts import accounts_bp
from chalicelib.http.admin import admin_bp
from chalicelib.http.authorizer import authorizer_bp
from chalicelib.http.bookings import bookings_bp
from chalicelib.http.console import console_bp
from chalicelib.http.creators import creators_bp
from chalicelib.http.docs import docs_bp
from chalicelib.http.events import events_bp
from chalicelib.http.health import health_bp
from chalicelib.http.mail_feedback import mail_feedback_bp
from chalicelib.http.me import me_bp
from chalicelib.http.middleware import cors_and_access_log
from chalicelib.http.notifications import notifications_bp
from chalicelib.http.notifier import notifier_bp
from chalicelib.http.payments import payments_bp
from chalicelib.http.queue import queue_bp
from chalicelib.http.rotation import rotation_bp
from chalicelib.http.routing import complete_routes
from chalicelib.http.uploads import uploads_bp
from chalicelib.settings import check_startup, get_settings, running_in_lambda

APP_NAME = "sessions-marketplace"


def build_app() -> Chalice:
    """The app for this stage; in Lambda, raises ConfigurationError at cold start when settings are invalid.

    Tools that only read the routes (`chalice package`, the OpenAPI generator) import it without secrets."""
    settings = get_settings()
    if running_in_lambda():
        check_startup(settings)
    bootstrap.tables()
    app = Chalice(app_name=APP_NAME)
    app.debug = False  # tracebacks never reach clients, in any stage
    blueprints = (
        authorizer_bp,
        health_bp,
        accounts_bp,
        me_bp,
        notifications_bp,
        events_bp,
        creators_bp,
        bookings_bp,
        queue_bp,
        payments_bp,
        uploads_bp,
        admin_bp,
        docs_bp,
        console_bp,
        rotation_bp,
        mail_feedback_bp,
        notifier_bp,
    )
    for blueprint in blueprints:
        app.register_blueprint(blueprint)
    complete_routes(app)
    app.register_middleware(cors_and_access_log(settings.cors_allowed_origins, settings.edge_cache_seconds), "http")
    return app
