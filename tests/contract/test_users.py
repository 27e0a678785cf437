"""UserRepository (ports.users), with the audit log its staff writes feed (ports.audit) and the uploads its
saves claim (ports.uploads): uniqueness of names and addresses, optimistic saves, the staff's list."""

from __future__ import annotations

from dataclasses import replace

import pytest

from chalicelib.domain.enums import Role, UploadPurpose
from chalicelib.domain.uploads import Upload
from chalicelib.ids import new_id
from chalicelib.ports.common import StaleWrite, UniqueViolation
from chalicelib.ports.uploads import Claim, UploadUnavailable
from chalicelib.ports.users import UserQuery
from tests.contract.builders import T0, at, audit_entry, every_page, user


def added(world, *users):
    for made in users:
        world.users.add(made)
    return users[0] if len(users) == 1 else users


def test_an_added_user_reads_back_by_id_name_and_address(world):
    made = added(world, user("Alice", "Alice@Example.com", role=Role.CREATOR, is_staff=True, last_login=at(5)))
    assert world.users.get(made.id) == made
    assert world.users.get_by_username("alice") == made
    assert world.users.get_by_username("ＡＬＩＣＥ") == made  # NFKC and case folding
    assert world.users.get_by_email("alice@example.COM") == made
    assert world.users.get(new_id()) is None
    assert world.users.get_by_username("bob") is None
    assert world.users.get_by_email("bob@example.com") is None


@pytest.mark.parametrize(
    ("username", "email", "fields"),
    [
        pytest.param("ALICE", "other@example.com", ["username", "lookalike"], id="same-name"),
        pytest.param("аlice", "other@example.com", ["lookalike"], id="look-alike"),  # a Cyrillic а
        pytest.param("bob", "ALICE@example.com", ["email"], id="same-address"),
        pytest.param("Alice", "alice@example.com", ["username", "lookalike", "email"], id="both"),
    ],
)
def test_add_refuses_a_taken_name_look_or_address(world, username, email, fields):
    first = added(world, user("alice", "alice@example.com"))
    refused = user(username, email)
    entry = audit_entry(refused.id)
    with pytest.raises(UniqueViolation) as caught:
        world.users.add(refused, entry)
    assert caught.value.fields == fields
    assert world.users.get(refused.id) is None
    assert world.users.get_by_username("alice") == first
    assert world.audit.list(actor=None, object_id=refused.id, limit=5, start=None).items == []


def test_accounts_without_an_address_do_not_collide(world):
    one, two = added(world, user("one", ""), user("two", ""))
    assert (world.users.get(one.id), world.users.get(two.id)) == (one, two)
    assert world.users.get_by_email("") is None
    with_address = one.with_changes(email="one@example.com")
    world.users.save(one, with_address)
    assert world.users.get_by_email("ONE@example.com") == with_address
    with pytest.raises(UniqueViolation) as caught:
        world.users.save(two, two.with_changes(email="one@example.com"))
    assert caught.value.fields == ["email"]


def test_add_writes_its_audit_entry(world):
    made = user("carol")
    entry = audit_entry(made.id)
    world.users.add(made, entry)
    assert world.audit.list(actor=entry.actor.id, object_id=None, limit=5, start=None).items == [entry]


def test_save_replaces_the_user_unchanged_since_read(world):
    old = added(world, user("dave"))
    new = old.with_changes(role=Role.CREATOR, is_active=False, avatar="media/a.png", token_generation=2)
    world.users.save(old, new)
    assert world.users.get(old.id) == new
    with pytest.raises(StaleWrite):
        world.users.save(old, old.with_changes(role=Role.USER))
    with pytest.raises(StaleWrite):
        world.users.save(user("nobody"), user("nobody"))
    assert world.users.get(old.id) == new


def test_a_sign_in_is_a_change_of_the_account(world):
    old = added(world, user("erin"))
    world.users.record_login(old.id, at(30))
    signed_in = world.users.get(old.id)
    assert (signed_in.last_login, signed_in.version) == (at(30), old.version + 1)
    with pytest.raises(StaleWrite):  # a save that read the account before the sign-in starts over
        world.users.save(old, old.with_changes(role=Role.CREATOR))
    world.users.record_login(new_id(), at(30))  # no account: nothing recorded, nothing raised
    assert world.users.get(old.id) == signed_in


def test_the_organizer_pages_text_reads_back_and_clears(world):
    old = added(world, user("gina", display_name="Gina G.", bio="Line one\n<b>two</b> & more"))
    assert world.users.get(old.id) == old
    cleared = old.with_changes(display_name="", bio="")
    world.users.save(old, cleared)
    assert world.users.get_by_username("GINA") == cleared


@pytest.mark.parametrize("name", ["x" * 3000, "\ud800", ""], ids=["longer-than-any-key", "lone-surrogate", "empty"])
def test_a_name_no_account_can_have_is_nobodys(world, name):
    added(world, user("hank"))
    assert world.users.get_by_username(name) is None


def test_save_moves_the_address_marker(world):
    old = added(world, user("frank", "frank@example.com"))
    new = old.with_changes(email="Frank@New.example")
    world.users.save(old, new)
    assert world.users.get_by_email("frank@new.example") == new
    assert world.users.get_by_email("frank@example.com") is None
    newcomer = added(world, user("grace", "FRANK@example.com"))  # the old address is free again
    assert world.users.get_by_email("frank@example.com") == newcomer
    with pytest.raises(UniqueViolation) as caught:
        world.users.add(user("heidi", "frank@new.example"))
    assert caught.value.fields == ["email"]


