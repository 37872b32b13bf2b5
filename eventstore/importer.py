"""Import events given as JSON lines (the documented JSON form), one line at a time.

Each line is parsed and validated on its own. A bad line is reported, with the field at
fault, and nothing from it is stored; the good lines before and after it are stored.
Consecutive good lines bound for the same stream are appended together, for speed, but a
batch only ever holds lines that passed validation; if the store refuses a batch (an id
stored by an earlier, partial import, say), its lines are appended one by one so each
gets its own verdict. Appending is idempotent by ``event_id``: importing the same lines
again stores nothing new and reports the original positions.

The lines of a run pass the run gate (:mod:`eventstore.run_gate`) as the recorder's
events do: each is checked against its run's history and the lines before it in the
batch, a line the run forbids is reported with the field at fault, and the batch is
appended at the run's stream version it was checked against (checked again when another
writer moved the run on first).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any
from uuid import UUID

from attrs import frozen

from eventstore.catalog import DomainEvent, RunStarted
from eventstore.catalog.runs import RunEvent
from eventstore.codec import Codec
from eventstore.errors import (
    AppendTooLargeError,
    DuplicateEventError,
    InvalidEventError,
    LifecycleError,
    StoreError,
    WrongExpectedVersionError,
)
from eventstore.recording import expected_version_for
from eventstore.records import ANY, AppendResult, ExpectedVersion, NewEvent
from eventstore.run_gate import MAX_RACES, Pending, RunGate, Verdict
from eventstore.store import EventStore

MAX_BATCH = 500
"""The most lines one append carries."""


@frozen(kw_only=True)
class Appended:
    """A line whose event is in the store: appended now, or by an earlier import."""

    line: int
    event_id: UUID
    stream_id: str
    position: int
    already_stored: bool
    """True when an earlier import (or any earlier append) had stored this event."""


@frozen(kw_only=True)
class Rejected:
    """A line that was not stored, the field at fault and why."""

    line: int
    field: str
    problem: str


Outcome = Appended | Rejected


@frozen(kw_only=True)
class _Parsed:
    line: int
    stream_id: str
    record: NewEvent
    event: DomainEvent
    expected: ExpectedVersion


def import_lines(
    store: EventStore, lines: Iterable[tuple[int, str]], codec: Codec | None = None
) -> Iterator[Outcome]:
    """Import numbered JSON lines into ``store``; yield one outcome per non-blank line.

    Outcomes come in line order within a batch; a rejected line is reported as soon as
    it is read, before the batch of good lines preceding it is appended. Failures of the
    store itself (unreachable, …) are raised, not reported per line.
    """
    codec = codec or Codec()
    gate = RunGate(store, codec)
    batch: list[_Parsed] = []
    for number, text in lines:
        if not text.strip():
            continue
        parsed = _parse(codec, number, text)
        if isinstance(parsed, Rejected):
            yield parsed
            continue
        if batch and (
            parsed.stream_id != batch[0].stream_id
            or parsed.expected is not ANY
            or batch[0].expected is not ANY
            or len(batch) >= MAX_BATCH
        ):
            yield from _flush(store, gate, batch)
            batch = []
        batch.append(parsed)
    if batch:
        yield from _flush(store, gate, batch)


def _parse(codec: Codec, number: int, text: str) -> _Parsed | Rejected:
    try:
        raw: Any = json.loads(text)
    except json.JSONDecodeError as exc:
        problem = f"not valid JSON: {exc.msg} (column {exc.colno})"
        return Rejected(line=number, field="json", problem=problem)
    try:
        record, event = codec.parse_new_event(raw)
    except InvalidEventError as exc:
        return Rejected(line=number, field=exc.field or "event", problem=exc.reason)
    return _Parsed(
        line=number,
        stream_id=event.stream_id,
        record=record,
        event=event,
        expected=expected_version_for(event),
    )


def _flush(store: EventStore, gate: RunGate, batch: list[_Parsed]) -> Iterator[Outcome]:
    first = batch[0].event
    if isinstance(first, RunEvent):
        yield from _flush_run(store, gate, first.run_id, batch)
        return
    if isinstance(first, RunStarted):
        try:
            stored = gate.check_start(first, batch[0].record.event_id)
        except LifecycleError as exc:
            yield _rejected(batch[0], exc)
            return
        if stored is not None:
            yield _appended(batch[0], stored.positions[0], already_stored=True)
            return
    if len(batch) == 1:
        yield _append_one(store, batch[0])
        return
    try:
        result = store.append(batch[0].stream_id, [parsed.record for parsed in batch], ANY)
    except (DuplicateEventError, AppendTooLargeError):
        for parsed in batch:
            yield _append_one(store, parsed)
        return
    for parsed, position in zip(batch, result.positions, strict=True):
        yield _appended(parsed, position, result.already_stored)


def _append_one(store: EventStore, parsed: _Parsed) -> Outcome:
    try:
        result = store.append(parsed.stream_id, [parsed.record], parsed.expected)
    except WrongExpectedVersionError as exc:
        return Rejected(line=parsed.line, field="data.run_number", problem=str(exc))
    except (DuplicateEventError, AppendTooLargeError, InvalidEventError) as exc:
        return _refused_by_store(parsed, exc)
    return _appended(parsed, result.positions[0], result.already_stored)


def _refused_by_store(
    parsed: _Parsed, exc: DuplicateEventError | AppendTooLargeError | InvalidEventError
) -> Rejected:
    if isinstance(exc, DuplicateEventError):
        return Rejected(line=parsed.line, field="event_id", problem=exc.reason)
    field = exc.field if isinstance(exc, InvalidEventError) else "data"
    return Rejected(line=parsed.line, field=field, problem=str(exc))


def _appended(parsed: _Parsed, position: int, already_stored: bool) -> Appended:
    return Appended(
        line=parsed.line,
        event_id=parsed.record.event_id,
        stream_id=parsed.stream_id,
        position=position,
        already_stored=already_stored,
    )


def _flush_run(
    store: EventStore, gate: RunGate, run_id: UUID, batch: list[_Parsed]
) -> Iterator[Outcome]:
    """Check a batch of one run's lines against the run, then append the ones it allows."""
    for _ in range(MAX_RACES):
        # One stream, so every event of the batch is one of the run's.
        events = [(p.event, p.record.event_id) for p in batch if isinstance(p.event, RunEvent)]
        sifted = gate.sift(run_id, events)
        accepted = [p for p, verdict in zip(batch, sifted.verdicts, strict=True) if verdict is None]
        try:
            result = (
                store.append(batch[0].stream_id, [p.record for p in accepted], sifted.version)
                if accepted
                else None
            )
        except WrongExpectedVersionError:
            continue  # another writer moved the run on: check the batch again
        except (DuplicateEventError, AppendTooLargeError) as exc:
            if len(batch) == 1:
                yield _refused_by_store(batch[0], exc)
                return
            for parsed in batch:
                yield from _flush_run(store, gate, run_id, [parsed])
            return
        yield from _outcomes(batch, sifted.verdicts, accepted, result)
        return
    raise StoreError(
        store.backend, f"importing lines of run {run_id}", f"the run moved on {MAX_RACES} times"
    )


def _outcomes(
    batch: list[_Parsed],
    verdicts: tuple[Verdict, ...],
    accepted: list[_Parsed],
    result: AppendResult | None,
) -> Iterator[Outcome]:
    positions = dict(
        zip((p.record.event_id for p in accepted), result.positions if result else (), strict=True)
    )
    for parsed, verdict in zip(batch, verdicts, strict=True):
        if verdict is None:
            position = positions[parsed.record.event_id]
            yield _appended(parsed, position, already_stored=bool(result and result.already_stored))
        elif isinstance(verdict, LifecycleError):
            yield _rejected(parsed, verdict)
        elif isinstance(verdict, Pending):
            yield _appended(parsed, positions[verdict.event_id], already_stored=True)
        else:
            yield _appended(parsed, verdict.positions[0], already_stored=True)


def _rejected(parsed: _Parsed, exc: LifecycleError) -> Rejected:
    return Rejected(line=parsed.line, field=exc.field, problem=exc.reason)
