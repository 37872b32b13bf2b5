"""Commit notices for the MongoDB store: a capped collection that followers tail.

A writer, once its commit is inserted, inserts ``{"head": position}`` into the capped
collection ``commit_notices`` (1 MiB, at most 1,000 documents): one command more per
append, acknowledged by the primary alone (``w: 1``; a notice lost in a failover only
delays a follower to its fallback look). It creates the collection, capped, before its
first notice (one ``create`` per store object), as an insert into a missing collection
would create an ordinary one, which cannot be tailed.

A follower tails the collection with a ``tailable``, ``awaitData`` cursor from a thread
of its own, which the server holds in each ``getMore`` until a notice comes or a second
passes: idle, that is one ``getMore`` a second and no CPU between. The thread rings a
pipe the follower's :class:`~eventstore.wakeup.Wakeup` selects on. FerretDB v1 closes a
cursor whose first batch is shorter than asked for, so the first ``find`` asks for one
document, and an empty collection is given one (``{"head": 0}``) first. Whatever fails
(a server away, a cursor killed because the collection wrapped round, no capped
collection) is tried again a second later; meanwhile the fallback look keeps the
follower going.
"""

from __future__ import annotations

import contextlib
import os
import threading
from typing import Any, Final

import pymongo
from pymongo.database import Database
from pymongo.errors import OperationFailure, PyMongoError

from eventstore.records import AppendResult

Raw = dict[str, Any]

NOTICES: Final = "commit_notices"
NOTICES_BYTES: Final = 1 << 20
NOTICES_MAX: Final = 1000
AWAIT_MS: Final = 1000
"""How long the server holds a follower's ``getMore`` when no notice comes."""
RETRY_SECONDS: Final = 1.0
NOTIFY_SECONDS: Final = 2.0
"""The most a notice may add to an append when the server is slow to take it."""
NAMESPACE_EXISTS: Final = 48


def create_notices(database: Database[Raw]) -> None:
    """Create the capped notice collection unless it exists (one ``create`` command)."""
    try:
        database.command("create", NOTICES, capped=True, size=NOTICES_BYTES, max=NOTICES_MAX)
    except OperationFailure as exc:
        if exc.code != NAMESPACE_EXISTS:
            raise


class Notifier:
    """The writer's side: one notice document per committed append."""

    def __init__(self, database: Database[Raw]) -> None:
        self._database = database
        self._created = False

    def appended(self, result: AppendResult) -> None:
        """Insert a notice naming the head ``result`` reached, unless it stored nothing.

        Never raises, and gives up after :data:`NOTIFY_SECONDS`: the append has
        committed, and a notice is only a hint (followers find it at their next look).
        """
        if result.already_stored:
            return
        try:
            with pymongo.timeout(NOTIFY_SECONDS):
                if not self._created:
                    create_notices(self._database)
                    self._created = True
                self._database.command(
                    "insert", NOTICES, documents=[{"head": result.positions[-1]}]
                )
        except PyMongoError:
            return


class Tail:
    """A follower's tail of the notices, on a thread of its own: readable when one comes."""

    def __init__(self, database: Database[Raw]) -> None:
        self._database = database
        self._highest = 0
        self._closed = threading.Event()
        self._bell_in, self._bell_out = os.pipe()
        os.set_blocking(self._bell_in, False)
        os.set_blocking(self._bell_out, False)
        self._opened = threading.Event()
        self._thread = threading.Thread(target=self._run, name="cirec-notices", daemon=True)
        self._thread.start()

    def fileno(self) -> int:
        """Return the pipe the tailing thread rings."""
        return self._bell_in

    def drain(self) -> int | None:
        """Empty the pipe; return the highest head any notice named (None if not rung)."""
        rung = False
        with contextlib.suppress(BlockingIOError, OSError):
            while os.read(self._bell_in, 4096):
                rung = True
        return self._highest if rung else None

    def listening(self, timeout: float) -> bool:
        """Wait up to ``timeout`` s for the tailing cursor to be open; tell whether it is."""
        return self._opened.wait(timeout)

    def close(self) -> None:
        """Stop the thread (after its ``getMore`` in hand); it closes its end of the pipe."""
        self._closed.set()
        os.close(self._bell_in)

    def _run(self) -> None:
        try:
            while not self._closed.is_set():
                # The server away, the cursor killed, the follower gone: try again later.
                with contextlib.suppress(PyMongoError, OSError):
                    self._tail()
                self._closed.wait(RETRY_SECONDS)
        finally:
            os.close(self._bell_out)  # here, so no descriptor is written after it is reused

    def _tail(self) -> None:
        """Read notices until the cursor dies or the tail is closed."""
        create_notices(self._database)
        reply = self._find()
        cursor = reply["cursor"]
        if not cursor["id"]:  # nothing to tail yet: give the collection its first notice
            self._database.command("insert", NOTICES, documents=[{"head": 0}])
            cursor = self._find()["cursor"]
        batch: list[Raw] = cursor["firstBatch"]
        self._opened.set()
        while cursor["id"] and not self._closed.is_set():
            self._ring(batch)
            cursor = self._database.command(
                "getMore",
                cursor["id"],
                collection=NOTICES,
                batchSize=NOTICES_MAX,
                maxTimeMS=AWAIT_MS,
            )["cursor"]
            batch = cursor["nextBatch"]
        self._ring(batch)

    def _find(self) -> Raw:
        return self._database.command(
            "find", NOTICES, filter={}, tailable=True, awaitData=True, batchSize=1
        )

    def _ring(self, batch: list[Raw]) -> None:
        if not batch:
            return
        heads = [int(notice.get("head", 0)) for notice in batch]
        self._highest = max(self._highest, *heads)
        if not self._closed.is_set():
            with contextlib.suppress(BlockingIOError):
                os.write(self._bell_out, b"n")
