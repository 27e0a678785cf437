import pytest

from chalicelib.domain.enums import Role
from chalicelib.errors import Conflict, NotAuthenticated, NotFound, ValidationFailed
from chalicelib.security import tokens
from chalicelib.services import accounts
from chalicelib.services.uploads import Media
from tests.support.fakes import FakeFamilies, FakeObjectStore, FakeUsers, fail_first

POLICY = accounts.TokenPolicy(key=b"k" * 32, lifetimes=tokens.Lifetimes(access_seconds=300, refresh_seconds=86400))
GOOD = "vivid-otter-92-lamp"


def _register(users, username="alice", email="alice@example.com", password=GOOD):
    return accounts.register(users, username=username, email=email, password=password, rounds=4)


def test_registered_user_is_a_user_and_can_sign_in():
    users = FakeUsers()
    user = _register(users)
    assert user.role is Role.USER and not user.is_staff
    pair = accounts.obtain_tokens(users, POLICY, username="ALICE", password=GOOD, rounds=4)
    assert tokens.decode(pair["access"], POLICY.key, POLICY.lifetimes, expected_type=tokens.ACCESS).user_id == user.id
    assert tokens.decode(pair["refresh"], POLICY.key, POLICY.lifetimes, expected_type=tokens.REFRESH).user_id == user.id


def test_username_is_unique_whatever_its_case():
    users = FakeUsers()
    _register(users)
    with pytest.raises(ValidationFailed) as caught:
        _register(users, username="Alice", email="other@example.com")
    assert caught.value.errors == {"username": ["A user with that username already exists."]}


def test_email_is_unique_whatever_its_case():
    users = FakeUsers()
    _register(users)
    with pytest.raises(ValidationFailed) as caught:
        _register(users, username="bob", email="ALICE@example.com")
    assert caught.value.errors == {"email": ["A user with that email already exists."]}


def test_weak_password_is_refused_at_sign_up():
    with pytest.raises(ValidationFailed) as caught:
        _register(FakeUsers(), password="password")
    assert caught.value.errors == {"password": ["This password is too common."]}


def test_password_over_72_bytes_is_refused_at_sign_up_with_a_field_error():
    with pytest.raises(ValidationFailed) as caught:
        _register(FakeUsers(), password="x" * 73)
    assert caught.value.errors == {"password": ["Ensure this field has no more than 72 bytes."]}
    # 72 bytes exactly is within bcrypt's limit (é is two bytes).
    assert _register(FakeUsers(), password="é" * 36).username == "alice"


def test_wrong_password_unknown_user_and_inactive_user_get_the_same_answer():
    users = FakeUsers()
    user = _register(users)
    answers = []
    for username, password in (("alice", "wrong-password-1"), ("nobody", GOOD), ("alice", "x" * 100)):
        with pytest.raises(NotAuthenticated) as caught:
            accounts.obtain_tokens(users, POLICY, username=username, password=password, rounds=4)
        answers.append(caught.value.detail)
    users.by_id[user.id] = user.with_changes(is_active=False)
    with pytest.raises(NotAuthenticated) as caught:
        accounts.obtain_tokens(users, POLICY, username="alice", password=GOOD, rounds=4)
    answers.append(caught.value.detail)
    assert set(answers) == {"No active account found with the given credentials"}


def test_refresh_gives_new_tokens_and_refuses_an_access_token():
    users = FakeUsers()
    _register(users)
    pair = accounts.obtain_tokens(users, POLICY, username="alice", password=GOOD, rounds=4)
    refreshed = accounts.refresh(users, FakeFamilies(), POLICY, refresh=pair["refresh"])
    assert set(refreshed) == {"access", "refresh"}
    claims = tokens.decode(refreshed["access"], POLICY.key, POLICY.lifetimes, expected_type=tokens.ACCESS)
    assert (claims.user_id, claims.token_type, claims.exp - claims.iat) == (
        users.get_by_username("alice").id,
        "access",
        300,
    )
    with pytest.raises(NotAuthenticated) as caught:
        accounts.refresh(users, FakeFamilies(), POLICY, refresh=pair["access"])
    assert (caught.value.detail, caught.value.code) == ("Token has wrong type", "token_not_valid")


