"""Rebuild and verify: replay the whole log into a fresh version, or compare with a replay.

A rebuild folds the log from position 0 into a new, inactive version while the live one
keeps serving and being updated, catches up to the head, and then activates the new
version in one step. Interrupted at any point, it leaves the active version untouched
and an inactive one behind, which the next rebuild discards. A document that cannot be
written does not stop it (:mod:`projections.unwritable`): it is reported and marked.

Verify reports every key marked unwritable too, as a :class:`Difference` carrying the
mark: the document stored there is not the one the log gives, whatever the reason. It
also reports every stored value a query matches on that disagrees with its document
(:meth:`~projections.store.ReadModelStore.query_field_mismatches`): on the embedded
store each queried field is a column beside the document's JSON, and a column that
says run 3 while the document says run 1 makes ``show run 3`` return run 1.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, TypeVar

from attrs import frozen

from eventstore.codec import Codec, json_converter
from eventstore.records import RecordedEvent
from eventstore.store import EventStore
from projections.folding import fold
from projections.projection import Envelope, Projection
from projections.store import ReadModelStore, Versioned
from projections.stored_fields import FieldMismatch
from projections.unwritable import Unwritable, check, in_effect
from projections.worker import DEFAULT_BATCH_SIZE, Projector, Reporter

D = TypeVar("D")

Progress = Callable[[str, int, int], None]
"""Called as ``(projection name, position reached, head of the log)``."""


def rebuild(
    events: EventStore,
    store: ReadModelStore,
    projection: Projection[D],
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    on_progress: Progress | None = None,
    on_unwritable: Reporter | None = None,
) -> str:
    """Replay the log into a new version of ``projection``, activate it, return its name.

    ``on_unwritable`` is told of every document that could not be written (see
    :class:`~projections.worker.Projector`).
    """
    active = store.active_version(projection)
    for leftover in store.versions(projection):
        if leftover != active:
            store.discard(projection, leftover)
    version = store.new_version(projection)
    projector = Projector(
        events, store, [projection], batch_size=batch_size, on_unwritable=on_unwritable
    )
    while True:
        result = projector.step(projection, version)
        if on_progress is not None:
            on_progress(projection.name, result.checkpoint, events.head())
        if not result.events:
            break
    store.activate(projection, version)
    return version


@frozen
class Difference:
    """A document whose stored state differs from what replaying the log gives.

    That is its document (or its absence), its unwritable mark, or a stored copy of a
    field its queries use (the document as read can be right while a query finds it
    under another run number).
    """

    key: str
    stored: dict[str, Any] | None
    """The stored document (with its position), or None if it is missing."""
    replayed: dict[str, Any] | None
    """What the replay gives (with its position), or None if it should not exist or is
    unwritable (then ``unwritable`` says so)."""
    unwritable: Unwritable | None = None
    """The key's unwritable mark in effect, or the one it should have; None if neither."""
    mismatches: tuple[FieldMismatch, ...] = ()
    """The stored values its queries match on that its document does not give (see
    :mod:`projections.stored_fields`); the document itself may be right."""

    @property
    def fields(self) -> list[str]:
        """The top-level fields whose stored value differs from the replayed one, sorted.

        Empty when the document is missing or should not exist (there is nothing to
        compare field by field).
        """
        if self.stored is None or self.replayed is None:
            return []
        names = self.stored.keys() | self.replayed.keys()
        return sorted(n for n in names if self.stored.get(n) != self.replayed.get(n))


def verify(
    events: EventStore, store: ReadModelStore, projection: Projection[D]
) -> list[Difference]:
    """Replay the log in memory and return every document the active version has wrong.

    Like is compared with like. The replay runs up to the active version's checkpoint, so
    a projector running behind is not reported as a difference. A document *ahead* of the
    checkpoint (a projector is writing its batch, or died between writing a batch and
    finishing it) is compared with the replay as of its own position, so neither is
    reported either, while a document no state of the log matches always is. Every key
    whose document could not be written is reported, with its mark, and every document
    with a stored query value its document does not give, with those values (see the
    module).
    """
    version = store.active_version(projection)
    upto = store.checkpoint(projection, version)
    found = dict(store.documents(projection, version))
    ahead = {key: doc.position for key, doc in found.items() if doc.position > upto}
    replayed = _replay(events, projection, upto, ahead)
    marks = in_effect(
        store.unwritable(projection, version), {key: doc.position for key, doc in found.items()}
    )
    wrong = _by_key(store.query_field_mismatches(projection, version))
    stored = {key: _plain(doc.document, doc.position) for key, doc in found.items()}
    differences = []
    for key in sorted(stored.keys() | replayed.keys() | marks.keys() | wrong.keys()):
        difference = _compared(
            key, stored.get(key), replayed.get(key), marks.get(key), wrong.get(key, ())
        )
        if difference is not None:
            differences.append(difference)
    return differences


