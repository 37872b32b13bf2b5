"""The projector worker: folds the log into read-model documents, exactly once in effect.

One step of one projection:

1. read the checkpoint, then the batch after it: up to ``batch_size`` events, or fewer
   once their payloads reach ``batch_bytes`` (:mod:`projections.log_reader`);
2. decode the events of the types the projection handles (each once for all
   projections; a type none of them handles is never decoded), and load every
   document they touch (one query; none if they touch none);
3. fold, in position order, each event newer than the position its document carries;
4. in one group of writes (:meth:`ReadModelStore.batch_writes`: one transaction on the
   embedded store), claim the batch as the one after the checkpoint, write the changed
   documents, each only if still as loaded, and finish the batch, which moves the
   checkpoint past it. If another worker claimed a different batch from there first,
   fold exactly that one instead; a write that lost a race reloads and folds again.

No document stops a projection. One that does not fit (:mod:`projections.unwritable`:
over the budget of :mod:`projections.sizes`, or refused by the store) is not written:
its key is marked unwritable with the position it reached, the worker reports it
(``on_unwritable``), and every other key is written and the checkpoint moves on. The
next batch touching that key folds into the document it could not write (held in
memory, or replayed: :mod:`projections.held`), so what is stored never depends on
where batches begin and end.

A worker killed anywhere between these steps leaves documents that each hold a prefix of
their events and a claimed batch that the next step folds again, skipping what the
documents already hold, so it converges to what a rebuild makes. Workers on one
projection fold the same batches and race harmlessly; to share the work, run one worker
per projection.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import partial
from typing import Any, Generic, TypeVar

from attrs import Factory, frozen

from eventstore.codec import Codec
from eventstore.errors import StoreError
from eventstore.records import RecordedEvent
from eventstore.store import EventStore
from eventstore.wakeup import Wakeup
from projections.errors import DocumentTooLargeError, StaleWriteError, VersionGoneError
from projections.folding import fold, touched_keys
from projections.held import HeldDocuments
from projections.log_reader import DEFAULT_BATCH_BYTES, LogReader
from projections.presence import BEAT_SECONDS, Presence
from projections.projection import Envelope, Projection
from projections.retrying import Backoff, Outage, Retrier
from projections.store import Change, ReadModelStore, Versioned
from projections.unwritable import REFUSED, Unwritable, check, in_effect

D = TypeVar("D")

DEFAULT_BATCH_SIZE = 500
POLL_SECONDS = 0.05
"""How often an idle following worker asks ``should_stop()`` when no one can interrupt
its wake-up (see :meth:`Projector.follow`); it reads nothing then."""
IDLE_SLICE_SECONDS = 3600.0
"""How long one idle wait lasts at most when the caller interrupts it on a stop request."""
# How many lost races in a row one step tolerates before it reports the contention.
MAX_STALE_RETRIES = 100


Reporter = Callable[[str, Unwritable], None]
"""Told ``(projection name, mark)`` of every document a batch could not write."""


@frozen
class StepResult:
    """What one step did: how many events it folded and where its checkpoint is now."""

    events: int
    checkpoint: int
    unwritable: tuple[Unwritable, ...] = ()
    """The documents of this batch that could not be written (their keys are marked)."""


@frozen
class _Read:
    """A batch as read: in which pass of ``catch_up`` (None outside one), from where, how many."""

    round: int | None
    after: int
    count: int
    records: list[RecordedEvent]
    full: bool
    """Whether the batch reached one of its limits (count or bytes), not the head."""
    decoded: dict[int, Envelope] = Factory(dict)
    """The envelopes of the records decoded so far, by index (see ``Projector._concerning``)."""


class _OtherBatch(Exception):
    """Raised inside a batch's writes when another worker claimed a different batch first."""

    def __init__(self, end: int) -> None:
        super().__init__(end)
        self.end = end


@frozen
class Writes(Generic[D]):
    """What to store after a batch: the documents that fit, and the marks of those that do not."""

    documents: list[Change[D]]
    marks: list[Unwritable]
    unwritten: dict[str, Versioned[D]]
    """The documents the marks stand for, by key."""
    cleared: dict[str, int] = Factory(dict)
    """The keys marked unwritable whose documents are now written, and at which position."""


def _nothing() -> None:
    """Stand in for a beat when no presence is kept."""


def _idle(
    wakeup: Wakeup,
    after: int,
    slice_seconds: float,
    should_stop: Callable[[], bool],
    beat: Callable[[], None],
) -> None:
    """Wait until the log may hold a position past ``after``, beating every slice."""
    while not should_stop() and not wakeup.wait(after, slice_seconds):
        beat()


