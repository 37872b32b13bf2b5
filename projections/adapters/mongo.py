"""The MongoDB read-model store, without multi-document transactions (runs on FerretDB v1).

Layout, in the database of the event log:

* one collection per version of a projection, ``{projection}__v{n}`` (n = 1, 2, … and
  never reused), one document per key: ``{_id: key, _position: int, ...fields}``, the
  fields encoded by :mod:`projections.adapters.bson_documents` (users' names escaped,
  nested arrays wrapped), so any name a user picks is stored and read back exactly;
* ``read_model_versions``: one document per version, ``{_id: "<projection>/<version>",
  projection, version, checkpoint, active}`` (kept with ``dropped: true`` once the
  version is gone, so its number is never handed out again; ``checkpoint`` is where the
  chain of finished batches was last seen to end), and one *pointer* per
  projection, ``{_id: "<projection>", active: "<version>", retired: [...]}``: ``active``
  names the live version, ``retired`` the versions replaced or discarded, which may never
  become active again;
* ``read_model_batches``: the batches of the log the projector has claimed, and whether
  each is finished (see :mod:`projections.adapters.mongo_batches`).

The pointer is the truth about which version is live. The first activation inserts it
(so of racing first callers exactly one wins, on any server); each later one is one
single-document compare-and-set that also retires the version it replaces. Then the
``active`` flags of the version documents follow, and the replaced collection is
dropped. Discarding retires a version by a compare-and-set on the same pointer, only if
it is not the live one, so a discard and an activation of one version never both win.
Queries read the pointer, then the collection it names; a query that raced a switch (its
collection was dropped meanwhile, so it found nothing or its cursor died) reads the
pointer again and runs on the version it names now.

**Reading the collections directly** (a shell, a BI tool): every collection carries its
version suffix; the pointer document (``_id`` = the projection's name) in
``read_model_versions`` names the live one, and changes at a rebuild. There is no
collection named plainly ``sessions``, ``repo_configs`` or ``jobs_history``: FerretDB v1
has neither views nor ``renameCollection`` with ``dropTarget``, so no plain name could
follow a switch atomically. Keys inside documents are escaped (``deploy%2Eprod``,
``%24where``), as :mod:`projections.adapters.bson_documents` says.

**FerretDB v1**, as measured on v1.24.2 with its SQLite backend:

* only ``_id`` equality is pushed down (a ``$in`` on ``_id`` scans and decodes the whole
  collection), so :meth:`MongoReadModelStore.load` looks keys up one by one there; the
  run queries scan there and use indexes on MongoDB;
* a reply is not cut at 16 MiB, and one over 48 MB fails, so pages are two documents;
* a conditional update, replace or ``findAndModify`` is **not** a compare-and-set: the
  filter is evaluated, then the write applied, as separate steps, so of racing writers
  from one state several may succeed (up to 8 of 8 in our runs). Inserts and deletes by
  ``_id`` are atomic. So the projector's batches are claimed by inserts
  (:mod:`projections.adapters.mongo_batches`): workers never fold different ranges of
  the log from one state, and two that race on a document write the same one. The guards
  of :meth:`MongoReadModelStore.save` and of later activations still stop a writer that
  comes late; two rebuilds activating at the same instant are not told apart there (run
  one rebuild at a time; on MongoDB a single-document write is atomic and they are).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any, Final, TypeVar

import bson
import cattrs
import pymongo
from attrs import frozen
from bson.raw_bson import RawBSONDocument
from pymongo import ASCENDING, DESCENDING, InsertOne, ReplaceOne
from pymongo.collection import Collection
from pymongo.errors import (
    BulkWriteError,
    OperationFailure,
)
from pymongo.read_concern import ReadConcern
from pymongo.write_concern import WriteConcern

from eventstore.adapters.mongo_connection import (
    BACKEND,
    DUPLICATE_KEY,
    MAX_DOCUMENT_BYTES,
    MongoErrors,
    is_ferretdb,
    open_client,
)
from eventstore.errors import StoreError
from projections import arguments, naming
from projections.adapters.bson_documents import from_bson, to_bson
from projections.adapters.mongo_batches import BATCHES, MongoBatches
from projections.adapters.mongo_versions import VERSIONS, MongoVersions, checked_name
from projections.documents import RunDocument
from projections.errors import StaleWriteError, VersionGoneError
from projections.jobs_history import JOBS_HISTORY
from projections.projection import Projection
from projections.store import Change, ReadModelStore, Versioned

D = TypeVar("D")
T = TypeVar("T")
Raw = dict[str, Any]

POSITION: Final = "_position"
PAGE_SIZE: Final = 500
"""Documents per reply when a query returns many (MongoDB also ends a reply at 16 MiB)."""
IN_CHUNK: Final = 1000
"""Keys per ``$in`` query."""
READ_ATTEMPTS: Final = 3
"""How many versions a query tries while switches keep moving the pointer under it."""


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


class MongoReadModelStore(ReadModelStore):
    """The :class:`ReadModelStore` on MongoDB (or FerretDB v1): see the module docs.

    ``traits`` say how to query the server; by default they are read from its
    ``buildInfo`` (see :class:`ServerTraits`).
    """

    backend = BACKEND

    def __init__(
        self,
        client: pymongo.MongoClient[Raw],
        database: str,
        url: str,
        *,
        traits: ServerTraits | None = None,
    ) -> None:
        self._client = client
        self._errors = MongoErrors(url)
        self._db = client[database]
        self._concerns: dict[str, Any] = {
            "write_concern": WriteConcern(w="majority", j=True),
            "read_concern": ReadConcern("majority"),
        }
        versions = self._db.get_collection(VERSIONS, **self._concerns)
        self._batches = MongoBatches(
            versions, self._db.get_collection(BATCHES, **self._concerns), lambda: datetime.now(UTC)
        )
        self._versions = MongoVersions(self._db, self._concerns, self._batches)
        if traits is None:
            with self._translated("reading the server's build", connecting=True):
                traits = ServerTraits.of(client.admin.command("buildInfo"))
        self._traits = traits

    @classmethod
    def from_url(cls, url: str, *, traits: ServerTraits | None = None) -> MongoReadModelStore:
        """Connect to ``url`` exactly as :meth:`MongoEventStore.from_url` does (same database)."""
        client, database = open_client(url, "cirec-read-models")
        try:
            return cls(client, database, url, traits=traits)
        except BaseException:
            client.close()
            raise

    def _translated(
        self, operation: str, *, connecting: bool = False
    ) -> AbstractContextManager[None]:
        return self._errors.translated(operation, connecting=connecting)

    # -- versions -----------------------------------------------------------------------

    def active_version(self, projection: Projection[D]) -> str:
        """Return the live version; the first call on a projection creates and activates v1.

        Two first calls racing both return the same version (the loser drops its own).
        """
        naming.projection_name(projection.name)
        with self._translated("active_version"):
            return self._versions.live(projection)

    def new_version(self, projection: Projection[D]) -> str:
        """Create an empty, inactive version (checkpoint 0) and return its name.

        Also drops collections of this projection that no version owns any more (a
        worker that outlived the discard of its version can recreate one by writing).
        """
        naming.projection_name(projection.name)
        with self._translated("new_version"):
            self._versions.sweep(projection)
            return self._versions.create(projection)

    def activate(self, projection: Projection[D], version: str) -> None:
        """Switch the pointer to ``version`` in one compare-and-set, then drop the old one.

        Activating the live version changes nothing. Raises :class:`VersionGoneError` for
        a version that does not exist or was retired (discarded, or replaced by another).
        """
        naming.storage_name(projection.name, version)
        with self._translated("activate"):
            self._versions.require(projection, version)
            self._versions.prepare(projection, version)
            old = self._versions.switch_to(projection, version)
            self._versions.flag(projection, version)
            if old is not None:
                self._versions.drop(projection, old)

    def discard(self, projection: Projection[D], version: str) -> None:
        """Retire and drop an inactive ``version``; one that does not exist is left alone.

        Raises :class:`~eventstore.errors.StoreError` for the live version, which is kept.
        """
        documents = self._versions.documents(projection, version)
        with self._translated("discard"):
            if not self._versions.exists(projection, version):
                documents.drop()  # whatever a worker that outlived it wrote
                return
            if not self._versions.retire(projection, version):
                raise StoreError(
                    BACKEND,
                    "discard",
                    f"{version} is the active version of {projection.name}; activate another first",
                )
            self._versions.drop(projection, version)

    def versions(self, projection: Projection[D]) -> list[str]:
        """Return every version of ``projection`` that exists, oldest first."""
        naming.projection_name(projection.name)
        with self._translated("versions"):
            return self._versions.names(projection)

    # -- documents and checkpoints ------------------------------------------------------

    def load(
        self, projection: Projection[D], version: str, keys: Iterable[str]
    ) -> dict[str, Versioned[D]]:
        """Return the stored documents among ``keys``.

        One round trip per 1,000 keys (``$in``), or one ``_id`` lookup per key where
        the server's traits say so (FerretDB, see :class:`ServerTraits`).
        """
        documents = self._versions.documents(projection, version)
        wanted = arguments.keys(keys)
        with self._translated("load"):
            found = list(self._by_ids(documents, wanted))
            # Checked after the read: a version's document goes before its collection does.
            self._versions.require(projection, version)
        return {raw["_id"]: self._versioned(projection, raw) for raw in found}

    def _by_ids(
        self, documents: Collection[Raw], ids: Sequence[str], fields: Raw | None = None
    ) -> Iterator[Raw]:
        if self._traits.id_lookups:
            for key in ids:
                raw = documents.find_one({"_id": key}, fields)
                if raw is not None:
                    yield raw
            return
        for start in range(0, len(ids), IN_CHUNK):
            yield from documents.find({"_id": {"$in": list(ids[start : start + IN_CHUNK])}}, fields)

    def save(self, projection: Projection[D], version: str, changes: Sequence[Change[D]]) -> None:
        """Write ``changes`` in one unordered bulk write, each only if still as loaded.

        A new document is inserted (refused if the key exists); any other replaces the
        stored one only if it is still at ``_position`` ``loaded_at``.

        Raises :class:`StaleWriteError` for the first change whose condition failed; the
        others are written. If a replace failed, the stored positions are read once to
        tell which (a bulk reply counts matched replaces only in total). Raises
        :class:`VersionGoneError` if ``version`` does not exist after the write (MongoDB
        creates a dropped collection again on a write to it: it is dropped again).
        """
        documents = self._versions.documents(projection, version)
        arguments.changes(changes)
        if not changes:
            return
        replaces = [i for i, change in enumerate(changes) if change.loaded_at is not None]
        with self._translated("save"):
            operations: list[InsertOne[Any] | ReplaceOne[Any]] = [
                InsertOne(_encoded(projection, change))
                if change.loaded_at is None
                else ReplaceOne(
                    {"_id": change.key, POSITION: change.loaded_at}, _encoded(projection, change)
                )
                for change in changes
            ]
            refused, matched = _bulk_write(documents, operations)
            if not self._versions.exists(projection, version):
                documents.drop()  # the writes recreated a dropped collection: drop it again
                raise VersionGoneError(projection.name, version)
            if matched < len(replaces):
                refused |= self._stale_replaces(documents, changes, replaces)
        if refused:
            first = changes[min(refused)]
            raise StaleWriteError(projection.name, first.key, first.loaded_at)

    def _stale_replaces(
        self, documents: Collection[Raw], changes: Sequence[Change[Any]], replaces: list[int]
    ) -> set[int]:
        """Return the replaces that did not land: their document is not at their position.

        If every document is (a concurrent writer folded the same events), the first
        replace is reported: a retry finds nothing left to do.
        """
        keys = [changes[i].key for i in replaces]
        positions = {
            raw["_id"]: raw.get(POSITION) for raw in self._by_ids(documents, keys, {POSITION: 1})
        }
        stale = {i for i in replaces if positions.get(changes[i].key) != changes[i].position}
        return stale or {replaces[0]}

    def checkpoint(self, projection: Projection[D], version: str) -> int:
        """Return the position up to which ``version`` has folded the log.

        Raises :class:`VersionGoneError` if ``version`` does not exist.
        """
        naming.storage_name(projection.name, version)
        with self._translated("checkpoint"):
            return self._batches.checkpoint(checked_name(projection), version)

    def claim_batch(
        self, projection: Projection[D], version: str, start: int, end: int
    ) -> int | None:
        """Claim ``(start, end]`` by inserting it (see :mod:`.mongo_batches`)."""
        naming.storage_name(projection.name, version)
        start, end = arguments.batch(start, end)
        with self._translated("claim_batch"):
            return self._batches.claim(checked_name(projection), version, start, end)

    def finish_batch(self, projection: Projection[D], version: str, start: int, end: int) -> None:
        """Mark ``(start, end]`` finished, then move the checkpoint hint past it."""
        naming.storage_name(projection.name, version)
        start, end = arguments.batch(start, end)
        with self._translated("finish_batch"):
            finished = self._batches.finish(checked_name(projection), version, start, end)
        if not finished:
            detail = f"{projection.name}/{version} has no claimed batch after {start} up to {end}"
            raise StoreError(BACKEND, "finish_batch", detail)

    def documents(
        self, projection: Projection[D], version: str
    ) -> Iterator[tuple[str, Versioned[D]]]:
        """Yield every document of ``version`` in key order, a page per round trip.

        The names are checked at the call. Raises :class:`VersionGoneError` if
        ``version`` does not exist when it is done.
        """
        return self._pages(projection, version, self._versions.documents(projection, version))

    def _pages(
        self, projection: Projection[D], version: str, documents: Collection[Raw]
    ) -> Iterator[tuple[str, Versioned[D]]]:
        with self._translated("documents"):
            order = [("_id", ASCENDING)]
            cursor = documents.find({}, sort=order, batch_size=self._traits.page_size)
            with cursor:
                for raw in cursor:
                    yield raw["_id"], self._versioned(projection, raw)
            self._versions.require(projection, version)

    def _versioned(self, projection: Projection[D], raw: Raw) -> Versioned[D]:
        """Return the document and position a stored ``raw`` holds."""
        fields = {name: value for name, value in raw.items() if name not in ("_id", POSITION)}
        try:
            return Versioned(from_bson(projection.document_type, fields), int(raw[POSITION]))
        except (KeyError, TypeError, ValueError, cattrs.BaseValidationError) as exc:
            detail = f"document {raw.get('_id')!r} of {projection.name} is unreadable: {exc!r}"
            raise StoreError(BACKEND, "reading documents", detail) from None

    # -- queries (on the active version) ------------------------------------------------

    def _read_live(
        self,
        projection: Projection[Any],
        operation: str,
        query: Callable[[Collection[Raw]], tuple[T, bool]],
    ) -> T:
        """Run ``query`` on the live version, and again on the next if a switch raced it.

        ``query`` returns its result and whether it is *settled*: found what it looked
        for, so no switch can have emptied it. An unsettled result, or a failure (a cursor
        killed by the drop), makes the pointer be read again: if it moved, the query runs
        on the version it names now.
        """
        naming.projection_name(projection.name)
        with self._translated(operation):
            version = self._versions.live(projection)
            for _ in range(READ_ATTEMPTS - 1):
                try:
                    result, settled = query(self._versions.documents(projection, version))
                except OperationFailure:
                    moved = self._versions.live(projection)
                    if moved == version:
                        raise
                else:
                    if settled:
                        return result
                    moved = self._versions.live(projection)
                    if moved == version:
                        return result
                version = moved
            return query(self._versions.documents(projection, version))[0]

    def get(self, projection: Projection[D], key: str) -> D | None:
        """Return the document ``key`` of the active version, if it exists."""
        wanted = arguments.text(key, "key")

        def query(documents: Collection[Raw]) -> tuple[Raw | None, bool]:
            raw = documents.find_one({"_id": wanted})
            return raw, raw is not None

        raw = self._read_live(projection, "get", query)
        return None if raw is None else self._versioned(projection, raw).document

    def runs(
        self, repo_name: str, repo_url: str, pipeline_name: str, *, skip: int = 0, limit: int = 20
    ) -> list[RunDocument]:
        """Return one page of a pipeline's runs, highest run number first.

        A ``limit`` of 0 or less gives an empty page; a negative ``skip`` counts as 0.
        """
        condition = _pipeline(repo_name, repo_url, pipeline_name)
        skip, limit = arguments.whole_number(skip, "skip"), arguments.whole_number(limit, "limit")
        if limit <= 0:
            return []
        order = [("run_number", DESCENDING), ("_id", ASCENDING)]

        def query(documents: Collection[Raw]) -> tuple[list[Raw], bool]:
            found = list(
                documents.find(
                    condition,
                    sort=order,
                    skip=max(skip, 0),
                    limit=limit,
                    batch_size=self._traits.page_size,
                )
            )
            return found, bool(found)

        return [self._run(raw) for raw in self._read_live(JOBS_HISTORY, "runs", query)]

    def run(
        self, repo_name: str, repo_url: str, pipeline_name: str, run_number: int
    ) -> RunDocument | None:
        """Return run ``run_number`` of a pipeline, if it exists."""
        condition = {
            **_pipeline(repo_name, repo_url, pipeline_name),
            "run_number": arguments.whole_number(run_number, "run_number"),
        }

        def query(documents: Collection[Raw]) -> tuple[Raw | None, bool]:
            raw = documents.find_one(condition, sort=[("_id", ASCENDING)])
            return raw, raw is not None

        raw = self._read_live(JOBS_HISTORY, "run", query)
        return None if raw is None else self._run(raw)

    def _run(self, raw: Raw) -> RunDocument:
        return self._versioned(JOBS_HISTORY, raw).document

    def close(self) -> None:
        """Close the client and its connection pool."""
        self._client.close()


def _pipeline(repo_name: object, repo_url: object, pipeline_name: object) -> Raw:
    return {
        "repo_name": arguments.text(repo_name, "repo_name"),
        "repo_url": arguments.text(repo_url, "repo_url"),
        "pipeline_name": arguments.text(pipeline_name, "pipeline_name"),
    }


def _bulk_write(
    documents: Collection[Raw], operations: list[InsertOne[Any] | ReplaceOne[Any]]
) -> tuple[set[int], int]:
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


def _encoded(projection: Projection[Any], change: Change[Any]) -> RawBSONDocument:
    """Return the stored form of ``change``, encoded once (the driver sends these bytes).

    Raises :class:`~eventstore.errors.StoreError` for a document over 16 MiB, which
    MongoDB refuses; FerretDB would take it, and the limit is kept the same everywhere.
    """
    stored = {"_id": change.key, POSITION: change.position}
    stored.update(to_bson(change.document))
    encoded = bson.encode(stored)
    if len(encoded) > MAX_DOCUMENT_BYTES:
        detail = (
            f"document {change.key!r} of {projection.name} is {len(encoded)} bytes; "
            f"a MongoDB document holds at most {MAX_DOCUMENT_BYTES}"
        )
        raise StoreError(BACKEND, "save", detail)
    return RawBSONDocument(encoded)
