"""The caller's notification preferences, one-click unsubscribe links (RFC 8058) and the personal calendar feed.

The unsubscribe link and the feed are public routes: the link carries its own signature, the feed URL its
owner's secret, and neither needs a session (mail clients and calendar apps have none)."""

from __future__ import annotations

import html
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from chalice.app import Blueprint, Response

from chalicelib import bootstrap as deps
from chalicelib.domain.enums import Access
from chalicelib.http.contract import CALENDAR, HTML, InputRef, Parameter
from chalicelib.http.requests import base_path, query_params
from chalicelib.http.routing import Router
from chalicelib.http.views import CALENDAR_FEED, NOTIFICATION_PREFERENCES

if TYPE_CHECKING:
    from chalice.app import Request

    from chalicelib.domain.users import NotificationPreferences
    from chalicelib.schemas.notifications import NotificationPreferencesIn

notifications_bp = Blueprint(__name__)
routes = Router(notifications_bp)

FEED_PATH = "/api/calendar/{token}"
FEED_SUFFIX = ".ics"
UNSUBSCRIBE_PATH = "/api/unsubscribe"  # security.unsubscribe.PATH: the links it makes lead here
UNSUBSCRIBE_QUERY = (
    Parameter("u", {"type": "string"}, "The user's id.", required=True),
    Parameter("k", {"type": "string", "enum": ["reminder", "digest"]}, "The kind of e-mail to stop.", required=True),
    Parameter("s", {"type": "string"}, "The link's signature.", required=True),
)
# The pages load nothing and run no script; the one form posts back to the same address.
PAGE_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
WHAT = {"reminders": "reminders before the events you booked", "digest": "the daily digest of your events"}


def _preferences(preferences: NotificationPreferences) -> dict[str, Any]:
    from chalicelib.domain.notifications import TRANSACTIONAL

    return NOTIFICATION_PREFERENCES.render(
        SimpleNamespace(
            reminders=preferences.reminders,
            digest=preferences.digest,
            timezone=preferences.timezone,
            transactional=TRANSACTIONAL,
        )
    )


@routes.route(
    "/api/me/notifications",
    "GET",
    Access.SIGNED_IN,
    summary="The caller's notification preferences",
    responses={200: NOTIFICATION_PREFERENCES},
)
def get_notifications() -> dict[str, Any]:
    """Which optional e-mails the caller receives, the zone of their e-mails' times, and what is always sent."""
    from chalicelib.services import preferences

    return _preferences(preferences.preferences(deps.users(), routes.caller().user_id))


@routes.route(
    "/api/me/notifications",
    "PATCH",
    Access.SIGNED_IN,
    summary="Turn reminders or the daily digest on or off, or set the zone e-mails show times in",
    body=InputRef("notifications", "NotificationPreferencesIn"),
    body_required=False,
    responses={200: NOTIFICATION_PREFERENCES},
    conflicts=True,
)
def update_notifications(data: NotificationPreferencesIn) -> dict[str, Any]:
    """Change the fields sent; transactional messages cannot be turned off (`transactional` is read-only)."""
    from chalicelib.services import preferences

    changes = data.model_dump(include=data.model_fields_set)
    return _preferences(preferences.update_preferences(deps.users(), routes.caller().user_id, changes))


def _link(request: Request) -> tuple[str, str, str]:
    params = query_params(request)
    return params.get("u", ""), params.get("k", ""), params.get("s", "")


def _page(title: str, *body: str) -> Response:
    text = (
        '<!doctype html>\n<html lang="en">\n<head>\n  <meta charset="utf-8">\n'
        f"  <title>{html.escape(title)}</title>\n"
        '  <meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '  <meta name="robots" content="noindex">\n</head>\n'
        '<body style="font-family: system-ui, sans-serif; max-width: 36rem; margin: 3rem auto; padding: 0 1rem">\n'
        f"  <h1>{html.escape(title)}</h1>\n" + "".join(f"  {part}\n" for part in body) + "</body>\n</html>\n"
    )
    headers: dict[str, str | list[str]] = {
        "Content-Type": f"{HTML}; charset=utf-8",
        "Content-Security-Policy": PAGE_POLICY,
        "Cache-Control": "no-store",
        "Referrer-Policy": "no-referrer",  # the page's address holds the link's signature
    }
    return Response(body=text, status_code=200, headers=headers)


