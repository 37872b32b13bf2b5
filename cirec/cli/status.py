"""``cirec status``: how far each read model is behind the log, and which store is in use."""

from __future__ import annotations

from datetime import datetime

from attrs import frozen

from cirec.cli.context import Command, Context
from cirec.cli.tables import Column
from eventstore.store import EventStore
from projections.catalog import PROJECTIONS
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


def run(context: Context) -> int:
    """Show each read model's checkpoint, the head of the log, the lag, and the store in use.

    The lag in seconds is the time between the recording of the head event and of the
    last event the read model has folded (the first event of the log if it has folded
    none); 0 when it is caught up.
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
    status = Status(context.events.backend, context.location, head, lags)
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
    return 0


def _recorded_at(events: EventStore, position: int) -> datetime | None:
    """Return when the event at ``position`` was recorded; None if there is none."""
    if position < 1:
        return None
    found = next(events.read_all(after=position - 1, batch_size=1), None)
    return found.recorded_at if found is not None else None


COMMAND = Command("status", run)
