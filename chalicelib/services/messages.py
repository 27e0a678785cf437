"""The notification e-mails: for each kind of notification, its subject, plain text and HTML, from what happened.

Pure: no I/O and no clock (the caller gives `now`, the calendar file and the unsubscribe link), so that a message
retried by the delivery reads as the first attempt did. Titles, places and links are user input: the HTML escapes
every one of them and links only http(s) addresses. Times are shown in the event's zone and, when that reads
differently, in the recipient's, as the web app does."""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from chalicelib.domain.enums import BookingStatus, CancelReason, RefundStatus
from chalicelib.domain.money import major_units
from chalicelib.ports.mail import Attachment, MailMessage

if TYPE_CHECKING:
    from collections.abc import Callable

    from chalicelib.domain.bookings import Booking
    from chalicelib.domain.events import Event
    from chalicelib.domain.users import User

SITE_NAME = "Sessions Marketplace"
# Messages people may turn off, which alone carry List-Unsubscribe: the others are about their own bookings.
UNSUBSCRIBABLE = frozenset({"reminder", "digest"})
CHANGES = ("starts_at", "ends_at", "location", "online_url")
ICS_TYPE = "text/calendar; method=PUBLISH"

# The words of the web app (web/app/components.js, REFUNDS), so that the e-mail and the page agree.
NOT_REFUNDABLE = "Not refunded: under the refund policy, a seat cancelled this close to the start is not refunded."
REFUND_FAILED = "The refund could not be made automatically: our staff will settle it with you."
NOTHING_PAID = "Nothing was paid for this booking, so there is nothing to refund."

# English names whatever the process's locale (strftime's %a and %b follow it).
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class DigestLine:
    """One event of the creator in a digest: its bookings and cancellations since the last digest."""

    event: Event
    booked: int
    cancelled: int


@dataclass(frozen=True)
class MessageContext:
    """What a notification message is made from. `recipient_timezone`: the reader's IANA zone (times also shown
    in it when they read differently); `ics`: attached as `<slug>.ics`; `unsubscribe_url`: reminders and digests
    only; `changes`: event_changed, the fields that changed (CHANGES); `digest`: the digest's events."""

    kind: str
    recipient: User
    event: Event
    booking: Booking | None
    web_app_url: str
    now: datetime
    recipient_timezone: str | None = None
    ics: str | None = None
    unsubscribe_url: str | None = None
    changes: tuple[str, ...] = ()
    digest: tuple[DigestLine, ...] = ()


@dataclass(frozen=True)
class _Link:
    label: str
    url: str


_Part = str | _Link


@dataclass(frozen=True)
class _Para:
    parts: tuple[_Part, ...]


@dataclass(frozen=True)
class _Button:
    label: str
    url: str


@dataclass(frozen=True)
class _Items:
    items: tuple[tuple[_Part, ...], ...]


_Block = _Para | _Button | _Items


@dataclass(frozen=True)
class _Mail:
    subject: str
    heading: str
    blocks: tuple[_Block, ...]
    footer: tuple[_Para, ...] = ()


def render(ctx: MessageContext) -> MailMessage:
    """The e-mail for `ctx`. ValueError for an unknown kind, a recipient without an address, and a context the kind
    cannot be told from (a promotion without a held or confirmed booking, a receipt without a payment, a change
    without known changes, a reminder without a start time, an empty digest)."""
    build = _KINDS.get(ctx.kind)
    if build is None:
        raise ValueError(f"unknown message kind: {ctx.kind!r}")
    if not ctx.recipient.email:
        raise ValueError("the recipient has no e-mail address")
    mail = build(ctx)
    attachments: tuple[Attachment, ...] = ()
    if ctx.ics is not None:
        attachments = (Attachment(f"{_slug(ctx.event.title)}.ics", ICS_TYPE, ctx.ics.encode()),)
    headers: tuple[tuple[str, str], ...] = ()
    if ctx.kind in UNSUBSCRIBABLE and ctx.unsubscribe_url:
        # RFC 8058: a mail client's one-click "unsubscribe" POSTs to the link, no page to open.
        headers = (
            ("List-Unsubscribe", f"<{ctx.unsubscribe_url}>"),
            ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
        )
    greeting = _Para((f"Hello {ctx.recipient.username},",))
    return MailMessage(
        to=ctx.recipient.email,
        subject=mail.subject,
        text=_text(greeting, mail),
        html=_html(greeting, mail),
        attachments=attachments,
        headers=headers,
    )


