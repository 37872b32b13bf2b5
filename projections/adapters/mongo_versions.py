"""Versions of the read models in MongoDB: their collections and the pointer to the live one.

``read_model_versions`` holds one document per version, ``{_id: "<projection>/<version>",
projection, version, checkpoint, active}`` (kept with ``dropped: true`` once the version
is gone, so its number is never handed out again; ``checkpoint`` is where the chain of
finished batches was last seen to end), and one *pointer* per projection, ``{_id:
"<projection>", active: "<version>", retired: [...]}``: ``active`` names the live
version, ``retired`` the versions replaced or discarded, which may never become active
again.

The pointer is the truth about which version is live. The first activation inserts it
(so of racing first callers exactly one wins, on any server); each later one is one
single-document compare-and-set that also retires the version it replaces. Then the
``active`` flags of the version documents follow, and the replaced collection is
dropped. Discarding retires a version by a compare-and-set on the same pointer, only if
it is not the live one, so a discard and an activation of one version never both win.
Queries read the pointer, then the collection it names; a query that raced a switch (its
collection was dropped meanwhile, so it found nothing or its cursor died) reads the
pointer again and runs on the version it names now.

See :mod:`projections.adapters.mongo` for the rest of the layout. Every method here talks
to the server directly and raises the driver's errors; the store translates them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final, TypeVar

from pymongo import ASCENDING, DESCENDING
from pymongo.collection import Collection
from pymongo.database import Database
from pymongo.errors import CollectionInvalid, DuplicateKeyError, OperationFailure

from eventstore.adapters.mongo_connection import BACKEND
from eventstore.errors import StoreError
from projections import naming
from projections.adapters import mongo_batches
from projections.adapters.mongo_batches import MongoBatches
from projections.errors import VersionGoneError
from projections.projection import Projection

Raw = dict[str, Any]
T = TypeVar("T")

VERSIONS: Final = "read_model_versions"
RETRIES: Final = 100
"""How many numbers a new version tries, or switches an activation, before giving up."""
READ_ATTEMPTS: Final = 3
"""How many versions a query tries while switches keep moving the pointer under it."""
NAMESPACE_EXISTS: Final = 48

LiveQuery = Callable[[Collection[Raw]], tuple[T, bool]]
"""A query of one version's collection: its result, and whether that is *settled*."""


def checked_name(projection: Projection[Any]) -> str:
    """Return the projection's name, refused unless it can name collections safely."""
    return naming.projection_name(projection.name)


class MongoVersions:
    """The versions of every projection in one database, and which one is live."""

    def __init__(
        self, db: Database[Raw], concerns: Mapping[str, Any], batches: MongoBatches
    ) -> None:
        self._db = db
        self._concerns = dict(concerns)
        self._versions = db.get_collection(VERSIONS, **self._concerns)
        self._batches = batches

    def documents(self, projection: Projection[Any], version: str) -> Collection[Raw]:
        """Return the collection holding ``version`` of ``projection`` (names checked)."""
        name = naming.storage_name(projection.name, version)
        return self._db.get_collection(name, **self._concerns)

    @staticmethod
    def version_id(projection: Projection[Any], version: str) -> str:
        """Return the ``_id`` of the document describing ``version``."""
        return mongo_batches.version_id(checked_name(projection), version)

    def names(self, projection: Projection[Any]) -> list[str]:
        """Return every version of ``projection`` that exists, oldest first."""
        condition = {"projection": checked_name(projection), "dropped": {"$ne": True}}
        found = [str(doc["version"]) for doc in self._versions.find(condition, {"version": 1})]
        return sorted(found, key=naming.version_number)

    def live(self, projection: Projection[Any]) -> str:
        """Return the version the pointer names, creating and activating v1 if none."""
        pointer = self._versions.find_one({"_id": checked_name(projection)})
        if pointer is not None and "active" in pointer:
            return str(pointer["active"])
        version = self.create(projection)
        if self._switch(projection, version, None):
            self.flag(projection, version)
            return version
        self.drop(projection, version)  # another first call won; nobody knows ours
        return self.live(projection)

    def create(self, projection: Projection[Any]) -> str:
        """Create an empty, inactive version: number it, register it, make its collection.

        The number is taken by inserting the version's document (unique ``_id``), one
        above every number ever handed out; version documents are kept, marked dropped,
        after their version goes, so no number is ever handed out twice.
        """
        name = checked_name(projection)
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
        """Create the version's collection and the indexes it declares, if missing.

        Idempotent: an index that exists already (same name, same keys) is left alone.
        """
        documents = self.documents(projection, version)
        try:
            self._db.create_collection(documents.name, check_exists=False)
        except (CollectionInvalid, OperationFailure) as exc:
            if getattr(exc, "code", NAMESPACE_EXISTS) != NAMESPACE_EXISTS:
                raise
        for index in projection.queried_by.indexes:
            keys = [
                (field, DESCENDING if field in index.descending else ASCENDING)
                for field in index.fields
            ]
            documents.create_index(keys, name=index.name)

    def switch_to(self, projection: Projection[Any], version: str) -> str | None:
        """Point the pointer at ``version``; return the version it replaced, if any."""
        for _ in range(RETRIES):
            pointer = self._versions.find_one({"_id": checked_name(projection)}) or {}
            old: str | None = pointer.get("active")
            if old == version:
                return None
            if version in pointer.get("retired", ()):
                raise VersionGoneError(projection.name, version)
            if self._switch(projection, version, old):
                return old
        raise StoreError(BACKEND, "activate", f"the active {projection.name} kept changing")

    def _switch(self, projection: Projection[Any], version: str, old: str | None) -> bool:
        """Compare-and-set the pointer from ``old`` to ``version``, retiring ``old``.

        The first activation inserts the pointer, so exactly one first caller wins on
        any server (see the module docs on FerretDB).
        """
        name = checked_name(projection)
        if old is None:
            try:
                self._versions.insert_one({"_id": name, "active": version, "retired": []})
                return True
            except DuplicateKeyError:
                pass  # it exists: with another active version, or with none (see _retire)
        condition: Raw = {
            "_id": name,
            "active": {"$exists": False} if old is None else old,
            "retired": {"$ne": version},
        }
        update: Raw = {"$set": {"active": version}}
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

    def read_live(self, projection: Projection[Any], query: LiveQuery[T]) -> T:
        """Run ``query`` on the live version, and again on the next if a switch raced it.

        ``query`` returns its result and whether it is *settled*: found what it looked
        for, so no switch can have emptied it. An unsettled result, or a failure (a cursor
        killed by the drop), makes the pointer be read again: if it moved, the query runs
        on the version it names now.
        """
        version = self.live(projection)
        for _ in range(READ_ATTEMPTS - 1):
            try:
                result, settled = query(self.documents(projection, version))
            except OperationFailure:
                moved = self.live(projection)
                if moved == version:
                    raise
            else:
                if settled:
                    return result
                moved = self.live(projection)
                if moved == version:
                    return result
            version = moved
        return query(self.documents(projection, version))[0]
