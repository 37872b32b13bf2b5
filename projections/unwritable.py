"""Documents that cannot be written, and how every worker and verify recognise them. Pure.

A document over the budget of :mod:`projections.sizes` (its configuration alone, or
its users' names, may be; its logs never are) is not written. Instead the store records
an :class:`Unwritable` mark for its key: the position of the last event folded into it,
its measured size and the limit, and why. The last document of that key that fitted
stays stored (or none, if none ever did), so readers see it frozen, never a wrong one;
the projector keeps folding every other key and moves its checkpoint on.

A mark is *in effect* while its position is above that of the stored document
(:func:`in_effect`): a worker that writes the document once it fits again writes it
first and deletes the mark after, so a crash between the two leaves a mark that is
not in effect. ``verify`` reports every mark in effect, and ``status`` counts them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from attrs import frozen

from eventstore.codec import json_converter
from projections.sizes import DOCUMENT_BUDGET_BYTES, MAX_NESTING, measured_size

OVER_BUDGET: Final = "over the document budget"
TOO_DEEP: Final = "nested too deep"
REFUSED: Final = "refused by the store"


@frozen(kw_only=True)
class Unwritable:
    """A key whose document could not be written, and why."""

    key: str
    position: int
    """The position of the last event folded into the document that was not written."""
    size: int
    """Its size in bytes (measured, or as the store counted it); its nesting if too deep."""
    limit: int
    """The most that ``size`` may be."""
    reason: str
    """:data:`OVER_BUDGET`, :data:`TOO_DEEP` or :data:`REFUSED`."""

    def describe(self, projection: str) -> str:
        """Return one line naming the projection, the key, the size, the limit and the position."""
        unit = "levels" if self.reason == TOO_DEEP else "bytes"
        return (
            f"{projection}: document {self.key!r} at position {self.position} is not written:"
            f" {self.reason} ({self.size} {unit}, at most {self.limit})"
        )


def check(key: str, position: int, document: object) -> Unwritable | None:
    """Return why the document ``key`` at ``position`` cannot be written, or None if it can."""
    plain: Mapping[str, Any] = json_converter.unstructure(document)
    measure = measured_size(key, position, plain)
    if measure.nesting > MAX_NESTING:
        return Unwritable(
            key=key, position=position, size=measure.nesting, limit=MAX_NESTING, reason=TOO_DEEP
        )
    if measure.size > DOCUMENT_BUDGET_BYTES:
        return Unwritable(
            key=key,
            position=position,
            size=measure.size,
            limit=DOCUMENT_BUDGET_BYTES,
            reason=OVER_BUDGET,
        )
    return None


def in_effect(
    marks: Mapping[str, Unwritable], stored_positions: Mapping[str, int]
) -> dict[str, Unwritable]:
    """Return the marks above the position of their key's stored document (or with none)."""
    return {
        key: mark
        for key, mark in marks.items()
        if key not in stored_positions or mark.position > stored_positions[key]
    }
