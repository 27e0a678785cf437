"""Search over the events list through the gateway emulation, on moto: every filter, their combinations, the
token index kept with the event through edits, drafts, cancellation and deletion, and the signed cursors."""

from urllib.parse import parse_qs, urlsplit

import pytest

from chalicelib.domain.search import CATEGORIES


def _event(api, token, title, **fields):
    body = {"title": title, "description": fields.pop("description", "A session."), **fields}
    reply = api.post("/api/events/", body, token=token)
    assert reply.status == 201, reply.json
    return reply.json


def _titles(api, query, token=None):
    """Every title a search finds, following `next` to the end (a search page may be short)."""
    titles, url, pages = [], f"/api/events/?{query}", 0
    while url:
        reply = api.get(url, token=token)
        assert reply.status == 200, reply.json
        titles += [event["title"] for event in reply.json["results"]]
        url = reply.json["next"]
        if url:
            parts = urlsplit(url)
            url = f"{parts.path}?{parts.query}"
        pages += 1
        assert pages < 50
    return titles


@pytest.fixture
def catalogue(api, creator_token):
    """Six events covering every filter, created in this order (so `newest` lists them backwards)."""
    return {
        "dynamo": _event(
            api,
            creator_token,
            "Data modelling for DynamoDB",
            description="Single-table design, access patterns and the partition limits.",
            category="technology",
            tags=["AWS", "Databases"],
            location="Rua Augusta 1, 1100 Lisboa",
            starts_at="2031-03-10T18:00:00Z",
        ),
        "jazz": _event(
            api,
            creator_token,
            "Jazz évening",
            description="Standards and improvisation.",
            category="music",
            tags=["jazz"],
            location="Main hall, Lisboa",
            price="12.00",
            starts_at="2031-03-05T20:00:00Z",
        ),
        "python": _event(
            api,
            creator_token,
            "Python for data people",
            description="Pandas, notebooks and a little DynamoDB.",
            category="technology",
            tags=["python"],
            online_url="https://meet.example.com/python",
            starts_at="2031-04-01T09:00:00Z",
        ),
        "yoga": _event(api, creator_token, "Morning yoga", category="health", location="Park, Porto", price="5.00"),
        "draft": _event(api, creator_token, "Secret DynamoDB roadmap", status="draft", category="technology"),
        "wide": _event(
            api, creator_token, "ＷＩＤＥ Dynamo meetup", location="Online", starts_at="2031-03-20T18:00:00Z"
        ),
    }


def test_words_match_prefixes_of_title_tags_and_description_folded(api, catalogue):
    assert _titles(api, "q=dynamo") == [
        "ＷＩＤＥ Dynamo meetup",
        "Python for data people",
        "Data modelling for DynamoDB",
    ]
    assert _titles(api, "q=DYN") == _titles(api, "q=dynamo")
    assert _titles(api, "q=dynamodb") == ["Python for data people", "Data modelling for DynamoDB"]
    assert _titles(api, "q=evening") == ["Jazz évening"]  # accents folded both ways
    assert _titles(api, "q=wide") == ["ＷＩＤＥ Dynamo meetup"]  # width folded
    assert _titles(api, "q=databases") == ["Data modelling for DynamoDB"]  # a tag's words
    assert _titles(api, "q=partition") == ["Data modelling for DynamoDB"]  # the description's
    assert _titles(api, "q=dynamo+python") == ["Python for data people"]  # every word must match
    assert _titles(api, "q=dynamo+xylophone") == []
    assert _titles(api, "q=secret") == []  # a draft is never found