@routes.route(
    UNSUBSCRIBE_PATH,
    "GET",
    summary="The page of a signed unsubscribe link: a button that stops reminders or digests (a GET changes "
    "nothing, since link scanners follow links)",
    query=UNSUBSCRIBE_QUERY,
    responses={200: HTML},
)
def unsubscribe_page() -> Response:
    """A page asking to confirm, whose button POSTs the same link; 400 for a link we did not sign."""
    from chalicelib.services import preferences

    user_id, kind, signature = _link(routes.request)
    preference = preferences.check_unsubscribe_link(
        deps.signing_keys(), user_id=user_id, kind=kind, signature=signature
    )
    return _page(
        "Unsubscribe",
        f"<p>Stop receiving {WHAT[preference]}? Messages about your bookings are still sent.</p>",
        '<form method="post"><button type="submit">Unsubscribe</button></form>',
    )


@routes.route(
    UNSUBSCRIBE_PATH,
    "POST",
    summary="Stop reminders or digests from a signed link: the one-click unsubscribe of RFC 8058 "
    "(`List-Unsubscribe-Post: List-Unsubscribe=One-Click`) and the button of its page",
    query=UNSUBSCRIBE_QUERY,
    responses={200: HTML},
    errors=(404,),
)
def unsubscribe() -> Response:
    """Turn the link's preference off (again harmlessly); 400 for a link we did not sign, 404 for an account
    deleted since. Whatever body a mail client sends is ignored: the link alone says what to do."""
    from chalicelib.services import preferences

    user_id, kind, signature = _link(routes.request)
    preference = preferences.unsubscribe(
        deps.users(), deps.signing_keys(), user_id=user_id, kind=kind, signature=signature
    )
    profile = html.escape(f"{deps.settings().web_app_url}/profile", quote=True)
    return _page(
        "Unsubscribed",
        f"<p>You will no longer receive {WHAT[preference]}.</p>",
        f'<p>You can turn them back on in <a href="{profile}">your profile</a>.</p>',
    )


def _feed_urls(token: str) -> dict[str, Any]:
    request = routes.request
    context = request.context or {}
    origin = deps.settings().public_api_origin or f"https://{context.get('domainName') or 'localhost'}"
    path = FEED_PATH.replace("{token}", token + FEED_SUFFIX)
    url = f"{origin}{base_path(request, '/api/me/calendar')}{path}"
    webcal = "webcal://" + url.split("://", 1)[1]
    return CALENDAR_FEED.render(SimpleNamespace(url=url, webcal_url=webcal))


@routes.route(
    "/api/me/calendar",
    "GET",
    Access.SIGNED_IN,
    summary="The secret URL of the caller's calendar feed (made on first use)",
    responses={200: CALENDAR_FEED},
    conflicts=True,
)
def get_calendar_feed() -> dict[str, Any]:
    """The feed's URL, over https and webcal; anyone holding it reads the caller's booked events."""
    from chalicelib.services import preferences

    return _feed_urls(preferences.calendar_token(deps.users(), routes.caller().user_id))


@routes.route(
    "/api/me/calendar",
    "POST",
    Access.SIGNED_IN,
    summary="A new secret URL for the caller's calendar feed: the previous one stops working",
    responses={200: CALENDAR_FEED},
    conflicts=True,
)
def reset_calendar_feed() -> dict[str, Any]:
    """Replace the feed's secret, for a URL shared by mistake."""
    from chalicelib.services import preferences

    return _feed_urls(preferences.reset_calendar_token(deps.users(), routes.caller().user_id))


@routes.route(
    FEED_PATH,
    "GET",
    summary="A calendar feed (iCalendar, RFC 5545) of its owner's booked events, at the secret URL "
    "`GET /api/me/calendar/` gives (`<token>.ics`); 404 once the URL is reset",
    responses={200: CALENDAR},
)
def calendar_feed(token: str) -> Response:
    """The events of the owner's seats, confirmed or held until paid; the online link with a confirmed seat."""
    from chalicelib.domain.common import utcnow
    from chalicelib.services import preferences

    body = preferences.personal_feed(
        deps.users(),
        deps.bookings(),
        deps.events(),
        token.removesuffix(FEED_SUFFIX),
        web_app_url=deps.settings().web_app_url,
        now=utcnow(),
    )
    headers: dict[str, str | list[str]] = {
        "Content-Type": f"{CALENDAR}; charset=utf-8",
        # The URL is a secret: no shared cache may keep the answer, nor a referrer carry it.
        "Cache-Control": "private, max-age=300",
        "Referrer-Policy": "no-referrer",
    }
    return Response(body=body, status_code=200, headers=headers)
