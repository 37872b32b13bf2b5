"""Driving the write side as a CI engine does, on either path, and reading what it left.

An event reaches the write side by the recorder (``Recorder.record``, with the event id
and time the engine chose) or by the importer behind ``cirec emit`` (its JSON form, one
line). :func:`send` does either and says what came of it, as an :class:`Accepted` or a
:class:`Refused` naming the field at fault, so one test can run on both paths.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, Literal

from attrs import frozen

from cirec.config import open_read_models
from eventstore.catalog import DomainEvent, RunStarted, Trigger
from eventstore.codec import Codec, dump_json, json_converter
from eventstore.errors import LifecycleError
from eventstore.importer import Appended, import_lines
from eventstore.recorder import Recorder, run_started_event_id
from eventstore.records import Metadata
from eventstore.store import EventStore
from eventstore.streams import run_stream
from projections.catalog import PROJECTIONS
from projections.jobs_history import JOBS_HISTORY
from projections.worker import Projector

Path = Literal["record", "import"]
PATHS: tuple[Path, ...] = ("record", "import")
"""The two ways an engine's event reaches the write side."""

ACTOR = "ci-engine"
MOMENT = datetime(2026, 1, 15, 9, 30, 0, 123_000, tzinfo=UTC)
REPO = {
    "repo_name": "acme-api",
    "repo_url": "https://git.example.com/acme/api.git",
    "branch": "main",
    "pipeline_name": "build-and-test",
}


@frozen
class Accepted:
    """The write side took the event; ``already_stored`` when it appended nothing."""

    already_stored: bool


@frozen
class Refused:
    """The write side refused the event, naming ``field``."""

    field: str


Verdict = Accepted | Refused


def run_started(run_id: uuid.UUID, **changes: Any) -> RunStarted:
    """Return the ``RunStarted`` of run ``run_id`` (number 1 of :data:`REPO`'s pipeline)."""
    fields: dict[str, Any] = {
        **REPO,
        "run_id": run_id,
        "run_number": 1,
        "commit_hash": "9f2c1e7",
        "pipeline_config": {"stages": ["build", "test"]},
        "trigger": Trigger.PUSH,
        "actor": "dev-42",
    }
    fields.update(changes)
    return RunStarted(**fields)


def json_line(
    event: DomainEvent, event_id: uuid.UUID | None = None, occurred_at: datetime = MOMENT
) -> str:
    """Return ``event`` in its documented JSON form, as one line for ``cirec emit``."""
    if event_id is None:
        event_id = (
            run_started_event_id(event.run_id) if isinstance(event, RunStarted) else uuid.uuid4()
        )
    record = Codec().to_new_event(
        event,
        event_id=event_id,
        occurred_at=occurred_at,
        metadata=Metadata(correlation_id=getattr(event, "run_id", None), actor=ACTOR),
    )
    return dump_json(json_converter.unstructure(record))


def send(
    store: EventStore,
    path: Path,
    event: DomainEvent,
    event_id: uuid.UUID | None = None,
    occurred_at: datetime = MOMENT,
) -> Verdict:
    """Send one event through ``path``; return whether it was taken, or the field refused.

    A refusal on the recorder's path must be a :class:`LifecycleError` of ``event``'s type.
    """
    if path == "record":
        recorder = Recorder(store, actor=ACTOR, clock=lambda: occurred_at)
        try:
            receipt = recorder.record(event, event_id=event_id)
        except LifecycleError as exc:
            refusal = exc
        else:
            return Accepted(receipt.already_stored)
        assert refusal.event_type == type(event).__name__
        assert refusal.run_id == getattr(event, "run_id", None)
        return Refused(refusal.field)
    (outcome,) = import_lines(store, [(1, json_line(event, event_id, occurred_at))])
    if isinstance(outcome, Appended):
        return Accepted(outcome.already_stored)
    return Refused(outcome.field)


def import_all(store: EventStore, lines: Sequence[str]) -> list[Verdict]:
    """Import ``lines`` in one go (as one ``cirec emit``); return each line's verdict."""
    verdicts: dict[int, Verdict] = {}
    for outcome in import_lines(store, enumerate(lines, start=1)):
        verdicts[outcome.line] = (
            Accepted(outcome.already_stored)
            if isinstance(outcome, Appended)
            else Refused(outcome.field)
        )
    return [verdicts[line] for line in range(1, len(lines) + 1)]


@frozen
class LogState:
    """What the log holds: its head, the run's stream version, and every event id."""

    head: int
    run_version: int
    event_ids: tuple[uuid.UUID, ...]


def log_state(store: EventStore, run_id: uuid.UUID) -> LogState:
    """Return what ``store``'s log holds now, and the version of run ``run_id``'s stream."""
    return LogState(
        head=store.head(),
        run_version=store.stream_version(run_stream(run_id)),
        event_ids=tuple(event.event_id for event in store.read_all()),
    )


def plain(document: Any) -> dict[str, Any]:
    """Return a projection's document as plain JSON values."""
    unstructured: dict[str, Any] = json_converter.unstructure(document)
    return unstructured


def projected_runs(store: EventStore, url: str) -> dict[str, tuple[dict[str, Any], int]]:
    """Project the whole log of ``store`` (at ``url``); return each ``jobs_history`` document.

    By key, as plain JSON values, with the position each document has applied.
    """
    with open_read_models(url) as read:
        Projector(store, read, PROJECTIONS).catch_up()
        version = read.active_version(JOBS_HISTORY)
        return {
            key: (plain(versioned.document), versioned.position)
            for key, versioned in read.documents(JOBS_HISTORY, version)
        }


def run_document(store: EventStore, url: str, run_id: uuid.UUID) -> dict[str, Any]:
    """Project the log and return run ``run_id``'s ``jobs_history`` document."""
    return projected_runs(store, url)[str(run_id)][0]


def statuses(document: dict[str, Any]) -> dict[str, Any]:
    """Return a run document's statuses: the run's, and each stage's and job's, by name."""
    return {
        "run": document["status"],
        "stages": {
            name: (
                stage["stage_status"],
                {job: each["job_status"] for job, each in stage["jobs"].items()},
            )
            for name, stage in document["logs"].items()
        },
    }


def lines_of(events: Iterable[DomainEvent]) -> str:
    """Return ``events`` as JSON lines, each with a fresh event id."""
    return "".join(json_line(event) + "\n" for event in events)


def loads(line: str) -> dict[str, Any]:
    """Return the JSON object of one line."""
    value: dict[str, Any] = json.loads(line)
    return value