def test_every_filter_and_their_combinations(api, catalogue):
    assert _titles(api, "category=technology") == ["Python for data people", "Data modelling for DynamoDB"]
    assert _titles(api, "category=technology&q=pandas") == ["Python for data people"]
    assert _titles(api, "tag=aws") == ["Data modelling for DynamoDB"]
    assert _titles(api, "tag=AWS&category=music") == []
    assert _titles(api, "city=lisboa") == ["Jazz évening", "Data modelling for DynamoDB"]  # derived from location
    assert _titles(api, "city=LISBOA&free=true") == ["Data modelling for DynamoDB"]
    assert _titles(api, "city=lisboa&free=false") == ["Jazz évening"]
    assert _titles(api, "online=true") == ["ＷＩＤＥ Dynamo meetup", "Python for data people"]
    assert _titles(api, "online=false&q=dynamo") == ["Data modelling for DynamoDB"]
    assert _titles(api, "free=false") == ["Morning yoga", "Jazz évening"]
    assert _titles(api, "from=2031-03-06&to=2031-03-31") == ["ＷＩＤＥ Dynamo meetup", "Data modelling for DynamoDB"]
    assert _titles(api, "to=2031-03-10") == ["Jazz évening", "Data modelling for DynamoDB"]  # the whole day
    assert _titles(api, "to=2031-03-10T17:59:59Z") == ["Jazz évening"]
    assert _titles(api, "sort=soonest&q=dynamo") == [
        "Data modelling for DynamoDB",
        "ＷＩＤＥ Dynamo meetup",
        "Python for data people",
    ]
    # Events without a start time come last when sorted by it, and never within dates.
    assert _titles(api, "sort=soonest&category=health") == ["Morning yoga"]
    assert _titles(api, "sort=soonest&from=2031-01-01&category=health") == []
    assert _titles(api, "sort=soonest&online=true&from=2031-03-15T00:00:00%2B01:00") == [
        "ＷＩＤＥ Dynamo meetup",
        "Python for data people",
    ]


def test_upcoming_with_a_search_starts_now_soonest_first(api, catalogue, creator_token):
    _event(api, creator_token, "Dynamo history", starts_at="2001-01-01T10:00:00Z")
    assert "Dynamo history" in _titles(api, "q=dynamo")
    assert _titles(api, "q=dynamo&upcoming=true") == [
        "Data modelling for DynamoDB",
        "ＷＩＤＥ Dynamo meetup",
        "Python for data people",
    ]


def test_the_index_follows_edits_cancellation_and_deletion(api, catalogue, creator_token, staff_token):
    dynamo, draft = catalogue["dynamo"]["id"], catalogue["draft"]["id"]
    edited = api.patch(
        f"/api/events/{dynamo}/",
        {"title": "Graph modelling", "tags": ["graphs"], "category": "science"},
        token=creator_token,
    )
    assert (edited.status, edited.json["tags"], edited.json["category"]) == (200, ["graphs"], "science")
    assert _titles(api, "q=graph") == ["Graph modelling"]
    assert _titles(api, "tag=aws") == [] and _titles(api, "tag=graphs") == ["Graph modelling"]
    assert _titles(api, "category=science") == ["Graph modelling"]
    # Its description still speaks of partitions; the old title's words are gone.
    assert _titles(api, "q=partition") == ["Graph modelling"]
    assert "Graph modelling" not in _titles(api, "q=dynamodb")
    # Publishing a draft makes it searchable; cancelling or deleting an event takes it out.
    assert api.patch(f"/api/events/{draft}/", {"status": "published"}, token=creator_token).status == 200
    assert _titles(api, "q=roadmap") == ["Secret DynamoDB roadmap"]
    assert api.patch(f"/api/events/{draft}/", {"status": "cancelled"}, token=staff_token).status == 200
    assert _titles(api, "q=roadmap") == []
    assert api.delete(f"/api/events/{catalogue['yoga']['id']}/", token=creator_token).status == 204
    assert _titles(api, "category=health") == []
    assert _titles(api, "q=yoga") == []


def test_city_and_online_are_derived_until_the_creator_sets_them(api, creator_token):
    event = _event(api, creator_token, "Walk", location="Old town, Porto")
    assert (event["city"], event["online"]) == ("Porto", False)
    moved = api.patch(f"/api/events/{event['id']}/", {"location": "Harbour, Faro"}, token=creator_token).json
    assert moved["city"] == "Faro"
    chosen = api.patch(f"/api/events/{event['id']}/", {"city": "Algarve"}, token=creator_token).json
    again = api.patch(f"/api/events/{event['id']}/", {"location": "Beach, Lagos"}, token=creator_token).json
    assert (chosen["city"], again["city"]) == ("Algarve", "Algarve")  # the creator's choice is kept
    emptied = api.patch(f"/api/events/{event['id']}/", {"city": ""}, token=creator_token).json
    assert emptied["city"] == "Lagos"  # taken from the location again
    api.patch(f"/api/events/{event['id']}/", {"city": "Algarve"}, token=creator_token)
    online = api.patch(f"/api/events/{event['id']}/", {"online_url": "https://meet.example.com/w"}, token=creator_token)
    assert online.json["online"] is True
    assert _titles(api, "city=algarve&online=true") == ["Walk"]


