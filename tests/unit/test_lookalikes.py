"""Look-alike usernames (UTS #39 skeletons): the audit's list, and names that only look alike to a machine."""

import pytest

from chalicelib.errors import ValidationFailed
from chalicelib.security.lookalikes import lookalike_key, skeleton
from chalicelib.services import accounts
from tests.support.fakes import FakeUsers

PASSWORD = "vivid-otter-92-lamp"
LOOKS_THE_SAME = "A user with a username that looks the same already exists."


@pytest.mark.parametrize(
    ("lookalike", "existing"),
    [
        ("us\u0435r", "user"),  # Cyrillic е
        ("\u0430dmin", "admin"),  # Cyrillic а
        ("creat\u03bfr_user", "creator_user"),  # Greek ο
        ("ADM\u0130N", "admin"),  # Latin İ: folds to i and a combining dot above
        ("adm\u0131n", "admin"),  # Latin dotless ı
        ("user1", "userl"),  # digit one and small L
        ("\u217dreator", "creator"),  # ⅽ, the Roman numeral one hundred
    ],
)
def test_the_audits_lookalikes_share_the_key_of_the_name_they_imitate(lookalike, existing):
    assert lookalike != existing
    assert lookalike_key(lookalike) == lookalike_key(existing)


@pytest.mark.parametrize(
    ("one", "other"), [("alice", "alicia"), ("admin", "admins"), ("bob", "rob"), ("user", "users")]
)
def test_names_that_differ_to_a_reader_keep_their_own_keys(one, other):
    assert lookalike_key(one) != lookalike_key(other)


def test_the_skeleton_is_unicodes():
    # UTS #39's own examples of confusables: "paypal" with a Cyrillic а, and m against rn.
    assert skeleton("p\u0430yp\u0430l") == skeleton("paypal")
    assert skeleton("m") == "rn"


@pytest.mark.parametrize("lookalike", ["us\u0435r", "\u0430dmin", "ADM\u0130N", "adm\u0131n", "creat\u03bfr_user"])
def test_sign_up_refuses_a_username_that_looks_like_an_existing_one(lookalike):
    users = FakeUsers()
    for name in ("user", "admin", "creator_user"):
        accounts.register(users, username=name, email=f"{name}@example.com", password=PASSWORD, rounds=4)
    with pytest.raises(ValidationFailed) as refused:
        accounts.register(users, username=lookalike, email="x@example.com", password=PASSWORD, rounds=4)
    assert refused.value.errors == {"username": [LOOKS_THE_SAME]}
