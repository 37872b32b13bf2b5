"""One store object shared by several threads keeps every promise of the contract.

Threads append through ONE store to streams of their own and to shared streams, with
exact expected versions (retrying a conflict at the version it names), appends of one
event and of several, each append sent a second time as a retry after a timeout would
be; then every invariant of the log is checked on what was stored.
"""

from __future__ import annotations

import threading
import uuid
from collections import defaultdict

import pytest

from eventstore.clock import utc_now
from eventstore.errors import DuplicateEventError, WrongExpectedVersionError
from eventstore.records import AppendResult, NewEvent
from eventstore.store import EventStore

THREADS, SHARED_STREAMS = 4, 2
# FerretDB v1 decodes every commit for most queries (docs/architecture.md): fewer there.
APPENDS_EACH = {"sqlite": 40, "mongodb": 8}


def probe(thread: int, sequence: int, part: int) -> NewEvent:
    return NewEvent(
        event_id=uuid.uuid4(),
        type="Probe",
        schema_version=1,
        occurred_at=utc_now(),
        data={"thread": thread, "sequence": sequence, "part": part},
    )


class Writer:
    """What one thread did: every result it got, and the conflicts it met."""

    def __init__(self, store: EventStore, thread: int, appends: int, start: threading.Barrier):
        self.store, self.thread, self.appends, self.start = store, thread, appends, start
        self.results: list[tuple[str, list[NewEvent], AppendResult]] = []
        self.conflicts = 0
        self.failure: BaseException | None = None

    def run(self) -> None:
        try:
            self._run()
        except BaseException as exc:  # reported by the test, in the main thread
            self.failure = exc

    def _run(self) -> None:
        own = f"own-{self.thread}-{uuid.uuid4()}"
        known: dict[str, int] = {own: 0}
        self.start.wait()
        for sequence in range(self.appends):
            stream = own if sequence % 2 else f"shared-{sequence % (2 * SHARED_STREAMS)}"
            events = [probe(self.thread, sequence, p) for p in range(1 + sequence % 3)]
            while True:
                expected = known.get(stream)
                if expected is None:
                    expected = known[stream] = self.store.stream_version(stream)
                try:
                    result = self.store.append(stream, events, expected)
                    break
                except WrongExpectedVersionError as conflict:
                    self.conflicts += 1
                    known[stream] = conflict.actual
                if known[stream] <= expected:  # a conflict says another thread moved it on
                    raise AssertionError(f"conflict at {expected}, actual {known[stream]}")
            known[stream] = result.stream_version
            # The same append again, as after a timeout: a no-op returning the same places,
            # whatever the expected version now says.
            again = self.store.append(stream, events, expected)
            assert again == AppendResult(
                positions=result.positions,
                stream_version=result.stream_version,
                already_stored=True,
            )
            self.results.append((stream, events, result))
        # A stale expected version is refused, and stores nothing.
        with pytest.raises(WrongExpectedVersionError):
            self.store.append(own, [probe(self.thread, -1, 0)], known[own] - 1)
        # A stored id in another stream is a duplicate, not a retry.
        with pytest.raises(DuplicateEventError):
            self.store.append(f"elsewhere-{self.thread}", self.results[-1][1][:1])


def test_threads_sharing_one_store_keep_every_invariant(store: EventStore, backend: str) -> None:
    start = threading.Barrier(THREADS)
    writers = [Writer(store, t, APPENDS_EACH[backend], start) for t in range(THREADS)]
    threads = [threading.Thread(target=w.run) for w in writers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for writer in writers:
        if writer.failure is not None:
            raise writer.failure

    log = list(store.read_all())
    total = sum(len(events) for w in writers for _, events, _ in w.results)
    assert [e.position for e in log] == list(range(1, total + 1))  # gapless and unique
    assert store.head() == total
    assert len({e.event_id for e in log}) == total
    versions: dict[str, list[int]] = defaultdict(list)
    for event in log:
        versions[event.stream_id].append(event.stream_version)
    for stream, seen in versions.items():
        assert seen == list(range(1, len(seen) + 1)), stream
        assert store.stream_version(stream) == len(seen)
    # Each result names exactly where its events are, and each append is contiguous.
    by_position = {e.position: e for e in log}
    for writer in writers:
        for stream, events, result in writer.results:
            stored = [by_position[p] for p in result.positions]
            assert [e.event_id for e in stored] == [e.event_id for e in events]
            assert {e.stream_id for e in stored} == {stream}
            assert list(result.positions) == list(
                range(result.positions[0], result.positions[0] + len(events))
            )
            assert stored[-1].stream_version == result.stream_version
