"""Every protected route of the API and the access it needs: the table the authorizer builds its policy from,
without importing the app (deployed, the authorizer is a Lambda of its own). Router.route refuses, when a route
is declared, any protected route missing here or declared with another access level, so the two cannot drift;
a test checks that every entry is declared."""

from __future__ import annotations

from chalicelib.domain.enums import Access

PROTECTED: dict[tuple[str, str], Access] = {
    ("/api/admin/events", "GET"): Access.STAFF,
    ("/api/admin/log", "GET"): Access.STAFF,
    ("/api/admin/users", "GET"): Access.STAFF,
    ("/api/admin/users", "POST"): Access.STAFF,
    ("/api/admin/users/{user_id}", "GET"): Access.STAFF,
    ("/api/admin/users/{user_id}", "PATCH"): Access.STAFF,
    ("/api/bookings/{booking_id}/cancel", "POST"): Access.SIGNED_IN,
    ("/api/bookings/{booking_id}/refund", "POST"): Access.CREATOR,
    ("/api/events", "POST"): Access.CREATOR,
    ("/api/events/{event_id}", "DELETE"): Access.CREATOR,
    ("/api/events/{event_id}", "PATCH"): Access.CREATOR,
    ("/api/events/{event_id}/bookings", "GET"): Access.CREATOR,
    ("/api/events/{event_id}/bookings", "POST"): Access.SIGNED_IN,
    ("/api/events/{event_id}/queue", "GET"): Access.SIGNED_IN,
    ("/api/events/{event_id}/queue", "POST"): Access.SIGNED_IN,
    ("/api/me", "GET"): Access.SIGNED_IN,
    ("/api/me", "PATCH"): Access.SIGNED_IN,
    ("/api/me/bookings", "GET"): Access.SIGNED_IN,
    ("/api/me/calendar", "GET"): Access.SIGNED_IN,
    ("/api/me/calendar", "POST"): Access.SIGNED_IN,
    ("/api/me/events", "GET"): Access.CREATOR,
    ("/api/me/logout-all", "POST"): Access.SIGNED_IN,
    ("/api/me/notifications", "GET"): Access.SIGNED_IN,
    ("/api/me/notifications", "PATCH"): Access.SIGNED_IN,
    ("/api/me/password", "POST"): Access.SIGNED_IN,
    ("/api/uploads", "POST"): Access.SIGNED_IN,
}
