"""Claimed batches and checkpoints of read-model versions in MongoDB, insert-only.

A claim is one document of ``read_model_batches``, ``{_id: "<version id>@<start>",
version, after, last, finished}``: inserting it under its unique ``_id`` is the claim, so
of two workers claiming the batch after one position exactly one wins, even on FerretDB
v1, where a conditional update is not atomic. The checkpoint is the end of the chain of
finished claims from the version document's ``checkpoint`` field, a hint that only
grows (``$max``) and lets a reader skip the claims it has passed.

A claim is deleted :data:`GRACE` after it was finished, once the hint has passed it. A
worker that read the checkpoint before that and claims only now finds the hint past its
position and is told so (:meth:`MongoBatches.claim` returns None), instead of claiming
again a batch that was folded already.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Final

from pymongo.collection import Collection
from pymongo.errors import DuplicateKeyError

from projections.errors import VersionGoneError

Raw = dict[str, Any]

BATCHES: Final = "read_model_batches"
GRACE: Final = timedelta(minutes=10)
"""How long a finished claim is kept once the checkpoint passed it."""
SWEEP_EVERY: Final = 64
"""Finished batches between two deletions of old claims (each scans on FerretDB)."""


def version_id(projection: str, version: str) -> str:
    """Return the ``_id`` of the document describing ``version`` of ``projection``."""
    return f"{projection}/{version}"


class MongoBatches:
    """The claims and checkpoints of every version of the read models of one database.

    Each method takes the projection's name and the version's; every one but
    :meth:`forget` raises :class:`~projections.errors.VersionGoneError` if the version
    does not exist.
    """

    def __init__(
        self, versions: Collection[Raw], batches: Collection[Raw], now: Callable[[], datetime]
    ) -> None:
        self._versions = versions
        self._batches = batches
        self._now = now
        self._finished = 0

    def checkpoint(self, projection: str, version: str) -> int:
        """Return the end of the chain of finished batches of a version."""
        owner = version_id(projection, version)
        return self._walk(owner, self._hint(projection, version))

    def claim(self, projection: str, version: str, start: int, end: int) -> int | None:
        """Claim ``(start, end]`` unless claimed; return the end of the batch after start.

        None if the checkpoint is past ``start`` already.
        """
        if self._hint(projection, version) > start:
            return None
        owner = version_id(projection, version)
        claim_id = _claim_id(owner, start)
        try:
            claim = {"_id": claim_id, "version": owner, "after": start, "last": end}
            self._batches.insert_one(claim)
            return end
        except DuplicateKeyError:
            found = self._batches.find_one({"_id": claim_id}, {"last": 1})
        return None if found is None else int(found["last"])

    def finish(self, projection: str, version: str, start: int, end: int) -> bool:
        """Mark ``(start, end]`` finished and move the hint; False if no such claim exists.

        A batch the checkpoint has passed is left alone (True).
        """
        hint = self._hint(projection, version)
        if hint >= end:
            return True
        owner = version_id(projection, version)
        marked = self._batches.update_one(
            {"_id": _claim_id(owner, start), "last": end},
            {"$set": {"finished": True, "finished_at": self._now()}},
        )
        if marked.matched_count != 1:
            return self.checkpoint(projection, version) >= end
        reached = self._walk(owner, hint)
        if reached > hint:
            self._versions.update_one({"_id": owner}, {"$max": {"checkpoint": reached}})
        self._finished += 1
        if self._finished % SWEEP_EVERY == 0:
            self._sweep(owner, reached)
        return True

    def forget(self, projection: str, version: str) -> None:
        """Delete every claim of a version that is going away."""
        self._batches.delete_many({"version": version_id(projection, version)})

    def _hint(self, projection: str, version: str) -> int:
        found = self._versions.find_one(
            {"_id": version_id(projection, version)}, {"checkpoint": 1, "dropped": 1}
        )
        if found is None or found.get("dropped", False):
            raise VersionGoneError(projection, version)
        return int(found["checkpoint"])

    def _walk(self, owner: str, reached: int) -> int:
        """Follow the finished claims from ``reached``; return where the chain ends."""
        while (
            claim := self._batches.find_one(
                {"_id": _claim_id(owner, reached), "finished": True}, {"last": 1}
            )
        ) is not None:
            reached = int(claim["last"])
        return reached

    def _sweep(self, owner: str, reached: int) -> None:
        """Delete the claims finished before the grace period that the hint has passed."""
        self._batches.delete_many(
            {
                "version": owner,
                "after": {"$lt": reached},
                "finished_at": {"$lt": self._now() - GRACE},
            }
        )


def _claim_id(owner: str, start: int) -> str:
    return f"{owner}@{start}"
