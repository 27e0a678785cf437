"""Demo data for the local stage: admin, creator_user and user (password `password`) and a few events."""

from __future__ import annotations

from datetime import timedelta

from chalicelib import bootstrap
from chalicelib.domain.access import Principal
from chalicelib.domain.common import utcnow
from chalicelib.domain.enums import Role
from chalicelib.errors import ValidationFailed
from chalicelib.services import accounts, events

DEMO_PASSWORD = "password"
DEMO_USERS = (
    ("admin", "admin@example.com", Role.USER, True),
    ("creator_user", "", Role.CREATOR, False),
    ("user", "user@example.com", Role.USER, False),
)


def seed(rounds: int) -> bool:
    """Create the demo accounts and events once; False when they exist already."""
    users = bootstrap.users()
    if users.get_by_username("creator_user") is not None:
        return False
    created = {}
    for username, email, role, staff in DEMO_USERS:
        try:
            created[username] = accounts.create_user(
                users, username=username, email=email, password=DEMO_PASSWORD, rounds=rounds, role=role, is_staff=staff
            )
        except ValidationFailed:
            existing = users.get_by_username(username)
            assert existing is not None
            created[username] = existing
    creator = created["creator_user"]
    owner = Principal(user_id=creator.id, username=creator.username, role=creator.role, is_staff=False)
    soon = utcnow().replace(minute=0, second=0, microsecond=0) + timedelta(days=7)
    demo_events = [
        {
            "title": "Advanced Django",
            "description": "Deep dive into Django internals",
            "capacity": 30,
            "category": "education",
            "tags": ("python", "django"),
        },
        {
            "title": "Serverless with Chalice",
            "description": "Build an API on Lambda and DynamoDB in an afternoon.",
            "starts_at": soon,
            "ends_at": soon + timedelta(hours=2),
            "capacity": 10,
            "price": "15.00",
            "online_url": "https://meet.example.com/chalice",
            "category": "technology",
            "tags": ("aws", "serverless"),
        },
        {
            "title": "Data modelling for DynamoDB",
            "description": "Access patterns first, tables second.",
            "starts_at": soon + timedelta(days=3),
            "location": "Room 2, Community Hall, Lisbon",
            "category": "technology",
            "tags": ("aws", "dynamodb"),
        },
        {"title": "Unannounced workshop", "description": "Still being planned.", "status": "draft"},
    ]
    for fields in demo_events:
        events.create_event(bootstrap.events(), owner, fields)
    return True
