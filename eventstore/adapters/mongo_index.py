"""The lookup index of the MongoDB store: where each event id and each stream's head is.

Everything here is *derived* from the commit documents and can be rebuilt from them:

* ``event_index``: one document per event, ``_id`` = event id, naming its stream,
  position and stream version: the idempotency check is one ``_id`` lookup per event;
* ``stream_commits``: one document per commit, ``_id`` = (stream id, first version), with
  its last version: a stream's head is found by following these from a hint;
* ``stream_index``: one document per stream, ``_id`` = stream id: that hint, its last
  version as far as a ``$max`` update kept up;
* ``index_meta``: the *watermark*, the last position up to which both are complete.

Writers index their own commit right after inserting it, and anyone who finds commits
above the watermark (a writer died in between) indexes them before relying on the index,
then moves the watermark. So "indexed up to W" is always true of the watermark W, and the
commits above it are few and found by ``_id`` lookups.

Why not a multikey index on the commits' event ids? FerretDB v1 cannot push such a query
down (it scans and decodes every commit), and its unique indexes compare whole arrays,
not elements. Plain ``_id`` lookups and inserts work the same on every server.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from pymongo.collection import Collection
from pymongo.database import Database
from pymongo.errors import BulkWriteError, DuplicateKeyError

from eventstore.adapters import EVENT_INDEX, INDEX_META, STREAM_COMMITS, STREAM_INDEX
from eventstore.adapters.mongo_connection import DUPLICATE_KEY
from eventstore.appending import StoredId
from eventstore.stored import commit_key

WATERMARK = "indexed"


def stream_commit_key(stream_id: str, first_version: int) -> str:
    """Return the ``_id`` of the ``stream_commits`` entry of a commit (unambiguous text)."""
    return json.dumps([stream_id, first_version], ensure_ascii=False, separators=(",", ":"))


class CommitIndex:
    """Reads and maintains the derived lookup collections of one database."""

    def __init__(self, database: Database[dict[str, Any]], commits: Collection[dict[str, Any]]):
        self._commits = commits

        def sibling(name: str) -> Collection[dict[str, Any]]:
            return database.get_collection(
                name, write_concern=commits.write_concern, read_concern=commits.read_concern
            )

        self._events = sibling(EVENT_INDEX)
        self._streams = sibling(STREAM_INDEX)
        self._stream_commits = sibling(STREAM_COMMITS)
        self._meta = sibling(INDEX_META)

    def sync(self) -> int:
        """Index every commit above the watermark; return the head of the log."""
        head, tail = self.walk()
        if tail:
            self.add(tail)
        return head

    def watermark(self) -> int:
        """Return the position up to which every commit is indexed."""
        mark = self._meta.find_one({"_id": WATERMARK})
        return int(mark["position"]) if mark else 0

    def walk(self) -> tuple[int, list[dict[str, Any]]]:
        """Return the head of the log and the commits above the watermark, in order."""
        head = self.watermark()
        tail: list[dict[str, Any]] = []
        while (commit := self._commits.find_one({"_id": commit_key(head + 1)})) is not None:
            tail.append(commit)
            head = int(commit["last"])
        return head, tail

    def add(self, commits: Sequence[dict[str, Any]]) -> None:
        """Index ``commits`` (consecutive, from the watermark on) and move the watermark."""
        self._insert_all(
            self._stream_commits,
            [
                {
                    "_id": stream_commit_key(c["stream_id"], c["first_version"]),
                    "last": c["last_version"],
                }
                for c in commits
            ],
        )
        entries = [
            {
                "_id": event_id,
                "stream_id": commit["stream_id"],
                "position": commit["first"] + offset,
                "stream_version": commit["first_version"] + offset,
            }
            for commit in commits
            for offset, event_id in enumerate(commit["event_ids"])
        ]
        self._insert_all(self._events, entries)
        heads: dict[str, int] = {}
        for commit in commits:
            heads[commit["stream_id"]] = int(commit["last_version"])
        self._upsert_max(self._streams, heads.items(), "version")
        self._upsert_max(self._meta, [(WATERMARK, int(commits[-1]["last"]))], "position")

    @staticmethod
    def _insert_all(collection: Collection[dict[str, Any]], entries: list[dict[str, Any]]) -> None:
        """Insert derived entries; one already there was written by someone else, equal."""
        try:
            collection.insert_many(entries, ordered=False)
        except BulkWriteError as exc:
            if any(error["code"] != DUPLICATE_KEY for error in exc.details["writeErrors"]):
                raise

    @staticmethod
    def _upsert_max(
        collection: Collection[dict[str, Any]], values: Iterable[tuple[str, int]], field: str
    ) -> None:
        # One update at a time: FerretDB v1 answers a bulk upsert that lost a race with a
        # reply pymongo cannot read.
        for key, value in values:
            update = {"$max": {field: value}}
            try:
                collection.update_one({"_id": key}, update, upsert=True)
            except DuplicateKeyError:
                # Two first upserts of one key raced and this one lost: the document
                # exists now, so the same $max is an ordinary update.
                collection.update_one({"_id": key}, update)

    def stored_ids(self, ids: Sequence[str]) -> dict[str, StoredId]:
        """Return where each of ``ids`` is stored, for those indexed."""
        found: dict[str, StoredId] = {}
        for event_id in ids:  # one _id lookup each: the query every server answers fast
            entry = self._events.find_one({"_id": event_id})
            if entry is not None:
                found[event_id] = StoredId(
                    stream_id=entry["stream_id"],
                    position=int(entry["position"]),
                    stream_version=int(entry["stream_version"]),
                )
        return found

    def stream_version(self, stream_id: str) -> int:
        """Return the version of ``stream_id`` as indexed (0 for a stream with no event).

        ``stream_index`` holds a hint, never above the truth but possibly below it: its
        ``$max`` is atomic on MongoDB, not on FerretDB v1, where an older value racing a
        newer one can land last. From the hint, this follows ``stream_commits`` (one
        insert-only entry per commit, keyed by stream and first version) until no commit
        starts after it: that is the stream's last indexed version.
        """
        hint = self._streams.find_one({"_id": stream_id})
        version = int(hint["version"]) if hint else 0
        while (
            step := self._stream_commits.find_one(
                {"_id": stream_commit_key(stream_id, version + 1)}
            )
        ) is not None:
            version = int(step["last"])
        return version
