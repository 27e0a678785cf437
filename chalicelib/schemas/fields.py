"""Reusable field types with DRF's validation messages."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from functools import cache
from importlib import resources
from typing import Annotated, Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BeforeValidator, Field
from pydantic_core import PydanticCustomError

from chalicelib.domain.users import normalize_username
from chalicelib.ids import is_valid_id
from chalicelib.services.uploads import MAX_BYTES

USERNAME_RE = re.compile(r"\A[\w.@+-]+\Z")
EMAIL_RE = re.compile(r"\A[^@\s]+@[^@\s]+\.[^@\s.]+\Z")
MAX_URL = 2000
# C0 and C1 controls but tab and newlines (which multi-line text keeps), and DEL.
CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
SURROGATE_RE = re.compile(r"[\ud800-\udfff]")
# ASCII digits only: Decimal() and int() also read other scripts' digits ("١٢"), which we do not store.
PRICE_RE = re.compile(r"\A[+-]?[0-9]{1,12}(\.[0-9]+)?\Z")
EXCERPT = 40


def fail(message: str) -> PydanticCustomError:
    """A validation error whose message is shown to the client as is."""
    return PydanticCustomError("drf", message, {"message": message})


def excerpt(value: Any) -> str:
    """A short, printable excerpt of a client's value for an error message: never the whole of a huge value."""
    text = value if isinstance(value, str) else type(value).__name__
    text = CONTROL_RE.sub("?", SURROGATE_RE.sub("?", text))
    return text if len(text) <= EXCERPT else text[: EXCERPT - 1] + "…"


def _clean(text: str, *, multiline: bool) -> str:
    # DRF's own validators for these two, with its wording; other control characters have no place in text.
    if "\x00" in text:
        raise fail("Null characters are not allowed.")
    surrogate = SURROGATE_RE.search(text)
    if surrogate:
        raise fail(f"Surrogate characters are not allowed: U+{ord(surrogate.group()):X}.")
    if CONTROL_RE.search(text) or (not multiline and re.search(r"[\t\n\r]", text)):
        raise fail("Control characters are not allowed.")
    return text


def _text(value: Any, *, blank: bool, strip: bool, multiline: bool = False) -> str:
    if value is None:
        raise fail("This field may not be null.")
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise fail("Not a valid string.")
    text = str(value)
    if strip:
        text = text.strip()
    if not blank and text == "":
        raise fail("This field may not be blank.")
    return _clean(text, multiline=multiline)


def _required_text(value: Any) -> str:
    return _text(value, blank=False, strip=True)


def _required_multiline(value: Any) -> str:
    return _text(value, blank=False, strip=True, multiline=True)


def _optional_text(value: Any) -> str:
    return _text(value, blank=True, strip=True)


def _optional_multiline(value: Any) -> str:
    return _text(value, blank=True, strip=True, multiline=True)


def _secret_text(value: Any) -> str:
    # Passwords and tokens are taken as typed (no trimming, any printable or control character) except what
    # cannot be stored or hashed: NUL and lone surrogates, which have no UTF-8 form.
    if value is None:
        raise fail("This field may not be null.")
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise fail("Not a valid string.")
    text = str(value)
    if text == "":
        raise fail("This field may not be blank.")
    if "\x00" in text:
        raise fail("Null characters are not allowed.")
    surrogate = SURROGATE_RE.search(text)
    if surrogate:
        raise fail(f"Surrogate characters are not allowed: U+{ord(surrogate.group()):X}.")
    return text


# DRF CharField behaviour: trimmed, and not blank unless the field allows it.
REQUIRED_TEXT = BeforeValidator(_required_text)
OPTIONAL_TEXT = BeforeValidator(_optional_text)


def _username(value: str) -> str:
    value = normalize_username(value)
    if not USERNAME_RE.match(value):
        raise fail("Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters.")
    return value


def _email(value: str) -> str:
    if value and not EMAIL_RE.match(value):
        raise fail("Enter a valid email address.")
    return value


