"""How an event's capacity is split over its seat counters, and how many counters an event gets."""

import pytest

from chalicelib.domain.events import MAX_SEAT_SHARDS, default_seat_shards
from chalicelib.persistence.seats import shares
from chalicelib.ports.common import StaleWrite


@pytest.mark.parametrize(
    ("capacity", "expected"),
    [(None, 1), (1, 1), (300, 1), (301, 2), (6_000, 20), (9_600, 32), (10_000, 32), (100_000, MAX_SEAT_SHARDS)],
)
def test_one_counter_per_300_seats_up_to_the_most_a_transaction_can_check(capacity, expected):
    assert default_seat_shards(capacity) == expected


def test_free_seats_are_dealt_evenly_the_first_counters_taking_the_remainder():
    assert shares(10, [0, 0, 0, 0]) == [3, 3, 2, 2]
    assert shares(3, [0, 0, 0, 0]) == [1, 1, 1, 0]


def test_each_counter_keeps_what_it_holds_and_gets_its_part_of_what_is_free():
    assert shares(10, [4, 0, 1]) == [6, 2, 2]
    assert shares(5, [4, 0, 1]) == [4, 0, 1]  # exactly what is booked: nothing free anywhere


def test_unlimited_counters_have_no_share():
    assert shares(None, [3, 0]) == [None, None]


def test_fewer_seats_than_are_booked_is_a_stale_write():
    with pytest.raises(StaleWrite):
        shares(4, [4, 0, 1])
