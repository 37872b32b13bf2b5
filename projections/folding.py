"""The fold loop: events, in log order, into the documents they touch. Pure.

The projector's batches (:func:`projections.worker.fold_batch`), the in-memory replay of
:func:`projections.rebuild.verify` and the tests all fold with :func:`fold`, so there is
one place that says which event reaches which document and which events a document
already holds.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TypeVar

from projections.projection import Envelope, Projection
from projections.store import Versioned

D = TypeVar("D")


def touched_keys(projection: Projection[D], envelopes: Iterable[Envelope]) -> set[str]:
    """Return the ids of the documents of ``projection`` that ``envelopes`` touch."""
    return {key for e in envelopes if (key := projection.key_of(e.event)) is not None}


def fold(
    projection: Projection[D],
    documents: Mapping[str, Versioned[D]],
    envelopes: Iterable[Envelope],
) -> dict[str, Versioned[D]]:
    """Fold ``envelopes``, in order, into ``documents``; return the documents afterwards.

    ``documents`` maps a key to a document and the position of the last event folded into
    it. An event at or below that position is already in the document and is skipped,
    which is what makes a replayed batch harmless. The result holds every document given
    and every one the events created, each with the position of the last event folded into
    it; a key whose events give no document (the events of a run that never started) has
    none, and a fold never removes a document. Neither argument is changed.
    """
    state = dict(documents)
    for envelope in envelopes:
        key = projection.key_of(envelope.event)
        if key is None:
            continue
        stored = state.get(key)
        if stored is not None and envelope.position <= stored.position:
            continue
        document = projection.fold(None if stored is None else stored.document, envelope)
        if document is not None:
            state[key] = Versioned(document, envelope.position)
    return state
