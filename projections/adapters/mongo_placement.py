"""Where a version's documents are in MongoDB, and the swap that moves a new one in.

The live version of a projection is in the collection named like the projection, the
user's name (``sessions``, ``repo_configs``, ``jobs_history``); every other version is
*aside*, in ``{projection}__{version}``. The pointer in ``read_model_versions`` says which
is which (see :mod:`projections.adapters.mongo_versions`):

* ``active``: the live version, the truth;
* ``placed``: the version the plain name holds, once the swap that moved it in is done;
* ``placing``: ``{version, since}`` while a swap moves ``active`` in.

A swap to version ``new`` from ``old``:

1. one compare-and-set of the pointer: ``active`` becomes ``new``, ``old`` is retired and
   ``placing`` names ``new``. From here on no worker writes to ``old`` (it is gone) or to
   ``new`` (it waits until the swap is done), and queries read ``new``;
2. ``new`` is renamed in. On MongoDB that is one ``renameCollection`` with
   ``dropTarget``: ``old`` is gone and ``new`` in place in one atomic step. FerretDB v1 has
   no ``dropTarget``: the plain name is first renamed away, to ``{projection}__{old}``, and
   then ``new`` renamed in. Two renames rather than a drop and a rename because a rename
   changes only the catalog and costs the same whatever the collection holds, while a
   drop's cost grows with it (SQLite frees every page of the table): the window in which
   the plain name is missing is the time between two commands of one client (median
   1.9 ms, at most 6.6 ms, measured on FerretDB with 5,000 documents on a loaded 2-core
   machine), and the old collection is dropped after it closes. A write that recreates the plain
   name inside the window (a worker of ``old`` that wrote before it saw step 1) makes
   the second rename fail; that collection holds nothing but the late write, so it is
   dropped and the rename tried again;
3. the pointer's ``placed`` becomes ``new`` and ``placing`` goes; then ``old`` is marked
   dropped, and dropped if renamed away.

**Queries** (``get``, the run queries) read the pointer and then, while it is placed, the
plain name; while a swap is under way, first ``{projection}__{new}`` and then the plain
name. Each query matches only documents whose ``_version`` is the live version (the
*fence*, see :mod:`.mongo_documents`), so the old version and any late write of a worker
of it are invisible. ``new``'s documents are in exactly one of the two collections at any
instant, and the one rename that moves them is atomic, so of the two queries, in that
order, one finds them. A query that found nothing, or whose cursor the swap killed, reads
the pointer again and runs again if it moved. Queries never wait.

**Writers** (``load``, ``save``, ``documents``) locate their version from the pointer
before they touch a collection, and wait while their version is being swapped in. After
writing, ``save`` reads the pointer again: unchanged means no swap began in between, so
the writes landed where the version was. Changed means they may have landed in the
collection that now holds another version. Replaces cannot have matched there (their
filter names their version), inserts can: they are deleted again by ``_id`` and
``_version`` (only the writer's own version), and the writer gets
:class:`~projections.errors.VersionGoneError` (its version was retired) or
:class:`~projections.errors.StaleWriteError` (its version moved in: fold again where it is).
A writer killed between its late write and that cleanup leaves a document of a retired
version under the plain name: queries never match it, and the next load of its key
deletes it.

**A direct reader** (the mongo shell) finds the live documents in ``db.sessions`` etc.
During a swap on MongoDB it sees the old version until the rename and the new one after
it. On FerretDB it sees the old version until the first rename, then for about a
millisecond no collection of that name (``find`` returns nothing), then the new version.
A document whose ``_version`` is not the pointer's ``placed`` is a late write about to be
deleted; filter on ``_version`` to be exact.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Final, Literal

from attrs import frozen
from pymongo.database import Database
from pymongo.errors import OperationFailure

from projections import naming
from projections.adapters.mongo_documents import FENCE

Raw = dict[str, Any]
State = Literal["plain", "moving", "aside", "gone"]

NAMESPACE_NOT_FOUND: Final = 26
NAMESPACE_EXISTS: Final = 48
UNSUPPORTED: Final = frozenset({20, 115, 238})
"""IllegalOperation, CommandNotSupported, NotImplemented: what a server that lacks
``dropTarget`` answers (FerretDB v1.24: 238)."""
RENAME_ATTEMPTS: Final = 100
"""How often a swap renames in again after late writes recreated the plain name."""


@frozen
class Pointer:
    """What a projection's pointer said at one instant, as far as placement goes."""

    active: str | None
    placed: str | None
    placing: str | None
    since: datetime | None
    retired: frozenset[str]

    @classmethod
    def of(cls, raw: Mapping[str, Any] | None) -> Pointer:
        """Return the pointer a stored pointer document (or None: no pointer yet) holds."""
        raw = raw or {}
        placing = raw.get("placing") or {}
        return cls(
            active=raw.get("active"),
            placed=raw.get("placed"),
            placing=placing.get("version"),
            since=placing.get("since"),
            retired=frozenset(raw.get("retired", ())),
        )

    def state(self, version: str) -> State:
        """Return where ``version`` is: in the plain name, moving in, aside, or retired."""
        if version in self.retired:
            return "gone"
        if self.active == version and self.placed == version and self.placing is None:
            return "plain"
        if self.active == version and self.placing == version:
            return "moving"
        return "aside"

    def same_place(self, other: Pointer) -> bool:
        """Tell whether ``other`` puts every version where this pointer does."""
        return (self.active, self.placed, self.placing) == (
            other.active,
            other.placed,
            other.placing,
        )