def _https_url(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        parts = urlsplit(value)
    except ValueError:
        parts = None
    if parts is None or parts.scheme != "https" or not parts.hostname or re.search(r"\s", value):
        raise fail("Enter a valid https URL.")
    if parts.username is not None or parts.password is not None:
        # A link shown to other people must not carry someone's credentials.
        raise fail("Enter a URL without a user name or password.")
    return value


def _upload_id(value: Any) -> str | None:
    # Images are this API's own, checked, uploads; a link to an image elsewhere is not accepted any more.
    if value is None:
        return None
    if not isinstance(value, str) or not is_valid_id(value):
        raise fail("Enter the id of an upload (POST /api/uploads/).")
    return value


def _no_image_yet(value: Any) -> None:
    if value is not None:
        raise fail("An event's image is added once it exists: POST /api/uploads/ for it, then PATCH it.")


def _nullable_text(value: Any) -> Any:
    if value is None:
        return None
    return _text(value, blank=False, strip=True)


def _datetime(value: Any) -> datetime | None:
    if value is None:
        return None
    message = (
        "Datetime has wrong format. Use one of these formats instead: YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]."
    )
    if not isinstance(value, str):
        raise fail(message)
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise fail(message) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except (OverflowError, ValueError):
        raise fail(message) from None


@cache
def _zone_names() -> frozenset[str]:
    # The IANA names tzdata lists (zones and their links): not the files a system's zoneinfo folder also
    # holds (`localtime`, `posixrules`, `right/...`, `posix/...`), nor `Factory`, which is no place's time.
    names = resources.files("tzdata").joinpath("zones").read_text(encoding="utf-8").split()
    return frozenset(names) - {"Factory"}


def _timezone(value: Any) -> str:
    if not isinstance(value, str) or value not in _zone_names():
        raise fail("A valid timezone is required.")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise fail("A valid timezone is required.") from None
    return value


def _category(value: Any) -> str | None:
    from chalicelib.domain.search import CATEGORY_SLUGS

    if value is None:
        return None
    if not isinstance(value, str) or value not in CATEGORY_SLUGS:
        raise fail(f'"{excerpt(value)}" is not a valid choice.')
    return value


def _tags(value: Any) -> tuple[str, ...]:
    from chalicelib.domain.search import normalize_tags

    if value is None:
        raise fail("This field may not be null.")
    if not isinstance(value, list) or not all(isinstance(tag, str) for tag in value):
        raise fail("Expected a list of strings.")
    try:
        return normalize_tags([_clean(tag, multiline=False) for tag in value])
    except ValueError as exc:
        raise fail(str(exc)) from None


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise fail("Must be a valid boolean.")
    return value


def _not_boolean(value: Any) -> Any:
    # JSON true and false are no numbers (pydantic would read them as 1 and 0).
    if isinstance(value, bool):
        raise fail("A valid integer is required.")
    return value


def _price(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise fail("A valid number is required.")
    text = str(value).strip()
    if not PRICE_RE.match(text):
        raise fail("A valid number is required.")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise fail("A valid number is required.") from None
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        raise fail("Ensure that there are no more than 2 decimal places.")
    if amount < 0:
        raise fail("Ensure this value is greater than or equal to 0.")
    if amount > Decimal("1000000"):
        raise fail("Ensure this value is less than or equal to 1000000.")
    # `-0` is zero: stored and shown as 0.00, never -0.00.
    return abs(amount).quantize(Decimal("0.01"))


# ISO 4217 codes of currencies in circulation.
CURRENCIES = frozenset(
    """AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN BZD CAD CDF
    CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL
    HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL
    MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON
    RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH
    UGX USD UYU UZS VES VND VUV WST XAF XCD XOF XPF YER ZAR ZMW ZWL""".split()
)


def _currency(value: Any) -> str:
    if not isinstance(value, str) or value not in CURRENCIES:
        raise fail(f'"{excerpt(value)}" is not a valid choice.')
    return value


Username = Annotated[str, Field(max_length=150), REQUIRED_TEXT, AfterValidator(_username)]
Email = Annotated[str, Field(max_length=254), REQUIRED_TEXT, AfterValidator(_email)]
# Accounts made by staff may have no e-mail address: blank is allowed, and means none.
OptionalEmail = Annotated[str, Field(max_length=254), OPTIONAL_TEXT, AfterValidator(_email)]
HttpsUrl = Annotated[
    Annotated[str, Field(max_length=MAX_URL)] | None, BeforeValidator(_nullable_text), AfterValidator(_https_url)
]
When = Annotated[datetime | None, BeforeValidator(_datetime)]
UploadId = Annotated[
    Annotated[str, Field(pattern="^[0-7][0-9A-HJKMNP-TV-Z]{25}$")] | None,
    Field(description="The id of an upload of the caller's (POST /api/uploads/); null removes the image."),
    BeforeValidator(_upload_id),
]
NoImageYet = Annotated[
    None, Field(description="Only null: an image is added once the event exists."), BeforeValidator(_no_image_yet)
]
TimeZoneName = Annotated[str, BeforeValidator(_timezone)]
Capacity = Annotated[Annotated[int, Field(ge=1, le=100_000)] | None, BeforeValidator(_not_boolean)]
# How many seat counters share an event's bookings (domain.events.MAX_SEAT_SHARDS; docs/dynamodb.md).
SeatShards = Annotated[int, Field(ge=1, le=32), BeforeValidator(_not_boolean)]
FileSize = Annotated[int, Field(ge=1, le=MAX_BYTES), BeforeValidator(_not_boolean)]
Price = Annotated[Decimal, BeforeValidator(_price)]
Currency = Annotated[str, BeforeValidator(_currency)]
Password = Annotated[str, BeforeValidator(_secret_text)]
# What a password-reset link carries (a user id, a token): taken as typed, and far shorter than this.
LinkPart = Annotated[str, Field(max_length=200), BeforeValidator(_secret_text)]
Title = Annotated[str, Field(max_length=255), REQUIRED_TEXT]
Description = Annotated[str, Field(max_length=10_000), BeforeValidator(_required_multiline)]
Location = Annotated[str, Field(max_length=255), OPTIONAL_TEXT]
# The organizer page's text: one line, and plain text over lines (shown as text, never as markup); "" clears.
DisplayName = Annotated[str, Field(max_length=60), OPTIONAL_TEXT]
Bio = Annotated[str, Field(max_length=500), BeforeValidator(_optional_multiline)]
Category = Annotated[
    str | None,
    Field(description="One of GET /api/categories/'s slugs, or null."),
    BeforeValidator(_category),
]
Tags = Annotated[
    tuple[str, ...],
    Field(description="At most 5 tags: folded to lower case, spaces as hyphens, letters, digits and hyphens."),
    BeforeValidator(_tags),
]
City = Annotated[str, Field(max_length=80), OPTIONAL_TEXT]
Online = Annotated[bool, BeforeValidator(_boolean)]
