"""Versions of the read models in MongoDB: their collections and the pointer to the live one.

See :mod:`projections.adapters.mongo` for the layout. Every method here talks to the
server directly and raises the driver's errors; the store translates them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from pymongo import DESCENDING
from pymongo.collection import Collection
from pymongo.database import Database
from pymongo.errors import CollectionInvalid, DuplicateKeyError, OperationFailure

from eventstore.errors import StoreError
from projections import naming
from projections.adapters import mongo_batches
from projections.adapters.mongo_batches import MongoBatches
from projections.errors import VersionGoneError
from projections.jobs_history import JOBS_HISTORY
from projections.projection import Projection

Raw = dict[str, Any]

BACKEND: Final = "mongodb"
VERSIONS: Final = "read_model_versions"
RETRIES: Final = 100
"""How many numbers a new version tries, or switches an activation, before giving up."""
NAMESPACE_EXISTS: Final = 48

_INDEXES: Final[Mapping[str, Sequence[tuple[str, list[tuple[str, int]]]]]] = {
    JOBS_HISTORY.name: (("by_pipeline", [("repo_name", 1), ("repo_url", 1), ("pipeline_name", 1)]),)
}
"""Indexes per projection (each ending in ``run_number`` descending), for the run queries."""


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
        """Create the version's collection and its indexes, if missing (idempotent)."""
        documents = self.documents(projection, version)
        try:
            self._db.create_collection(documents.name, check_exists=False)
        except (CollectionInvalid, OperationFailure) as exc:
            if getattr(exc, "code", NAMESPACE_EXISTS) != NAMESPACE_EXISTS:
                raise
        for index, fields in _INDEXES.get(projection.name, ()):
            documents.create_index([*fields, ("run_number", DESCENDING)], name=index)

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
        self._batches.forget(checked_name(projection), version)

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