def _compared(
    key: str,
    stored: dict[str, Any] | None,
    replay: Versioned[Any] | None,
    mark: Unwritable | None,
    mismatches: tuple[FieldMismatch, ...],
) -> Difference | None:
    """Return how the stored document ``key`` differs from the replay, or None if it does not."""
    expected = None if replay is None else check(key, replay.position, replay.document)
    if expected is not None or mark is not None:
        fits = None if replay is None or expected is not None else _plain_of(replay)
        return Difference(key, stored, fits, mark if mark is not None else expected, mismatches)
    replayed = None if replay is None else _plain_of(replay)
    if mismatches or _canonical(stored) != _canonical(replayed):
        return Difference(key, stored, replayed, None, mismatches)
    return None


def _by_key(mismatches: Iterable[FieldMismatch]) -> dict[str, tuple[FieldMismatch, ...]]:
    found: dict[str, list[FieldMismatch]] = {}
    for mismatch in mismatches:
        found.setdefault(mismatch.key, []).append(mismatch)
    return {key: tuple(each) for key, each in found.items()}


def unwritable_keys(
    store: ReadModelStore, projection: Projection[D], version: str
) -> dict[str, Unwritable]:
    """Return the marks in effect of ``version``: its keys whose documents are not written."""
    marks = store.unwritable(projection, version)
    if not marks:
        return {}
    stored = store.load(projection, version, marks)
    return in_effect(marks, {key: doc.position for key, doc in stored.items()})


def _canonical(document: dict[str, Any] | None) -> str:
    """Return JSON text in which 1 and True, 1 and 1.0, 0.0 and -0.0 all differ."""
    return json.dumps(document, sort_keys=True, ensure_ascii=False, allow_nan=False)


def _replay(
    events: EventStore, projection: Projection[D], upto: int, ahead: Mapping[str, int]
) -> dict[str, Versioned[D]]:
    """Fold the log in memory; return each document as of position ``upto``.

    A key in ``ahead`` gets its document as of the position ``ahead`` gives it instead,
    if the log gives the key a document at exactly that position; else as of ``upto``.
    """
    codec = Codec()
    end = max([upto, *ahead.values()])
    records = _until(events.read_all(batch_size=DEFAULT_BATCH_SIZE), end)
    log = (Envelope.of(record, codec) for record in records)
    past: list[Envelope] = []

    def up_to_the_checkpoint() -> Iterator[Envelope]:
        for envelope in log:
            if envelope.position > upto:
                past.append(envelope)
                return
            yield envelope

    state = fold(projection, {}, up_to_the_checkpoint())
    replayed = dict(state)
    for envelope in itertools.chain(past, log):
        key = projection.key_of(envelope.event)
        if key not in ahead:
            continue
        folded = fold(projection, {key: state[key]} if key in state else {}, [envelope])
        if key in folded:
            state[key] = folded[key]
            if folded[key].position == ahead[key]:
                replayed[key] = folded[key]
    return replayed


def _plain_of(versioned: Versioned[Any]) -> dict[str, Any]:
    return _plain(versioned.document, versioned.position)


def _until(records: Iterator[RecordedEvent], upto: int) -> Iterator[RecordedEvent]:
    for record in records:
        if record.position > upto:
            return
        yield record


def _plain(document: object, position: int) -> dict[str, Any]:
    """Return ``document`` as JSON values, with its position (as ``_position``)."""
    plain: dict[str, Any] = json_converter.unstructure(document)
    return {"_position": position, **plain}
