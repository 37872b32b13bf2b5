"""What a MongoDB client sends: commands counted, and their queries checked against indexes.

FerretDB v1 proves correctness, not MongoDB's speed; what carries over to MongoDB is how
many commands an operation sends and whether MongoDB can answer each from an index.
:class:`CommandLog` records the first (a pymongo command listener), and
:func:`unindexed` judges the second for a command, given the indexes the server lists.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Final

from attrs import frozen
from pymongo import monitoring

QUERYING: Final = frozenset({"find", "update", "delete", "findAndModify", "count", "aggregate"})
"""The commands that select documents by a filter (and so need an index on MongoDB)."""
HOUSEKEEPING: Final = frozenset({"endSessions", "hello", "isMaster", "ismaster", "ping"})
"""Commands pymongo sends on its own, not on behalf of an operation."""


@frozen
class Sent:
    """One command as it was sent: its name, collection and body."""

    name: str
    collection: str
    body: Mapping[str, Any]


class CommandLog(monitoring.CommandListener):
    """Records every command a client sends (give it to ``MongoClient(event_listeners=…)``)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sent: list[Sent] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        """Record one command (pymongo calls this)."""
        if event.command_name in HOUSEKEEPING:
            return
        collection = event.command.get(event.command_name)
        sent = Sent(event.command_name, str(collection), dict(event.command))
        with self._lock:
            self._sent.append(sent)

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        """Nothing to record (pymongo calls this)."""

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        """Nothing to record (pymongo calls this)."""

    def sent(self) -> list[Sent]:
        """Return the commands recorded so far, oldest first."""
        with self._lock:
            return list(self._sent)

    @contextmanager
    def counting(self) -> Iterator[list[Sent]]:
        """Yield a list that, after the block, holds the commands the block sent."""
        before = len(self.sent())
        taken: list[Sent] = []
        yield taken
        taken.extend(self.sent()[before:])


def statements(sent: Sent) -> list[tuple[Mapping[str, Any], Mapping[str, Any]]]:
    """Return the ``(filter, sort)`` pairs a command selects documents by."""
    body = sent.body
    if sent.name == "find":
        return [(body.get("filter", {}), body.get("sort", {}))]
    if sent.name in {"count", "findAndModify"}:
        return [(body.get("query", {}), body.get("sort", {}))]
    if sent.name == "update":
        return [(u.get("q", {}), {}) for u in body.get("updates", [])]
    if sent.name == "delete":
        return [(d.get("q", {}), {}) for d in body.get("deletes", [])]
    if sent.name == "aggregate":
        stages = body.get("pipeline", [])
        first = stages[0] if stages else {}
        sort = stages[1].get("$sort", {}) if len(stages) > 1 else {}
        return [(first.get("$match", {}), sort)]
    return []


@frozen
class Index:
    """An index as the server lists it: its key fields in order, and whether it is unique."""

    keys: tuple[str, ...]
    unique: bool

    @classmethod
    def listed(cls, entry: Mapping[str, Any]) -> Index:
        """Return the index a ``listIndexes`` entry describes (``_id`` is always unique)."""
        return cls(tuple(entry["key"]), bool(entry.get("unique")) or entry["name"] == "_id_")


def unindexed(sent: Sent, indexes: Iterable[Index]) -> list[str]:
    """Return why each selection of ``sent`` cannot be answered from ``indexes`` (none: fine).

    A selection is served when an index starts with exactly its filter's fields (in any
    order), followed by its sort's fields in order: the shape MongoDB answers by one
    index scan; or when a unique index's fields all have an equality in the filter (a
    lookup of one document, the other conditions checked on it); or when an index starts
    with equalities of the filter and goes on with the sort's fields in order (MongoDB
    walks it in the sort's order, bounded by those equalities and by any range on the
    sort's first field, checks the other conditions on the documents, and stops at the
    limit: no collection scan, no sort). Each branch of an
    ``$or`` is judged alone (MongoDB merges the branches, then sorts the union, which a
    limit bounds). An empty filter needs a sort on an index's first field. Anything
    else would be a collection scan.
    """
    listed = list(indexes)
    problems = []
    for selector, sort in statements(sent):
        branches, sort_fields = _branches(selector), list(sort)
        if len(branches) > 1:
            sort_fields = []
        for branch in branches:
            fields = set(branch)
            equal = {field for field, value in branch.items() if not _is_operator(value)}
            if not fields and not sort_fields:
                problems.append(f"{sent.name} on {sent.collection}: no filter, no sort")
            elif not any(
                _serves(list(index.keys), fields, sort_fields)
                or (index.unique and set(index.keys) <= equal)
                or _walks_in_order(list(index.keys), equal, sort_fields)
                for index in listed
            ):
                problems.append(
                    f"{sent.name} on {sent.collection}: filter {sorted(fields)} "
                    f"sort {sort_fields} has no index among {[i.keys for i in listed]}"
                )
    return problems


def _branches(selector: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Return the branches of a filter: one, or one per ``$or`` clause with the rest added."""
    rest = {key: value for key, value in selector.items() if key != "$or"}
    if "$or" not in selector:
        return [rest]
    return [rest | dict(clause) for clause in selector["$or"]]


def _is_operator(value: Any) -> bool:
    """Tell whether a filter's value is a condition (``{"$gt": …}``), not an equality."""
    return isinstance(value, Mapping) and any(str(key).startswith("$") for key in value)


def _serves(index: list[str], fields: set[str], sort: list[str]) -> bool:
    """Tell whether ``index`` starts with ``fields`` (any order), then ``sort`` in order."""
    if set(index[: len(fields)]) != fields:
        return False
    following = index[len(fields) :]
    remaining = [field for field in sort if field not in fields]
    return following[: len(remaining)] == remaining


def _walks_in_order(index: list[str], equal: set[str], sort: list[str]) -> bool:
    """Tell whether ``index`` is some ``equal`` fields (any order), then ``sort`` in order."""
    if not sort:
        return False
    start = index.index(sort[0]) if sort[0] in index else len(index)
    return set(index[:start]) <= equal and index[start : start + len(sort)] == sort
