"""Several OS processes append at once; the log stays gap-free, ordered and complete.

These are the multi-process checks of the store contract: real processes, real stores
(a SQLite file, a MongoDB-wire server over TCP), bounded in time.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import pytest

from cirec.config import open_store
from eventstore.records import RecordedEvent

ROOT = Path(__file__).resolve().parents[1]
WRITERS, STREAMS = 4, 10
# FerretDB v1 answers every query but one by `_id` by decoding every commit
# (docs/architecture.md), so the test's cost grows with the square of the log there:
# FerretDB gets fewer events; the contention of four writers is the same.
EVENTS_EACH = {"sqlite": 500, "mongodb": 100}
DEADLINE_SECONDS = 600

pytestmark = pytest.mark.slow


def start_worker(*args: object) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.workers", *map(str, args)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def assert_gap_free_and_versioned(log: list[RecordedEvent]) -> None:
    assert [e.position for e in log] == list(range(1, len(log) + 1))
    assert len({e.event_id for e in log}) == len(log)
    versions: dict[str, list[int]] = defaultdict(list)
    for event in log:
        versions[event.stream_id].append(event.stream_version)
    for stream, seen in versions.items():
        assert seen == list(range(1, len(seen) + 1)), stream


def test_concurrent_writers_and_a_tailing_reader_agree_on_one_gap_free_log(
    store_url: str, backend: str
) -> None:
    each = EVENTS_EACH[backend]
    writers = [start_worker("contend", store_url, w, each, STREAMS, w) for w in range(WRITERS)]
    tailed: list[RecordedEvent] = []
    deadline = time.monotonic() + DEADLINE_SECONDS
    with open_store(store_url) as reader:
        while any(w.poll() is None for w in writers):
            assert time.monotonic() < deadline, "writers did not finish in time"
            after = tailed[-1].position if tailed else 0
            tailed.extend(reader.read_all(after))
            # Pause between polls by waiting on a writer, not by sleeping.
            with contextlib.suppress(subprocess.TimeoutExpired):
                writers[0].wait(timeout=0.1)
        tailed.extend(reader.read_all(tailed[-1].position if tailed else 0))
        log = list(reader.read_all())
    for writer in writers:
        out, err = writer.communicate()
        assert writer.returncode == 0, err
        print(out.strip())

    assert len(log) == WRITERS * each
    assert_gap_free_and_versioned(log)
    written = {(e.data["writer"], e.data["sequence"]) for e in log}
    assert written == {(w, s) for w in range(WRITERS) for s in range(each)}
    # The reader saw every event exactly once, in order, while the writers ran.
    assert [(e.position, e.event_id) for e in tailed] == [(e.position, e.event_id) for e in log]
