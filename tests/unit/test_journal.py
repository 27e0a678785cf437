"""The local AWS's journal (devstack/journal.py): records read back in order across segments, a record cut short
ending its segment, a failed append leaving no torn record behind, private files, segments dropped once held."""

from __future__ import annotations

import errno
import os
import stat

import pytest

from devstack.journal import Journal


def _records(journal: Journal) -> list[tuple[int, str, bytes]]:
    return [(r.segment, r.header["n"], r.body) for r in journal.records()]


def test_records_come_back_in_order_across_segments_and_dropped_segments_are_gone(tmp_path):
    journal = Journal(tmp_path)
    journal.start(at_least=0)
    journal.append({"n": "a"}, b"\x00binary\nbody")
    journal.append({"n": "b"}, b"")
    position = journal.rotate()
    journal.append({"n": "c"}, b"x" * 100_000)
    journal.sync()
    assert _records(journal) == [(1, "a", b"\x00binary\nbody"), (1, "b", b""), (2, "c", b"x" * 100_000)]
    journal.drop_before(position)
    assert _records(journal) == [(2, "c", b"x" * 100_000)]
    assert {stat.S_IMODE(p.stat().st_mode) for _, p in journal.segments()} == {0o600}
    journal.close()


def test_a_new_journal_starts_after_every_segment_and_at_the_snapshots_position(tmp_path):
    first = Journal(tmp_path)
    first.start(at_least=0)
    first.append({"n": "a"}, b"")
    first.close()
    second = Journal(tmp_path)
    second.start(at_least=7)
    assert second.number == 7
    third = Journal(tmp_path)
    third.start(at_least=0)
    assert third.number == 8  # never behind what exists
    for journal in (second, third):
        journal.close()
    assert [n for n, _ in Journal(tmp_path).segments()] == [1]  # empty segments go on close


def test_a_record_cut_short_ends_its_segment_but_not_the_next_ones(tmp_path, capsys):
    journal = Journal(tmp_path)
    journal.start(at_least=0)
    journal.append({"n": "a"}, b"kept")
    journal.append({"n": "b"}, b"cut short")
    journal.close()
    [(_, path)] = journal.segments()
    path.write_bytes(path.read_bytes()[:-3])
    after = Journal(tmp_path)
    after.start(at_least=0)
    after.append({"n": "c"}, b"after the crash")
    after.sync()
    assert _records(after) == [(1, "a", b"kept"), (2, "c", b"after the crash")]
    assert "ignoring" in capsys.readouterr().err
    after.close()


def test_a_failed_append_leaves_the_segment_as_it_was(tmp_path, monkeypatch):
    journal = Journal(tmp_path)
    journal.start(at_least=0)
    journal.append({"n": "a"}, b"kept")
    real_write = os.write
    calls = []

    def half_then_full_disk(fd, data):
        calls.append(len(data))
        if len(calls) == 1:
            return real_write(fd, bytes(data)[: len(data) // 2])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "write", half_then_full_disk)
    with pytest.raises(OSError):
        journal.append({"n": "b"}, b"y" * 1000)
    monkeypatch.undo()
    journal.append({"n": "c"}, b"next")
    journal.sync()
    assert _records(journal) == [(1, "a", b"kept"), (1, "c", b"next")]
    journal.close()