# The kinds.


def _booking_confirmed(ctx: MessageContext) -> _Mail:
    title = _title(ctx.event)
    blocks: list[_Block] = [_Para((f"Your seat at {title} is confirmed.",)), *_details(ctx)]
    if ctx.ics is not None:
        blocks.append(_Para(("The attached calendar file puts the event in your calendar.",)))
    blocks += [_Button("See the event", _event_url(ctx)), _bookings_para(ctx, "See or cancel your bookings: ")]
    return _Mail(f"Booking confirmed: {title}", "Your seat is confirmed", tuple(blocks), _about_booking(ctx))


def _waitlist_joined(ctx: MessageContext) -> _Mail:
    title = _title(ctx.event)
    blocks: list[_Block] = [
        _Para((f"{title} is full: you are on its waitlist. We will write to you when a seat frees up.",)),
    ]
    if ctx.event.paid:
        blocks.append(_Para(("The seat is then held for you for a short time, to pay for it.",)))
    blocks += [
        *_details(ctx),
        _Button("See the event", _event_url(ctx)),
        _bookings_para(ctx, "You can leave the waitlist from your bookings: "),
    ]
    return _Mail(f"You're on the waitlist: {title}", "You're on the waitlist", tuple(blocks), _about_booking(ctx))


def _waitlist_promoted(ctx: MessageContext) -> _Mail:
    booking = ctx.booking
    title = _title(ctx.event)
    if booking is not None and booking.status is BookingStatus.CONFIRMED:
        blocks: list[_Block] = [
            _Para((f"A seat freed up at {title} and it is yours: your booking is confirmed.",)),
            *_details(ctx),
        ]
        if ctx.ics is not None:
            blocks.append(_Para(("The attached calendar file puts the event in your calendar.",)))
        blocks += [_Button("See the event", _event_url(ctx)), _bookings_para(ctx, "See or cancel your bookings: ")]
        return _Mail(f"A seat is yours: {title}", "A seat is yours", tuple(blocks), _about_booking(ctx))
    if booking is None or booking.status is not BookingStatus.PENDING_PAYMENT or booking.payment is None:
        raise ValueError("waitlist_promoted needs a confirmed booking or one held for its payment")
    payment = booking.payment
    deadline = booking.hold_expires_at
    hold = "It is held for you for a short time."
    if deadline is not None:
        zone = _zone(ctx.recipient_timezone) or _event_zone(ctx.event)
        hold = f"It is held for you until {_moment(deadline, zone)} ({zone.key}){_left(deadline, ctx.now)}."
    amount = _amount(payment.amount, payment.currency)
    blocks = [
        _Para((f"A seat freed up at {title} and it is yours if you pay for it. {hold}",)),
        _Para(("Pay in time to keep it: after that, the seat is released.",)),
        _Button(f"Pay {amount}", booking.checkout_url or _event_url(ctx)),
        *_details(ctx),
        _Para(("Event page: ", _Link(_event_url(ctx), _event_url(ctx)))),
    ]
    return _Mail(f"A seat is yours, pay to keep it: {title}", "A seat is yours", tuple(blocks), _about_booking(ctx))


def _payment_received(ctx: MessageContext) -> _Mail:
    booking = _required_booking(ctx)
    payment = booking.payment
    if payment is None:
        raise ValueError("payment_received needs a booking with a payment")
    title = _title(ctx.event)
    paid = _amount(payment.refund_amount, payment.paid_currency or payment.currency)
    zone = _zone(ctx.recipient_timezone) or ZoneInfo("UTC")
    lead = f"We received your payment for {title}."
    if booking.status is BookingStatus.CONFIRMED:
        lead += " Your seat is confirmed."
    blocks: list[_Block] = [
        _Para((lead,)),
        _Items(
            (
                (f"Amount: {paid}",),
                ("Event: ", _Link(title, _event_url(ctx))),
                (f"Booking: {booking.id}",),
                (f"Date: {_moment(ctx.now, zone)} ({zone.key})",),
            )
        ),
        *_details(ctx),
        _bookings_para(ctx, "Your bookings: "),
    ]
    return _Mail(f"Payment received: {title}", "Receipt", tuple(blocks), _about_booking(ctx))


