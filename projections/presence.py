"""What a following worker tells the read-model store about itself, so ``cirec status`` can.

A worker that follows the log keeps a :class:`WorkerReport` in the read-model store,
under its own name (host and process id): which projections it folds, when it started,
when it was last seen, how many outages it has waited out and the last of them. It
writes the report when it starts, at most every :data:`BEAT_SECONDS` while it works
(after a step or an idle poll), once an outage is over, and when it stops.

It writes nothing *during* an outage: the store is what is away, and a write could
block as long as the fault lasts. A reader recognises an outage under way, or a worker
that died, by a report not renewed for :data:`SILENT_SECONDS`; the report written once
the store is back says how long the outage lasted, how many tries failed and why.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Final, Protocol

import attrs
from attrs import frozen

from eventstore.clock import to_millis, utc_now
from eventstore.errors import StoreError
from projections.retrying import Outage

BEAT_SECONDS: Final = 5.0
"""How often a working worker renews its report, at most."""
SILENT_SECONDS: Final = 60.0
"""A report not renewed for this long stands for a worker in an outage, stuck, or gone.

Well above :data:`BEAT_SECONDS`, as a worker renews it between steps, and one step on
a slow server (a batch of large documents on FerretDB) can take tens of seconds.
"""
KEPT_FOR: Final = timedelta(days=1)
"""A report not renewed for this long is deleted by the next worker that starts."""

Clock = Callable[[], datetime]


@frozen(kw_only=True)
class PastOutage:
    """An outage a worker waited out: when it began and ended, the tries that failed, why."""

    began: datetime
    ended: datetime
    failures: int
    error: str
    """The last error's message (store errors never show a password)."""

    @property
    def seconds(self) -> float:
        """How long the outage lasted."""
        return (self.ended - self.began).total_seconds()


@frozen(kw_only=True)
class WorkerReport:
    """A following worker as it last reported itself."""

    worker: str
    """``host:pid`` of the worker's process."""
    projections: tuple[str, ...]
    started: datetime
    seen: datetime
    """When the worker last wrote this report."""
    stopped: datetime | None = None
    """When it stopped on request; None while it runs (or if it died)."""
    outages: int = 0
    """How many outages it has waited out since it started."""
    last_outage: PastOutage | None = None

    def state(self, now: datetime) -> str:
        """Return ``stopped``, ``silent`` (not renewed for a while) or ``following``."""
        if self.stopped is not None:
            return "stopped"
        if (now - self.seen).total_seconds() > SILENT_SECONDS:
            return "silent"
        return "following"


class ReportSink(Protocol):
    """Where reports go: the read-model store (see :meth:`ReadModelStore.report_worker`)."""

    def report_worker(self, report: WorkerReport) -> None:
        """Store ``report``, replacing the worker's earlier one."""

    def forget_workers(self, seen_before: datetime) -> int:
        """Delete the reports last renewed before ``seen_before``; return how many."""


def worker_name() -> str:
    """Return ``host:pid`` of this process."""
    return f"{socket.gethostname()}:{os.getpid()}"


class Presence:
    """Keeps one worker's report current in ``sink``; see the module docs.

    :meth:`beat` is called as the worker works, and writes only when due; the outage
    callbacks only change the report in memory, which the first beat after the outage
    writes. A write that fails raises the store's error, which the worker's retries
    handle like any other.
    """

    def __init__(
        self,
        sink: ReportSink,
        projections: tuple[str, ...],
        *,
        worker: str | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self._sink = sink
        self._clock = clock
        now = clock()
        self._report = WorkerReport(
            worker=worker or worker_name(), projections=projections, started=now, seen=now
        )
        self._due = True
        self._in_outage = False

    def start(self) -> None:
        """Delete reports not renewed for :data:`KEPT_FOR`, then write this one."""
        self._sink.forget_workers(self._clock() - KEPT_FOR)
        self.beat()

    def beat(self) -> None:
        """Write the report if it changed or :data:`BEAT_SECONDS` passed since the last write."""
        now = self._clock()
        if not self._due and (now - self._report.seen).total_seconds() < BEAT_SECONDS:
            return
        self._write(attrs.evolve(self._report, seen=now))

    def on_outage(self, outage: Outage) -> None:
        """Note that an outage is under way (told at each failed try)."""
        self._in_outage = True

    def on_recovery(self, outage: Outage, now: float) -> None:
        """Note the outage that ended at ``now`` (``time.monotonic()``); the next beat writes it.

        Also for an outage this presence was not told of as it began (one waited out
        before the worker could open its store): its length comes from ``outage``.
        """
        ended = self._clock()
        past = PastOutage(
            began=to_millis(ended - timedelta(seconds=outage.lasted(now))),
            ended=ended,
            failures=outage.failures,
            error=str(outage.error),
        )
        self._report = attrs.evolve(
            self._report, outages=self._report.outages + 1, last_outage=past
        )
        self._in_outage = False
        self._due = True

    def stop(self) -> bool:
        """Write the report as stopped; return whether it was written.

        Not while an outage is under way, nor if the write meets a fault that can pass:
        the worker is stopping, and waiting for the store would only delay it. Its report
        then goes silent, as a worker's that died.
        """
        if self._in_outage:
            return False
        now = self._clock()
        try:
            self._write(attrs.evolve(self._report, seen=now, stopped=now))
        except StoreError as error:
            if not error.transient:
                raise
            return False
        return True

    def _write(self, report: WorkerReport) -> None:
        self._sink.report_worker(report)
        self._report = report
        self._due = False
