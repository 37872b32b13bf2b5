"""``concurrent_append`` and ``concurrent_append_stores``: threads appending at once.

The shape of eventsourcing's own ``test_concurrent_throughput`` (its
``tests/persistence.py``): a pool of 4 worker threads is given jobs, each job one append
of 50 events to a new stream; a warm-up of one job per worker, then the timed jobs.
Ours appends through ONE store object shared by the 4 threads (``concurrent_append``), or
through one store object per thread (``concurrent_append_stores``), as an engine of
several processes would; the baseline is the peer's SQLite application recorder doing
the same on a file of its own in the same directory, in the same run. The three take
turns, round by round, so all see the same load from the machine.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from eventsourcing.persistence import StoredEvent as PeerEvent

from bench.backends import new_place
from bench.figures import Figure
from bench.peer import PeerLog
from cirec.config import open_store
from eventstore.clock import utc_now
from eventstore.records import NO_STREAM, NewEvent
from eventstore.store import EventStore

WORKERS = 4
EVENTS_PER_JOB = 50
ROUNDS = 3
_STATE = {"state": "state"}
_STATE_BYTES = b'{"state":"state"}'  # the same JSON the store keeps for _STATE

Job = Callable[[], None]


def measure(workdir: Path, jobs: int) -> dict[str, Figure]:
    """Return both figures for ``jobs`` jobs a round (ours vs the peer's recorder)."""
    shared = new_place("sqlite", workdir, "concurrent_shared")
    own = new_place("sqlite", workdir, "concurrent_own")
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": str(workdir / "concurrent_peer.db"),
    }
    peer = PeerLog(env)
    opened: list[EventStore] = []
    mine = threading.local()

    def per_thread() -> EventStore:
        store: EventStore | None = getattr(mine, "store", None)
        if store is None:
            store = mine.store = open_store(own.url)
            opened.append(store)
        return store

    spent = [0.0, 0.0, 0.0]
    try:
        with open_store(shared.url) as one:
            sides: list[Job] = [
                lambda: _append_ours(one),
                lambda: _append_ours(per_thread()),
                lambda: _append_peer(peer),
            ]
            with ThreadPoolExecutor(max_workers=WORKERS) as pool:
                for job in sides:
                    _run(pool, job, WORKERS)  # warm up: every worker opens what it needs
                for _ in range(ROUNDS):
                    for side, job in enumerate(sides):
                        spent[side] += _run(pool, job, jobs)
    finally:
        for store in opened:
            store.close()
        peer.close()
    events = ROUNDS * jobs * EVENTS_PER_JOB
    ours_one, ours_each, theirs = (events / s for s in spent)
    label = f"eventsourcing SQLite recorder, {WORKERS} threads"
    return {
        "concurrent_append": Figure(ours_one, theirs, "events/s", f"{label}; 1 store"),
        "concurrent_append_stores": Figure(
            ours_each, theirs, "events/s", f"{label}; 1 store per thread"
        ),
    }


def _run(pool: ThreadPoolExecutor, job: Job, jobs: int) -> float:
    """Run ``jobs`` of ``job`` on the pool; return the wall time until all are done."""
    began = time.perf_counter()
    for future in [pool.submit(job) for _ in range(jobs)]:
        future.result()
    return time.perf_counter() - began


def _append_ours(store: EventStore) -> None:
    stream = f"job-{uuid.uuid4()}"
    events = [
        NewEvent(
            event_id=uuid.uuid4(),
            type="Probe",
            schema_version=1,
            occurred_at=utc_now(),
            data=_STATE,
        )
        for _ in range(EVENTS_PER_JOB)
    ]
    store.append(stream, events, NO_STREAM)


def _append_peer(peer: PeerLog) -> None:
    originator = uuid.uuid4()
    peer.recorder.insert_events(
        [
            PeerEvent(
                originator_id=originator,
                originator_version=version,
                topic="topic",
                state=_STATE_BYTES,
            )
            for version in range(EVENTS_PER_JOB)
        ]
    )