def test_tags_are_normalized_and_bounded(api, creator_token):
    event = _event(api, creator_token, "Tagged", tags=[" Machine Learning ", "machine_learning", "ÁI-2"])
    assert event["tags"] == ["machine-learning", "ai-2"]
    too_many = api.post("/api/events/", {"title": "t", "description": "d", "tags": list("abcdef")}, token=creator_token)
    assert (too_many.status, too_many.json) == (400, {"tags": ["An event has at most 5 tags."]})
    bad = api.post("/api/events/", {"title": "t", "description": "d", "tags": ["a/b"]}, token=creator_token)
    assert bad.json == {"tags": ["A tag has letters, digits and hyphens only."]}
    not_list = api.post("/api/events/", {"title": "t", "description": "d", "tags": "aws"}, token=creator_token)
    assert not_list.json == {"tags": ["Expected a list of strings."]}
    category = api.post("/api/events/", {"title": "t", "description": "d", "category": "cooking"}, token=creator_token)
    assert category.json == {"category": ['"cooking" is not a valid choice.']}
    cleared = api.patch(f"/api/events/{event['id']}/", {"tags": [], "category": None}, token=creator_token).json
    assert (cleared["tags"], cleared["category"]) == ([], None)


def test_bad_search_parameters_are_400_with_the_field(api):
    cases = {
        "q=a+of": {"q": ["Search for words of at least 3 letters or digits (very common words are left out)."]},
        "q=" + "x" * 201: {"q": ["Ensure this field has no more than 200 characters."]},
        "category=cooking": {"category": ['"cooking" is not a valid choice.']},
        "tag=a/b": {"tag": ["A tag has letters, digits and hyphens only."]},
        "online=maybe": {"online": ["Must be a valid boolean."]},
        "free=2": {"free": ["Must be a valid boolean."]},
        "from=2031-02-30": {"from": [DATE_MESSAGE]},
        "to=٢٠٣١-٠١-٠١": {"to": [DATE_MESSAGE]},
        "from=2031-01-01T10:00": {"from": [DATE_MESSAGE]},
        "sort=oldest": {"sort": ['"oldest" is not a valid choice.']},
        "from=2031-02-01&to=2031-01-01": {"non_field_errors": ["The start of the period must come before its end."]},
        "q=dynamo&creator=01J0000000000000000000000": {"creator": ["Not available with the search parameters."]},
    }
    for query, errors in cases.items():
        reply = api.get(f"/api/events/?{query}")
        assert (reply.status, reply.json) == (400, errors), query


DATE_MESSAGE = "Enter a date (YYYY-MM-DD) or a date and time with its offset (YYYY-MM-DDThh:mm[:ss]Z)."


def test_pages_of_a_search_are_bound_to_it(api, creator_token):
    for n in range(5):
        _event(api, creator_token, f"Dynamo part {n}", category="technology")
    first = api.get("/api/events/?q=dynamo&limit=2")
    assert [e["title"] for e in first.json["results"]] == ["Dynamo part 4", "Dynamo part 3"]
    next_url = urlsplit(first.json["next"])
    assert parse_qs(next_url.query)["q"] == ["dynamo"]
    second = api.get(f"{next_url.path}?{next_url.query}")
    assert [e["title"] for e in second.json["results"]] == ["Dynamo part 2", "Dynamo part 1"]
    cursor = parse_qs(next_url.query)["cursor"][0]
    other = api.get(f"/api/events/?q=part&limit=2&cursor={cursor}")
    assert other.status == 400  # a cursor of one search does not page another


def test_categories_are_a_fixed_public_list(api):
    reply = api.get("/api/categories/")
    assert reply.status == 200
    assert reply.json == {"results": [{"slug": slug, "name": name} for slug, name in CATEGORIES]}
    assert reply.headers["cache-control"] == "public, max-age=3600"
