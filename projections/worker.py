"""The projector worker: folds the log into read-model documents, exactly once in effect.

One step of one projection:

1. read the checkpoint, then up to ``batch_size`` events after it (one query);
2. load every document the batch touches (one query);
3. fold, in position order, each event newer than the position its document carries;
4. write the changed documents, each only if still as loaded (one bulk write);
5. move the checkpoint by compare-and-set to the batch's last position.

A worker killed anywhere between these steps leaves documents that each hold a prefix of
their events, and a checkpoint no further than what is written: the next step re-reads
the batch, skips what the documents already hold, and converges to what a rebuild makes.
Two workers on one projection race harmlessly: a conditional write that loses raises
:class:`StaleWriteError`, and the loser reloads and retries.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from attrs import frozen

from eventstore.codec import Codec
from eventstore.store import EventStore
from projections.projection import Envelope, Projection
from projections.store import Change, ReadModelStore, StaleWriteError

DEFAULT_BATCH_SIZE = 500
# How many lost races in a row one step tolerates before it reports the contention.
MAX_STALE_RETRIES = 100


@frozen
class StepResult:
    """What one step did: how many events it folded and where its checkpoint is now."""

    events: int
    checkpoint: int


def fold_batch(
    projection: Projection[Any],
    loaded: dict[str, tuple[Any, int]],
    batch: Iterable[Envelope],
) -> list[Change[Any]]:
    """Fold ``batch`` into the ``loaded`` documents; return the documents that changed.

    ``loaded`` maps a key to its document and the position it holds. An event at or below
    that position is already in the document and is skipped, which is what makes a
    replayed batch harmless. Pure: the store is not touched.
    """
    state = dict(loaded)
    for envelope in batch:
        key = projection.key_of(envelope.event)
        if key is None:
            continue
        document, position = state.get(key, (None, 0))
        if envelope.position > position:
            state[key] = (projection.fold(document, envelope), envelope.position)
    return [
        Change(key, document, position, loaded[key][1] if key in loaded else None)
        for key, (document, position) in state.items()
        if document is not None and (key not in loaded or loaded[key][1] != position)
    ]


class Projector:
    """Keeps read-model documents up to date with the log, for a chosen set of projections."""

    def __init__(
        self,
        events: EventStore,
        store: ReadModelStore,
        projections: Sequence[Projection[Any]],
        *,
        batch_size: int = DEFAULT_BATCH_SIZE,
        codec: Codec | None = None,
    ) -> None:
        self._events = events
        self._store = store
        self._projections = tuple(projections)
        self._batch_size = batch_size
        self._codec = codec or Codec()

    def step(self, projection: Projection[Any], version: str | None = None) -> StepResult:
        """Fold the next batch of the log into ``version`` (by default the active one).

        The active version is looked up again after every lost race, so a rebuild that
        swaps versions under a running worker only costs it a retry.
        """
        for _ in range(MAX_STALE_RETRIES):
            target = version or self._store.active_version(projection)
            try:
                return self._step(projection, target)
            except StaleWriteError:
                continue  # another worker wrote meanwhile: reload and fold what is left
        raise StaleWriteError(projection.name, "*", None)

    def _step(self, projection: Projection[Any], version: str) -> StepResult:
        start = self._store.checkpoint(projection, version)
        records = list(
            itertools.islice(
                self._events.read_all(start, batch_size=self._batch_size), self._batch_size
            )
        )
        if not records:
            return StepResult(0, start)
        batch = [Envelope.of(record, self._codec) for record in records]
        keys = {key for e in batch if (key := projection.key_of(e.event)) is not None}
        stored = self._store.load(projection, version, keys)
        loaded = {key: (doc.document, doc.position) for key, doc in stored.items()}
        self._store.save(projection, version, fold_batch(projection, loaded, batch))
        end = records[-1].position
        if self._store.move_checkpoint(projection, version, start, end):
            return StepResult(len(records), end)
        return StepResult(len(records), self._store.checkpoint(projection, version))

    def catch_up(self, on_progress: Callable[[str, int], None] | None = None) -> int:
        """Fold everything the log holds now; return how many events were folded in all."""
        total = 0
        for projection in self._projections:
            while (result := self.step(projection)).events:
                total += result.events
                if on_progress is not None:
                    on_progress(projection.name, result.checkpoint)
        return total

    def follow(self, should_stop: Callable[[], bool], wait: Callable[[float], Any]) -> None:
        """Keep folding new events until ``should_stop()``; ``wait(s)`` idles between polls.

        ``wait`` is typically ``threading.Event().wait``, so a stop request ends the idle
        wait at once instead of after the poll interval.
        """
        while not should_stop():
            if not self.catch_up():
                wait(0.05)
