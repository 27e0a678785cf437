"""Reading a search of the events list from its query parameters: every part checked here, at the edge."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time
from typing import TYPE_CHECKING

from chalicelib.domain.search import (
    CATEGORY_SLUGS,
    MAX_CITY_LENGTH,
    MAX_QUERY_LENGTH,
    SORTS,
    SearchQuery,
    city_key,
    normalize_tag,
    query_words,
)
from chalicelib.errors import ValidationFailed
from chalicelib.http.requests import boolean_param

if TYPE_CHECKING:
    from collections.abc import Mapping

# ASCII digits only: a date in another script's digits is not one this API reads.
DATE = re.compile(r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")
DATE_TIME = re.compile(r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+(Z|[+-][0-9]{2}:[0-9]{2})\Z")
DATE_MESSAGE = "Enter a date (YYYY-MM-DD) or a date and time with its offset (YYYY-MM-DDThh:mm[:ss]Z)."


def _when(params: Mapping[str, str], name: str, *, end_of_day: bool) -> datetime | None:
    raw = params.get(name, "")
    if not raw:
        return None
    try:
        if DATE.match(raw):
            day = datetime.fromisoformat(raw).date()
            if end_of_day:
                return datetime.combine(day, time.max, UTC)
            return datetime.combine(day, time.min, UTC)
        if DATE_TIME.match(raw):
            return datetime.fromisoformat(raw.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        pass
    raise ValidationFailed({name: [DATE_MESSAGE]})


def search_query(params: Mapping[str, str], *, upcoming: bool, now: datetime) -> tuple[SearchQuery, str]:
    """The search the parameters ask for and the scope its cursors are bound to (the parameters as given,
    normalized: `upcoming` stays a word there, so the next page's cursor fits though "now" moved)."""
    errors: dict[str, list[str]] = {}
    q = params.get("q", "")
    words: tuple[str, ...] = ()
    if len(q) > MAX_QUERY_LENGTH:
        errors["q"] = [f"Ensure this field has no more than {MAX_QUERY_LENGTH} characters."]
    elif q.strip():
        words = query_words(q)
        if not words:
            errors["q"] = ["Search for words of at least 3 letters or digits (very common words are left out)."]
    category = params.get("category") or None
    if category is not None and category not in CATEGORY_SLUGS:
        errors["category"] = [f'"{category[:40]}" is not a valid choice.']
    tag = None
    if params.get("tag"):
        try:
            tag = normalize_tag(params["tag"])
        except ValueError as exc:
            errors["tag"] = [str(exc)]
    city = city_key(params.get("city", "")) or None
    if city is not None and len(city) > MAX_CITY_LENGTH:
        errors["city"] = [f"Ensure this field has no more than {MAX_CITY_LENGTH} characters."]
    sort = params.get("sort") or ("soonest" if upcoming else "newest")
    if sort not in SORTS:
        errors["sort"] = [f'"{sort[:40]}" is not a valid choice.']
    flags: dict[str, bool | None] = {}
    for name in ("online", "free"):
        try:
            flags[name] = boolean_param(dict(params), name) if params.get(name) else None
        except ValidationFailed as exc:
            errors.update(exc.errors)
    dates: dict[str, datetime | None] = {}
    for name, end_of_day in (("from", False), ("to", True)):
        try:
            dates[name] = _when(params, name, end_of_day=end_of_day)
        except ValidationFailed as exc:
            errors.update(exc.errors)
    if errors:
        raise ValidationFailed(errors)
    online, free = flags["online"], flags["free"]
    starts_from, starts_to = dates["from"], dates["to"]
    scope_from = starts_from
    if upcoming:
        starts_from = max(starts_from, now) if starts_from else now
    if starts_from is not None and starts_to is not None and starts_to < starts_from:
        raise ValidationFailed({"non_field_errors": ["The start of the period must come before its end."]})
    query = SearchQuery(words, category, tag, city, online, free, starts_from, starts_to, sort)
    scope = "search:" + query._replace(starts_from=scope_from).scope() + f"|{upcoming}"
    return query, scope
