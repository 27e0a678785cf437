"""Discovery: the categories, tags and words an event is found by, and how a search is planned.

One tokenizer serves the store's token index (what is written with each event) and the check of what a search
returns, so the two cannot disagree. Pure functions over the event's fields: no store, no clock."""

from __future__ import annotations

import re
import unicodedata
from typing import TYPE_CHECKING, NamedTuple

from chalicelib.domain.common import iso
from chalicelib.domain.enums import EventStatus

if TYPE_CHECKING:
    from datetime import datetime

    from chalicelib.domain.events import Event

# The fixed list GET /api/categories/ serves: (slug, name). A slug is what events store and filters name, so a
# slug never changes once used; a name may.
CATEGORIES: tuple[tuple[str, str], ...] = (
    ("arts", "Arts and culture"),
    ("business", "Business"),
    ("community", "Community"),
    ("education", "Education"),
    ("food-drink", "Food and drink"),
    ("health", "Health and wellbeing"),
    ("hobbies", "Hobbies"),
    ("music", "Music"),
    ("science", "Science"),
    ("sports", "Sports and fitness"),
    ("technology", "Technology"),
    ("other", "Other"),
)
CATEGORY_SLUGS = frozenset(slug for slug, _ in CATEGORIES)

MAX_TAGS = 5
MAX_TAG_LENGTH = 30
MAX_CITY_LENGTH = 80
# A word is found by its prefixes of at least MIN_PREFIX characters, up to its first MAX_WORD.
MIN_PREFIX = 3
MAX_WORD = 20
MAX_QUERY_WORDS = 5
MAX_QUERY_LENGTH = 200
# Index items per event, facets included: what one transaction with the event can replace (every old item
# deleted and every new one put: 2 x 48, plus the event, its audit entry and an upload's claim, is 99 of the 100
# items a DynamoDB transaction takes). Words past the budget (a long description's tail) are not searchable.
MAX_INDEX_ITEMS = 48
# Words too common to find anything by (English; every other word counts).
STOPWORDS = frozenset(
    "the and for with you your are was were from this that these those have has not but all our out into about "
    "its will can who how what when where why which than then there their them they she his her him any one".split()
)
_WORD = re.compile(r"[^\W_]+")
_TAG_SEPARATORS = re.compile(r"[\s_]+")
_TAG = re.compile(r"^[^\W_]+(?:-[^\W_]+)*$")

ALL = "all"
SORTS = ("newest", "soonest")


def fold(text: str) -> str:
    """`text` with case, accents and width folded: "Ｄｙｎａｍｏ", "dýnamo" and "DYNAMO" are all "dynamo"."""
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return unicodedata.normalize("NFKC", bare.casefold())


def words(text: str) -> list[str]:
    """The folded words of `text` that can be searched for, in order, once each, cut to MAX_WORD characters:
    letters and digits of any script, at least MIN_PREFIX of them, stop words left out."""
    seen: dict[str, None] = {}
    for word in _WORD.findall(fold(text)):
        if len(word) >= MIN_PREFIX and word not in STOPWORDS:
            seen.setdefault(word[:MAX_WORD], None)
    return list(seen)


def normalize_tag(raw: str) -> str:
    """A tag as stored: folded, spaces and underscores as single hyphens. ValueError when nothing or something
    other than letters, digits and inner hyphens remains, or it is longer than MAX_TAG_LENGTH."""
    tag = _TAG_SEPARATORS.sub("-", fold(raw).strip()).strip("-")
    tag = re.sub(r"-{2,}", "-", tag)
    if not tag or not _TAG.match(tag):
        raise ValueError("A tag has letters, digits and hyphens only.")
    if len(tag) > MAX_TAG_LENGTH:
        raise ValueError(f"A tag has at most {MAX_TAG_LENGTH} characters.")
    return tag


def normalize_tags(raw: list[str]) -> tuple[str, ...]:
    """Tags as stored: each normalized, duplicates dropped (first kept); ValueError over MAX_TAGS."""
    tags = tuple(dict.fromkeys(normalize_tag(tag) for tag in raw))
    if len(tags) > MAX_TAGS:
        raise ValueError(f"An event has at most {MAX_TAGS} tags.")
    return tags


def city_key(city: str) -> str:
    """A city as filters compare it (folded, inner spaces single)."""
    return " ".join(fold(city).split())


def derived_city(location: str) -> str:
    """The city a location names, as a guess a creator may correct: its last comma-separated part that has a
    letter, without digits (a postcode) ("12 Main St, 1000 Lisbon" is "Lisbon"); "" when there is none, or
    when the location is a single part (a venue's name alone says nothing of its city)."""
    parts = [part.strip() for part in location.split(",")]
    if len(parts) < 2:
        return ""
    for part in reversed(parts):
        city = " ".join(re.sub(r"\d+", " ", part).split())
        if any(ch.isalpha() for ch in city):
            return city[:MAX_CITY_LENGTH]
    return ""


ONLINE_WORDS = frozenset({"online", "virtual", "remote", "livestream", "webinar"})


def derived_online(location: str, online_url: str | None) -> bool:
    """An event with a link to join, or whose location says it is online, is online."""
    return online_url is not None or fold(location).strip() in ONLINE_WORDS


def word_keys(word: str) -> list[tuple[str, frozenset[str]]]:
    """The token index's key for one folded word, `q#<first 3>`, with the word's longer prefixes that a query
    checks inside it. One key per word, shared by the event's words of the same first three characters: an
    event's 48 items then cover some 40 distinct words (a second, longer key per word covered half as many)."""
    return [(f"q#{word[:MIN_PREFIX]}", frozenset(word[:n] for n in range(MIN_PREFIX + 1, len(word) + 1)))]


