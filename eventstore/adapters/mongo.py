"""The MongoDB event store, correct without multi-document transactions (FerretDB v1 too).

One append is one *commit* document holding its events, so it is atomic by the server's
single-document guarantee. The commit's ``_id`` is the position of its first event, and
a writer inserts it at exactly ``head + 1``, under the unique ``_id`` index. So:

* positions are gap-free: a commit at ``X`` can only be inserted once the commit ending
  at ``X - 1`` exists, and only one commit can take ``X``; a loser re-reads and retries;
* commits become visible in position order, so a reader never later finds an event at
  or below a position it has passed;
* a successful insert at ``head + 1`` proves the log was exactly what the writer had
  checked: its version check and event-id check held at the moment of the insert. This
  is what makes them atomic without transactions.

The checks read the lookup index of :mod:`eventstore.adapters.mongo_index`, which is
complete up to its watermark; an append that finds commits above it (by colliding with
them, or by failing a check) brings it up to date before it tries again or refuses. The
``last`` and ``(stream_id, first_version)`` unique indexes catch some of the same
conflicts a second time.

Each event's ``data`` is kept as JSON text: payloads hold users' keys (``$where``,
``deploy.prod``) and nested arrays, which FerretDB v1 refuses, and text gives back the
very same value on every backend. See ``docs/architecture.md`` for the argument in full.
"""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import bson
import pymongo
from pymongo import ASCENDING
from pymongo.collection import Collection
from pymongo.errors import (
    AutoReconnect,
    DocumentTooLarge,
    DuplicateKeyError,
    PyMongoError,
)
from pymongo.read_concern import ReadConcern
from pymongo.write_concern import WriteConcern

from eventstore import arguments
from eventstore.adapters import EVENTS
from eventstore.adapters.mongo_connection import (
    BACKEND,
    MAX_DOCUMENT_BYTES,
    MongoErrors,
    connected,
    largest_safe_batch,
    server_clock_offset,
)
from eventstore.adapters.mongo_index import CommitIndex
from eventstore.appending import already_stored, check_call, check_version
from eventstore.clock import to_millis
from eventstore.errors import (
    AppendTooLargeError,
    DuplicateEventError,
    StoreError,
    WrongExpectedVersionError,
)
from eventstore.records import ANY, AppendResult, ExpectedVersion, NewEvent, RecordedEvent
from eventstore.store import DEFAULT_BATCH_SIZE, EventStore
from eventstore.stored import appended, commit_document, commit_events, to_recorded

# How long one append keeps retrying collisions and dropped connections before giving up.
APPEND_DEADLINE_SECONDS = 60.0
BSON_OBJECT_TOO_LARGE = 10334  # the server's error code for a document over 16 MiB


