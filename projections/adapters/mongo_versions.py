"""Versions of the read models in MongoDB: their collections and the pointer to the live one.

``read_model_versions`` holds one document per version, ``{_id: "<projection>/<version>",
projection, version, checkpoint, active}`` (kept with ``dropped: true`` once the version
is gone, so its number is never handed out again; ``checkpoint`` is where the chain of
finished batches was last seen to end), and one *pointer* per projection, ``{_id:
"<projection>", active: "<version>", placed: "<version>", placing: {version, since},
retired: [...]}``: ``active`` names the live version, ``retired`` the versions replaced
or discarded, which may never become active again; ``placed`` and ``placing`` say whether
the live version is in the collection of the user's name yet (see
:mod:`projections.adapters.mongo_placement`, which also says what readers and writers do
during a swap).

The pointer is the truth about which version is live. The first activation inserts it
(so of racing first callers exactly one wins, on any server); each later one is one
single-document compare-and-set that also retires the version it replaces and marks the
swap under way. Then the new version is renamed in, the pointer marked placed, the
``active`` flags of the version documents follow, and the replaced version is dropped.
Discarding retires a version by a compare-and-set on the same pointer, only if it is not
the live one, so a discard and an activation of one version never both win.

A database written by an earlier cirec has a pointer without ``placed``: its live version
stays aside, where queries and workers find it, until the next activation moves a new one
in under the plain name.

See :mod:`projections.adapters.mongo` for the rest of the layout. Every method here talks
to the server directly and raises the driver's errors; the store translates them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any, Final

from pymongo import ASCENDING, DESCENDING
from pymongo.collection import Collection
from pymongo.database import Database
from pymongo.errors import CollectionInvalid, DuplicateKeyError, OperationFailure

from eventstore.adapters.mongo_connection import BACKEND
from eventstore.errors import StoreError
from projections import naming
from projections.adapters import mongo_batches
from projections.adapters import mongo_placement as placement
from projections.adapters.mongo_batches import MongoBatches
from projections.adapters.mongo_placement import Pointer
from projections.errors import VersionGoneError
from projections.projection import Projection

Raw = dict[str, Any]

VERSIONS: Final = "read_model_versions"
RETRIES: Final = 100
"""How many numbers a new version tries, or switches an activation, before giving up."""
SWAP_LEASE: Final = timedelta(minutes=1)
"""How long a swap may stay unfinished before another activation may replace it (its
activator died between marking it and finishing it)."""


def checked_name(projection: Projection[Any]) -> str:
    """Return the projection's name, refused unless it can name collections safely."""
    return naming.projection_name(projection.name)


