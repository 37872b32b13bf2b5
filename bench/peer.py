"""``peer_append`` and ``peer_project``: the ``eventsourcing`` library beside our embedded store.

Both sides get the same events (same payloads, one append per stage's worth of a run)
on SQLite files in the same directory. The peer appends through its application's
mapper and SQLite recorder (``insert_events``); ours through :class:`SQLiteEventStore`.
Then the peer projects through its own mechanism (a ``Follower`` pulling the leader's
notification log, one tracked transaction per event; its SQLite recorder has no
subscriptions, so ``ProjectionRunner`` cannot run on it) a deliberately light fold (a
count per stream, kept in memory), while ours catches up on the three full read models:
the comparison favours the peer.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eventsourcing.application import Application, ProcessingEvent
from eventsourcing.domain import DomainEvent
from eventsourcing.system import Follower

from bench.backends import Place, new_place
from bench.figures import Figure
from cirec.config import open_read_models, open_store
from projections.catalog import PROJECTIONS
from projections.worker import Projector
from tools.workload import Append

_NAMESPACE = uuid.UUID("5b0d3c2e-3f7a-4b7e-9a52-2f0c1d9e8a61")


@dataclass(frozen=True)
class CIEventRecorded(DomainEvent):
    """One CI event in the peer's log: our type name and payload, unchanged."""

    type: str
    data: dict[str, Any]


class PeerLog(Application[uuid.UUID]):
    """The peer application whose log holds the workload."""


class PeerTotals(Follower[uuid.UUID]):
    """The peer's projection: a light fold (events per stream, in memory), tracked per event."""

    def __init__(self, env: dict[str, str]) -> None:
        super().__init__(env)
        self.totals: dict[uuid.UUID, int] = {}

    def policy(self, domain_event: Any, processing_event: ProcessingEvent[uuid.UUID]) -> None:
        """Count ``domain_event`` against its stream; the runner records the tracking."""
        origin = domain_event.originator_id
        self.totals[origin] = self.totals.get(origin, 0) + 1


def measure(workdir: Path, appends: Sequence[Append]) -> dict[str, Figure]:
    """Return ``peer_append`` and ``peer_project`` for ``appends`` (ours vs the peer's)."""
    events = sum(len(a.events) for a in appends)
    ours_place = new_place("sqlite", workdir, "peer_ours")
    env = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(workdir / "peer.db")}
    ours_append = _append_ours(ours_place, appends)
    peer_append, notifications = _append_peer(env, appends)
    ours_project = _project_ours(ours_place)
    peer_project = _project_peer(env, notifications)
    return {
        "peer_append": Figure(
            events / ours_append, events / peer_append, "events/s", "eventsourcing insert_events"
        ),
        "peer_project": Figure(
            events / ours_project, events / peer_project, "events/s", "eventsourcing projection"
        ),
    }


def _append_ours(place: Place, appends: Sequence[Append]) -> float:
    with open_store(place.url) as store:
        began = time.perf_counter()
        for append in appends:
            store.append(append.stream_id, append.events, append.expected)
        return time.perf_counter() - began


def _append_peer(env: dict[str, str], appends: Sequence[Append]) -> tuple[float, int]:
    """Append through the peer's mapper and recorder; return the time and the last id."""
    app = PeerLog(env)
    versions: dict[str, int] = {}
    try:
        began = time.perf_counter()
        for append in appends:
            origin = uuid.uuid5(_NAMESPACE, append.stream_id)
            first = versions.get(append.stream_id, 0) + 1
            versions[append.stream_id] = first + len(append.events) - 1
            stored = [
                app.mapper.to_stored_event(
                    CIEventRecorded(
                        originator_id=origin,
                        originator_version=first + offset,
                        timestamp=event.occurred_at,
                        type=event.type,
                        data=event.data,
                    )
                )
                for offset, event in enumerate(append.events)
            ]
            app.recorder.insert_events(stored)
        spent = time.perf_counter() - began
        last = app.recorder.max_notification_id() or 0
    finally:
        app.close()
    return spent, last


def _project_ours(place: Place) -> float:
    with open_store(place.url) as events, open_read_models(place.url) as models:
        began = time.perf_counter()
        Projector(events, models, PROJECTIONS).catch_up()
        return time.perf_counter() - began


def _project_peer(env: dict[str, str], last: int) -> float:
    """Pull and process the peer's whole log; return the time."""
    leader, follower = PeerLog(env), PeerTotals(env)
    try:
        follower.follow(leader.name, leader.notification_log)
        began = time.perf_counter()
        follower.pull_and_process(leader.name)
        spent = time.perf_counter() - began
        tracked = follower.recorder.max_tracking_id(leader.name)
    finally:
        follower.close()
        leader.close()
    if tracked != last or sum(follower.totals.values()) != last:
        raise RuntimeError(f"peer projection tracked {tracked} of {last} events")
    return spent
