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

Raw = dict[str, Any]

BATCHES: Final = "read_model_batches"
GRACE: Final = timedelta(minutes=10)
"""How long a finished claim is kept once the checkpoint passed it."""
SWEEP_EVERY: Final = 64
"""Finished batches between two deletions of old claims (each scans on FerretDB)."""


class VersionMissing(Exception):
    """Raised when the version whose batches are asked for does not exist."""


class MongoBatches:
    """The claims and checkpoints of every version of the read models of one database."""

    def __init__(
        self, versions: Collection[Raw], batches: Collection[Raw], now: Callable[[], datetime]
    ) -> None:
        self._versions = versions
        self._batches = batches
        self._now = now
        self._finished = 0

    def checkpoint(self, version_id: str) -> int:
        """Return the end of the chain of finished batches of a version."""
        return self._walk(version_id, self._hint(version_id))

    def claim(self, version_id: str, start: int, end: int) -> int | None:
        """Claim ``(start, end]`` unless claimed; return the end of the batch after start.

        None if the checkpoint is past ``start`` already.
        """
        if self._hint(version_id) > start:
            return None
        claim_id = _claim_id(version_id, start)
        try:
            self._batches.insert_one(
                {"_id": claim_id, "version": version_id, "after": start, "last": end}
            )
            return end
        except DuplicateKeyError:
            found = self._batches.find_one({"_id": claim_id}, {"last": 1})
        return None if found is None else int(found["last"])

    def finish(self, version_id: str, start: int, end: int) -> bool:
        """Mark ``(start, end]`` finished and move the hint; False if no such claim exists.

        A batch the checkpoint has passed is left alone (True).
        """
        hint = self._hint(version_id)
        if hint >= end:
            return True
        marked = self._batches.update_one(
            {"_id": _claim_id(version_id, start), "last": end},
            {"$set": {"finished": True, "finished_at": self._now()}},
        )
        if marked.matched_count != 1:
            return self.checkpoint(version_id) >= end
        reached = self._walk(version_id, hint)
        if reached > hint:
            self._versions.update_one({"_id": version_id}, {"$max": {"checkpoint": reached}})
        self._finished += 1
        if self._finished % SWEEP_EVERY == 0:
            self._sweep(version_id, reached)
        return True

    def forget(self, version_id: str) -> None:
        """Delete every claim of a version that is going away."""
        self._batches.delete_many({"version": version_id})

    def _hint(self, version_id: str) -> int:
        found = self._versions.find_one({"_id": version_id}, {"checkpoint": 1, "dropped": 1})
        if found is None or found.get("dropped", False):
            raise VersionMissing(version_id)
        return int(found["checkpoint"])

    def _walk(self, version_id: str, reached: int) -> int:
        """Follow the finished claims from ``reached``; return where the chain ends."""
        while (
            claim := self._batches.find_one(
                {"_id": _claim_id(version_id, reached), "finished": True}, {"last": 1}
            )
        ) is not None:
            reached = int(claim["last"])
        return reached

    def _sweep(self, version_id: str, reached: int) -> None:
        """Delete the claims finished before the grace period that the hint has passed."""
        self._batches.delete_many(
            {
                "version": version_id,
                "after": {"$lt": reached},
                "finished_at": {"$lt": self._now() - GRACE},
            }
        )


def _claim_id(version_id: str, start: int) -> str:
    return f"{version_id}@{start}"