def facet_keys(event: Event) -> list[str]:
    """The keys an event is listed under whatever its words: every event, its category, tags, city, online, free."""
    keys = [ALL]
    if event.category:
        keys.append(f"cat#{event.category}")
    keys += [f"tag#{tag}" for tag in event.tags]
    if event.city:
        keys.append(f"city#{city_key(event.city)}")
    if event.online:
        keys.append("online")
    if not event.paid:
        keys.append("free")
    return keys


def searchable_words(event: Event) -> list[str]:
    """The words an event is found by, within the index's budget: its title's, its tags', then its
    description's, in that order, as long as each word's keys still fit in MAX_INDEX_ITEMS."""
    return list(index_terms(event)[1])


def index_terms(event: Event) -> tuple[dict[str, frozenset[str]], list[str]]:
    """The token index's keys for `event` (each with the prefixes checked inside it: empty for facet keys) and
    the words they cover. Only a published event is indexed: drafts and cancelled events are never found."""
    if event.status is not EventStatus.PUBLISHED:
        return {}, []
    terms: dict[str, frozenset[str]] = {key: frozenset() for key in facet_keys(event)}
    covered: list[str] = []
    source = " ".join([event.title, *event.tags, event.description])
    for word in words(source):
        keys = word_keys(word)
        new = [key for key, _ in keys if key not in terms]
        if len(terms) + len(new) > MAX_INDEX_ITEMS:
            continue  # a later, shorter word may still fit under keys already there
        for key, prefixes in keys:
            terms[key] = terms.get(key, frozenset()) | prefixes
        covered.append(word)
    return terms, covered


def start_key(event_id: str, starts_at: datetime | None) -> str:
    """Sort key by start time: `<start>#<id>`; events without a start after every dated one (`~` sorts last)."""
    return f"{iso(starts_at)}#{event_id}" if starts_at is not None else f"~#{event_id}"


def created_key(event_id: str, created_at: datetime) -> str:
    """Sort key by creation: `<created>#<id>`."""
    return f"{iso(created_at)}#{event_id}"


class SearchQuery(NamedTuple):
    """What a search asks for; every part narrows it. `words` are folded query words (each a prefix of a word of
    the event); `city` as city_key folds it; `starts_from`/`starts_to` bound the start time (inclusive); `sort` is
    `newest` (created, newest first) or `soonest` (start time, soonest first; events without one last)."""

    words: tuple[str, ...] = ()
    category: str | None = None
    tag: str | None = None
    city: str | None = None
    online: bool | None = None
    free: bool | None = None
    starts_from: datetime | None = None
    starts_to: datetime | None = None
    sort: str = "newest"

    def scope(self) -> str:
        """A stable description of the query, for binding a cursor to it."""
        parts = [
            " ".join(self.words),
            self.category or "",
            self.tag or "",
            self.city or "",
            "" if self.online is None else str(self.online),
            "" if self.free is None else str(self.free),
            iso(self.starts_from) if self.starts_from else "",
            iso(self.starts_to) if self.starts_to else "",
            self.sort,
        ]
        return "|".join(parts)


def query_words(q: str) -> tuple[str, ...]:
    """The searchable words of a query, at most MAX_QUERY_WORDS (the first ones)."""
    return tuple(words(q)[:MAX_QUERY_WORDS])


def matches(event: Event, query: SearchQuery) -> bool:
    """Whether `event` answers `query`: published, every filter holds, and each query word is a prefix of one of
    the words it is found by. The reference the token index is held to (and the check of what it returns)."""
    if event.status is not EventStatus.PUBLISHED:
        return False
    if query.category is not None and event.category != query.category:
        return False
    if query.tag is not None and query.tag not in event.tags:
        return False
    if query.city is not None and city_key(event.city) != query.city:
        return False
    if query.online is not None and event.online != query.online:
        return False
    if query.free is not None and (not event.paid) != query.free:
        return False
    if query.starts_from is not None or query.starts_to is not None:
        if event.starts_at is None:
            return False
        if query.starts_from is not None and event.starts_at < query.starts_from:
            return False
        if query.starts_to is not None and event.starts_at > query.starts_to:
            return False
    if query.words:
        found = searchable_words(event)
        return all(any(word.startswith(term) for word in found) for term in query.words)
    return True


class Plan(NamedTuple):
    """How the token index answers a query: the one key (partition) read, the prefix checked inside its items
    (None when the key is the prefix itself), and which order (`start` or `created`) in which direction. The
    query's other filters are checked on each item read."""

    key: str
    prefix: str | None
    order: str
    forward: bool


def driving_word(query_words_: tuple[str, ...]) -> str:
    """The query word read from the index: the longest (its prefix check keeps the fewest items); ties, the
    first."""
    return max(query_words_, key=len)


def plan(query: SearchQuery) -> Plan:
    """The partition a search reads, from the most selective part of the query: a word (its longest), else the
    tag, the city, the category, online, free, else every event. Everything else is a filter on that partition."""
    order, forward = ("start", True) if query.sort == "soonest" else ("created", False)
    if query.words:
        word = driving_word(query.words)
        return Plan(f"q#{word[:MIN_PREFIX]}", word if len(word) > MIN_PREFIX else None, order, forward)
    if query.tag is not None:
        key = f"tag#{query.tag}"
    elif query.city is not None:
        key = f"city#{query.city}"
    elif query.category is not None:
        key = f"cat#{query.category}"
    elif query.online:
        key = "online"
    elif query.free:
        key = "free"
    else:
        key = ALL
    return Plan(key, None, order, forward)
