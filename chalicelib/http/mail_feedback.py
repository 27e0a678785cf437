"""SES's bounce and complaint notifications, delivered by SNS (logical id MailFeedback): each permanently
bouncing or complaining recipient is suppressed, so no mail is sent to it again (services.mail_feedback)."""

from __future__ import annotations

from typing import Any

from chalice.app import Blueprint

from chalicelib.logs import lambda_handler

mail_feedback_bp = Blueprint(__name__)


@mail_feedback_bp.lambda_function(name="mail_feedback")
@lambda_handler("mail_feedback")
def mail_feedback(event: dict[str, Any], context: Any) -> dict[str, int]:
    """Record the suppressions an SNS delivery carries; a store failure raises, and Lambda retries."""
    # Imported here: the API's functions load this module with the app, never the feedback's code.
    from chalicelib import bootstrap
    from chalicelib.services import mail_feedback as service

    return service.handle_sns_event(event, bootstrap.suppressions())
