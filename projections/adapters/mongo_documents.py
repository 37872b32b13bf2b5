"""The documents of one version's collection in MongoDB: their stored form, reads and writes.

A stored document is ``{_id: key, _position: int, _version: "vN", ...fields}``, the fields
encoded by :mod:`projections.adapters.bson_documents`. ``_version`` names the version the
document belongs to: it is the *fence* that keeps a worker of one version from reading or
overwriting a document of another once both have lived under the same collection name
(see :mod:`projections.adapters.mongo_placement`). The functions here talk to the server
directly and raise the driver's errors; the store translates them.

Bulk writes go out in sub-batches of at most :attr:`ServerTraits.write_batch` writes each
(an unordered sub-batch is one ``insert`` and one ``update`` command at most).
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
from projections.stored_fields import FieldMismatch, same

D = TypeVar("D")
Raw = dict[str, Any]
Write = InsertOne[Any] | ReplaceOne[Any]

POSITION: Final = "_position"
FENCE: Final = "_version"
"""The field naming the version a stored document belongs to."""
PAGE_SIZE: Final = 500
"""Documents per reply when a query returns many (MongoDB also ends a reply at 16 MiB)."""
IN_CHUNK: Final = 1000
"""Keys per ``$in`` query."""
MONGODB_WRITE_BATCH: Final = 1000
"""Writes per command on MongoDB: a 500-event batch of the projector is one command of each
kind (MongoDB itself takes 100,000 writes per command and splits at 48 MB)."""
FERRETDB_WRITE_BATCH: Final = 10
"""Writes per command on FerretDB v1.24, which holds one SQLite connection per statement of
an ``update`` until the command ends and has 100 per database: one command of 100 statements
waits on itself for good, and so do concurrent ones that need 100 between them (measured:
99 alone went through, 100 hung; 2 commands of 60 at once went through, 2 of 99, 4 of 50
and 8 of 25 hung; 9 of 10 and 12 of 8 went through). 10 keeps nine concurrent writers of one
database clear of the cap."""


@frozen
class ServerTraits:
    """How to query a server well: what differs between MongoDB and FerretDB v1."""

    id_lookups: bool
    """Find keys by one ``_id`` lookup each, not ``$in``: FerretDB v1 pushes only ``_id``
    equality down to its backend, and scans the whole collection for anything else."""
    page_size: int
    """Documents per reply. FerretDB v1 does not end a reply at 16 MiB as MongoDB does,
    and fails past its 48 MB message limit: there two documents of 16 MiB always fit."""
    write_batch: int = MONGODB_WRITE_BATCH
    """Writes per bulk command (see :data:`FERRETDB_WRITE_BATCH`)."""
    rename_drops_target: bool = True
    """Whether ``renameCollection`` takes ``dropTarget``, so a swap is one atomic command.
    FerretDB v1 refuses it (``NotImplemented``); a server that refuses it although these
    traits said it would is handled the same way (see :mod:`.mongo_placement`)."""

    @classmethod
    def of(cls, build_info: Mapping[str, Any]) -> ServerTraits:
        """Return the traits of the server whose ``buildInfo`` reply this is."""
        if is_ferretdb(build_info):
            return cls(
                id_lookups=True,
                page_size=2,
                write_batch=FERRETDB_WRITE_BATCH,
                rename_drops_target=False,
            )
        return cls(id_lookups=False, page_size=PAGE_SIZE)


def by_ids(
    documents: Collection[Raw],
    ids: Sequence[str],
    traits: ServerTraits,
    fields: Raw | None = None,
    fence: Mapping[str, Any] | None = None,
) -> Iterator[Raw]:
    """Yield the stored documents among ``ids``: ``$in`` per 1,000, or one lookup each.

    ``fence`` (e.g. ``{"_version": "v3"}``) is added to every filter.
    """
    extra = dict(fence or {})
    if traits.id_lookups:
        for key in ids:
            raw = documents.find_one({"_id": key, **extra}, fields)
            if raw is not None:
                yield raw
        return
    for start in range(0, len(ids), IN_CHUNK):
        chunk = list(ids[start : start + IN_CHUNK])
        yield from documents.find({"_id": {"$in": chunk}, **extra}, fields)


def own(
    documents: Collection[Raw], version: str, retired: frozenset[str], found: list[Raw]
) -> list[Raw]:
    """Return the documents of ``version`` among ``found`` (read under the plain name).

    Those of a retired version, late writes a writer killed before it could undo them
    left behind, are deleted; those of any other version are left (the caller's view of
    where ``version`` is has aged, and its write will find that out).
    """
    late = [raw for raw in found if raw.get(FENCE) in retired]
    if late:
        ids = [raw["_id"] for raw in late]
        documents.delete_many({"_id": {"$in": ids}, FENCE: {"$in": sorted(retired)}})
    return [raw for raw in found if raw.get(FENCE) == version]


def versioned(projection: Projection[D], raw: Raw) -> Versioned[D]:
    """Return the document and position a stored ``raw`` holds.

    Raises :class:`~eventstore.errors.StoreError` if it holds no document of the
    projection (written by something else, or by hand).
    """
    fields = {name: value for name, value in raw.items() if name not in ("_id", POSITION, FENCE)}
    try:
        return Versioned(from_bson(projection.document_type, fields), int(raw[POSITION]))
    except (KeyError, TypeError, ValueError, cattrs.BaseValidationError) as exc:
        detail = f"document {raw.get('_id')!r} of {projection.name} is unreadable: {exc!r}"
        raise StoreError(BACKEND, "reading documents", detail) from None


def mismatches(projection: Projection[Any], raw: Raw) -> Iterator[FieldMismatch]:
    """Yield each value of stored ``raw`` a query matches on that its document does not give.

    The document is read as :func:`versioned` reads it (raising the same error if it
    cannot be). Its fields *are* the stored fields, so a value can disagree only where
    reading is more lenient than matching: ``_position`` (the guard of every replace)
    that is not an integer yet reads as one (``5.0``, ``"5"``), and a queried field that
    is not stored as :func:`~projections.adapters.bson_documents.to_bson` writes it (a
    time kept as ISO text reads as the time, yet no date range matches it).
    """
    found = versioned(projection, raw)
    key = str(raw.get("_id"))
    if not same(raw[POSITION], found.position):
        yield FieldMismatch(key, POSITION, "field", raw[POSITION], found.position)
    expected = to_bson(found.document)
    for name in projection.queried_by.fields:
        if not same(raw.get(name), expected[name]):
            yield FieldMismatch(key, name, "field", raw.get(name), expected[name])


def encoded(projection: Projection[D], version: str, change: Change[D]) -> RawBSONDocument:
    """Return the stored form of ``change`` in ``version``, encoded once (the driver sends it).

    Raises :class:`~projections.errors.DocumentTooLargeError` for a document over 16 MiB,
    which MongoDB refuses (FerretDB would take it; the limit is kept the same
    everywhere). The projector never sends one: it keeps documents within the budget of
    :mod:`projections.sizes`, and records a key over it as unwritable instead.
    """
    stored: Raw = {"_id": change.key, POSITION: change.position, FENCE: version}
    stored.update(to_bson(change.document))
    data = bson.encode(stored)
    if len(data) > MAX_DOCUMENT_BYTES:
        raise DocumentTooLargeError(projection.name, change.key, len(data), MAX_DOCUMENT_BYTES)
    return RawBSONDocument(data)


def writes(projection: Projection[D], version: str, changes: Sequence[Change[D]]) -> list[Write]:
    """Return one write per change: an insert for a new document, else a guarded replace.

    A replace matches only the document of ``version`` still at the loaded position, so it
    never overwrites a document of another version under the same collection name.
    """
    return [
        InsertOne(encoded(projection, version, change))
        if change.loaded_at is None
        else ReplaceOne(
            {"_id": change.key, POSITION: change.loaded_at, FENCE: version},
            encoded(projection, version, change),
        )
        for change in changes
    ]


def bulk_write(
    documents: Collection[Raw], operations: Sequence[Write], traits: ServerTraits
) -> tuple[set[int], int]:
    """Run ``operations`` unordered; return the refused inserts and the matched replaces.

    Sent in sub-batches of ``traits.write_batch`` (see :data:`FERRETDB_WRITE_BATCH`), each
    unordered: a refused write does not stop the others. The refused inserts are their
    indexes in ``operations`` (refused as duplicate keys); any other failure is raised.
    """
    refused: set[int] = set()
    matched = 0
    size = max(1, traits.write_batch)
    for start in range(0, len(operations), size):
        some, count = _bulk_write(documents, list(operations[start : start + size]))
        refused |= {start + index for index in some}
        matched += count
    return refused, matched


def _bulk_write(documents: Collection[Raw], operations: list[Write]) -> tuple[set[int], int]:
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
    version: str,
    changes: Sequence[Change[D]],
    replaces: list[int],
    traits: ServerTraits,
) -> set[int]:
    """Return the replaces that did not land: their document is not at their position.

    If every document is (a concurrent writer folded the same events), the first
    replace is reported: a retry finds nothing left to do.
    """
    keys = [changes[i].key for i in replaces]
    found = by_ids(documents, keys, traits, {POSITION: 1}, {FENCE: version})
    positions = {raw["_id"]: raw.get(POSITION) for raw in found}
    stale = {i for i in replaces if positions.get(changes[i].key) != changes[i].position}
    return stale or {replaces[0]}