@frozen
class Placement:
    """Where a version's documents were when the pointer was read, and what it said."""

    version: str
    collection: str
    """The collection's name: the plain name or the version's aside name."""
    state: State
    """``plain`` or ``aside``."""
    pointer: Pointer

    @property
    def fence(self) -> Raw:
        """The filter matching only this version's documents (needed under the plain name)."""
        return {FENCE: self.version} if self.state == "plain" else {}


def aside(projection: str, version: str) -> str:
    """Return the collection a version is kept in while it is not live."""
    return naming.storage_name(projection, version)


def where(projection: str, version: str, state: State) -> str:
    """Return the collection holding ``version`` in ``state`` (``plain`` or ``aside``)."""
    return naming.projection_name(projection) if state == "plain" else aside(projection, version)


def candidates(projection: str, pointer: Pointer) -> list[tuple[str, Raw]]:
    """Return the collections a query of the live version reads, in order, with its fence.

    Under the plain name a query matches only the live version's documents; aside, the
    collection holds no other (and a database of an earlier cirec has no fence there).
    """
    live = str(pointer.active)
    plain = (naming.projection_name(projection), {FENCE: live})
    if pointer.state(live) == "plain":
        return [plain]
    return [(aside(projection, live), {}), plain]


def rename(db: Database[Raw], source: str, target: str, *, drop_target: bool = False) -> None:
    """Rename collection ``source`` to ``target`` within ``db`` (raises the driver's errors)."""
    options: Raw = {"to": f"{db.name}.{target}"}
    if drop_target:
        options["dropTarget"] = True
    db.client.admin.command("renameCollection", f"{db.name}.{source}", **options)


def swap_in(
    db: Database[Raw],
    projection: str,
    new: str,
    old: str | None,
    *,
    drop_target: bool,
    between: Callable[[], None] = lambda: None,
) -> None:
    """Move ``new`` from aside to the plain name, replacing what is there (see module docs).

    With ``drop_target``, one atomic rename; if the server refuses ``dropTarget``, or
    without it, the plain name is renamed away to ``old``'s aside name (or dropped, if
    that is taken or there is no ``old``) and ``new`` renamed in. ``between`` runs between
    the two (tests use it to write inside the window). A ``new`` that is not aside any
    more was moved in already (a swap finished again after it was interrupted).
    """
    plain, source = naming.projection_name(projection), aside(projection, new)
    if not db.list_collection_names(filter={"name": source}):
        return  # moved in already: never move the plain name away then
    if drop_target:
        try:
            rename(db, source, plain, drop_target=True)
            return
        except OperationFailure as exc:
            if exc.code == NAMESPACE_NOT_FOUND:
                return
            if exc.code not in UNSUPPORTED:
                raise
    for _ in range(RENAME_ATTEMPTS):
        _move_away(db, plain, None if old is None else aside(projection, old))
        between()
        if _renamed_unless_taken(db, source, plain):
            return
        # A late write recreated the plain name inside the window: move it away too.
    raise OperationFailure(f"{plain}: late writes kept recreating it", NAMESPACE_EXISTS)


def _move_away(db: Database[Raw], plain: str, target: str | None) -> None:
    """Rename the plain name to ``target`` (drop it if that is taken, or None)."""
    if target is None or not _renamed_unless_taken(db, plain, target):
        db.drop_collection(plain)


def _renamed_unless_taken(db: Database[Raw], source: str, target: str) -> bool:
    """Rename ``source`` to ``target``; False, changing nothing, if ``target`` exists.

    A ``source`` that is gone counts as renamed: another swap moved it already.
    """
    try:
        rename(db, source, target)
    except OperationFailure as exc:
        if exc.code == NAMESPACE_EXISTS:
            return False
        if exc.code != NAMESPACE_NOT_FOUND:
            raise
    return True