def _hold_expired(ctx: MessageContext) -> _Mail:
    title = _title(ctx.event)
    blocks: list[_Block] = [
        _Para((f"The seat held for you at {title} was not paid for in time, so it was released.",)),
        _Para(("Nothing was charged. If seats are left, you can book again from the event page.",)),
        _Button("See the event", _event_url(ctx)),
    ]
    return _Mail(f"Your held seat was released: {title}", "Your hold ended", tuple(blocks), _about_booking(ctx))


_CANCELLED_BY = {
    CancelReason.OWNER: "As you asked, your booking for {title} is cancelled.",
    CancelReason.ORGANIZER: "The organizer of {title} cancelled your booking.",
    CancelReason.STAFF: "Our staff cancelled your booking for {title}.",
    CancelReason.EVENT_CANCELLED: "{title} was cancelled, and your booking with it.",
    CancelReason.CHECKOUT_CANCELLED: "You left the payment page, so the seat held for you at {title} was released.",
    CancelReason.HOLD_EXPIRED: "The seat held for you at {title} was not paid for in time, so it was released.",
}


def _booking_cancelled(ctx: MessageContext) -> _Mail:
    booking = _required_booking(ctx)
    title = _title(ctx.event)
    reason = booking.cancel_reason
    said = _CANCELLED_BY[reason] if reason is not None else "Your booking for {title} is cancelled."
    blocks: list[_Block] = [_Para((said.format(title=title),))]
    refund = _refund(ctx, booking)
    if refund is not None:
        blocks.append(_Para((refund,)))
    blocks += [_Button("See the event", _event_url(ctx)), _bookings_para(ctx, "Your bookings: ")]
    return _Mail(f"Booking cancelled: {title}", "Your booking is cancelled", tuple(blocks), _about_booking(ctx))


def _event_changed(ctx: MessageContext) -> _Mail:
    unknown = set(ctx.changes) - set(CHANGES)
    if unknown or not ctx.changes:
        raise ValueError(f"event_changed needs changes among {CHANGES}, not {sorted(unknown)}")
    event, title = ctx.event, _title(ctx.event)
    items: list[tuple[_Part, ...]] = []
    if {"starts_at", "ends_at"} & set(ctx.changes):
        items.append(("New time: " + "\n".join(_times(ctx)),))
    if "location" in ctx.changes:
        items.append((f"New place: {event.location}",) if event.location else ("The event no longer has a place.",))
    if "online_url" in ctx.changes:
        if event.online_url is None:
            items.append(("The event no longer has an online link.",))
        elif _online_visible(ctx):
            items.append(("New online link: ", _Link(event.online_url, event.online_url)))
        else:
            items.append(("The online link changed: it is shown on the event page once your seat is paid.",))
    blocks: list[_Block] = [
        _Para((f"The organizer changed {title}:",)),
        _Items(tuple(items)),
        _Para(("Your booking stays as it is. If the change does not suit you, you can cancel it.",)),
        _Button("See the event", _event_url(ctx)),
        _bookings_para(ctx, "Your bookings: "),
    ]
    return _Mail(f"Event changed: {title}", "The event changed", tuple(blocks), _about_booking(ctx))


