"""A CI engine that keeps appending through faults: ``python -m tests.faults.writer URL N ACKS``.

Appends the first N events of a workload, one append at a time, and after each
acknowledged append writes one line per event to ACKS: ``event_id position``. An append
that fails with a fault that can pass is made again with the same events (same ids), as
a CI engine retries after a timeout, until it is acknowledged; the store must store each
of them exactly once. Gives up (exit 1) on any other error, or after 180 s of faults.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from cirec.config import open_store
from eventstore.errors import StoreError
from eventstore.store import EventStore
from projections.retrying import Backoff
from tools.workload import TRICKY, Append, Workload

GIVE_UP_SECONDS = 180.0


def append_retrying(store: EventStore, append: Append) -> tuple[int, ...]:
    """Append ``append`` until acknowledged, retrying faults that can pass; return positions."""
    backoff = Backoff(first=0.05, cap=1.0)
    failures = 0
    deadline = time.monotonic() + GIVE_UP_SECONDS
    while True:
        try:
            return store.append(append.stream_id, append.events, append.expected).positions
        except StoreError as error:
            if not error.transient or time.monotonic() > deadline:
                raise
            failures += 1
            print(f"retrying after: {error}", file=sys.stderr, flush=True)
            time.sleep(backoff.delay(failures))


def write(url: str, count: int, acks: Path) -> None:
    """Append the first ``count`` events of the workload, noting each acknowledged one."""
    with open_store(url) as store, acks.open("a", encoding="utf-8") as out:
        for append in Workload(11, TRICKY).appends(count):
            positions = append_retrying(store, append)
            for event, position in zip(append.events, positions, strict=True):
                print(event.event_id, position, file=out, flush=True)


if __name__ == "__main__":
    write(sys.argv[1], int(sys.argv[2]), Path(sys.argv[3]))
