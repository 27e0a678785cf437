"""The users table: one account per item, and the staff's indexes over them."""

from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.models import Model

from chalicelib.persistence.models import index, table


@table("users")
class UserModel(Model):
    """One account per item, keyed by user id.

    The staff's list of users is sorted by username (`name_sk`) and filtered by any combination of role, staff
    and active flags. An index answers a combination with one Query only if its partition key holds exactly
    those values, so each of the 2^3 combinations has its own index: `by-name` (no filter, partition `ALL`),
    `by-role`, `by-staff`, ..., `by-role-staff-active`, keyed by the `f_...` attributes. `by-email` serves
    searches by e-mail address. Items written before these attributes existed are in none of them."""

    class Meta:
        table_name = "unbound-users"
        billing_mode = "PAY_PER_REQUEST"

    id = UnicodeAttribute(hash_key=True)
    username = UnicodeAttribute()
    email = UnicodeAttribute(default="")
    password_hash = UnicodeAttribute()
    role = UnicodeAttribute()
    is_staff = BooleanAttribute(default=False)
    is_active = BooleanAttribute(default=True)
    avatar = UnicodeAttribute(null=True)
    date_joined = UnicodeAttribute()
    last_login = UnicodeAttribute(null=True)
    version = NumberAttribute(default=1)
    token_gen = NumberAttribute(default=0)
    # A change of e-mail address waiting for its confirmation (all three, or none).
    pending_email = UnicodeAttribute(null=True)
    pending_email_digest = UnicodeAttribute(null=True)
    pending_email_expires = NumberAttribute(null=True)
    # Notification preferences (items stored before them read as the defaults) and the calendar feed's secret.
    notify_reminders = BooleanAttribute(default=True)
    notify_digest = BooleanAttribute(default=True)
    notify_timezone = UnicodeAttribute(null=True)
    calendar_secret = UnicodeAttribute(null=True)
    # The organizer page's text (absent: none given).
    display_name = UnicodeAttribute(null=True)
    bio = UnicodeAttribute(null=True)
    # Index keys: `<identity(username)>#<id>`, `<identity(email)>#<id>` (absent without an e-mail), the
    # partition of every user, and the facet values of each combination (`f_role`: `CREATOR`, ...).
    name_sk = UnicodeAttribute(null=True)
    email_sk = UnicodeAttribute(null=True)
    all_key = UnicodeAttribute(null=True)
    f_role = UnicodeAttribute(null=True)
    f_staff = UnicodeAttribute(null=True)
    f_active = UnicodeAttribute(null=True)
    f_role_staff = UnicodeAttribute(null=True)
    f_role_active = UnicodeAttribute(null=True)
    f_staff_active = UnicodeAttribute(null=True)
    f_role_staff_active = UnicodeAttribute(null=True)

    by_name = index("by-name", "all_key", "name_sk")
    by_email = index("by-email", "all_key", "email_sk")
    by_role = index("by-role", "f_role", "name_sk")
    by_staff = index("by-staff", "f_staff", "name_sk")
    by_active = index("by-active", "f_active", "name_sk")
    by_role_staff = index("by-role-staff", "f_role_staff", "name_sk")
    by_role_active = index("by-role-active", "f_role_active", "name_sk")
    by_staff_active = index("by-staff-active", "f_staff_active", "name_sk")
    by_role_staff_active = index("by-role-staff-active", "f_role_staff_active", "name_sk")
