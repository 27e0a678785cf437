"""Public shapes of domain objects: what the API shows, and nothing else."""

from __future__ import annotations

from typing import Any

from chalicelib.domain import Booking, Event, User, iso


def user_public(user: User) -> dict[str, Any]:
    """A user without the password hash."""
    return {
        "id": user.id,
        "username": user.username,
        "email": user.email,
        "role": user.role.value,
        "avatar": user.avatar,
        "is_staff": user.is_staff,
        "date_joined": iso(user.date_joined),
    }


def event_public(event: Event) -> dict[str, Any]:
    """An event as clients see it."""
    return {
        "id": event.id,
        "title": event.title,
        "description": event.description,
        "creator": event.creator,
        "creator_username": event.creator_username,
        "created_at": iso(event.created_at),
        "updated_at": iso(event.updated_at),
        "starts_at": iso(event.starts_at) if event.starts_at else None,
        "ends_at": iso(event.ends_at) if event.ends_at else None,
        "timezone": event.timezone,
        "capacity": event.capacity,
        "seats_booked": event.seats_booked,
        "price": str(event.price),
        "currency": event.currency,
        "location": event.location,
        "online_url": event.online_url,
        "image": event.image,
        "status": event.status.value,
    }


def booking_public(booking: Booking) -> dict[str, Any]:
    """A booking as its owner, the event's creator and staff see it."""
    return {
        "id": booking.id,
        "event": booking.event_id,
        "user": booking.user_id,
        "username": booking.username,
        "status": booking.status.value,
        "created_at": iso(booking.created_at),
        "cancelled_at": iso(booking.cancelled_at) if booking.cancelled_at else None,
    }


def event_summary(event: Event | None) -> dict[str, Any] | None:
    """What a list of bookings shows of each event."""
    if event is None:
        return None
    return {
        "id": event.id,
        "title": event.title,
        "starts_at": iso(event.starts_at) if event.starts_at else None,
        "ends_at": iso(event.ends_at) if event.ends_at else None,
        "timezone": event.timezone,
        "location": event.location,
        "online_url": event.online_url,
        "status": event.status.value,
    }
