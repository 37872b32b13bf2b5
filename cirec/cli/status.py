"""``cirec status``: the store in use, each read model's lag, and the workers' reports.

A following worker's report says when it was last seen and which outages it waited
out (see :mod:`projections.presence`).
"""

from __future__ import annotations

from datetime import datetime

from attrs import frozen

from cirec.cli.context import Command, Context
from cirec.cli.tables import Column
from eventstore.clock import utc_now
from eventstore.codec import json_converter
from eventstore.store import EventStore
from projections.catalog import PROJECTIONS
from projections.presence import PastOutage, WorkerReport
from projections.rebuild import unwritable_keys

COLUMNS = (
    Column("projection", 20),
    Column("version", 30),
    Column("checkpoint", 12, numeric=True),
    Column("head", 12, numeric=True),
    Column("lag events", 12, numeric=True),
    Column("lag seconds", 12, numeric=True),
    Column("unwritable", 10, numeric=True),
)
WORKER_COLUMNS = (
    Column("worker", 30),
    Column("projections", 34),
    Column("state", 9),
    Column("last seen", 12, numeric=True),
    Column("outages", 7, numeric=True),
    Column("last outage", 100),
)


@frozen
class Lag:
    """Where one read model stands against the head of the log."""

    projection: str
    version: str
    checkpoint: int
    head: int
    lag_events: int
    lag_seconds: float
    """How much later the head event was recorded than the last event folded (0 if none)."""
    unwritable: int
    """How many documents could not be written (over the size budget; see ``cirec verify``)."""


@frozen
class Status:
    """The store in use and the lag of every read model."""

    backend: str
    store: str
    """The store's URL, its password redacted."""
    head: int
    projections: list[Lag]
    workers: list[Worker]


@frozen
class Worker:
    """A following worker as it last reported itself, and what that says now."""

    worker: str
    projections: tuple[str, ...]
    state: str
    """``following``, ``silent`` (no report for a minute: outage, stuck or gone), ``stopped``."""
    seen_seconds_ago: float
    started: datetime
    outages: int
    last_outage: PastOutage | None

    @classmethod
    def of(cls, report: WorkerReport, now: datetime) -> Worker:
        """Return what ``report`` says at ``now``."""
        return cls(
            worker=report.worker,
            projections=report.projections,
            state=report.state(now),
            seen_seconds_ago=round((now - report.seen).total_seconds(), 3),
            started=report.started,
            outages=report.outages,
            last_outage=report.last_outage,
        )


def run(context: Context) -> int:
    """Show the store in use, each read model's checkpoint and lag, and the workers.

    The lag in seconds is the time between the recording of the head event and of the
    last event the read model has folded (the first event of the log if it has folded
    none); 0 when it is caught up. Each worker that follows the log (project --follow)
    is listed with its state (following, silent for a minute, stopped), when it was
    last seen, and the outages it waited out.
    """
    head = context.events.head()
    head_time = _recorded_at(context.events, head)
    lags = []
    for projection in PROJECTIONS:
        version = context.read_models.active_version(projection)
        checkpoint = context.read_models.checkpoint(projection, version)
        folded_time = _recorded_at(context.events, max(checkpoint, 1))
        seconds = (head_time - folded_time).total_seconds() if head_time and folded_time else 0.0
        unwritable = len(unwritable_keys(context.read_models, projection, version))
        lags.append(
            Lag(projection.name, version, checkpoint, head, head - checkpoint, seconds, unwritable)
        )
    now = utc_now()
    workers = [Worker.of(report, now) for report in context.read_models.worker_reports()]
    status = Status(context.events.backend, context.location, head, lags, workers)
    if context.json:
        context.print_json(status)
        return 0
    context.out(f"store: {status.backend} at {status.store}")
    rows = [
        (
            lag.projection,
            lag.version,
            str(lag.checkpoint),
            str(lag.head),
            str(lag.lag_events),
            f"{lag.lag_seconds:.3f}",
            str(lag.unwritable),
        )
        for lag in lags
    ]
    context.print_table(COLUMNS, rows)
    context.out("")
    if not workers:
        context.out("workers: none has reported (cirec project --follow does)")
        return 0
    context.out("workers:")
    context.print_table(WORKER_COLUMNS, [_worker_row(worker) for worker in workers])
    return 0


def _worker_row(worker: Worker) -> tuple[str, ...]:
    past = worker.last_outage
    outage = (
        "-"
        if past is None
        else (
            f"{past.seconds:.1f} s, {past.failures} failed tries, ended"
            f" {json_converter.unstructure(past.ended)}: {past.error}"
        )
    )
    return (
        worker.worker,
        ",".join(worker.projections),
        worker.state,
        f"{worker.seen_seconds_ago:.0f} s ago",
        str(worker.outages),
        outage,
    )


def _recorded_at(events: EventStore, position: int) -> datetime | None:
    """Return when the event at ``position`` was recorded; None if there is none."""
    if position < 1:
        return None
    found = next(events.read_all(after=position - 1, batch_size=1), None)
    return found.recorded_at if found is not None else None


COMMAND = Command("status", run, creates_store=False)
