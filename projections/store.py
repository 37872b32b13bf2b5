"""The read-model store port: where projected documents, checkpoints and versions live.

Every projection's documents live in a *version* (a collection, or a table), named by the
store. One version of each projection is *active*: queries read it and the projector
keeps it current. A rebuild fills a new version from the log and then activates it in
one step, so no reader ever sees a half-built projection; the old version is dropped
after the switch.

Exactly-once effect without transactions rests on three rules every adapter keeps:

* each document carries the position of the last event folded into it, and a fold skips
  the events a document already holds;
* :meth:`ReadModelStore.save` writes a document only if it still carries the position it
  was loaded with (or, for a new one, only if it still does not exist): a worker that
  lost a race, or a zombie, cannot overwrite newer work;
* the log is folded in *batches* claimed one after another: the batch after a position
  is claimed exactly once, by inserting it under a unique key
  (:meth:`ReadModelStore.claim_batch`), so every worker that folds from that position
  folds exactly the same events; the checkpoint passes a batch only once it is
  finished (:meth:`ReadModelStore.finish_batch`), that is, every document holds it.

An insert under a unique key is atomic on every server, FerretDB v1 included, where a
conditional update is not (it runs as a query, then a write). So two workers never fold
different ranges from one state: they fold the same batch, and two writes racing there
write the same document. A claimed batch whose worker died is finished by the next
worker that reads the checkpoint: nobody waits for a lease to expire.

The errors named here are those of :mod:`projections.errors`.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Generic, TypeVar

from attrs import frozen

from eventstore.closing import Closing
from projections import arguments
from projections.presence import WorkerReport
from projections.projection import Projection
from projections.stored_fields import FieldMismatch
from projections.unwritable import Unwritable

D = TypeVar("D")


@frozen
class Versioned(Generic[D]):
    """A stored document and the position of the last event folded into it."""

    document: D
    position: int


@frozen
class Change(Generic[D]):
    """A document to write: its new state, and the position it was loaded at."""

    key: str
    document: D
    position: int
    """The position of the last event now folded into ``document``."""
    loaded_at: int | None
    """The position the stored document had when loaded; None if there was none."""


def check_changes(changes: Sequence[Change[D]]) -> None:
    """Check the key and positions of every change to be written, before any is."""
    for change in changes:
        arguments.text(change.key, "key")
        arguments.whole_number(change.position, "position")
        arguments.optional_number(change.loaded_at, "loaded_at")


class ReadModelStore(Closing):
    """Documents of the read models, their checkpoints and versions, on one backend.

    Generic: it knows projections only by what they declare (:class:`Projection`: a name,
    a document type, the fields it is queried by), never by name. Every method checks its
    arguments before it touches anything, the same way on every backend: a projection
    or version name that breaks :mod:`projections.naming` raises
    :class:`~projections.errors.UnusableNameError`, a key or position of the wrong type
    :class:`~projections.errors.QueryArgumentError`. Queries of one read model are
    separate interfaces over a store (e.g. :class:`projections.run_queries.RunQueries`).
    """

    backend: str

    # -- versions -----------------------------------------------------------------------

    @abstractmethod
    def active_version(self, projection: Projection[D]) -> str:
        """Return the active version of ``projection``, creating an empty first one if none."""

    @abstractmethod
    def new_version(self, projection: Projection[D]) -> str:
        """Create an empty, inactive version (checkpoint 0) and return its name."""

    @abstractmethod
    def activate(self, projection: Projection[D], version: str) -> None:
        """Make ``version`` the active one in one atomic step, then drop the one it replaces.

        Raises :class:`VersionGoneError` if ``version`` does not exist.
        """

    @abstractmethod
    def discard(self, projection: Projection[D], version: str) -> None:
        """Drop an inactive ``version`` (an abandoned rebuild); the active one is refused.

        Discarding a version that does not exist does nothing. A version's name is never
        given to another version afterwards, so a zombie cannot write into a newer one.
        """

    @abstractmethod
    def versions(self, projection: Projection[D]) -> list[str]:
        """Return every version of ``projection`` that exists, active or not, oldest first."""

    # -- documents and checkpoints ------------------------------------------------------

    @abstractmethod
    def load(
        self, projection: Projection[D], version: str, keys: Iterable[str]
    ) -> dict[str, Versioned[D]]:
        """Return the stored documents among ``keys`` (one round trip).

        Raises :class:`VersionGoneError` if ``version`` does not exist (so does ``save``).
        """

    @abstractmethod
    def save(self, projection: Projection[D], version: str, changes: Sequence[Change[D]]) -> None:
        """Write ``changes``, each only if its document is still as it was loaded.

        Raises :class:`StaleWriteError` for the first change whose condition fails; the
        other changes may or may not have been written (each is correct on its own; the
        embedded store writes all or none).
        """

    @abstractmethod
    def checkpoint(self, projection: Projection[D], version: str) -> int:
        """Return the position up to which ``version`` has folded the log.

        That is the end of the unbroken chain of finished batches from position 0. Raises
        :class:`VersionGoneError` if ``version`` does not exist.
        """

    @abstractmethod
    def claim_batch(
        self, projection: Projection[D], version: str, start: int, end: int
    ) -> int | None:
        """Claim the events after ``start`` up to ``end`` as the next batch to fold.

        The batch after a position is claimed once: return ``end`` if this call claimed
        it, or else the end of the batch claimed first, which every worker folding from
        ``start`` must then fold. Return None if the checkpoint is already past ``start``
        (the caller read it before another worker moved it). Raises
        :class:`VersionGoneError` if ``version`` does not exist.
        """

    @contextmanager
    def batch_writes(self, projection: Projection[D], version: str) -> Iterator[None]:
        """Group the writes of one batch: its claim, documents, marks and finish.

        A store with transactions commits them together, all or none, when the block
        ends, and rolls all of them back if it raises; each write inside still fails or
        holds on its own as its method says (a failed ``save`` writes none of its
        changes). By default, as on MongoDB, each write is its own, as it comes: the
        claim, the conditional writes and the finish keep a batch exact without a
        transaction. Either way the block holds no lock of its caller's: the projector
        opens it after folding, for the writes alone.
        """
        yield

    @abstractmethod
    def finish_batch(self, projection: Projection[D], version: str, start: int, end: int) -> None:
        """Record that every document holds the claimed batch after ``start`` up to ``end``.

        The checkpoint then moves past it as soon as it reaches ``start``. Finishing a
        batch twice changes nothing. Raises :class:`VersionGoneError` if ``version`` does
        not exist, and :class:`~eventstore.errors.StoreError` if no such batch was claimed.
        """

    @abstractmethod
    def documents(
        self, projection: Projection[D], version: str
    ) -> Iterator[tuple[str, Versioned[D]]]:
        """Yield every document of ``version`` with its key, in key order."""

    @abstractmethod
    def query_field_mismatches(
        self, projection: Projection[D], version: str
    ) -> Iterator[FieldMismatch]:
        """Yield every stored value a query uses that differs from its document, in key order.

        A document's queried fields (and what else the store's queries and guarded
        writes match on beside the document as read) are compared with what the
        document, as :meth:`documents` reads it, gives for them, in the form the store
        keeps them, kind included (``"1"`` is not ``1``). Each row or stored document
        is compared with itself, in one read, so a projector writing meanwhile causes no
        mismatch. A healthy store yields nothing. The names are checked at the call;
        the errors are those of :meth:`documents`.
        """

    # -- keys whose documents cannot be written (see projections.unwritable) ------------

    @abstractmethod
    def unwritable(
        self, projection: Projection[D], version: str, keys: Iterable[str] | None = None
    ) -> dict[str, Unwritable]:
        """Return the unwritable marks of ``version`` among ``keys`` (all of them if None).

        One round trip; in effect or not (see :func:`projections.unwritable.in_effect`).
        Raises :class:`VersionGoneError` if ``version`` does not exist.
        """

    @abstractmethod
    def mark_unwritable(
        self, projection: Projection[D], version: str, marks: Sequence[Unwritable]
    ) -> None:
        """Record each mark, replacing the mark of its key only if that one is at a lower position.

        So a worker that comes late never moves a mark back. Raises
        :class:`VersionGoneError` if ``version`` does not exist.
        """

    @abstractmethod
    def clear_unwritable(
        self, projection: Projection[D], version: str, written: Mapping[str, int]
    ) -> None:
        """Delete the mark of each key of ``written`` at or below the position given for it.

        Called once the key's document at that position is written; a mark at a higher
        position (a later document that could not be written) stays.
        """

    # -- reports of following workers (see projections.presence) ------------------------

    @abstractmethod
    def report_worker(self, report: WorkerReport) -> None:
        """Store ``report`` in one write, replacing the earlier report of its worker."""

    @abstractmethod
    def forget_workers(self, seen_before: datetime) -> int:
        """Delete the reports last renewed before ``seen_before``; return how many went."""

    @abstractmethod
    def worker_reports(self) -> list[WorkerReport]:
        """Return the report of every worker, by worker name."""

    # -- reading the active version ------------------------------------------------------

    @abstractmethod
    def get(self, projection: Projection[D], key: str) -> D | None:
        """Return the document ``key`` of the active version, if it exists.

        Creates the first active version if there is none yet (so it returns None).
        """
