import threading

import pytest
from sqlalchemy import select

from evidence import journal
from evidence.models import JournalEntry
from evidence.verify import verify_workspace

pytestmark = pytest.mark.both_databases


def test_canonical_json_is_sorted_compact_utf8():
    assert journal.canonical_json({"b": 1, "a": "é", "c": [True, None]}) == (
        '{"a":"é","b":1,"c":[true,null]}'.encode()
    )


@pytest.mark.parametrize("value", [1.5, {"x": [0.1]}, {"y": {"z": float("nan")}}])
def test_canonical_json_refuses_floats(value):
    with pytest.raises(TypeError, match="floats"):
        journal.canonical_json(value)


def test_chain_of_thousands_of_entries_recomputes(workspace):
    now = workspace.clock.now()
    with workspace.writing() as session:
        for n in range(3000):
            journal.append(session, "test.note", {"n": n}, now)
    with workspace.reading() as session:
        entries = list(session.scalars(select(JournalEntry).order_by(JournalEntry.seq)))
    assert [e.seq for e in entries] == list(range(1, 3002))
    previous = journal.GENESIS_HASH
    for entry in entries:
        assert entry.prev_hash == previous
        assert entry.entry_hash == journal.entry_hash(previous, entry.payload)
        previous = entry.entry_hash
    report = verify_workspace(workspace)
    assert report.ok and report.entries == 3001
    assert report.head.seq == 3001 and report.head.entry_hash == previous


def test_concurrent_writers_keep_one_unbroken_chain(workspace):
    def write(worker: int) -> None:
        for n in range(50):
            with workspace.writing() as session:
                journal.append(session, "test.note", {"worker": worker, "n": n}, workspace.clock.now())

    threads = [threading.Thread(target=write, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    report = verify_workspace(workspace)
    assert report.ok, [p.line() for p in report.problems]
    assert report.head.seq == 201


def test_payload_holds_seq_kind_and_time(workspace):
    with workspace.writing() as session:
        entry = journal.append(session, "test.note", {"n": 1}, workspace.clock.now())
    assert entry.payload.startswith('{"data":{"n":1},"kind":"test.note","recorded_at":"')
    assert f'"seq":{entry.seq}' in entry.payload
