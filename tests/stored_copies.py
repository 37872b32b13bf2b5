"""Tamper with what a store keeps beside a document, bypassing every adapter.

The embedded store copies each queried field into a column of the version's table; MongoDB
keeps the fields in the document, with ``_position`` and ``_version`` beside them. These
helpers change one stored value with the database's own client (a raw ``UPDATE``, a raw
``$set``), as a hand edit or a bug in a writer would, leaving the rest as it is.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pymongo

from eventstore.codec import json_converter
from projections import naming
from projections.documents import RunDocument
from projections.projection import Projection


def overwrite(
    store_url: str, projection: Projection[Any], version: str, key: str, name: str, value: object
) -> None:
    """Set the stored ``name`` of document ``key`` to ``value``, and nothing else.

    On SQLite, ``name`` is a column of the table of ``version``; on MongoDB a top-level
    field of the document under the projection's own name (where the live version is).
    Fails the test if no document was changed.
    """
    if store_url.startswith("sqlite://"):
        table = naming.storage_name(projection.name, version)
        path = Path(store_url.removeprefix("sqlite://"))
        with sqlite3.connect(path, isolation_level=None) as db:
            changed = db.execute(
                f'UPDATE "{table}" SET "{name}" = ? WHERE key = ?',  # noqa: S608 -- checked names
                (value, key),
            ).rowcount
        db.close()
    else:
        client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(store_url, tz_aware=True)
        with client:
            documents = client.get_default_database()[naming.projection_name(projection.name)]
            changed = documents.update_one({"_id": key}, {"$set": {name: value}}).modified_count
    assert changed == 1, f"no stored document {key!r} of {projection.name} was changed"


def tampering(backend: str, document: RunDocument) -> tuple[str, object, object]:
    """Return what to overwrite in a stored run on ``backend``, to make its queries wrong.

    That is the name, the value, and what the document gives there in the store's form.
    On SQLite, the run number's column (beside the JSON); on MongoDB, where the fields
    are the document, the start time kept as text: it reads as the same time, but no
    query by time matches it.
    """
    if backend == "sqlite":
        return "run_number", document.run_number + 2, document.run_number
    return "start_time", json_converter.unstructure(document.start_time), document.start_time
