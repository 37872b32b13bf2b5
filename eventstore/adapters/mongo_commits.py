"""The ``events`` collection of the MongoDB store: its indexes, and every query sent to it.

Each query here is served by one of :data:`INDEXES` on MongoDB (``tests/test_index_use.py``
checks every command the store sends against the indexes the server lists), and each
asks only for the fields it needs, so a check never brings a payload over the wire.

A commit document is described in :mod:`eventstore.stored`. Its byte totals, ``log_to``
and ``stream_to``, grow strictly with position (in the log, in its stream), so "the next
commits that fit in ``budget`` bytes" is one range query on an index, and a read's reply
is bounded by bytes, not by a count of commits of unknown size.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from attrs import frozen
from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.collection import Collection

from eventstore.appending import StoredId
from eventstore.stored import StoredFormError, commit_from_header, commit_key

Raw = dict[str, Any]


def indexes(*, ferretdb: bool) -> list[IndexModel]:
    """Return the indexes beside ``_id`` (the first position, as :func:`commit_key` text).

    The store asks for its event ids before every insert (:func:`stored_ids`), which
    ``event_ids`` serves. On MongoDB it is also unique across the commits that hold
    their events (a header holds none: see :mod:`eventstore.adapters.mongo`), a second
    guard. FerretDB v1 has no partial indexes and enforces nothing through an array
    (measured on v1.24.2: two commits holding one id are both stored).
    """
    ids: dict[str, Any] = {"name": "event_ids"}
    if not ferretdb:
        ids |= {"unique": True, "partialFilterExpression": {"events": {"$exists": True}}}
    return [
        IndexModel(
            [("stream_id", ASCENDING), ("first_version", ASCENDING)],
            name="stream_version",
            unique=True,
        ),
        IndexModel([("stream_id", ASCENDING), ("stream_to", ASCENDING)], name="stream_bytes"),
        IndexModel([("log_to", ASCENDING)], name="log_bytes", unique=True),
        IndexModel([("events.event_id", ASCENDING)], **ids),
        IndexModel([("payload", ASCENDING)], name="headers"),
    ]


READ_BUDGET_BYTES: Final = 4 * 1024 * 1024
"""How many bytes of commits one read asks for (one commit more, if a commit is bigger)."""

DELTA_LIMIT: Final = 256
"""The most commits a writer reads to catch up with the head; past it, it starts afresh."""

_INT64_MAX: Final = 2**63 - 1
_PLACE: Final = {"_id": 0, "first": 1, "last": 1, "log_to": 1}
_STREAM_PLACE: Final = {"_id": 0, "last_version": 1, "stream_to": 1}
_IDS: Final = {
    "_id": 1,
    "payload": 1,
    "first": 1,
    "stream_id": 1,
    "first_version": 1,
    "last": 1,
    "last_version": 1,
    "log_to": 1,
    "stream_to": 1,
    "events.event_id": 1,
}


@frozen
class Tip:
    """The end of the log, or of one stream, as a writer last saw it."""

    last: int
    """The last position (or stream version); 0 for an empty log (stream)."""
    bytes_to: int
    """The byte total up to and including it."""


EMPTY: Final = Tip(0, 0)


@frozen
class Delta:
    """The commits a writer found after its tip: the new tip, and what they hold."""

    tip: Tip
    streams: dict[str, Tip]
    """Each stream's tip among these commits."""
    ids: dict[str, StoredId]
    """Where each of the asked-for event ids is among these commits."""


def log_tip(commits: Collection[Raw]) -> Tip:
    """Return the end of the log: its last commit's last position and byte total."""
    found = next(iter(commits.find({}, _PLACE, sort=[("_id", DESCENDING)], limit=1)), None)
    return Tip(int(found["last"]), int(found["log_to"])) if found else EMPTY


def stream_tip(commits: Collection[Raw], stream_id: str) -> Tip:
    """Return the end of ``stream_id``: its version and byte total (zeros if it is empty)."""
    found = next(
        iter(
            commits.find(
                {"stream_id": stream_id},
                _STREAM_PLACE,
                sort=[("first_version", DESCENDING)],
                limit=1,
            )
        ),
        None,
    )
    return Tip(int(found["last_version"]), int(found["stream_to"])) if found else EMPTY


def stored_ids(
    commits: Collection[Raw], payloads: Collection[Raw], ids: Sequence[str]
) -> dict[str, StoredId]:
    """Return where each of ``ids`` is stored, for those that are (headers' events too)."""
    found = commits.find(
        {"$or": [{"events.event_id": {"$in": list(ids)}}, {"payload": {"$type": "string"}}]},
        _IDS,
    )
    return _where(inlined(payloads, list(found)), set(ids))