def fold_batch(
    projection: Projection[D], loaded: Mapping[str, Versioned[D]], batch: Iterable[Envelope]
) -> list[Change[D]]:
    """Fold ``batch`` into the ``loaded`` documents; return the documents that changed.

    ``loaded`` maps a key to its stored document and the position it holds; an event at
    or below that position is skipped (see :func:`projections.folding.fold`). Pure: the
    store is not touched.
    """
    folded = fold(projection, loaded, batch)
    return [
        Change(key, now.document, now.position, before.position if before else None)
        for key, now in folded.items()
        if (before := loaded.get(key)) is None or before.position != now.position
    ]


def sort_out(changes: Iterable[Change[D]], stored: Mapping[str, Versioned[D]]) -> Writes[D]:
    """Split ``changes`` into the documents to write and the marks of those that do not fit.

    Each write is conditional on the document *stored* (``stored``): for a key that was
    unwritable, that is its last document that fitted, not the one it was folded from.
    Pure.
    """
    writes = Writes[D]([], [], {})
    for change in changes:
        before = stored.get(change.key)
        mark = check(change.key, change.position, change.document)
        if mark is None:
            loaded_at = before.position if before is not None else None
            writes.documents.append(Change(change.key, change.document, change.position, loaded_at))
        else:
            writes.marks.append(mark)
            writes.unwritten[change.key] = Versioned(change.document, change.position)
    return writes


