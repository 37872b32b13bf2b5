"""Where the MongoDB store reads and writes a version, and what it does when a swap moved it.

The rules are those of :mod:`projections.adapters.mongo_placement`: a writer locates its
version before it touches a collection (waiting while a swap moves it in) and checks the
pointer again after writing; a query of the live version reads its candidates in order
and runs again if the pointer moved under it. Every function here talks to the server
directly and raises the driver's errors, or the read side's own; the store translates.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Final, TypeVar

from pymongo import ASCENDING
from pymongo.collection import Collection
from pymongo.errors import OperationFailure

from eventstore.adapters.mongo_connection import BACKEND
from eventstore.errors import StoreError
from projections.adapters import mongo_documents as stored
from projections.adapters import mongo_placement as placement
from projections.adapters.mongo_documents import FENCE, ServerTraits
from projections.adapters.mongo_placement import Placement, Pointer
from projections.adapters.mongo_versions import MongoVersions
from projections.errors import StaleWriteError, VersionGoneError
from projections.projection import Projection
from projections.store import Change

D = TypeVar("D")
Raw = dict[str, Any]
T = TypeVar("T")

SWAP_WAIT_SECONDS: Final = 30.0
"""How long a writer waits for a swap of its version to finish before it reports it."""
FIRST_DELAY: Final = 0.002
LAST_DELAY: Final = 0.05
READ_ATTEMPTS: Final = 100
"""How often a query runs again while swaps keep moving the pointer under it."""

LiveQuery = Callable[[Collection[Raw], Raw], tuple[T, bool]]
"""A query of one collection, given the filter to add (the fence, or nothing): its result,
and whether that is *settled* (it found what it looked for, so no swap emptied it)."""


class Locations:
    """Locates the versions of one database for the store's reads and writes."""

    def __init__(
        self,
        versions: MongoVersions,
        *,
        sleep: Callable[[float], object] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._versions = versions
        self._sleep = sleep
        self._clock = clock

    def locate(self, projection: Projection[Any], version: str, operation: str) -> Placement:
        """Return where ``version`` is, once no swap is moving it.

        Raises :class:`VersionGoneError` for a version retired or never created, and
        :class:`~eventstore.errors.StoreError` if a swap of it stays unfinished for
        :data:`SWAP_WAIT_SECONDS`.
        """
        pointer = self._settled(projection, version, operation)
        state = pointer.state(version)
        return Placement(version, placement.where(projection.name, version, state), state, pointer)

    def _settled(self, projection: Projection[Any], version: str, operation: str) -> Pointer:
        """Return the pointer once it is not swapping ``version`` in; check it exists."""
        deadline, delay = self._clock() + SWAP_WAIT_SECONDS, FIRST_DELAY
        while True:
            pointer, exists = self._versions.pointer_and_version(projection, version)
            state = pointer.state(version)
            if state == "gone" or not exists:
                raise VersionGoneError(projection.name, version)
            if state != "moving":
                return pointer
            if self._clock() > deadline:
                detail = (
                    f"the swap of {projection.name} to {version} begun at {pointer.since} has"
                    f" not finished; activate {version} again to finish it"
                )
                raise StoreError(BACKEND, operation, detail)
            self._sleep(delay)
            delay = min(2 * delay, LAST_DELAY)

    def wrote(
        self, projection: Projection[Any], where: Placement, keys: Sequence[str], first: Change[Any]
    ) -> None:
        """Check, after writing ``keys`` at ``where``, that no swap moved the version since.

        If one did, undo what may have landed under the wrong name and raise: a retired
        version's late writes are deleted from the plain name (only documents of that
        version) and :class:`VersionGoneError` raised; a version that moved in meanwhile
        drops what was written aside after the move and raises :class:`StaleWriteError`
        for ``first`` (a change), so the worker folds again where the version is now.
        """
        pointer, exists = self._versions.pointer_and_version(projection, where.version)
        state = pointer.state(where.version)
        if exists and state == where.state:
            return
        if state == "moving":
            state = self._wait_for_swap(projection, where.version).state(where.version)
        if state == "moving":  # never drop what a swap has still to move
            detail = f"{projection.name}/{where.version} is still being swapped in"
            raise StoreError(BACKEND, "save", detail)
        if where.state == "plain":
            late = {"_id": {"$in": list(keys)}, FENCE: where.version}
            self._versions.collection(where.collection).delete_many(late)
            raise VersionGoneError(projection.name, where.version)
        self._versions.collection(where.collection).drop()  # recreated by writes that came late
        if state == "plain":
            raise StaleWriteError(projection.name, first.key, first.loaded_at)
        raise VersionGoneError(projection.name, where.version)

    def _wait_for_swap(self, projection: Projection[Any], version: str) -> Pointer:
        """Return the pointer once ``version`` is not moving (or after the wait, as it is)."""
        deadline, delay = self._clock() + SWAP_WAIT_SECONDS, FIRST_DELAY
        pointer = self._versions.pointer(projection)
        while pointer.state(version) == "moving" and self._clock() <= deadline:
            self._sleep(delay)
            delay = min(2 * delay, LAST_DELAY)
            pointer = self._versions.pointer(projection)
        return pointer

    def write(
        self,
        projection: Projection[D],
        where: Placement,
        changes: Sequence[Change[D]],
        traits: ServerTraits,
    ) -> set[int]:
        """Write ``changes`` at ``where``, check no swap moved it; return the refused ones.

        The refused are the indexes of the changes whose condition failed (see
        :meth:`~projections.adapters.mongo.MongoReadModelStore.save`); a swap meanwhile
        is handled by :meth:`wrote`.
        """
        documents = self._versions.collection(where.collection)
        operations = stored.writes(projection, where.version, changes)
        keys = [change.key for change in changes]
        try:
            refused, matched = stored.bulk_write(documents, operations, traits)
        except OperationFailure:
            # A swap that drops the collection under a write fails it (FerretDB: "no such
            # table"): that is the swap's doing, handled as such; any other is raised.
            self.wrote(projection, where, keys, changes[0])
            raise
        self.wrote(projection, where, keys, changes[0])
        replaces = [i for i, change in enumerate(changes) if change.loaded_at is not None]
        if matched < len(replaces):
            refused |= stored.stale_replaces(documents, where.version, changes, replaces, traits)
        return refused

    def load(
        self, projection: Projection[Any], version: str, keys: Sequence[str], traits: ServerTraits
    ) -> tuple[Placement, list[Raw]]:
        """Return where ``version`` is and its stored documents among ``keys``.

        Under the plain name, documents of retired versions are deleted and left out
        (:func:`~projections.adapters.mongo_documents.own`). A read that fails because a
        swap moved the version meanwhile is made again where it is now.
        """
        for _ in range(READ_ATTEMPTS):
            where = self.locate(projection, version, "load")
            documents = self._versions.collection(where.collection)
            try:
                found = list(stored.by_ids(documents, keys, traits))
            except OperationFailure:
                if not self.moved(projection, where):
                    raise
                continue
            if where.state == "plain":
                found = stored.own(documents, where.version, where.pointer.retired, found)
            return where, found
        raise StoreError(BACKEND, "load", f"{projection.name}/{version} kept moving")

    def moved(self, projection: Projection[Any], where: Placement) -> bool:
        """Tell whether the version at ``where`` moved (or went) since it was located."""
        pointer, exists = self._versions.pointer_and_version(projection, where.version)
        return not exists or pointer.state(where.version) != where.state

    def pages(self, projection: Projection[Any], version: str, page_size: int) -> Iterator[Raw]:
        """Yield every stored document of ``version`` in key order, a page per round trip.

        Raises :class:`VersionGoneError` if ``version`` is gone at the start or the end,
        and :class:`~eventstore.errors.StoreError` if a swap moved it meanwhile.
        """
        where = self.locate(projection, version, "documents")
        documents = self._versions.collection(where.collection)
        order = [("_id", ASCENDING)]
        with documents.find(where.fence, sort=order, batch_size=page_size) as cursor:
            yield from cursor
        pointer, exists = self._versions.pointer_and_version(projection, version)
        if not exists or pointer.state(version) == "gone":
            raise VersionGoneError(projection.name, version)
        if pointer.state(version) != where.state:
            detail = f"{projection.name}/{version} was swapped in while it was listed"
            raise StoreError(BACKEND, "documents", detail)

    def read_live(
        self, projection: Projection[Any], query: LiveQuery[T], first_version: Callable[[], str]
    ) -> T:
        """Run ``query`` on the live version, and again if a swap moved it meanwhile.

        ``first_version`` creates the first version when there is no pointer yet. The
        query runs on each candidate collection in turn (see
        :func:`~projections.adapters.mongo_placement.candidates`) until one settles; if
        none does, or one fails (a cursor killed by the swap), the pointer is read
        again: unchanged, the answer stands (or the failure is raised); moved, it runs
        again on what the pointer names now.
        """
        pointer = self._versions.pointer(projection)
        if pointer.active is None:
            first_version()
            pointer = self._versions.pointer(projection)
        for _ in range(READ_ATTEMPTS):
            answer: tuple[T, bool] | None = None
            failure: OperationFailure | None = None
            try:
                for name, fence in placement.candidates(projection.name, pointer):
                    answer = query(self._versions.collection(name), fence)
                    if answer[1]:
                        return answer[0]
            except OperationFailure as exc:
                failure = exc
            now = self._versions.pointer(projection)
            if now.same_place(pointer):
                if failure is not None:
                    raise failure
                if answer is not None:
                    return answer[0]
            pointer = now
        raise StoreError(BACKEND, "reading", f"the live {projection.name} kept moving")
