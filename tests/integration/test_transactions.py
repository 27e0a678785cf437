"""Named transaction items: a cancelled transaction is decoded by the names of its items, whatever their kinds
and the order they were added in."""

from __future__ import annotations

import pytest

from chalicelib.persistence.models.uniques import UniqueModel
from chalicelib.persistence.transactions import ConditionsFailed, write_transaction


@pytest.mark.parametrize("failing", ["first put", "delete", "second put", "update"])
def test_the_failed_item_is_named_whatever_its_kind_and_position(aws, failing):
    UniqueModel(key="deleted", owner="me").save()
    UniqueModel(key="updated", owner="me").save()
    UniqueModel(key="taken", owner="someone").save()

    def condition(name, ok):
        return ok if name != failing else UniqueModel.owner == "nobody"

    with pytest.raises(ConditionsFailed) as caught, write_transaction() as tx:
        # Added put, delete, put, update: the request groups deletes first, then puts, then updates.
        tx.save("first put", UniqueModel(key="a", owner="me"), condition=condition("first put", None))
        tx.delete("delete", UniqueModel(key="deleted"), condition=condition("delete", UniqueModel.owner == "me"))
        tx.save("second put", UniqueModel(key="b", owner="me"), condition=condition("second put", None))
        tx.update(
            "update",
            UniqueModel(key="updated"),
            actions=[UniqueModel.status.set("x")],
            condition=condition("update", UniqueModel.owner == "me"),
        )
    assert caught.value.names == frozenset({failing})
    assert UniqueModel.count() == 3  # nothing written


def test_an_item_name_is_unique_within_a_transaction(aws):
    with pytest.raises(ValueError, match="named twice"), write_transaction() as tx:
        tx.save("marker", UniqueModel(key="a", owner="me"))
        tx.delete("marker", UniqueModel(key="b"))


def test_a_failed_condition_is_an_answer_sent_once_and_a_block_that_raises_sends_nothing(aws):
    from tests.support.faults import recorded_calls

    UniqueModel(key="taken", owner="someone").save()
    with recorded_calls() as calls, pytest.raises(ConditionsFailed), write_transaction() as tx:
        tx.save("marker", UniqueModel(key="taken", owner="me"), condition=UniqueModel.key.does_not_exist())
    assert calls == ["TransactWriteItems"]  # not retried: only a conflict with another transaction is
    with recorded_calls() as calls, pytest.raises(RuntimeError), write_transaction() as tx:
        tx.save("marker", UniqueModel(key="new", owner="me"))
        raise RuntimeError("the caller changed its mind")
    assert calls == []
    assert UniqueModel.count() == 1