def after_tip(
    commits: Collection[Raw], payloads: Collection[Raw], tip: Tip, ids: Sequence[str]
) -> Delta | None:
    """Return the commits after ``tip``, as a :class:`Delta`; None if over :data:`DELTA_LIMIT`."""
    found = list(
        commits.find(
            {"_id": {"$gt": commit_key(tip.last)}},
            _IDS,
            sort=[("_id", ASCENDING)],
            limit=DELTA_LIMIT,
        )
    )
    if len(found) == DELTA_LIMIT:
        return None
    streams = {c["stream_id"]: Tip(int(c["last_version"]), int(c["stream_to"])) for c in found}
    last = found[-1] if found else None
    new_tip = Tip(int(last["last"]), int(last["log_to"])) if last else tip
    return Delta(new_tip, streams, _where(inlined(payloads, found), set(ids)))


def _where(found: Any, wanted: set[str]) -> dict[str, StoredId]:
    """Return where each wanted id is among commits given with the :data:`_IDS` fields."""
    where: dict[str, StoredId] = {}
    for commit in found:
        for offset, event in enumerate(commit["events"]):
            if event["event_id"] in wanted:
                where[event["event_id"]] = StoredId(
                    stream_id=commit["stream_id"],
                    position=int(commit["first"]) + offset,
                    stream_version=int(commit["first_version"]) + offset,
                )
    return where


def inlined(payloads: Collection[Raw], found: list[Raw]) -> list[Raw]:
    """Return ``found`` with the events of each header in it (one query for all).

    A header whose payload is gone has been replaced by its whole commit meanwhile: it is
    left out, and the caller reads it again where it needs it (:func:`whole`).
    """
    waiting = [c["payload"] for c in found if "payload" in c]
    if not waiting:
        return found
    events = {p["_id"]: p["events"] for p in payloads.find({"_id": {"$in": waiting}})}
    return [
        c if "payload" not in c else commit_from_header(c, events[c["payload"]])
        for c in found
        if "payload" not in c or c["payload"] in events
    ]


def whole(commits: Collection[Raw], payloads: Collection[Raw], commit: Raw) -> Raw:
    """Return ``commit`` with its events, reading them where a header names them."""
    if "payload" not in commit:
        return commit
    found = inlined(payloads, [commit])
    done = found[0] if found else commits.find_one({"_id": commit["_id"]})
    if done is None or "events" not in done:
        raise StoredFormError(f"commit {commit['_id']!r}: its payload is missing")
    return done


def holding_position(commits: Collection[Raw], position: int) -> Raw | None:
    """Return the commit holding ``position``, or the last one before it (None if none)."""
    return next(
        iter(
            commits.find(
                {"_id": {"$lte": commit_key(position)}}, sort=[("_id", DESCENDING)], limit=1
            )
        ),
        None,
    )


def next_in_log(commits: Collection[Raw], after: Raw, limit: int, *, alone: bool) -> list[Raw]:
    """Return the commits after ``after`` that fill :data:`READ_BUDGET_BYTES` (at least one).

    With ``alone`` (the caller saw ``after`` take half the budget or more by itself), only
    the next commit, by ``_id``: a page would hold one or two such commits anyway, and on
    FerretDB v1 an ``_id`` lookup is the one query that does not decode every commit of
    the log (0.9 s against 17.7 s on a 211 MB log of 4 MiB commits, measured).
    """
    if alone:
        return list(commits.find({"_id": commit_key(int(after["last"]) + 1)}))
    bytes_to = int(after["log_to"])
    return list(
        commits.find(
            {
                "$or": [
                    {"_id": commit_key(int(after["last"]) + 1)},
                    {"log_to": {"$gt": bytes_to, "$lte": bytes_to + READ_BUDGET_BYTES}},
                ]
            },
            sort=[("log_to", ASCENDING)],
            limit=limit,
            batch_size=limit,
        )
    )


def holding_version(commits: Collection[Raw], stream_id: str, version: int) -> Raw | None:
    """Return the commit of ``stream_id`` holding ``version``, or the last one before it."""
    return next(
        iter(
            commits.find(
                {"stream_id": stream_id, "first_version": {"$lte": min(version, _INT64_MAX)}},
                sort=[("first_version", DESCENDING)],
                limit=1,
            )
        ),
        None,
    )


def next_in_stream(commits: Collection[Raw], after: Raw, limit: int) -> list[Raw]:
    """Return the commits of ``after``'s stream after it that fill the read budget."""
    stream_id, bytes_to = after["stream_id"], int(after["stream_to"])
    return list(
        commits.find(
            {
                "$or": [
                    {"stream_id": stream_id, "first_version": int(after["last_version"]) + 1},
                    {
                        "stream_id": stream_id,
                        "stream_to": {"$gt": bytes_to, "$lte": bytes_to + READ_BUDGET_BYTES},
                    },
                ]
            },
            sort=[("stream_to", ASCENDING)],
            limit=limit,
            batch_size=limit,
        )
    )
