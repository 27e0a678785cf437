"""Public shapes of domain objects: what the API shows, and nothing else."""

from __future__ import annotations

from typing import Any

from chalicelib.domain import Event, User, iso


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