def test_refresh_is_refused_once_the_account_is_deactivated():
    users = FakeUsers()
    user = _register(users)
    pair = accounts.obtain_tokens(users, POLICY, username="alice", password=GOOD, rounds=4)
    accounts.change_account(users, "alice", is_active=False)
    with pytest.raises(NotAuthenticated) as caught:
        accounts.refresh(users, FakeFamilies(), POLICY, refresh=pair["refresh"])
    assert (caught.value.detail, caught.value.code) == (
        "No active account found for the given token.",
        "no_active_account",
    )
    assert not users.get(user.id).is_active


def test_profile_update_changes_email_and_keeps_it_unique():
    users = FakeUsers()
    alice = _register(users)
    _register(users, username="bob", email="bob@example.com")
    media = Media(users.uploads, FakeObjectStore())
    updated = accounts.update_profile(users, alice.id, {"email": "new@example.com", "avatar": None}, media=media)
    assert (updated.email, updated.avatar) == ("new@example.com", None)
    with pytest.raises(ValidationFailed) as caught:
        accounts.update_profile(users, alice.id, {"email": "BOB@example.com"}, media=media)
    assert caught.value.errors == {"email": ["A user with that email already exists."]}


@pytest.mark.parametrize("lookalike", ["ｕｓｅｒ", "𝐮𝐬𝐞𝐫", "USER", "Ｕser"])
def test_usernames_that_look_alike_after_nfkc_and_case_folding_are_one_name(lookalike):
    users = FakeUsers()
    _register(users, username="user", email="user@example.com")
    with pytest.raises(ValidationFailed) as caught:
        _register(users, username=lookalike, email="other@example.com")
    assert caught.value.errors == {"username": ["A user with that username already exists."]}
    pair = accounts.obtain_tokens(users, POLICY, username=lookalike, password=GOOD, rounds=4)
    assert set(pair) == {"refresh", "access"}


def test_usernames_are_stored_in_their_nfkc_form():
    assert _register(FakeUsers(), username="ｃｒｅａｔｏｒ_user").username == "creator_user"


@pytest.mark.parametrize(
    ("username", "email", "problem"),
    [
        ("margaret", "x@example.com", "The password is too similar to the username."),
        ("x", "margaret@example.com", "The password is too similar to the email address."),
    ],
)
def test_sign_up_refuses_a_password_like_the_username_or_the_email(username, email, problem):
    with pytest.raises(ValidationFailed) as caught:
        _register(FakeUsers(), username=username, email=email, password="margaret-1")
    assert caught.value.errors == {"password": [problem]}


def test_an_account_change_that_lost_a_race_is_read_and_applied_again():
    users = FakeUsers()
    alice = _register(users)
    calls = fail_first(users, "save", 2)
    media = Media(users.uploads, FakeObjectStore())
    assert (
        accounts.update_profile(users, alice.id, {"email": "new@example.com"}, media=media).email == "new@example.com"
    )
    assert (calls, users.get(alice.id).email) == ([1, 2, 3], "new@example.com")


def test_an_account_change_that_keeps_losing_gives_up_after_three_attempts():
    users = FakeUsers()
    alice = _register(users)
    calls = fail_first(users, "save", 3)
    media = Media(users.uploads, FakeObjectStore())
    with pytest.raises(Conflict) as caught:
        accounts.update_profile(users, alice.id, {"email": "new@example.com"}, media=media)
    assert (caught.value.detail, caught.value.code) == (
        "The account changed during the update; try again.",
        "concurrent_update",
    )
    assert (calls, users.get(alice.id).email) == ([1, 2, 3], "alice@example.com")


def test_changing_an_unknown_account_names_it():
    with pytest.raises(NotFound) as caught:
        accounts.change_account(FakeUsers(), "nobody", is_active=False)
    assert caught.value.detail == "No user named 'nobody'."