class MongoEventStore(EventStore):
    """The :class:`EventStore` on MongoDB: one commit document per append."""

    backend = BACKEND

    def __init__(
        self, client: pymongo.MongoClient[dict[str, Any]], database: str, url: str
    ) -> None:
        self._client = client
        self._errors = MongoErrors(url)
        # Majority writes and reads: a position the log has shown can never be rolled back.
        self._events: Collection[dict[str, Any]] = client[database].get_collection(
            EVENTS,
            write_concern=WriteConcern(w="majority", j=True),
            read_concern=ReadConcern("majority"),
        )
        with self._translated("creating indexes", connecting=True):
            self._events.create_index([("last", ASCENDING)], unique=True, name="position_last")
            self._events.create_index(
                [("stream_id", ASCENDING), ("first_version", ASCENDING)],
                unique=True,
                name="stream_version",
            )
        self._index = CommitIndex(self._events.database, self._events)
        with self._translated("reading the server's clock", connecting=True):
            self._clock_offset = server_clock_offset(self._events.database)
            self._max_batch = largest_safe_batch(self._events.database)

    def _store_clock(self) -> datetime:
        return to_millis(datetime.now(UTC) + self._clock_offset)

    @classmethod
    def from_url(cls, url: str) -> MongoEventStore:
        """Connect to ``url`` as :func:`~.mongo_connection.open_client` says."""
        return connected(url, "cirec", lambda client, database: cls(client, database, url))

    def _translated(
        self, operation: str, *, connecting: bool = False
    ) -> AbstractContextManager[None]:
        return self._errors.translated(operation, connecting=connecting)

    def append(
        self,
        stream_id: str,
        events: Sequence[NewEvent],
        expected_version: ExpectedVersion = ANY,
    ) -> AppendResult:
        """Insert one commit at the head of the log; see the module docs and the port."""
        expected, payloads = check_call(stream_id, events, expected_version)
        ids = [str(event.event_id) for event in events]
        deadline = time.monotonic() + APPEND_DEADLINE_SECONDS
        attempt, synced = 0, False
        with self._translated("append"):
            while True:
                attempt += 1
                try:
                    # Optimistically take the watermark as the head. Commits above it make
                    # the insert collide, or the checks fail on a stale index: either way
                    # the next attempt syncs first, and only a synced check may refuse.
                    head = self._index.sync() if synced else self._index.watermark()
                    try:
                        retry, version = self._check(stream_id, events, ids, expected)
                    except (WrongExpectedVersionError, DuplicateEventError):
                        if synced:
                            raise
                        synced = True
                        continue
                    if retry is not None:
                        return retry
                    commit = commit_document(
                        appended(
                            stream_id,
                            events,
                            payloads,
                            first_position=head + 1,
                            first_version=version + 1,
                            recorded_at=self._store_clock(),
                        )
                    )
                    self._insert_commit(commit)
                    break
                except (DuplicateKeyError, AutoReconnect) as exc:
                    # Another writer took the position or the stream version, or the link
                    # dropped and the insert may have landed: re-read; the id check makes
                    # a second try of a landed insert return it instead of storing it twice.
                    synced = True
                    if time.monotonic() > deadline:
                        detail = self._errors.scrub(f"gave up after {attempt} attempts: {exc}")
                        raise StoreError(BACKEND, "append", detail) from None
                    _back_off(attempt)
        # The commit is durable now; if indexing it fails, the next sync of any writer
        # indexes it (see mongo_index), so the append has succeeded either way.
        with contextlib.suppress(PyMongoError):
            self._index.add([commit])
        return AppendResult(
            positions=tuple(range(head + 1, head + 1 + len(events))),
            stream_version=version + len(events),
        )

    def _check(
        self,
        stream_id: str,
        events: Sequence[NewEvent],
        ids: list[str],
        expected: ExpectedVersion,
    ) -> tuple[AppendResult | None, int]:
        """Check the call's ids and expected version against the index.

        Returns the stored result of a retried append (or None) and the stream's version.
        """
        stored = self._index.stored_ids(ids)
        retry = already_stored(stream_id, events, {UUID(k): where for k, where in stored.items()})
        if retry is not None:
            return retry, retry.stream_version
        version = self._index.stream_version(stream_id)
        check_version(stream_id, expected, version)
        return None, version

    def _insert_commit(self, commit: dict[str, Any]) -> None:
        """Insert ``commit``; collisions propagate as ``DuplicateKeyError`` for the retry loop."""
        try:
            self._events.insert_one(commit)
        except DocumentTooLarge:
            size = len(bson.encode(commit))
            raise AppendTooLargeError(commit["stream_id"], size, MAX_DOCUMENT_BYTES) from None
        except DuplicateKeyError:
            raise
        except PyMongoError as exc:
            if getattr(exc, "code", None) == BSON_OBJECT_TOO_LARGE:
                size = len(bson.encode(commit))
                raise AppendTooLargeError(commit["stream_id"], size, MAX_DOCUMENT_BYTES) from None
            raise

    def read_all(
        self, after: int = 0, *, batch_size: int = DEFAULT_BATCH_SIZE
    ) -> Iterator[RecordedEvent]:
        """Return the log after ``after``, ``batch_size`` commits per round trip; see the port."""
        after = arguments.position("after", after)
        batch_size = arguments.batch_size(batch_size)
        return self._read_commits(
            {"last": {"$gt": after}},
            "last",
            min(batch_size, self._max_batch or batch_size),
            lambda event: event.position > after,
        )

    def read_stream(self, stream_id: str, *, after_version: int = 0) -> Iterator[RecordedEvent]:
        """Return the events of ``stream_id`` after ``after_version``; see the port."""
        stream_id = arguments.stream_id(stream_id)
        after_version = arguments.position("after_version", after_version)
        return self._read_commits(
            {"stream_id": stream_id, "last_version": {"$gt": after_version}},
            "first_version",
            self._max_batch or DEFAULT_BATCH_SIZE,
            lambda event: event.stream_version > after_version,
        )

    def _read_commits(
        self,
        query: dict[str, Any],
        order: str,
        batch_size: int,
        keep: Callable[[RecordedEvent], bool],
    ) -> Iterator[RecordedEvent]:
        """Yield the events ``keep`` accepts of the commits ``query`` finds, by ``order``."""
        with self._translated("read"):
            cursor = self._events.find(query, sort=[(order, ASCENDING)], batch_size=batch_size)
            with cursor:
                for commit in cursor:
                    yield from filter(keep, map(to_recorded, commit_events(commit)))

    def stream_version(self, stream_id: str) -> int:
        """Return the number of events in ``stream_id``."""
        stream_id = arguments.stream_id(stream_id)
        with self._translated("stream_version"):
            self._index.sync()
            return self._index.stream_version(stream_id)

    def head(self) -> int:
        """Return the last position of the log."""
        with self._translated("head"):
            return self._index.walk()[0]

    def close(self) -> None:
        """Close the client and its connection pool."""
        self._client.close()


def _back_off(attempt: int) -> None:
    """Sleep a random slice of a window that doubles with each attempt, up to 50 ms."""
    window = min(0.05, 0.0005 * 2 ** min(attempt, 10))
    time.sleep(random.uniform(0, window))  # noqa: S311 -- jitter, not security
