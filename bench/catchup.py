"""``catchup``: events/s folded into the three read models from a backlog.

The log is written first (not timed). Then a :class:`Projector` catches up on all three
projections from position 0. The baseline is the raw limit of the same work: one cursor
over the same events (rows or commit documents, nothing decoded) plus one bulk write of
the final documents, as JSON text of the same size, into a plain table or collection.
The baseline runs once before and once after the projector; their mean is reported.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from bench.backends import Place, mongo_client, raw_collection, raw_sqlite
from bench.figures import Figure
from cirec.config import open_read_models, open_store
from eventstore.codec import dump_json, json_converter
from projections.catalog import PROJECTIONS
from projections.store import ReadModelStore
from projections.worker import Projector
from tools.workload import Append

RAW_DOCUMENTS = "raw_documents"


def write_log(place: Place, appends: Iterable[Append]) -> int:
    """Append ``appends`` to the place's store; return the head of the log."""
    with open_store(place.url) as store:
        for append in appends:
            store.append(append.stream_id, append.events, append.expected)
        return store.head()


def measure(place: Place, appends: Iterable[Append]) -> dict[str, Figure]:
    """Return ``catchup`` measured on ``place`` over a backlog of ``appends``."""
    head = write_log(place, appends)
    before = _raw_pass(place, [])
    with open_store(place.url) as events, open_read_models(place.url) as models:
        began = time.perf_counter()
        Projector(events, models, PROJECTIONS).catch_up()
        ours = time.perf_counter() - began
        documents = _final_documents(models)
    after = _raw_pass(place, documents)
    # The first raw pass had no documents to write: add the write of the second.
    raw = (before[0] + after[0]) / 2 + after[1]
    return {"catchup": Figure(head / ours, head / raw, "events/s", "1 cursor + 1 bulk write")}


def _final_documents(models: ReadModelStore) -> list[tuple[str, str]]:
    """Return every document of the three read models as (key, JSON text)."""
    out: list[tuple[str, str]] = []
    for projection in PROJECTIONS:
        version = models.active_version(projection)
        for key, stored in models.documents(projection, version):
            body = json_converter.unstructure(stored.document)
            out.append((f"{projection.name}/{key}", dump_json(body)))
    return out


def _raw_pass(place: Place, documents: list[tuple[str, str]]) -> tuple[float, float]:
    """Time one raw cursor over the log, then one bulk write of ``documents``."""
    if place.store == "sqlite":
        db = raw_sqlite(place)
        try:
            db.execute(f"CREATE TABLE IF NOT EXISTS {RAW_DOCUMENTS} (key TEXT PRIMARY KEY, body)")
            began = time.perf_counter()
            for _ in db.execute("SELECT * FROM events ORDER BY position"):
                pass
            read = time.perf_counter() - began
            began = time.perf_counter()
            if documents:
                db.execute("BEGIN IMMEDIATE")
                db.executemany(f"INSERT INTO {RAW_DOCUMENTS} VALUES (?, ?)", documents)  # noqa: S608 -- constant
                db.execute("COMMIT")
            return read, time.perf_counter() - began
        finally:
            db.close()
    with mongo_client(place) as client:
        commits = client[place.database]["events"]
        began = time.perf_counter()
        # In position order, 64 commits per reply (FerretDB does not cap its replies).
        for _ in commits.find({}, sort=[("_id", 1)], batch_size=64):
            pass
        read = time.perf_counter() - began
        began = time.perf_counter()
        if documents:
            target = raw_collection(client, place, RAW_DOCUMENTS)
            target.insert_many([{"_id": key, "body": body} for key, body in documents])
        return read, time.perf_counter() - began
