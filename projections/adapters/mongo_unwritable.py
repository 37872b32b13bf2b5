"""The unwritable marks of the MongoDB store: ``read_model_unwritable``, one per key.

A mark is ``{_id: "<projection>/<version>/<key>", position, size, limit, reason}``
(see :mod:`projections.unwritable`). Projection and version names hold no ``/``, so
the ``_id`` is unambiguous, and every query here is on ``_id``: by ``$in``, or by the
range of one version's prefix, both served by the ``_id`` index. The collection is
empty unless some document could not be written. The functions talk to the server
directly and raise the driver's errors; the store translates them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from typing import Any, Final

from pymongo.collection import Collection
from pymongo.errors import DuplicateKeyError

from projections.unwritable import Unwritable

Raw = dict[str, Any]

UNWRITABLE: Final = "read_model_unwritable"
IN_CHUNK: Final = 1000


def _prefix(projection: str, version: str) -> str:
    return f"{projection}/{version}/"


class MongoUnwritable:
    """The marks of every version of the read models of one database."""

    def __init__(self, marks: Collection[Raw]) -> None:
        self._marks = marks

    def find(
        self, projection: str, version: str, keys: Sequence[str] | None
    ) -> dict[str, Unwritable]:
        """Return the marks of a version among ``keys`` (all if None)."""
        prefix = _prefix(projection, version)
        if keys is None:
            # Every id of the version sorts between its prefix and the prefix with its
            # "/" raised to "0": no other version's ids do (their names hold no "/").
            found = list(self._marks.find({"_id": {"$gte": prefix, "$lt": prefix[:-1] + "0"}}))
        else:
            found = []
            for start in range(0, len(keys), IN_CHUNK):
                ids = [prefix + key for key in keys[start : start + IN_CHUNK]]
                found.extend(self._marks.find({"_id": {"$in": ids}}))
        return {raw["key"]: _mark(raw) for raw in found}

    def mark(self, projection: str, version: str, marks: Sequence[Unwritable]) -> None:
        """Record each mark unless its key has one at the same or a higher position."""
        for each in marks:
            fields: Raw = {
                "key": each.key,
                "position": each.position,
                "size": each.size,
                "limit": each.limit,
                "reason": each.reason,
            }
            mark_id = _prefix(projection, version) + each.key
            lower = {"_id": mark_id, "position": {"$lt": each.position}}
            if self._marks.update_one(lower, {"$set": fields}).matched_count:
                continue
            # A mark at the same or a higher position is there if this is refused: keep it.
            with contextlib.suppress(DuplicateKeyError):
                self._marks.insert_one({"_id": mark_id, **fields})

    def clear(self, projection: str, version: str, written: Mapping[str, int]) -> None:
        """Delete each key's mark at or below the position its document was written at."""
        for key, position in written.items():
            mark_id = _prefix(projection, version) + key
            self._marks.delete_one({"_id": mark_id, "position": {"$lte": position}})

    def forget(self, projection: str, version: str) -> None:
        """Delete every mark of a version that is going away."""
        prefix = _prefix(projection, version)
        self._marks.delete_many({"_id": {"$gte": prefix, "$lt": prefix[:-1] + "0"}})


def _mark(raw: Raw) -> Unwritable:
    return Unwritable(
        key=str(raw["key"]),
        position=int(raw["position"]),
        size=int(raw["size"]),
        limit=int(raw["limit"]),
        reason=str(raw["reason"]),
    )
