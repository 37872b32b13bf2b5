"""The write side's gate for the events of runs: each checked against its run's history.

Every path that appends on behalf of a CI engine (the recorder's steps, ``record``,
``emit``, the importer behind ``cirec emit``) goes through it; the store's own
``append`` is the log's port and checks no lifecycle. An event of a run's stream is
checked against the run's state (:mod:`eventstore.lifecycle`, read through a
:class:`~eventstore.run_ledger.RunLedger`) and appended at exactly the stream version it
was checked against: a step another writer appended in between makes the append fail
with a version conflict, and the gate reads the run again and checks again. A retry of
an event already stored (same ``event_id``), or of a log chunk already stored with the
same text, appends nothing and returns where the stored one is.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from uuid import UUID

from attrs import frozen

from eventstore import lifecycle, run_state
from eventstore.catalog import RunStarted
from eventstore.catalog.runs import RunEvent
from eventstore.codec import Codec
from eventstore.errors import LifecycleError, StoreError, WrongExpectedVersionError
from eventstore.records import AppendResult, ExpectedVersion, NewEvent, RecordedEvent
from eventstore.run_ledger import RunLedger, run_started_event_id
from eventstore.run_state import RunState
from eventstore.store import EventStore

MAX_RACES = 100
"""How many times one append is checked again after other writers moved its run on."""


@frozen
class Pending:
    """An event that repeats one earlier in the same batch, not stored yet.

    The same ``event_id``, or a log chunk with the same text at the same index.
    """

    event_id: UUID


Verdict = AppendResult | LifecycleError | Pending | None
"""What the gate says of one event: None to append it; a stored copy's place; a refusal."""


@frozen
class Sifted:
    """The verdicts on a batch of one run's events, and the version they were checked at."""

    verdicts: tuple[Verdict, ...]
    state: RunState | None
    """The run as they were checked against (None: it was never started)."""

    @property
    def version(self) -> int:
        """The version the run's stream must still be at for the verdicts to hold."""
        return 0 if self.state is None else self.state.version


class RunGate:
    """Checks the events of runs against their runs' histories before they are appended."""

    def __init__(self, store: EventStore, codec: Codec) -> None:
        self._store = store
        self._ledger = RunLedger(store, codec)

    def start(self, run_id: UUID) -> tuple[RunStarted, RecordedEvent] | None:
        """Return the stored ``RunStarted`` of ``run_id`` and its record, or None."""
        return self._ledger.start(run_id)

    def state(self, run_id: UUID) -> RunState | None:
        """Return the run's state as the store holds it now (None: never started)."""
        return self._ledger.state(run_id)

    def check_start(self, event: RunStarted, event_id: UUID) -> AppendResult | None:
        """Check a ``RunStarted``: None to append it, or where the same start is stored.

        Its ``event_id`` must be :func:`run_started_event_id` of its run; a run id started
        already with other content is refused, naming ``data.run_id``.
        """
        refuse = _refusal(event)
        expected = run_started_event_id(event.run_id)
        if event_id != expected:
            refuse(
                "event_id", f"a RunStarted's event_id is uuid5(run_id, 'RunStarted'): {expected}"
            )
        found = self._ledger.start(event.run_id)
        if found is None:
            return None
        stored_event, stored = found
        if stored_event != event:
            refuse(
                "data.run_id",
                f"the run has started already, as run #{stored_event.run_number} of pipeline "
                f"{stored_event.pipeline_name!r} of {stored_event.repo_name!r}",
            )
        return _place(stored)

    def sift(
        self,
        run_id: UUID,
        events: Sequence[tuple[RunEvent, UUID]],
        known: RunState | None = None,
    ) -> Sifted:
        """Check consecutive events of one run, each against the run with those before it.

        A refused event does not count for the ones after it. No event is appended. The
        run is read from the store, unless ``known`` gives its state as just read.
        """
        state = known or self._ledger.state(run_id)
        if state is None:
            refusals = tuple(
                _refusal_of(event, "data.run_id", "no such run was started in this store")
                for event, _ in events
            )
            return Sifted(verdicts=refusals, state=None)
        before = state
        appending: set[UUID] = set()  # the events of this batch that are to be appended
        verdicts: list[Verdict] = []
        for event, event_id in events:
            if event_id in appending:  # sent twice in one batch: a retry, as once stored
                verdicts.append(Pending(event_id))
                continue
            try:
                retry = lifecycle.check(state, event)
            except LifecycleError as exc:
                verdicts.append(self._stored_copy(event_id, event.stream_id) or exc)
                continue
            if retry is None:
                state = run_state.advance(state, event, event_id, state.version + 1)
                appending.add(event_id)
                verdicts.append(None)
            elif retry.event_id in appending:
                verdicts.append(Pending(retry.event_id))
            else:
                stored = self._store.read_event(retry.event_id)
                verdicts.append(None if stored is None else _place(stored))
        return Sifted(verdicts=tuple(verdicts), state=before)

    def append_step(
        self,
        event: RunEvent,
        event_id: UUID,
        record_for: Callable[[RunState], NewEvent],
        known: RunState | None = None,
    ) -> AppendResult:
        """Check one event of a run and append it; ``record_for`` builds its record.

        The record is built from the run's state it is checked against (the recorder
        threads causation through it) and built again if another writer moves the run
        on first. Raises :class:`LifecycleError` when the run forbids the event.
        ``known`` is the run's state as the caller has just read it (one read fewer).
        """
        for _ in range(MAX_RACES):
            sifted = self.sift(event.run_id, [(event, event_id)], known)
            known = None  # after a conflict, the run is read again
            verdict = sifted.verdicts[0]
            if isinstance(verdict, LifecycleError):
                raise verdict
            if isinstance(verdict, AppendResult):
                return verdict
            if sifted.state is None:  # never: an unknown run's verdict is a refusal
                continue
            try:
                return self._store.append(
                    event.stream_id, [record_for(sifted.state)], _exactly(sifted.version)
                )
            except WrongExpectedVersionError:
                continue  # another writer moved the run on: read it again
        raise StoreError(
            self._store.backend,
            f"appending {type(event).__name__} to run {event.run_id}",
            f"other writers moved the run on {MAX_RACES} times in a row",
        )

    def _stored_copy(self, event_id: UUID, stream_id: str) -> AppendResult | None:
        stored = self._store.read_event(event_id)
        if stored is None or stored.stream_id != stream_id:
            return None
        return _place(stored)


def _exactly(version: int) -> ExpectedVersion:
    return version


def _place(stored: RecordedEvent) -> AppendResult:
    return AppendResult(
        positions=(stored.position,), stream_version=stored.stream_version, already_stored=True
    )


def _refusal_of(event: RunStarted | RunEvent, field: str, reason: str) -> LifecycleError:
    return LifecycleError(
        field,
        reason,
        getattr(event, field.removeprefix("data."), None),
        event_type=type(event).__name__,
        run_id=event.run_id,
    )


def _refusal(event: RunStarted) -> Callable[[str, str], None]:
    def refuse(field: str, reason: str) -> None:
        raise _refusal_of(event, field, reason)

    return refuse
