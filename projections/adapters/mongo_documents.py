"""The documents of one version's collection in MongoDB: their stored form, reads and writes.

A stored document is ``{_id: key, _position: int, ...fields}``, the fields encoded by
:mod:`projections.adapters.bson_documents`. The functions here talk to the server
directly and raise the driver's errors; the store translates them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Final, TypeVar

import bson
import cattrs
from attrs import frozen
from bson.raw_bson import RawBSONDocument
from pymongo import InsertOne, ReplaceOne
from pymongo.collection import Collection
from pymongo.errors import BulkWriteError

from eventstore.adapters.mongo_connection import (
    BACKEND,
    DUPLICATE_KEY,
    MAX_DOCUMENT_BYTES,
    is_ferretdb,
)
from eventstore.errors import StoreError
from projections.adapters.bson_documents import from_bson, to_bson
from projections.errors import DocumentTooLargeError
from projections.projection import Projection
from projections.store import Change, Versioned

D = TypeVar("D")
Raw = dict[str, Any]
Write = InsertOne[Any] | ReplaceOne[Any]

POSITION: Final = "_position"
PAGE_SIZE: Final = 500
"""Documents per reply when a query returns many (MongoDB also ends a reply at 16 MiB)."""
IN_CHUNK: Final = 1000
"""Keys per ``$in`` query."""


@frozen
class ServerTraits:
    """How to query a server well: what differs between MongoDB and FerretDB v1."""

    id_lookups: bool
    """Find keys by one ``_id`` lookup each, not ``$in``: FerretDB v1 pushes only ``_id``
    equality down to its backend, and scans the whole collection for anything else."""
    page_size: int
    """Documents per reply. FerretDB v1 does not end a reply at 16 MiB as MongoDB does,
    and fails past its 48 MB message limit: there two documents of 16 MiB always fit."""

    @classmethod
    def of(cls, build_info: Mapping[str, Any]) -> ServerTraits:
        """Return the traits of the server whose ``buildInfo`` reply this is."""
        if is_ferretdb(build_info):
            return cls(id_lookups=True, page_size=2)
        return cls(id_lookups=False, page_size=PAGE_SIZE)


def by_ids(
    documents: Collection[Raw], ids: Sequence[str], traits: ServerTraits, fields: Raw | None = None
) -> Iterator[Raw]:
    """Yield the stored documents among ``ids``: ``$in`` per 1,000, or one lookup each."""
    if traits.id_lookups:
        for key in ids:
            raw = documents.find_one({"_id": key}, fields)
            if raw is not None:
                yield raw
        return
    for start in range(0, len(ids), IN_CHUNK):
        yield from documents.find({"_id": {"$in": list(ids[start : start + IN_CHUNK])}}, fields)


def versioned(projection: Projection[D], raw: Raw) -> Versioned[D]:
    """Return the document and position a stored ``raw`` holds.

    Raises :class:`~eventstore.errors.StoreError` if it holds no document of the
    projection (written by something else, or by hand).
    """
    fields = {name: value for name, value in raw.items() if name not in ("_id", POSITION)}
    try:
        return Versioned(from_bson(projection.document_type, fields), int(raw[POSITION]))
    except (KeyError, TypeError, ValueError, cattrs.BaseValidationError) as exc:
        detail = f"document {raw.get('_id')!r} of {projection.name} is unreadable: {exc!r}"
        raise StoreError(BACKEND, "reading documents", detail) from None


def encoded(projection: Projection[D], change: Change[D]) -> RawBSONDocument:
    """Return the stored form of ``change``, encoded once (the driver sends these bytes).

    Raises :class:`~projections.errors.DocumentTooLargeError` for a document over 16 MiB,
    which MongoDB refuses (FerretDB would take it; the limit is kept the same
    everywhere). The projector never sends one: it keeps documents within the budget of
    :mod:`projections.sizes`, and records a key over it as unwritable instead.
    """
    stored: Raw = {"_id": change.key, POSITION: change.position}
    stored.update(to_bson(change.document))
    data = bson.encode(stored)
    if len(data) > MAX_DOCUMENT_BYTES:
        raise DocumentTooLargeError(projection.name, change.key, len(data), MAX_DOCUMENT_BYTES)
    return RawBSONDocument(data)


def writes(projection: Projection[D], changes: Sequence[Change[D]]) -> list[Write]:
    """Return one write per change: an insert for a new document, else a guarded replace."""
    return [
        InsertOne(encoded(projection, change))
        if change.loaded_at is None
        else ReplaceOne(
            {"_id": change.key, POSITION: change.loaded_at}, encoded(projection, change)
        )
        for change in changes
    ]


def bulk_write(documents: Collection[Raw], operations: list[Write]) -> tuple[set[int], int]:
    """Run ``operations`` unordered; return the refused inserts and the matched replaces.

    The refused inserts are their indexes (refused as duplicate keys); any other failure
    is raised.
    """
    try:
        result = documents.bulk_write(operations, ordered=False)
    except BulkWriteError as exc:
        errors = exc.details.get("writeErrors", [])
        if any(error.get("code") != DUPLICATE_KEY for error in errors):
            raise
        return {int(error["index"]) for error in errors}, int(exc.details.get("nMatched", 0))
    return set(), result.matched_count


def stale_replaces(
    documents: Collection[Raw],
    changes: Sequence[Change[D]],
    replaces: list[int],
    traits: ServerTraits,
) -> set[int]:
    """Return the replaces that did not land: their document is not at their position.

    If every document is (a concurrent writer folded the same events), the first
    replace is reported: a retry finds nothing left to do.
    """
    keys = [changes[i].key for i in replaces]
    found = by_ids(documents, keys, traits, {POSITION: 1})
    positions = {raw["_id"]: raw.get(POSITION) for raw in found}
    stale = {i for i in replaces if positions.get(changes[i].key) != changes[i].position}
    return stale or {replaces[0]}