def _event_cancelled(ctx: MessageContext) -> _Mail:
    title = _title(ctx.event)
    when = _times(ctx)
    planned = f", planned for {when[0]}," if ctx.event.starts_at is not None else ""
    blocks: list[_Block] = [_Para((f"{title}{planned} was cancelled, and your booking with it.",))]
    booking = ctx.booking
    payment = booking.payment if booking is not None else None
    if payment is not None and payment.payment_intent is not None:
        paid = _amount(payment.refund_amount, payment.paid_currency or payment.currency)
        blocks.append(_Para((f"As the event is cancelled, your payment of {paid} is refunded in full.",)))
    refund = _refund(ctx, booking) if booking is not None else None
    if refund is not None:
        blocks.append(_Para((refund,)))
    blocks += [
        _Para(("We are sorry. Other events are waiting for you:",)),
        _Button("Find another event", f"{_base(ctx)}/events"),
    ]
    return _Mail(f"Event cancelled: {title}", "The event is cancelled", tuple(blocks), _about_booking(ctx))


def _reminder(ctx: MessageContext) -> _Mail:
    starts_at = ctx.event.starts_at
    if starts_at is None:
        raise ValueError("a reminder needs the event's start time")
    title = _title(ctx.event)
    starts = _starts(_aware(starts_at) - _aware(ctx.now))
    blocks: list[_Block] = [
        _Para((f"{title} {starts}.",)),
        *_details(ctx),
        _Button("See the event", _event_url(ctx)),
        _bookings_para(ctx, "Can't make it? Cancel from your bookings, so someone else gets the seat: "),
    ]
    footer = _unsubscribe(ctx, "You receive reminders of the events you booked.", "Stop reminders")
    return _Mail(f"Reminder: {title} {starts}", "Reminder", tuple(blocks), footer)


def _digest(ctx: MessageContext) -> _Mail:
    if not ctx.digest:
        raise ValueError("a digest needs at least one event")
    booked = sum(line.booked for line in ctx.digest)
    cancelled = sum(line.cancelled for line in ctx.digest)
    items = tuple(
        (
            _Link(_title(line.event), f"{_base(ctx)}/dashboard/events/{quote(line.event.id, safe='')}/attendees"),
            f": +{line.booked} booked, \u2212{line.cancelled} cancelled ({_seats(line.event)})",
        )
        for line in ctx.digest
    )
    blocks: list[_Block] = [
        _Para(("New bookings and cancellations on your events since the last digest:",)),
        _Items(items),
        _Button("Your dashboard", f"{_base(ctx)}/dashboard"),
    ]
    footer = _unsubscribe(ctx, "You receive a daily digest of the events you organize.", "Stop digests")
    subject = f"Your daily digest: {_count(booked, 'new booking')}, {_count(cancelled, 'cancellation')}"
    return _Mail(subject, "Your daily digest", tuple(blocks), footer)


_KINDS: dict[str, Callable[[MessageContext], _Mail]] = {
    "booking_confirmed": _booking_confirmed,
    "waitlist_joined": _waitlist_joined,
    "waitlist_promoted": _waitlist_promoted,
    "payment_received": _payment_received,
    "hold_expired": _hold_expired,
    "booking_cancelled": _booking_cancelled,
    "event_changed": _event_changed,
    "event_cancelled": _event_cancelled,
    "reminder": _reminder,
    "digest": _digest,
}
KINDS = tuple(_KINDS)


# What the kinds share.


def _title(event: Event) -> str:
    # One line: a title is also the subject, where a line break would start a header.
    return " ".join(event.title.split())


def _base(ctx: MessageContext) -> str:
    return ctx.web_app_url.rstrip("/")


def _event_url(ctx: MessageContext) -> str:
    return f"{_base(ctx)}/events/{quote(ctx.event.id, safe='')}"


def _bookings_para(ctx: MessageContext, lead: str) -> _Para:
    return _Para((lead, _Link("My bookings", f"{_base(ctx)}/bookings")))


def _required_booking(ctx: MessageContext) -> Booking:
    if ctx.booking is None:
        raise ValueError(f"{ctx.kind} needs the booking")
    return ctx.booking


def _about_booking(ctx: MessageContext) -> tuple[_Para, ...]:
    return (
        _Para((f"You receive this e-mail about your booking on {SITE_NAME}. It cannot be turned off.",)),
        _Para(("Notification settings: ", _Link("your profile", f"{_base(ctx)}/profile"))),
    )


