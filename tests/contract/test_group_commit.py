"""The embedded store commits the appends that queue behind its writer as one group.

Each append of a group is judged exactly as if it ran alone, in arrival order, and a
refused one fails only its own caller. The test holds the writer lock itself while the
appends queue, so they are sure to form one group, then lets them go.
"""

from __future__ import annotations

import threading
import time
import uuid
from pathlib import Path

import pytest

from eventstore.adapters.sqlite import SQLiteEventStore
from eventstore.clock import utc_now
from eventstore.errors import DuplicateEventError, StoreError, WrongExpectedVersionError
from eventstore.records import NO_STREAM, AppendResult, ExpectedVersion, NewEvent

QUEUE_DEADLINE_SECONDS = 30.0


def probe(**data: object) -> NewEvent:
    return NewEvent(
        event_id=uuid.uuid4(), type="Probe", schema_version=1, occurred_at=utc_now(), data=data
    )


def test_a_group_judges_each_append_alone_and_fails_only_the_refused(tmp_path: Path) -> None:
    with SQLiteEventStore(tmp_path / "e.sqlite3") as store:
        kept = probe(i=0)
        store.append("x", [kept], NO_STREAM)
        fresh = [probe(i=n) for n in range(3)]
        calls: dict[str, tuple[str, list[NewEvent], ExpectedVersion]] = {
            "three to a": ("a", [probe(i=1), probe(i=2), probe(i=3)], NO_STREAM),
            "one to a": ("a", [probe(i=4)], NO_STREAM),
            "a retry": ("x", [kept], 5),
            "stored elsewhere": ("y", [kept], NO_STREAM),
            "partly stored": ("x", [kept, probe(i=5)], 1),
            "new b": ("b", fresh, NO_STREAM),
        }
        outcomes: dict[str, AppendResult | BaseException] = {}

        def call(name: str) -> None:
            try:
                outcomes[name] = store.append(*calls[name])
            except BaseException as exc:  # judged below, in the test's thread
                outcomes[name] = exc

        threads = [threading.Thread(target=call, args=(name,)) for name in calls]
        with store._writer:  # the writer is busy: every append queues behind it
            for thread in threads:
                thread.start()
            deadline = time.monotonic() + QUEUE_DEADLINE_SECONDS
            while len(store._queue) < len(calls):  # wait for a state, not for a time
                assert time.monotonic() < deadline, "the appends did not queue"
                time.sleep(0.001)
        for thread in threads:
            thread.join()

        # Exactly one of the two appends to a new "a" wins; the other is a conflict.
        won = [n for n in ("three to a", "one to a") if isinstance(outcomes[n], AppendResult)]
        assert len(won) == 1
        lost = "one to a" if won == ["three to a"] else "three to a"
        assert isinstance(outcomes[lost], WrongExpectedVersionError)
        assert outcomes["a retry"] == AppendResult(
            positions=(1,), stream_version=1, already_stored=True
        )
        assert isinstance(outcomes["stored elsewhere"], DuplicateEventError)
        assert isinstance(outcomes["partly stored"], DuplicateEventError)
        new_b = outcomes["new b"]
        assert isinstance(new_b, AppendResult)
        assert new_b.stream_version == 3

        log = list(store.read_all())
        stored_a = 3 if won == ["three to a"] else 1
        assert [e.position for e in log] == list(range(1, 1 + stored_a + 3 + 1))
        assert [e.stream_id for e in log].count("a") == stored_a
        assert {e.stream_id for e in log} == {"x", "a", "b"}
        assert store.stream_version("x") == 1
        # One transaction: one clock reading for every event of the group.
        assert len({e.recorded_at for e in log[1:]}) == 1


def test_closing_a_store_closes_every_threads_reader(tmp_path: Path) -> None:
    store = SQLiteEventStore(tmp_path / "e.sqlite3")
    store.append("s", [probe()])
    seen: list[int] = []
    reader = threading.Thread(target=lambda: seen.append(store.head()))
    reader.start()
    reader.join()
    assert seen == [1]
    store.close()
    with pytest.raises(StoreError):
        store.head()
    with pytest.raises(StoreError):
        store.append("s", [probe()])
