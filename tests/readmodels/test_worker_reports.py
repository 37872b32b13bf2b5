"""Workers' reports: both stores keep them exactly, and a following worker keeps its own.

The store half runs on both backends (``read_store``); the worker half drives a
:class:`~projections.presence.Presence` with a clock the test moves, so what is written
and when is decided by the test, not by the machine's speed.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eventstore.errors import StoreError
from projections.adapters.sqlite import SQLiteReadModelStore
from projections.catalog import PROJECTIONS
from projections.presence import (
    BEAT_SECONDS,
    KEPT_FOR,
    SILENT_SECONDS,
    PastOutage,
    Presence,
    WorkerReport,
)
from projections.retrying import Backoff, Outage
from projections.store import ReadModelStore
from projections.worker import Projector
from tests.readmodels.test_retrying import FlakyStore, busy
from tools.workload import TRICKY, Workload

T0 = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)

moments = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
).map(lambda moment: moment.replace(microsecond=moment.microsecond // 1000 * 1000))
names = st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=40)
outages = st.builds(
    PastOutage,
    began=moments,
    ended=moments,
    failures=st.integers(1, 10**6),
    error=st.text(st.characters(exclude_categories=["Cs"]), max_size=300),
)
reports = st.builds(
    WorkerReport,
    worker=names,
    projections=st.lists(names, max_size=3).map(tuple),
    started=moments,
    seen=moments,
    stopped=st.none() | moments,
    outages=st.integers(0, 10**6),
    last_outage=st.none() | outages,
)


def report(worker: str, seen: datetime) -> WorkerReport:
    return WorkerReport(worker=worker, projections=("sessions",), started=T0, seen=seen)


# One store for every example: each report has its own worker name, or replaces one.
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(report=reports)
def test_a_report_comes_back_as_it_was_stored(
    read_store: ReadModelStore, report: WorkerReport
) -> None:
    read_store.report_worker(report)
    assert [found for found in read_store.worker_reports() if found.worker == report.worker] == [
        report
    ]


def test_a_report_replaces_the_workers_last_and_old_ones_are_forgotten(
    read_store: ReadModelStore,
) -> None:
    read_store.report_worker(report("b:2", T0))
    read_store.report_worker(report("a:1", T0))
    read_store.report_worker(report("a:1", T0 + timedelta(seconds=5)))
    assert read_store.worker_reports() == [
        report("a:1", T0 + timedelta(seconds=5)),
        report("b:2", T0),
    ]
    assert read_store.forget_workers(T0 + timedelta(seconds=1)) == 1
    assert read_store.worker_reports() == [report("a:1", T0 + timedelta(seconds=5))]


class Clock:
    """A wall clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class Sink:
    """Keeps every report written, and fails while ``faults`` lasts."""

    def __init__(self) -> None:
        self.written: list[WorkerReport] = []
        self.forgotten: list[datetime] = []
        self.faults: list[StoreError] = []

    def report_worker(self, report: WorkerReport) -> None:
        if self.faults:
            raise self.faults.pop(0)
        self.written.append(report)

    def forget_workers(self, seen_before: datetime) -> int:
        self.forgotten.append(seen_before)
        return 0


def outage(failures: int, began: float = 100.0) -> Outage:
    return Outage(began, failures, busy(), 0.1)


def test_a_presence_writes_at_start_then_only_when_due_or_changed() -> None:
    clock, sink = Clock(), Sink()
    presence = Presence(sink, ("sessions",), worker="h:1", clock=clock)
    presence.start()
    assert sink.forgotten == [T0 - KEPT_FOR]
    assert [r.seen for r in sink.written] == [T0]
    clock.advance(BEAT_SECONDS - 0.001)
    presence.beat()
    assert len(sink.written) == 1
    clock.advance(0.001)
    presence.beat()
    assert [r.seen for r in sink.written] == [T0, T0 + timedelta(seconds=BEAT_SECONDS)]


def test_an_outage_is_written_once_it_is_over_with_its_length_and_last_error() -> None:
    clock, sink = Clock(), Sink()
    presence = Presence(sink, ("sessions",), worker="h:1", clock=clock)
    presence.start()
    clock.advance(1)
    presence.on_outage(outage(1))
    clock.advance(2)
    presence.on_outage(outage(2))
    clock.advance(3)
    presence.on_recovery(outage(2), 105.0)  # monotonic seconds: 5 s after it began
    assert len(sink.written) == 1  # nothing written while the store was away
    presence.beat()  # due at once: the report changed
    last = sink.written[-1]
    assert last.outages == 1
    assert last.last_outage == PastOutage(
        began=T0 + timedelta(seconds=1),
        ended=T0 + timedelta(seconds=6),
        failures=2,
        error=str(busy()),
    )
    assert last.last_outage.seconds == 5
    assert last.state(clock.now) == "following"
    assert last.state(clock.now + timedelta(seconds=SILENT_SECONDS + 1)) == "silent"


def test_stopping_is_written_but_not_during_an_outage_nor_waited_for() -> None:
    clock, sink = Clock(), Sink()
    presence = Presence(sink, ("sessions",), worker="h:1", clock=clock)
    presence.start()
    presence.on_outage(outage(1))
    assert presence.stop() is False
    presence.on_recovery(outage(1), 100.0)
    sink.faults.append(busy())
    assert presence.stop() is False
    assert presence.stop() is True
    assert sink.written[-1].state(clock.now) == "stopped"
    sink.faults.append(StoreError("sqlite", "report_worker", "SQLITE_CORRUPT"))
    with pytest.raises(StoreError):
        presence.stop()


def test_a_following_worker_reports_itself_and_the_outage_it_waited_out(tmp_path: Path) -> None:
    path = tmp_path / "log.sqlite3"
    clock = Clock()
    with FlakyStore(path, []) as events, SQLiteReadModelStore(path) as read_models:
        head = Workload(7, TRICKY).write(events, 200)
        events.faults.extend(busy() for _ in range(3))
        presence = Presence(
            read_models, tuple(p.name for p in PROJECTIONS), worker="h:1", clock=clock
        )

        def caught_up() -> bool:
            clock.advance(1)
            return all(
                read_models.checkpoint(p, read_models.active_version(p)) == head
                for p in PROJECTIONS
            )

        Projector(events, read_models, PROJECTIONS).follow(
            caught_up,
            lambda _seconds: clock.advance(1),
            backoff=Backoff(first=0.1, cap=0.3, rng=random.Random(1)),
            presence=presence,
        )
        [stored] = read_models.worker_reports()
    assert stored.worker == "h:1"
    assert stored.projections == tuple(p.name for p in PROJECTIONS)
    assert stored.stopped == stored.seen == clock.now
    assert stored.outages == 1
    assert stored.last_outage is not None
    assert stored.last_outage.failures == 3
    # Three short waits of backoff on the machine's monotonic clock; the test's own
    # clock only places the outage's end.
    assert 0 < stored.last_outage.seconds < 5
    assert stored.last_outage.ended <= stored.seen
