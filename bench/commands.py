"""``append_commands`` and ``catchup_commands_per_batch``: what MongoDB would be sent.

FerretDB's speed says little about MongoDB's; the number of commands an operation sends
carries over (each costs one round trip on MongoDB, whose queries the store keeps
index-served: ``tests/test_index_use.py``). Both figures are counted with pymongo's
command monitoring on the server the run uses:

* ``append_commands``: commands per append over the workload's appends, beside 1 (one
  insert: the least an append can send);
* ``catchup_commands_per_batch``: commands per batch of the projector folding a backlog
  into the three read models, beside 4 (one read of the log and one write per read model).

``python -m bench.commands`` prints the cases the docs quote: one-event and 400-event
appends, and one 500-event batch of each read model alone.
"""

from __future__ import annotations

import os
import sys
import tempfile
import uuid
from collections.abc import Iterable
from datetime import UTC
from pathlib import Path
from typing import Any

import pymongo

from bench.backends import Place, drop, new_place
from bench.figures import Figure
from cirec.config import MONGO_URL_VARIABLE
from eventstore.adapters.mongo import MongoEventStore
from eventstore.clock import utc_now
from eventstore.records import NewEvent
from projections.adapters.mongo import MongoReadModelStore
from projections.catalog import PROJECTIONS
from projections.projection import Projection
from projections.worker import DEFAULT_BATCH_SIZE, Projector
from tools.commands import CommandLog
from tools.workload import Append, Workload

Raw = dict[str, Any]


def _listened(place: Place) -> tuple[pymongo.MongoClient[Raw], CommandLog]:
    log = CommandLog()
    client: pymongo.MongoClient[Raw] = pymongo.MongoClient(
        place.url, tz_aware=True, tzinfo=UTC, event_listeners=[log]
    )
    return client, log


def measure(place: Place, appends: Iterable[Append]) -> dict[str, Figure]:
    """Return both command figures, measured on the (MongoDB) ``place``."""
    client, log = _listened(place)
    try:
        events = MongoEventStore(client, place.database, place.url)
        with log.counting() as sent:
            count = 0
            for append in appends:
                events.append(append.stream_id, append.events, append.expected)
                count += 1
        per_append = len(sent) / count
        models = MongoReadModelStore(client, place.database, place.url)
        projector = Projector(events, models, PROJECTIONS)
        for projection in PROJECTIONS:
            models.active_version(projection)  # created before counting: not per batch
        with log.counting() as sent:
            folded = projector.catch_up()
        batches = max(1, -(-folded // (DEFAULT_BATCH_SIZE * len(PROJECTIONS))))
    finally:
        client.close()
    return {
        "append_commands": Figure(per_append, 1, "commands", "1 insert per append"),
        "catchup_commands_per_batch": Figure(
            len(sent) / batches, 1 + len(PROJECTIONS), "commands", "1 read + 1 write per model"
        ),
    }


def _probe(**data: object) -> NewEvent:
    return NewEvent(
        event_id=uuid.uuid4(), type="Probe", schema_version=1, occurred_at=utc_now(), data=data
    )


def append_cases(place: Place) -> dict[str, int]:
    """Return the commands of a one-event and a 400-event append to new streams."""
    client, log = _listened(place)
    found: dict[str, int] = {}
    try:
        events = MongoEventStore(client, place.database, place.url)
        for name, size in [("append, 1 event", 1), ("append, 400 events", 400)]:
            with log.counting() as sent:
                events.append(f"probe-{size}", [_probe(i=i) for i in range(size)])
            found[name] = len(sent)
    finally:
        client.close()
    return found


def batch_cases(place: Place) -> dict[str, int]:
    """Return the commands of one projector batch of each read model, alone, on ``place``."""
    client, log = _listened(place)
    found: dict[str, int] = {}
    try:
        events = MongoEventStore(client, place.database, place.url)
        for append in Workload(seed=9).appends(DEFAULT_BATCH_SIZE * 2):
            events.append(append.stream_id, append.events, append.expected)
        models = MongoReadModelStore(client, place.database, place.url)
        projections: list[Projection[Any]] = list(PROJECTIONS)
        for projection in projections:
            projector = Projector(events, models, [projection])
            models.active_version(projection)
            with log.counting() as sent:
                projector.step(projection)
            found[f"projector batch of {DEFAULT_BATCH_SIZE}, {projection.name}"] = len(sent)
    finally:
        client.close()
    return found


def main() -> int:
    """Print the quoted cases on the server ``MONGO_DB_URL`` names."""
    if not os.environ.get(MONGO_URL_VARIABLE):
        print(f"python -m bench.commands needs {MONGO_URL_VARIABLE}", file=sys.stderr)
        return 2
    for name, case in [("append", append_cases), ("batches", batch_cases)]:
        place = new_place("mongo", Path(tempfile.gettempdir()), f"commands_{name}")
        try:
            for label, count in case(place).items():
                print(f"{label:<44} {count:>5} commands")
        finally:
            drop(place)
    return 0


if __name__ == "__main__":
    sys.exit(main())