def test_save_refuses_an_address_taken(world):
    taken = added(world, user("ivan", "ivan@example.com"))
    old = added(world, user("judy", "judy@example.com"))
    with pytest.raises(UniqueViolation) as caught:
        world.users.save(old, old.with_changes(email="IVAN@example.com"), audit_entry(old.id))
    assert caught.value.fields == ["email"]
    assert world.users.get(old.id) == old
    assert world.users.get_by_email("ivan@example.com") == taken
    assert world.users.get_by_email("judy@example.com") == old
    assert world.audit.list(actor=None, object_id=old.id, limit=5, start=None).items == []
    case_only = old.with_changes(email="JUDY@example.com")  # the same address to the marker
    world.users.save(old, case_only)
    assert world.users.get_by_email("judy@example.com") == case_only


def test_save_is_stale_before_its_address_is_taken(world):
    added(world, user("kate", "kate@example.com"))
    old = added(world, user("leo", "leo@example.com"))
    world.users.save(old, old.with_changes(is_staff=True))
    with pytest.raises(StaleWrite):
        world.users.save(old, old.with_changes(email="kate@example.com"))


def test_save_claims_its_avatar_upload_in_the_same_write(world):
    old = added(world, user("mallory"))
    upload = Upload(
        id=new_id(),
        owner=old.id,
        purpose=UploadPurpose.AVATAR,
        content_type="image/png",
        size=10,
        key=f"uploads/{old.id}.png",
        created_at=T0,
        expires_at=2_000,
    )
    world.uploads.add(upload)
    new = old.with_changes(avatar="media/m.png")
    for claim in (Claim(upload.id, new_id(), 1_000), Claim(upload.id, old.id, 2_000), Claim(new_id(), old.id, 1)):
        with pytest.raises(UploadUnavailable):
            world.users.save(old, new, audit_entry(old.id), claim)
    assert (world.users.get(old.id), world.uploads.get(upload.id).claimed) == (old, False)
    assert world.audit.list(actor=None, object_id=old.id, limit=5, start=None).items == []
    world.users.save(old, new, claim=Claim(upload.id, old.id, 1_999))
    assert (world.users.get(old.id), world.uploads.get(upload.id)) == (new, replace(upload, claimed=True))
    with pytest.raises(UploadUnavailable):
        world.users.save(new, new.with_changes(avatar="media/n.png"), claim=Claim(upload.id, old.id, 1_000))
    assert world.uploads.get(new_id()) is None


# the staff's list


@pytest.fixture
def people(world):
    """Six accounts: names in no order, one creator, one staff member, one inactive."""
    return {
        made.username: made
        for made in added(
            world,
            user("zoe", "a.zoe@example.com"),
            user("bob", "bob@work.example", role=Role.CREATOR),
            user("Alice", "alice@example.com", is_staff=True),
            user("carl", "zz@example.com", is_active=False),
            user("bobby", "bobby@example.com"),
            user("dan", "bob@home.example"),
        )
    }


def _names(world, query, limit):
    pages = every_page(lambda **kw: world.users.list_users(query, **kw), limit)
    by_id = {u.id: u.username for u in world.users.list_users(query, limit=100, start=None).items}
    return [by_id[i] for page in pages for i in page]


@pytest.mark.parametrize("limit", [1, 2, 10])
def test_list_users_in_name_order_through_every_page(world, people, limit):
    assert _names(world, UserQuery(), limit) == ["Alice", "bob", "bobby", "carl", "dan", "zoe"]
    assert _names(world, UserQuery(search="bob"), limit) == ["bob", "bobby"]
    # Once the term reaches the `@`, addresses are searched too: by the address for those found only by it.
    assert _names(world, UserQuery(search="bob@"), limit) == ["dan", "bob"]
    assert _names(world, UserQuery(role=Role.CREATOR), limit) == ["bob"]
    assert _names(world, UserQuery(is_staff=False, is_active=True), limit) == ["bob", "bobby", "dan", "zoe"]
    assert _names(world, UserQuery(search="b", role=Role.USER), limit) == ["bobby"]
    assert _names(world, UserQuery(search="nobody"), limit) == []


def test_list_users_pages_hold_no_account_twice_and_end(world, people):
    query = UserQuery(search="bob@")
    first = world.users.list_users(query, limit=1, start=None)
    rest = world.users.list_users(query, limit=10, start=first.next_key)
    assert [u.id for u in first.items + rest.items] == [people["dan"].id, people["bob"].id]
    assert rest.next_key is None


# the audit log


def test_audit_list_newest_first_filtered_and_in_pages(world):
    staff, other = new_id(), new_id()
    entries = [audit_entry(f"obj{i % 2}", actor=staff if i < 3 else other, seconds=i) for i in range(5)]
    for i, entry in enumerate(entries):
        world.users.add(user(f"audited{i}"), entry)
    newest = [e.id for e in reversed(entries)]

    def read(actor=None, object_id=None):
        return lambda **kw: world.audit.list(actor=actor, object_id=object_id, **kw)

    assert every_page(read(), 2) == [newest[:2], newest[2:4], newest[4:]]
    assert every_page(read(actor=staff), 2) == [[entries[2].id, entries[1].id], [entries[0].id]]
    assert every_page(read(object_id="obj1"), 10) == [[entries[3].id, entries[1].id]]
    assert every_page(read(actor=staff, object_id="obj0"), 1) == [[entries[2].id], [entries[0].id]]
    assert world.audit.list(actor=None, object_id=None, limit=1, start=None).items == [entries[4]]
