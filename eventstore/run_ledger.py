"""Where the write side learns a run's state: read from the store, kept between calls.

A run's state is its ``RunStarted`` and the events of its stream, folded by
:mod:`eventstore.run_state`. The ledger keeps the state of the runs it has seen, with the
stream version it reflects, and on every use reads only the events appended since, by
any process: one read per step of a run, however long the run. What it keeps is a cache
of the store, never a second truth; it may drop any run at any time.
"""

from __future__ import annotations

from collections import OrderedDict
from uuid import UUID, uuid5

from eventstore import run_state, streams
from eventstore.catalog import RunStarted
from eventstore.catalog.runs import RunEvent
from eventstore.codec import Codec
from eventstore.records import RecordedEvent
from eventstore.run_state import RunState
from eventstore.store import EventStore

CAPACITY = 256
"""How many runs' states one ledger keeps; the least recently used go first."""


def run_started_event_id(run_id: UUID) -> UUID:
    """Return the ``event_id`` of the ``RunStarted`` of ``run_id``: always the same for a run.

    The write side finds a run's start by it, so every ``RunStarted`` must carry it: a
    retried start is then the same event, and an emitter that chose the run's id knows
    its start's event id without asking the store.
    """
    return uuid5(run_id, "RunStarted")


class RunLedger:
    """The lifecycle state of runs, as the store holds them now."""

    def __init__(self, store: EventStore, codec: Codec, capacity: int = CAPACITY) -> None:
        self._store = store
        self._codec = codec
        self._capacity = capacity
        self._runs: OrderedDict[UUID, RunState] = OrderedDict()

    def start(self, run_id: UUID) -> tuple[RunStarted, RecordedEvent] | None:
        """Return the stored ``RunStarted`` of ``run_id`` and its record, or None."""
        stored = self._store.read_event(run_started_event_id(run_id))
        if stored is None:
            return None
        event = self._codec.decode(stored)
        if not isinstance(event, RunStarted) or event.run_id != run_id:
            return None
        return event, stored

    def state(self, run_id: UUID) -> RunState | None:
        """Return the state of run ``run_id`` as of the store's latest event of it.

        None when the run was never started (its ``RunStarted`` is not stored).
        """
        state = self._runs.pop(run_id, None)
        if state is None:
            found = self.start(run_id)
            if found is None:
                return None
            state = run_state.opened(found[0], found[1].event_id)
        for stored in self._store.read_stream(
            streams.run_stream(run_id), after_version=state.version
        ):
            event = self._codec.decode(stored)
            if isinstance(event, RunEvent):
                state = run_state.advance(state, event, stored.event_id, stored.stream_version)
        self._runs[run_id] = state
        while len(self._runs) > self._capacity:
            self._runs.popitem(last=False)
        return state