class Projector:
    """Keeps read-model documents up to date with the log, for a chosen set of projections."""

    def __init__(
        self,
        events: EventStore,
        store: ReadModelStore,
        projections: Sequence[Projection[Any]],
        *,
        batch_size: int = DEFAULT_BATCH_SIZE,
        batch_bytes: int = DEFAULT_BATCH_BYTES,
        codec: Codec | None = None,
        on_unwritable: Reporter | None = None,
    ) -> None:
        self._events = events
        self._store = store
        # Any: the projections have different document types, and each is used only
        # through the generic methods below, which keep its own type within the call.
        self._projections: tuple[Projection[Any], ...] = tuple(projections)
        self._batch_size = batch_size
        self._batch_bytes = batch_bytes
        self._codec = codec or Codec()
        self._log = LogReader(events)
        self._last_read: _Read | None = None
        self._round: int | None = None
        """The pass of :meth:`catch_up` under way (None outside one)."""
        self._rounds = 0
        self._held = HeldDocuments(events, self._codec)
        self._on_unwritable = on_unwritable

    def step(self, projection: Projection[D], version: str | None = None) -> StepResult:
        """Fold the next batch of the log into ``version`` (by default the active one).

        The active version is looked up again after every lost race, so a rebuild that
        swaps versions under a running worker only costs it a retry.
        """
        for _ in range(MAX_STALE_RETRIES):
            target = version or self._store.active_version(projection)
            try:
                result = self._step(projection, target)
            except VersionGoneError:
                if version is not None:
                    raise
                continue  # a rebuild replaced the active version: fold into the new one
            if result is not None:
                return result
        raise StaleWriteError(projection.name, "*", None)

    def _step(self, projection: Projection[D], version: str) -> StepResult | None:
        """Fold one batch; None if the checkpoint moved under this step (try again).

        Documents are loaded and the batch folded first, then the claim, the writes and
        the finish go to the store together (:meth:`ReadModelStore.batch_writes`: one
        transaction on the embedded store). The writes are conditional on the documents
        as loaded, so a race lost meanwhile is seen there and the batch folded again.
        """
        start = self._store.checkpoint(projection, version)
        read = self._read(start, self._batch_size)
        if not read.records:
            return StepResult(0, start)
        end = read.records[-1].position
        for _ in range(MAX_STALE_RETRIES):
            writes = self._fold(projection, version, self._concerning(projection, read))
            try:
                with self._store.batch_writes(projection, version):
                    claimed = self._store.claim_batch(projection, version, start, end)
                    if claimed is None:
                        return None  # another worker moved the checkpoint meanwhile
                    if claimed != end:
                        raise _OtherBatch(claimed)
                    self._write(projection, version, writes)
                    self._store.finish_batch(projection, version, start, end)
            except StaleWriteError:
                continue  # another worker folding this batch wrote first: fold what is left
            except _OtherBatch as other:  # another worker's batch: fold exactly that
                end = other.end
                read = self._read(start, end - start, whole=True)
                continue
            self._held_after(projection, version, writes)
            if self._on_unwritable is not None:
                for mark in writes.marks:
                    self._on_unwritable(projection.name, mark)
            return StepResult(len(read.records), end, tuple(writes.marks))
        raise StaleWriteError(projection.name, "*", None)

    def _read(self, after: int, count: int, *, whole: bool = False) -> _Read:
        """Return the (at most) ``count`` events after position ``after``, as read.

        The batch stops earlier once its payloads reach ``batch_bytes``
        (:meth:`LogReader.batch`), unless it must be ``whole``. The last batch is
        kept: projections whose checkpoints are level (see :meth:`catch_up`) read it,
        and decode each of its events, once between them. Stored events never change and
        positions have no gaps, so a batch read again from the same position with the
        same limits would be the same, unless it stopped short of its limits (the head
        is near, or reached): such a batch is shared only within one pass of
        :meth:`catch_up`, and read afresh after it, as the head may have moved: a prefix
        of the log is as good a batch as any, and the next pass gets the rest; but not
        when the batch must be ``whole`` (another worker's, known to be there). The next
        batch continues the same read of the log (:class:`LogReader`).
        """
        kept = self._last_read
        if kept is not None and (kept.after, kept.count) == (after, count):
            if len(kept.records) == count:
                return kept
            in_this_pass = self._round is not None and kept.round == self._round
            if not whole and (kept.full or in_this_pass):
                return kept
        limit = None if whole else self._batch_bytes
        records, full = self._log.batch(after, count, limit)
        self._last_read = _Read(self._round, after, count, records, full)
        return self._last_read

    def _concerning(self, projection: Projection[Any], read: _Read) -> list[Envelope]:
        """Return the events of ``read`` that ``projection`` handles, decoded.

        Each is decoded once for all projections, on first use; one of a type that no
        projection handles is never decoded at all (:attr:`Projection.handled_types`).
        """
        handled = projection.handled_types
        decoded = read.decoded
        concerning = []
        for index, record in enumerate(read.records):
            if record.type in handled:
                envelope = decoded.get(index)
                if envelope is None:
                    envelope = decoded[index] = Envelope.of(record, self._codec)
                concerning.append(envelope)
        return concerning

    def _fold(self, projection: Projection[D], version: str, batch: list[Envelope]) -> Writes[D]:
        """Load what ``batch`` touches and fold it; return the writes that would store it.

        A batch that touches no document loads nothing and writes nothing. A
        :class:`VersionGoneError` is left to :meth:`step`, which knows whether to look
        the active version up again.
        """
        keys = touched_keys(projection, batch)
        if not keys:
            return Writes[D]([], [], {})
        stored = self._store.load(projection, version, keys)
        marks = self._store.unwritable(projection, version, keys)
        positions = {key: each.position for key, each in stored.items()}
        loaded = {
            **stored,
            **self._held.states(projection, version, in_effect(marks, positions)),
        }
        writes = sort_out(fold_batch(projection, loaded, batch), stored)
        writes.cleared.update({c.key: c.position for c in writes.documents if c.key in marks})
        return writes

    def _write(self, projection: Projection[D], version: str, writes: Writes[D]) -> None:
        """Save the documents that fit, then mark the others; a refused one is marked too.

        A store refuses a whole save for one document it cannot take
        (:class:`DocumentTooLargeError`), before writing anything: that one is moved to
        the marks and the rest saved again. The marks of keys now written are cleared.
        """
        while True:
            try:
                self._store.save(projection, version, writes.documents)
                break
            except DocumentTooLargeError as refused:
                change = next(c for c in writes.documents if c.key == refused.key)
                writes.documents.remove(change)
                writes.cleared.pop(change.key, None)
                writes.marks.append(
                    Unwritable(
                        key=change.key,
                        position=change.position,
                        size=refused.size,
                        limit=refused.limit,
                        reason=REFUSED,
                    )
                )
                writes.unwritten[change.key] = Versioned(change.document, change.position)
        self._store.mark_unwritable(projection, version, writes.marks)
        self._store.clear_unwritable(projection, version, writes.cleared)

    def _held_after(self, projection: Projection[D], version: str, writes: Writes[D]) -> None:
        """Once a batch is stored: hold the documents not written, release those written."""
        for key, state in writes.unwritten.items():
            self._held.hold(projection, version, key, state)
        for key in writes.cleared:
            self._held.release(projection, version, key)

    def catch_up(
        self,
        on_progress: Callable[[str, int], None] | None = None,
        should_stop: Callable[[], bool] = lambda: False,
    ) -> int:
        """Fold the log up to its head as of this call; return how many events were folded.

        The projections take turns, a batch each, so while their checkpoints are level
        each batch of the log is read once for all of them. A projection leaves the pass
        once it has reached that head (or found nothing to fold), and the pass ends when
        all have: events appended meanwhile wait for the next pass, whoever is behind, so
        under any steady write rate every projection moves on every pass and is never more
        than one pass behind.

        ``should_stop()`` is asked after each batch: once it is true the pass ends there,
        every batch folded so far finished, so a stop request waits for at most one batch.
        """
        head = self._events.head()
        total = 0
        behind = list(self._projections)
        try:
            while behind:
                self._rounds += 1
                self._round = self._rounds
                for projection in tuple(behind):
                    result = self.step(projection)
                    total += result.events
                    if result.events and on_progress is not None:
                        on_progress(projection.name, result.checkpoint)
                    if not result.events or result.checkpoint >= head:
                        behind.remove(projection)
                    if should_stop():
                        return total
        finally:
            self._round = None
        return total

    def follow(
        self,
        should_stop: Callable[[], bool],
        wait: Callable[[float], object],
        *,
        on_outage: Callable[[Outage], None] | None = None,
        on_recovery: Callable[[Outage, float], None] | None = None,
        backoff: Backoff | None = None,
        presence: Presence | None = None,
        on_progress: Callable[[str, int], None] | None = None,
        wakeup: Wakeup | None = None,
    ) -> None:
        """Keep folding new events until ``should_stop()``; idle, wait for the log to grow.

        After a pass that folded nothing the worker waits on ``wakeup`` (by default one
        it opens on the store, :meth:`EventStore.wakeup`, and closes at the end) until a
        writer's commit notice, or the wake-up's fallback look, says the log grew past
        the head read before that pass: no read of the store while nothing is appended.
        A caller that passes ``wakeup`` calls its ``interrupt()`` on a stop request, so
        the idle wait ends at once; without one, ``should_stop()`` is also asked every
        :data:`POLL_SECONDS` while idle (that costs no read). ``wait(s)`` idles between
        retries: typically ``threading.Event().wait``, so a stop request ends it at once.

        A fault that can pass (a :class:`StoreError` that is ``transient``) never ends it:
        the pass is dropped, ``on_outage`` is told of every failed try, and the next try
        comes after ``backoff``'s delay (0.1 s doubling to 30 s, jittered);
        ``on_recovery(outage, now)`` is told once a pass succeeds again. Every other
        error is raised. A dropped pass loses nothing: whatever it wrote is either
        finished or a claimed batch the next pass folds again.

        ``presence``, if given, keeps this worker's report in the read-model store (see
        :mod:`projections.presence`): written first, renewed between steps and at least
        every :data:`~projections.presence.BEAT_SECONDS` while idle, and marked stopped
        at the end unless the store is away then. ``on_progress(projection,
        checkpoint)`` is told of every batch folded, as :meth:`catch_up` tells it.
        """

        def outage(now: Outage) -> None:
            if presence is not None:
                presence.on_outage(now)
            if on_outage is not None:
                on_outage(now)

        def recovery(past: Outage, now: float) -> None:
            if presence is not None:
                presence.on_recovery(past, now)
            if on_recovery is not None:
                on_recovery(past, now)

        retrier = Retrier(
            wait, should_stop, backoff=backoff, on_outage=outage, on_recovery=recovery
        )
        beat = presence.beat if presence is not None else _nothing
        notices = wakeup if wakeup is not None else self._events.wakeup()
        slice_seconds = IDLE_SLICE_SECONDS if wakeup is not None else POLL_SECONDS
        if presence is not None:
            slice_seconds = min(slice_seconds, BEAT_SECONDS)
        try:
            if presence is not None:
                retrier.call(presence.start)
            while not should_stop():
                # The head before the pass: a pass that folds nothing has seen at least it.
                seen = retrier.call(self._events.head)
                folded = retrier.call(lambda: self._one_pass(beat, should_stop, on_progress))
                if folded == 0 and seen is not None:
                    retrier.call(partial(_idle, notices, seen, slice_seconds, should_stop, beat))
            if presence is not None:
                presence.stop()
        finally:
            if wakeup is None:
                notices.close()

    def _one_pass(
        self,
        beat: Callable[[], None],
        should_stop: Callable[[], bool],
        on_progress: Callable[[str, int], None] | None,
    ) -> int:
        """Run one pass of :meth:`catch_up`, with ``beat()`` after each step and at the end.

        After a failure, forget the reads in hand.
        """
        try:

            def progressed(name: str, position: int) -> None:
                beat()
                if on_progress is not None:
                    on_progress(name, position)

            folded = self.catch_up(progressed, should_stop)
            beat()
            return folded
        except StoreError:
            self._log = LogReader(self._events)
            self._last_read = None
            raise