def _unsubscribe(ctx: MessageContext, why: str, stop: str) -> tuple[_Para, ...]:
    paras = [_Para((why,))]
    if ctx.unsubscribe_url:
        paras.append(
            _Para(
                (
                    _Link(stop, ctx.unsubscribe_url),
                    ", or change your settings on ",
                    _Link("your profile", f"{_base(ctx)}/profile"),
                    ".",
                )
            )
        )
    else:
        paras.append(_Para(("Change your settings on ", _Link("your profile", f"{_base(ctx)}/profile"), ".")))
    return tuple(paras)


def _details(ctx: MessageContext) -> list[_Block]:
    """When and where, with the online link for those allowed to see it."""
    event = ctx.event
    blocks: list[_Block] = [_Para(("When: " + "\n".join(_times(ctx)),))]
    if event.location:
        blocks.append(_Para((f"Where: {event.location}",)))
    if event.online_url is not None:
        if _online_visible(ctx):
            blocks.append(_Para(("Online: ", _Link(event.online_url, event.online_url))))
        else:
            blocks.append(_Para(("Online: the link is shown on the event page once your seat is paid.",)))
    return blocks


def _online_visible(ctx: MessageContext) -> bool:
    # As Event.shown_to: a paid event's link is what people pay for, seen only with a confirmed seat.
    return not ctx.event.paid or (ctx.booking is not None and ctx.booking.status is BookingStatus.CONFIRMED)


def _refund(ctx: MessageContext, booking: Booking) -> str | None:
    """Where the money of a booking that no longer counts stands; None when there was never any at stake."""
    payment = booking.payment
    if payment is None or payment.payment_intent is None:
        return NOTHING_PAID if ctx.event.paid or payment is not None else None
    paid = _amount(payment.refund_amount, payment.paid_currency or payment.currency)
    status = payment.refund_status
    if status is RefundStatus.SUCCEEDED:
        return f"Refunded: your payment of {paid} has been returned."
    if status is RefundStatus.NOT_REFUNDABLE:
        return NOT_REFUNDABLE
    if status is RefundStatus.FAILED:
        return REFUND_FAILED
    return f"Refund in progress: your payment of {paid} is being returned."


def _amount(minor: int, currency: str) -> str:
    return f"{major_units(minor, currency):,} {currency.upper()}"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _seats(event: Event) -> str:
    if event.capacity is None:
        return f"{_count(event.seats_booked, 'seat')} booked"
    return f"{event.seats_booked} of {event.capacity} seats booked"