class MongoVersions:
    """The versions of every projection in one database, and which one is live."""

    def __init__(
        self,
        db: Database[Raw],
        concerns: Mapping[str, Any],
        batches: MongoBatches,
        now: Callable[[], datetime],
    ) -> None:
        self._db = db
        self._concerns = dict(concerns)
        self._versions = db.get_collection(VERSIONS, **self._concerns)
        self._indexed = False
        self._batches = batches
        self._now = now
        self.between_renames: Callable[[], None] = lambda: None
        """Runs inside a swap's window on servers without ``dropTarget`` (for tests)."""

    def collection(self, name: str) -> Collection[Raw]:
        """Return the collection ``name`` of this database, with the store's concerns."""
        return self._db.get_collection(name, **self._concerns)

    def documents(self, projection: Projection[Any], version: str) -> Collection[Raw]:
        """Return the collection keeping ``version`` aside (names checked)."""
        return self.collection(placement.aside(projection.name, version))

    @staticmethod
    def version_id(projection: Projection[Any], version: str) -> str:
        """Return the ``_id`` of the document describing ``version``."""
        return mongo_batches.version_id(checked_name(projection), version)

    def _index_versions(self) -> None:
        """Declare the index that lists a projection's versions (once per store)."""
        if not self._indexed:
            self._versions.create_index(
                [("projection", ASCENDING), ("dropped", ASCENDING)], name="by_projection"
            )
            self._indexed = True

    def names(self, projection: Projection[Any]) -> list[str]:
        """Return every version of ``projection`` that exists, oldest first."""
        self._index_versions()
        condition = {"projection": checked_name(projection), "dropped": {"$ne": True}}
        found = [str(doc["version"]) for doc in self._versions.find(condition, {"version": 1})]
        return sorted(found, key=naming.version_number)

    def pointer(self, projection: Projection[Any]) -> Pointer:
        """Return what the pointer of ``projection`` says now."""
        return Pointer.of(self._versions.find_one({"_id": checked_name(projection)}))

    def pointer_and_version(
        self, projection: Projection[Any], version: str
    ) -> tuple[Pointer, bool]:
        """Return the pointer and whether ``version`` exists, read in one query."""
        ids = [checked_name(projection), self.version_id(projection, version)]
        found = {doc["_id"]: doc for doc in self._versions.find({"_id": {"$in": ids}})}
        described = found.get(ids[1])
        exists = described is not None and not described.get("dropped", False)
        return Pointer.of(found.get(ids[0])), exists

    def live(self, projection: Projection[Any], drop_target: bool) -> str:
        """Return the version the pointer names, creating and activating v1 if none."""
        pointer = self.pointer(projection)
        if pointer.active is not None:
            return pointer.active
        version = self.create(projection)
        if self._switch(projection, version, None):
            self.place(projection, version, None, drop_target)
            return version
        self.drop(projection, version)  # another first call won; nobody knows ours
        return self.live(projection, drop_target)

    def create(self, projection: Projection[Any]) -> str:
        """Create an empty, inactive version: number it, register it, make its collection.

        The number is taken by inserting the version's document (unique ``_id``), one
        above every number ever handed out; version documents are kept, marked dropped,
        after their version goes, so no number is ever handed out twice.
        """
        name = checked_name(projection)
        self._index_versions()
        taken = self._versions.find({"projection": name}, {"version": 1})
        number = max((naming.version_number(doc["version"]) for doc in taken), default=0)
        for _ in range(RETRIES):
            number += 1
            version = naming.version_name(number)
            try:
                self._versions.insert_one(
                    {
                        "_id": self.version_id(projection, version),
                        "projection": name,
                        "version": version,
                        "checkpoint": 0,
                        "active": False,
                    }
                )
            except DuplicateKeyError:
                continue  # a concurrent call took this number
            self.prepare(projection, version)
            return version
        raise StoreError(BACKEND, "new_version", f"no free version number for {name}")

    def prepare(self, projection: Projection[Any], version: str) -> None:
        """Create the version's aside collection and the indexes it declares, if missing.

        Idempotent: an index that exists already (same name, same keys) is left alone.
        Renaming the collection keeps its indexes.
        """
        documents = self.documents(projection, version)
        try:
            self._db.create_collection(documents.name, check_exists=False)
        except (CollectionInvalid, OperationFailure) as exc:
            code = getattr(exc, "code", placement.NAMESPACE_EXISTS)
            if code != placement.NAMESPACE_EXISTS:
                raise
        for index in projection.queried_by.indexes:
            # Queries match one version (``_version``) and break ties by key (``_id``):
            # both belong in the index for MongoDB to answer a page from it alone.
            keys = [
                ("_version", ASCENDING),
                *(
                    (field, DESCENDING if field in index.descending else ASCENDING)
                    for field in index.fields
                ),
                ("_id", ASCENDING),
            ]
            documents.create_index(keys, name=index.name)

    def activate(self, projection: Projection[Any], version: str, drop_target: bool) -> None:
        """Make ``version`` live and swap it in under the plain name (see the module docs).

        Activating the live version changes nothing, except that a swap of it left
        unfinished (its activator died) is finished.
        """
        pointer = self.pointer(projection)
        if pointer.active == version:
            if pointer.state(version) == "moving":
                self.place(projection, version, None, drop_target)
            return
        if version in pointer.retired:
            raise VersionGoneError(projection.name, version)
        self.prepare(projection, version)
        old = self.switch_to(projection, version)
        self.place(projection, version, old, drop_target)
        if old is not None:
            self.drop(projection, old)

    def place(
        self, projection: Projection[Any], version: str, old: str | None, drop_target: bool
    ) -> None:
        """Rename the live ``version`` in under the plain name, then mark it placed."""
        placement.swap_in(
            self._db,
            projection.name,
            version,
            old,
            drop_target=drop_target,
            between=self.between_renames,
        )
        self._versions.update_one(
            {"_id": checked_name(projection), "active": version, "placing.version": version},
            {"$set": {"placed": version}, "$unset": {"placing": ""}},
        )
        self.flag(projection, version)

    def switch_to(self, projection: Projection[Any], version: str) -> str | None:
        """Point the pointer at ``version``; return the version it replaced, if any."""
        for _ in range(RETRIES):
            pointer = self.pointer(projection)
            if version in pointer.retired:
                raise VersionGoneError(projection.name, version)
            if self._switch(projection, version, pointer.active):
                return pointer.active
        raise StoreError(BACKEND, "activate", f"the active {projection.name} kept changing")

    def _switch(self, projection: Projection[Any], version: str, old: str | None) -> bool:
        """Compare-and-set the pointer from ``old`` to ``version``, retiring ``old``.

        It also marks the swap under way (``placing``); a swap still marked is not
        replaced until it is :data:`SWAP_LEASE` old. The first activation inserts the
        pointer, so exactly one first caller wins on any server (see the module docs on
        FerretDB).
        """
        name = checked_name(projection)
        now = self._now()
        placing = {"version": version, "since": now}
        if old is None:
            try:
                self._versions.insert_one(
                    {"_id": name, "active": version, "placing": placing, "retired": []}
                )
                return True
            except DuplicateKeyError:
                pass  # it exists: with another active version, or with none (see _retire)
        condition: Raw = {
            "_id": name,
            "active": {"$exists": False} if old is None else old,
            "retired": {"$ne": version},
            "$or": [{"placing": {"$exists": False}}, {"placing.since": {"$lt": now - SWAP_LEASE}}],
        }
        update: Raw = {"$set": {"active": version, "placing": placing}}
        if old is not None:
            update["$addToSet"] = {"retired": old}
        return self._versions.update_one(condition, update).matched_count == 1

    def retire(self, projection: Projection[Any], version: str) -> bool:
        """Mark ``version`` never to become active; False if it is the active one."""
        name = checked_name(projection)
        condition = {"_id": name, "active": {"$ne": version}}
        retire = {"$addToSet": {"retired": version}}
        if self._versions.update_one(condition, retire).matched_count == 1:
            return True
        try:  # no pointer yet: nothing was ever activated
            self._versions.insert_one({"_id": name, "retired": [version]})
            return True
        except DuplicateKeyError:
            return self._versions.update_one(condition, retire).matched_count == 1

    def flag(self, projection: Projection[Any], version: str) -> None:
        """Set the ``active`` flag of a version the pointer now names."""
        found = {"_id": self.version_id(projection, version)}
        self._versions.update_one(found, {"$set": {"active": True}})

    def exists(self, projection: Projection[Any], version: str) -> bool:
        """Return whether ``version`` exists (was created and not dropped)."""
        found = self._versions.find_one({"_id": self.version_id(projection, version)})
        return found is not None and not found.get("dropped", False)

    def require(self, projection: Projection[Any], version: str) -> None:
        """Raise :class:`VersionGoneError` unless ``version`` exists."""
        if not self.exists(projection, version):
            raise VersionGoneError(projection.name, version)

    def drop(self, projection: Projection[Any], version: str) -> None:
        """Mark ``version`` dropped, then drop its collection (a crash between: see sweep)."""
        dropped = {"$set": {"dropped": True, "active": False}}
        self._versions.update_one({"_id": self.version_id(projection, version)}, dropped)
        self.documents(projection, version).drop()
        self._batches.forget(projection.name, version)

    def sweep(self, projection: Projection[Any]) -> None:
        """Drop this projection's collections that no version document owns."""
        name = checked_name(projection)
        # List before reading the owners: a version's document exists before its collection.
        existing = self._db.list_collection_names(filter={"name": {"$regex": f"^{name}__v"}})
        owned = {f"{name}__{version}" for version in self.names(projection)}
        for collection in existing:
            suffix = collection[len(name) + len(naming.SEPARATOR) :]
            if collection not in owned and naming.VERSION.match(suffix):
                self._db.drop_collection(collection)
