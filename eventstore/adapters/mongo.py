"""The MongoDB event store, correct without multi-document transactions (FerretDB v1 too).

One append is one *commit* document holding its events, so it is atomic by the server's
single-document guarantee. The commit's ``_id`` is the position of its first event, and
a writer inserts it at exactly ``tip + 1``, where its *tip* is a position that was once
the last of the log (its own last commit's, or one it read), under the unique ``_id``
index. Positions are contiguous, so a position that was once the last stays the end of
a commit forever, and:

* positions are gap-free: a commit at ``X`` can only be inserted once the commit ending
  at ``X - 1`` exists, and only one commit can take ``X``; a loser reads the commits
  after its tip (one query, no payloads) and tries again at once, at the new tip;
* commits become visible in position order, so a reader never later finds an event at
  or below a position it has passed;
* a successful insert at ``tip + 1`` proves the log still ended at the tip, so every
  check the writer read since it learned the tip (the stream's version, which of its
  event ids are stored) still held at the moment of the insert: the checks and the
  insert are atomic without a transaction.

An append with no conflict sends 2 commands on MongoDB (the stream's version, the
insert: the unique ``event_ids`` index refuses a stored id) and 3 on FerretDB v1, which
enforces no uniqueness through an array and so is asked for the ids first. The
unique ``(stream_id, first_version)`` index catches a stale version a second time.
Why no writer starves behind others, and what bounds an append, is argued in
``docs/architecture.md`` ("Concurrent appends").

Threads may share one store: pymongo's client is thread-safe, and the store's own memory
(the log's tip, the streams' tips) changes only under a lock and only forwards. Each
append takes its own copy of the log's tip *before* it asks which of its ids are stored,
so the insert at that tip + 1 still proves every check it read, whatever other threads
learn meanwhile; a remembered stream tip that another thread has not updated yet is a
stale tip like one another process left, which the ``(stream_id, first_version)`` index
refuses.

Payloads are BSON documents, users' keys escaped reversibly (:mod:`eventstore.bson_values`),
so ``db.events`` can be queried by type, stream, status or time from any MongoDB client
(``docs/operations.md`` gives the queries).
"""

from __future__ import annotations

import contextlib
import random
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import bson
import pymongo
from pymongo.collection import Collection
from pymongo.errors import AutoReconnect, DocumentTooLarge, DuplicateKeyError, PyMongoError
from pymongo.read_concern import ReadConcern
from pymongo.write_concern import WriteConcern

from eventstore import arguments
from eventstore.adapters import EVENTS, PAYLOADS
from eventstore.adapters import mongo_commits as commits
from eventstore.adapters.mongo_commits import READ_BUDGET_BYTES, Tip
from eventstore.adapters.mongo_connection import (
    BACKEND,
    MAX_DOCUMENT_BYTES,
    MongoErrors,
    connected,
    is_ferretdb,
    server_clock_offset,
)
from eventstore.adapters.mongo_wakeup import Notifier, Tail
from eventstore.appending import StoredId, already_stored, check_call, check_version
from eventstore.clock import to_millis
from eventstore.errors import AppendTooLargeError, StoreError, StoreUnavailableError
from eventstore.records import (
    ANY,
    AppendResult,
    ExpectedVersion,
    NewEvent,
    RecordedEvent,
    expectation_met,
)
from eventstore.store import DEFAULT_BATCH_SIZE, EventStore
from eventstore.stored import (
    CommitPlace,
    commit_document,
    commit_header,
    commit_key,
    commit_records,
    parked_events,
)
from eventstore.wakeup import LOOK_EVERY_SECONDS, Wakeup

Raw = dict[str, Any]

# How long one append keeps retrying collisions and dropped connections before giving up.
APPEND_DEADLINE_SECONDS = 60.0
PARK_AFTER = 2  # lost races before an append of several events takes its place by header
REMEMBERED_STREAMS = 4096  # streams whose tip a store keeps between appends
BSON_OBJECT_TOO_LARGE = 10334  # the server's error code for a document over 16 MiB