def _starts(ahead: timedelta) -> str:
    minutes = int(ahead.total_seconds() // 60)
    if minutes <= 0:
        return "has started"
    if minutes < 90:
        return f"starts in {_count(minutes, 'minute')}"
    return f"starts in about {round(minutes / 60)} hours"


def _left(deadline: datetime, now: datetime) -> str:
    minutes = int((_aware(deadline) - _aware(now)).total_seconds() // 60)
    if minutes < 0:
        return ""
    return ", less than a minute from now" if minutes == 0 else f", {_count(minutes, 'minute')} from now"


# Time.


def _zone(name: str | None) -> ZoneInfo | None:
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None  # a zone the reader's settings name wrongly: their time is left out, not the message


def _event_zone(event: Event) -> ZoneInfo:
    return _zone(event.timezone) or ZoneInfo("UTC")


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _moment(moment: datetime, zone: ZoneInfo) -> str:
    """ "Tue 8 Dec 2026, 18:00" in `zone`."""
    local = _aware(moment).astimezone(zone)
    return f"{DAYS[local.weekday()]} {local.day} {MONTHS[local.month - 1]} {local.year}, {local:%H:%M}"


def _span(start: datetime, end: datetime | None, zone: ZoneInfo) -> str:
    first = _moment(start, zone)
    if end is None:
        return first
    last = _moment(end, zone)
    if first.split(", ")[0] == last.split(", ")[0]:
        return f"{first}\u2013{last.split(', ')[1]}"  # the same day: "18:00–20:00"
    return f"{first} \u2013 {last}"


def _times(ctx: MessageContext) -> list[str]:
    """The event's time in its zone and, when it reads differently there, in the recipient's."""
    event = ctx.event
    if event.starts_at is None:
        return ["to be announced"]
    zone = _event_zone(event)
    own = _span(event.starts_at, event.ends_at, zone)
    times = [f"{own} ({zone.key})"]
    reader = _zone(ctx.recipient_timezone)
    if reader is not None:
        theirs = _span(event.starts_at, event.ends_at, reader)
        if theirs != own:
            times.append(f"{theirs} your time ({reader.key})")
    return times


def _slug(title: str) -> str:
    plain = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-")[:60].strip("-") or "event"


# Text and HTML.


def _text(greeting: _Para, mail: _Mail) -> str:
    body = [_text_block(greeting), *(_text_block(block) for block in mail.blocks), f"The {SITE_NAME} team"]
    footer = [_text_block(para) for para in mail.footer]
    return "\n\n".join(body) + "\n\n-- \n" + "\n".join(footer) + "\n"


def _text_block(block: _Block) -> str:
    if isinstance(block, _Button):
        return f"{block.label}: {block.url}"
    if isinstance(block, _Items):
        return "\n".join("- " + _text_parts(item).replace("\n", "\n  ") for item in block.items)
    return _text_parts(block.parts).replace("\n", "\n  ")


def _text_parts(parts: tuple[_Part, ...]) -> str:
    return "".join(part if isinstance(part, str) else _text_link(part) for part in parts)


def _text_link(link: _Link) -> str:
    return link.url if link.label == link.url else f"{link.label} <{link.url}>"


FONT = "font-family:-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;"
PAGE = f"max-width:560px;margin:0 auto;padding:24px;{FONT}font-size:16px;line-height:1.5;color:#1f2328;"
LINK = "color:#0b57d0;"
BUTTON = "display:inline-block;padding:10px 18px;border-radius:6px;background:#0b57d0;color:#ffffff;"
BUTTON += "font-weight:600;text-decoration:none;"


def _html(greeting: _Para, mail: _Mail) -> str:
    body = "".join(_html_block(block) for block in (greeting, *mail.blocks))
    footer = "".join(
        f'<p style="margin:0 0 8px;font-size:13px;color:#59636e;">{_html_parts(para.parts)}</p>' for para in mail.footer
    )
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_escape(mail.subject)}</title>\n</head>\n"
        f'<body style="margin:0;padding:0;background:#f6f8fa;">\n<div style="{PAGE}">\n'
        f'<h1 style="margin:0 0 16px;font-size:22px;">{_escape(mail.heading)}</h1>\n{body}'
        f'<p style="margin:0 0 16px;">The {SITE_NAME} team</p>\n'
        f'<hr style="border:none;border-top:1px solid #d1d9e0;margin:24px 0 12px;">\n{footer}\n'
        "</div>\n</body>\n</html>\n"
    )


def _html_block(block: _Block) -> str:
    if isinstance(block, _Button):
        if not _web(block.url):
            return f'<p style="margin:0 0 16px;">{_escape(block.label)}: {_escape(block.url)}</p>\n'
        button = f'<a href="{_escape(block.url)}" style="{BUTTON}">{_escape(block.label)}</a>'
        return f'<p style="margin:24px 0;">{button}</p>\n'
    if isinstance(block, _Items):
        items = "".join(f'<li style="margin:0 0 6px;">{_html_parts(item)}</li>' for item in block.items)
        return f'<ul style="margin:0 0 16px;padding-left:20px;">{items}</ul>\n'
    return f'<p style="margin:0 0 16px;">{_html_parts(block.parts)}</p>\n'


def _html_parts(parts: tuple[_Part, ...]) -> str:
    return "".join(_escape(part) if isinstance(part, str) else _html_link(part) for part in parts)


def _html_link(link: _Link) -> str:
    if not _web(link.url):
        return _escape(_text_link(link))  # shown, never a link: a javascript: address is not followed
    return f'<a href="{_escape(link.url)}" style="{LINK}">{_escape(link.label)}</a>'


def _web(url: str) -> bool:
    try:
        return urlsplit(url).scheme in ("http", "https")
    except ValueError:
        return False


def _escape(text: str) -> str:
    return html.escape(text, quote=True).replace("\n", "<br>")
