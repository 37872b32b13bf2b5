"""The MongoDB read-model store, without multi-document transactions (runs on FerretDB v1).

Layout, in the database of the event log:

* the live version of each projection in the collection of the user's name (``sessions``,
  ``repo_configs``, ``jobs_history``), every other version aside in
  ``{projection}__v{n}`` (n = 1, 2, … and never reused), each with the indexes the
  projection declares and one document per key (:mod:`.mongo_documents`), encoded so
  that any name a user picks is stored and read back exactly. A rebuild fills a version
  aside and swaps it in by renaming (:mod:`.mongo_placement` says how, and what a reader
  of the collections sees meanwhile);
* ``read_model_versions``: a document per version, and a *pointer* per projection to
  the live one (:mod:`.mongo_versions`);
* ``read_model_batches``: the batches of the log the projector has claimed, and whether
  each is finished (:mod:`.mongo_batches`); ``read_model_unwritable``: the keys whose
  documents could not be written (:mod:`.mongo_unwritable`); ``read_model_workers``: what
  each following worker last reported (:mod:`.mongo_workers`).

The pointer is the truth about which version is live, and every switch of it is one
single-document write. Keys inside documents are escaped (``deploy%2Eprod``,
``%24where``), as :mod:`eventstore.bson_values` says.

**FerretDB v1**, as measured on v1.24.2 with its SQLite backend:

* only ``_id`` equality is pushed down, a reply is not cut at 16 MiB, an ``update`` of
  100 statements stalls it, and ``renameCollection`` has no ``dropTarget`` (see
  :class:`~projections.adapters.mongo_documents.ServerTraits`): there keys are loaded
  one by one, pages are two documents, writes go ten per command, a swap is two renames,
  and queries on other fields scan;
* a conditional update, replace or ``findAndModify`` is **not** a compare-and-set: the
  filter is evaluated, then the write applied, as separate steps, so of racing writers
  from one state several may succeed (up to 8 of 8 in our runs). Inserts and deletes by
  ``_id`` are atomic. So the projector's batches are claimed by inserts
  (:mod:`.mongo_batches`): workers never fold different ranges of the log from one
  state, and two that race on a document write the same one. The guards of
  :meth:`MongoReadModelStore.save` and of later activations still stop a writer that
  comes late; two rebuilds activating at the same instant are not told apart there (run
  one rebuild at a time; on MongoDB a single-document write is atomic and they are).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any, TypeVar

import pymongo
from pymongo.collection import Collection
from pymongo.read_concern import ReadConcern
from pymongo.write_concern import WriteConcern

from eventstore.adapters.mongo_connection import BACKEND, MongoErrors, connected
from eventstore.errors import StoreError
from projections import arguments, naming
from projections.adapters import mongo_documents as stored
from projections.adapters.mongo_batches import BATCHES, MongoBatches
from projections.adapters.mongo_documents import ServerTraits
from projections.adapters.mongo_locations import LiveQuery, Locations
from projections.adapters.mongo_placement import Placement
from projections.adapters.mongo_unwritable import UNWRITABLE, MongoUnwritable
from projections.adapters.mongo_versions import VERSIONS, MongoVersions
from projections.adapters.mongo_workers import WORKERS, MongoWorkers
from projections.errors import StaleWriteError
from projections.presence import WorkerReport
from projections.projection import Projection
from projections.store import Change, ReadModelStore, Versioned, check_changes
from projections.stored_fields import FieldMismatch
from projections.unwritable import Unwritable

D = TypeVar("D")
T = TypeVar("T")
Raw = dict[str, Any]


def _utc_now() -> datetime:
    return datetime.now(UTC)


class MongoReadModelStore(ReadModelStore):
    """The :class:`ReadModelStore` on MongoDB (or FerretDB v1): see the module docs.

    ``traits`` say how to query the server; by default they are read from its
    ``buildInfo`` (see :class:`~projections.adapters.mongo_documents.ServerTraits`).
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
        batches = self._db.get_collection(BATCHES, **self._concerns)
        self._batches = MongoBatches(versions, batches, _utc_now)
        self._versions = MongoVersions(self._db, self._concerns, self._batches, _utc_now)
        self._locations = Locations(self._versions)
        # Where each version was found by its last load: its save writes there, then checks.
        self._loaded_at: dict[tuple[str, str], Placement] = {}
        self._unwritable = MongoUnwritable(self._db.get_collection(UNWRITABLE, **self._concerns))
        self._workers = MongoWorkers(self._db.get_collection(WORKERS, **self._concerns))
        if traits is None:
            with self._translated("reading the server's build", connecting=True):
                traits = ServerTraits.of(client.admin.command("buildInfo"))
        self.traits = traits
        """How this store queries its server."""

    @classmethod
    def from_url(cls, url: str, *, traits: ServerTraits | None = None) -> MongoReadModelStore:
        """Connect to ``url`` exactly as :meth:`MongoEventStore.from_url` does (same database)."""
        return connected(
            url, "cirec-read-models", lambda client, db: cls(client, db, url, traits=traits)
        )

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
            return self._versions.live(projection, self.traits.rename_drops_target)

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
        """Switch the pointer to ``version``, swap it in under the plain name, drop the old.

        The switch is one compare-and-set; the swap is one rename on MongoDB and two on
        FerretDB (see :mod:`.mongo_placement`). Activating the live version changes
        nothing, or finishes its swap if one was interrupted. Raises
        :class:`VersionGoneError` for a version that does not exist or was retired
        (discarded, or replaced by another).
        """
        naming.storage_name(projection.name, version)
        with self._translated("activate"):
            self._versions.require(projection, version)
            old = self._versions.pointer(projection).active
            self._versions.activate(projection, version, self.traits.rename_drops_target)
            if old is not None and old != version:
                self._unwritable.forget(projection.name, old)

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
            self._unwritable.forget(projection.name, version)

    def versions(self, projection: Projection[D]) -> list[str]:
        """Return every version of ``projection`` that exists, oldest first."""
        naming.projection_name(projection.name)
        with self._translated("versions"):
            return self._versions.names(projection)

    # -- documents and checkpoints ------------------------------------------------------

    def load(
        self, projection: Projection[D], version: str, keys: Iterable[str]
    ) -> dict[str, Versioned[D]]:
        """Return the stored documents among ``keys``, from wherever ``version`` is.

        One round trip per 1,000 keys (``$in``), or one ``_id`` lookup per key where
        the server's traits say so (FerretDB, see :class:`ServerTraits`), after one that
        locates the version. Under the plain name, a document a late writer of a retired
        version left is deleted and not returned.
        """
        naming.storage_name(projection.name, version)
        wanted = arguments.keys(keys)
        with self._translated("load"):
            where, found = self._locations.load(projection, version, wanted, self.traits)
            self._loaded_at[(projection.name, version)] = where
        return {raw["_id"]: stored.versioned(projection, raw) for raw in found}

    def save(self, projection: Projection[D], version: str, changes: Sequence[Change[D]]) -> None:
        """Write ``changes`` in unordered bulk writes, each only if still as loaded.

        A new document is inserted (refused if the key exists); any other replaces the
        stored one only if it is still at ``_position`` ``loaded_at`` and of ``version``.
        The writes go where the last :meth:`load` of ``version`` found it (or where it is
        now), in sub-batches of ``traits.write_batch``; then the pointer is read again,
        and if a swap moved the version meanwhile, what may have landed under the wrong
        name is undone (see :meth:`~.mongo_locations.Locations.wrote`).

        Raises :class:`StaleWriteError` for the first change whose condition failed; the
        others are written. If a replace failed, the stored positions are read once to
        tell which (a bulk reply counts matched replaces only in total). Raises
        :class:`VersionGoneError` if ``version`` is gone after the write.
        """
        naming.storage_name(projection.name, version)
        check_changes(changes)
        if not changes:
            return
        with self._translated("save"):
            where = self._loaded_at.pop((projection.name, version), None)
            if where is None:
                where = self._locations.locate(projection, version, "save")
            refused = self._locations.write(projection, where, changes, self.traits)
        if refused:
            first = changes[min(refused)]
            raise StaleWriteError(projection.name, first.key, first.loaded_at)

    def checkpoint(self, projection: Projection[D], version: str) -> int:
        """Return the position up to which ``version`` has folded the log.

        Raises :class:`VersionGoneError` if ``version`` does not exist.
        """
        naming.storage_name(projection.name, version)
        with self._translated("checkpoint"):
            return self._batches.checkpoint(projection.name, version)

    def claim_batch(
        self, projection: Projection[D], version: str, start: int, end: int
    ) -> int | None:
        """Claim ``(start, end]`` by inserting it (see :mod:`.mongo_batches`)."""
        naming.storage_name(projection.name, version)
        start, end = arguments.batch(start, end)
        with self._translated("claim_batch"):
            return self._batches.claim(projection.name, version, start, end)

    def finish_batch(self, projection: Projection[D], version: str, start: int, end: int) -> None:
        """Mark ``(start, end]`` finished, then move the checkpoint hint past it."""
        naming.storage_name(projection.name, version)
        start, end = arguments.batch(start, end)
        with self._translated("finish_batch"):
            finished = self._batches.finish(projection.name, version, start, end)
        if not finished:
            detail = f"{projection.name}/{version} has no claimed batch after {start} up to {end}"
            raise StoreError(BACKEND, "finish_batch", detail)

    def documents(
        self, projection: Projection[D], version: str
    ) -> Iterator[tuple[str, Versioned[D]]]:
        """Yield every document of ``version`` in key order, a page per round trip.

        The names are checked at the call. Raises :class:`VersionGoneError` if
        ``version`` does not exist when it starts or when it is done, and
        :class:`~eventstore.errors.StoreError` if a swap moved it meanwhile.
        """
        naming.storage_name(projection.name, version)
        return self._pages(projection, version)

    def _pages(self, projection: Projection[D], version: str) -> Iterator[tuple[str, Versioned[D]]]:
        with self._translated("documents"):
            for raw in self._locations.pages(projection, version, self.traits.page_size):
                yield raw["_id"], stored.versioned(projection, raw)

    def query_field_mismatches(
        self, projection: Projection[D], version: str
    ) -> Iterator[FieldMismatch]:
        """Yield each stored value a query matches on that its document does not give.

        The documents are read as :meth:`documents` reads them (its errors included) and
        each compared with itself (see
        :func:`~projections.adapters.mongo_documents.mismatches`). A document of another
        ``_version``, which no query matches, is not among them: it is missing here, as
        it is to every query, and a key other than the document's is another document.
        """
        naming.storage_name(projection.name, version)
        return self._mismatches(projection, version)

    def _mismatches(self, projection: Projection[D], version: str) -> Iterator[FieldMismatch]:
        with self._translated("query_field_mismatches"):
            for raw in self._locations.pages(projection, version, self.traits.page_size):
                yield from stored.mismatches(projection, raw)

    # -- unwritable keys (see projections.adapters.mongo_unwritable) ---------------------

    def unwritable(
        self, projection: Projection[D], version: str, keys: Iterable[str] | None = None
    ) -> dict[str, Unwritable]:
        """Return the unwritable marks of ``version`` among ``keys`` (all if None)."""
        naming.storage_name(projection.name, version)
        wanted = None if keys is None else arguments.keys(keys)
        with self._translated("unwritable"):
            found = self._unwritable.find(projection.name, version, wanted)
            self._versions.require(projection, version)
        return found

    def mark_unwritable(
        self, projection: Projection[D], version: str, marks: Sequence[Unwritable]
    ) -> None:
        """Record the marks, one at a time; a mark never moves to a lower position."""
        naming.storage_name(projection.name, version)
        if not marks:
            return
        with self._translated("mark_unwritable"):
            self._versions.require(projection, version)
            self._unwritable.mark(projection.name, version, marks)

    def clear_unwritable(
        self, projection: Projection[D], version: str, written: Mapping[str, int]
    ) -> None:
        """Delete each key's mark at or below the position its document was written at."""
        naming.storage_name(projection.name, version)
        if not written:
            return
        with self._translated("clear_unwritable"):
            self._unwritable.clear(projection.name, version, written)

    # -- reading the active version -----------------------------------------------------

    # -- reports of following workers (see projections.adapters.mongo_workers) ----------

    def report_worker(self, report: WorkerReport) -> None:
        """Store ``report`` (one upsert), replacing its worker's earlier one."""
        with self._translated("report_worker"):
            self._workers.report(report)

    def forget_workers(self, seen_before: datetime) -> int:
        """Delete the reports last renewed before ``seen_before``; return how many went."""
        with self._translated("forget_workers"):
            return self._workers.forget(seen_before)

    def worker_reports(self) -> list[WorkerReport]:
        """Return the report of every worker, by worker name."""
        with self._translated("worker_reports"):
            return self._workers.reports()

    def read_live(self, projection: Projection[D], operation: str, query: LiveQuery[T]) -> T:
        """Run ``query`` on the live version, again if a swap raced it; for query modules.

        ``query`` gets a collection and the filter to add to its own (the fence); see
        :meth:`~projections.adapters.mongo_locations.Locations.read_live`. Driver errors
        are raised as :class:`~eventstore.errors.StoreError`. Decode what ``query`` finds
        with :func:`projections.adapters.mongo_documents.versioned`.
        """
        naming.projection_name(projection.name)
        with self._translated(operation):
            drop_target = self.traits.rename_drops_target
            return self._locations.read_live(
                projection, query, lambda: self._versions.live(projection, drop_target)
            )

    def get(self, projection: Projection[D], key: str) -> D | None:
        """Return the document ``key`` of the active version, if it exists."""
        naming.projection_name(projection.name)
        wanted = arguments.text(key, "key")

        def query(documents: Collection[Raw], fence: Raw) -> tuple[Raw | None, bool]:
            raw = documents.find_one({"_id": wanted, **fence})
            return raw, raw is not None

        raw = self.read_live(projection, "get", query)
        return None if raw is None else stored.versioned(projection, raw).document

    def close(self) -> None:
        """Close the client and its connection pool."""
        self._client.close()