class MongoEventStore(EventStore):
    """The :class:`EventStore` on MongoDB: one commit document per append."""

    backend = BACKEND

    def __init__(self, client: pymongo.MongoClient[Raw], database: str, url: str) -> None:
        self._client = client
        self._errors = MongoErrors(url)
        # Majority writes and reads: a position the log has shown can never be rolled back.
        concerns: dict[str, Any] = {
            "write_concern": WriteConcern(w="majority", j=True),
            "read_concern": ReadConcern("majority"),
        }
        self._events: Collection[Raw] = client[database].get_collection(EVENTS, **concerns)
        self._payloads: Collection[Raw] = client[database].get_collection(PAYLOADS, **concerns)
        with self._translated("opening the log", connecting=True):
            ferretdb = is_ferretdb(self._events.database.command("buildInfo"))
            # One at a time: FerretDB v1.24 panics on a createIndexes of several indexes
            # that all exist already.
            for index in commits.indexes(ferretdb=ferretdb):
                self._events.create_indexes([index])
            self._clock_offset = server_clock_offset(self._events.database)
            _refuse_earlier_layout(self._events)
            self._tip = commits.log_tip(self._events)
        self._streams: OrderedDict[str, Tip] = OrderedDict()
        self._memory = threading.Lock()  # guards _tip and _streams
        self._notifier = Notifier(client[database])

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
        """Insert one commit at the end of the log; see the module docs and the port.

        The whole append, retries included, ends within the URL's ``timeoutMS`` or else
        :data:`APPEND_DEADLINE_SECONDS`, even if the server never answers: then it raises
        :class:`StoreUnavailableError` (``transient``), and the events may or may not be
        stored; appending them again is safe (their ids make it a no-op if they are).
        """
        expected, _ = check_call(stream_id, events, expected_version)
        limit = self._client.options.timeout or APPEND_DEADLINE_SECONDS
        deadline = time.monotonic() + limit
        with self._translated("append"):
            try:
                with pymongo.timeout(limit):
                    result = self._append(stream_id, events, expected, deadline)
            except PyMongoError as exc:
                if not exc.timeout and time.monotonic() < deadline:
                    raise
                detail = self._errors.scrub(
                    f"no answer within the append's {limit:g} s: {type(exc).__name__}: {exc}"
                )
                raise StoreUnavailableError(
                    BACKEND, self._errors.location, detail, operation="append"
                ) from None
        self._notifier.appended(result)
        return result

    def wakeup(self, look_every: float = LOOK_EVERY_SECONDS) -> Wakeup:
        """Return a follower's wake-up, tailing the writers' commit notices; see the port."""
        return Wakeup(self.head, look_every, Tail(self._events.database))

    def _append(
        self,
        stream_id: str,
        events: Sequence[NewEvent],
        expected: ExpectedVersion,
        deadline: float,
    ) -> AppendResult:
        """Append until the insert lands or ``deadline`` (``time.monotonic``) passes."""
        ids = [str(event.event_id) for event in events]
        tip = self._tip  # before the ids are read: the insert at tip + 1 proves them
        known = self._streams.get(stream_id)
        stream = known or self._read_stream_tip(stream_id)
        fresh = known is None
        stored = commits.stored_ids(self._events, self._payloads, ids)
        parked: str | None = None
        commit: Raw = {}
        attempt = 0
        while True:
            attempt += 1
            retry = already_stored(stream_id, events, _by_uuid(stored))
            if retry is not None:
                if parked is not None and retry.positions[0] == commit.get("first"):
                    self._unpark(commit, parked)  # our header landed; the reply was lost
                return retry
            if not fresh and not expectation_met(expected, stream.last):
                # Only the server's answer may refuse: the remembered tip may be old.
                stream, fresh = self._read_stream_tip(stream_id), True
                continue
            check_version(stream_id, expected, stream.last)
            place = CommitPlace(
                first_position=tip.last + 1,
                first_version=stream.last + 1,
                log_from=tip.bytes_to,
                stream_from=stream.bytes_to,
            )
            commit = commit_document(stream_id, events, place, self._store_clock())
            try:
                self._insert(commit if parked is None else commit_header(commit, parked))
            except (DuplicateKeyError, AutoReconnect) as exc:
                # Another writer took the position, or the link dropped and the insert
                # may have landed: the commits after the tip tell which (our own ids
                # among them make the retry return the stored append).
                if time.monotonic() > deadline:
                    detail = self._errors.scrub(f"gave up after {attempt} attempts: {exc}")
                    raise StoreError(BACKEND, "append", detail, transient=True) from None
                tip, stream, stored = self._catch_up(stream_id, ids, tip, stream, stored, attempt)
                fresh = True
                if parked is None and attempt >= PARK_AFTER and len(events) > 1:
                    parked = self._park(commit)
                continue
            if parked is not None:
                self._unpark(commit, parked)
            self._learn_tip(Tip(int(commit["last"]), int(commit["log_to"])))
            self._remember(stream_id, Tip(int(commit["last_version"]), int(commit["stream_to"])))
            return AppendResult(
                positions=tuple(range(place.first_position, int(commit["last"]) + 1)),
                stream_version=int(commit["last_version"]),
            )

    def _park(self, commit: Raw) -> str:
        """Store the events of ``commit`` aside; return the ``_id`` a header names them by.

        The events are kept without their place, which the header that wins one gives.
        """
        payload_id = str(uuid4())
        self._payloads.insert_one({"_id": payload_id, "events": parked_events(commit)})
        return payload_id

    def _unpark(self, commit: Raw, payload_id: str) -> None:
        """Replace the header that took ``commit``'s place by the whole commit; drop the events.

        The append has succeeded already: readers read the events where the header names
        them until this is done, so a failure here changes nothing.
        """
        with contextlib.suppress(PyMongoError):
            self._events.replace_one({"_id": commit["_id"]}, commit)
            self._payloads.delete_one({"_id": payload_id})

    def _read_stream_tip(self, stream_id: str) -> Tip:
        """Return the server's tip of ``stream_id``, and remember it."""
        tip = commits.stream_tip(self._events, stream_id)
        self._remember(stream_id, tip)
        return tip

    def _remember(self, stream_id: str, tip: Tip) -> None:
        """Keep ``tip`` as the last seen of ``stream_id``, forgetting the least recent.

        A tip behind the one remembered (another thread's, learned earlier) is dropped.
        """
        with self._memory:
            known = self._streams.get(stream_id)
            if known is None or known.last <= tip.last:
                self._streams[stream_id] = tip
            self._streams.move_to_end(stream_id)
            while len(self._streams) > REMEMBERED_STREAMS:
                self._streams.popitem(last=False)

    def _learn_tip(self, tip: Tip) -> None:
        """Keep ``tip`` as the log's, unless another thread has learned a later one."""
        with self._memory:
            if tip.last > self._tip.last:
                self._tip = tip

    def _catch_up(
        self,
        stream_id: str,
        ids: list[str],
        tip: Tip,
        stream: Tip,
        stored: dict[str, StoredId],
        attempt: int,
    ) -> tuple[Tip, Tip, dict[str, StoredId]]:
        """Return the append's tip, the stream's tip and the stored ids after a collision."""
        delta = commits.after_tip(self._events, self._payloads, tip, ids)
        if delta is not None and delta.tip != tip:
            self._learn_tip(delta.tip)
            for other, other_tip in delta.streams.items():
                self._remember(other, other_tip)
            return delta.tip, delta.streams.get(stream_id, stream), stored | delta.ids
        # Nothing after the tip, or too much to read: the collision was on an index other
        # than the position (the stream moved before our tip, an id is stored), or the
        # tip is far behind. Read everything afresh; if nothing changed, a replica has not
        # shown the winner yet: wait a moment.
        fresh_tip = commits.log_tip(self._events)
        fresh_stream = self._read_stream_tip(stream_id)
        fresh_stored = commits.stored_ids(self._events, self._payloads, ids)
        if (fresh_tip, fresh_stream, fresh_stored) == (tip, stream, stored):
            _back_off(attempt)
        self._learn_tip(fresh_tip)
        return fresh_tip, fresh_stream, fresh_stored

    def _insert(self, commit: Raw) -> None:
        """Insert ``commit``; collisions propagate as ``DuplicateKeyError`` for the retry loop."""
        try:
            self._events.insert_one(commit)
        except DocumentTooLarge:
            raise AppendTooLargeError(
                commit["stream_id"], len(bson.encode(commit)), MAX_DOCUMENT_BYTES
            ) from None
        except DuplicateKeyError:
            raise
        except PyMongoError as exc:
            if getattr(exc, "code", None) == BSON_OBJECT_TOO_LARGE:
                raise AppendTooLargeError(
                    commit["stream_id"], len(bson.encode(commit)), MAX_DOCUMENT_BYTES
                ) from None
            raise

    def read_all(
        self, after: int = 0, *, batch_size: int = DEFAULT_BATCH_SIZE
    ) -> Iterator[RecordedEvent]:
        """Return the log after ``after``, a byte budget of commits per query; see the port."""
        after = arguments.position("after", after)
        batch_size = arguments.batch_size(batch_size)
        return self._paged(
            lambda: commits.holding_position(self._events, after + 1),
            lambda last, alone: commits.next_in_log(self._events, last, batch_size, alone=alone),
            lambda event: event.position > after,
            "log_to",
        )

    def read_stream(self, stream_id: str, *, after_version: int = 0) -> Iterator[RecordedEvent]:
        """Return the events of ``stream_id`` after ``after_version``; see the port."""
        stream_id = arguments.stream_id(stream_id)
        after_version = arguments.position("after_version", after_version)
        return self._paged(
            lambda: commits.holding_version(self._events, stream_id, after_version + 1),
            lambda last, _: commits.next_in_stream(self._events, last, DEFAULT_BATCH_SIZE),
            lambda event: event.stream_version > after_version,
            "stream_to",
        )

    def _paged(
        self,
        first: Callable[[], Raw | None],
        following: Callable[[Raw, bool], list[Raw]],
        keep: Callable[[RecordedEvent], bool],
        total: str,
    ) -> Iterator[RecordedEvent]:
        """Yield the events ``keep`` accepts from ``first()`` on, a page of commits per query.

        ``following(last, alone)`` reads the page after commit ``last``; ``alone`` says
        that ``last`` took half the read budget or more by itself (by its byte ``total``,
        ``log_to`` or ``stream_to``, against the commit before it).
        """
        with self._translated("read"):
            commit = first()
            if commit is None:
                return
            page, before = [commit], None
            while page:
                for commit in page:
                    whole = commits.whole(self._events, self._payloads, commit)
                    yield from filter(keep, commit_records(whole))
                last = page[-1]
                if len(page) > 1:
                    before = int(page[-2][total])
                size = None if before is None else int(last[total]) - before
                before = int(last[total])
                page = following(last, size is not None and size >= READ_BUDGET_BYTES // 2)

    def read_event(self, event_id: UUID) -> RecordedEvent | None:
        """Return the event stored under ``event_id``, or None.

        Where it is comes from the query an append's idempotency check sends (the
        ``events.event_id`` index); the event is then read from the commit holding it.
        """
        event_id = arguments.event_id(event_id)
        with self._translated("read"):
            where = commits.stored_ids(self._events, self._payloads, [str(event_id)])
        found = where.get(str(event_id))
        if found is None:
            return None
        return next(iter(self.read_all(found.position - 1, batch_size=1)), None)

    def stream_version(self, stream_id: str) -> int:
        """Return the number of events in ``stream_id``."""
        stream_id = arguments.stream_id(stream_id)
        with self._translated("stream_version"):
            return self._read_stream_tip(stream_id).last

    def head(self) -> int:
        """Return the last position of the log."""
        with self._translated("head"):
            return commits.log_tip(self._events).last

    def close(self) -> None:
        """Close the client and its connection pool."""
        self._client.close()


def _by_uuid(stored: dict[str, StoredId]) -> dict[UUID, StoredId]:
    """Key ``stored`` by UUID, as :func:`already_stored` compares them with the call's ids."""
    return {UUID(event_id): where for event_id, where in stored.items()}


def _refuse_earlier_layout(events: Collection[Raw]) -> None:
    """Raise :class:`StoreError` if the log was written in the layout before byte totals.

    That layout kept payloads as JSON text and four lookup collections; its commits have
    no ``log_to``, so reads by byte budget would not find them. Its first commit tells.
    """
    first = events.find_one({"_id": commit_key(1)}, {"log_to": 1})
    if first is not None and "log_to" not in first:
        raise StoreError(
            BACKEND,
            "opening the log",
            "this database holds a log in an earlier layout (payloads as JSON text, no "
            "byte totals), which this version does not read; use a new database",
        )


def _back_off(attempt: int) -> None:
    """Sleep a random slice of a window that doubles with each attempt, up to 50 ms."""
    window = min(0.05, 0.0005 * 2 ** min(attempt, 10))
    time.sleep(random.uniform(0, window))  # noqa: S311 -- jitter, not security
