"""The kinds of notification the marketplace sends, and which of them a user may turn off."""

from __future__ import annotations

# Sent whatever the preferences say: each tells the recipient of a change to their own booking or event.
TRANSACTIONAL = (
    "booking_confirmed",
    "waitlist_joined",
    "waitlist_promoted",
    "payment_received",
    "hold_expired",
    "booking_cancelled",
    "event_changed",
    "event_cancelled",
)
# Optional kinds, each by the preference (NotificationPreferences field) that turns it off.
OPTIONAL = {"reminder": "reminders", "digest": "digest"}
KINDS = (*TRANSACTIONAL, *OPTIONAL)
