"""Stored copies of queried fields that disagree with the document they belong to.

A query of a read model matches and orders on the fields its projection is queried by
(:class:`~projections.projection.QuerySpec`), as the store keeps them, and returns the
document as read. The embedded store keeps each such field twice: in the document's
JSON and in a column of its own. If the two disagree, a query finds the document under
a value it does not hold (``show run 3`` returns run 1) and misses it under the one it
does, while a comparison of documents alone sees nothing wrong. A :class:`FieldMismatch`
names one such copy; :meth:`ReadModelStore.query_field_mismatches
<projections.store.ReadModelStore.query_field_mismatches>` finds them, and
:func:`projections.rebuild.verify` reports them.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any, Literal

import attrs

from eventstore.codec import json_converter

Place = Literal["column", "field"]
"""Where the stored copy is: a ``column`` of the embedded store, a ``field`` of MongoDB's."""


def json_safe(value: object) -> Any:
    """Return ``value`` if JSON (and the codec's converter) can carry it, else its ``repr``.

    A stored copy may hold anything its store can: bytes, a ``NaN``, an ObjectId.
    """
    if value is None or isinstance(value, bool | int | str | datetime):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return value
    return repr(value)


def same(stored: object, expected: object) -> bool:
    """Tell whether ``stored`` is ``expected`` and of the same kind.

    ``1`` is not ``True``, ``1.0`` nor ``"1"``: a query tells them apart, or a store
    keeps them apart.
    """
    return _kind(stored) == _kind(expected) and stored == expected


def _kind(value: object) -> type[object]:
    if isinstance(value, bool):
        return bool
    if isinstance(value, int):
        return int  # bson.int64.Int64 is an int too
    return type(value)


def shown(value: object) -> str:
    """Return ``value`` for people: text quoted, a time as ISO 8601, anything else bare."""
    if isinstance(value, datetime):
        return str(json_converter.unstructure(value))
    return repr(value)


@attrs.frozen
class FieldMismatch:
    """A stored value a query matches on that is not what its document, as read, gives."""

    key: str
    """The key of the document."""
    field: str
    """The queried field (or, on MongoDB, ``_position``)."""
    place: Place
    stored: Any = attrs.field(converter=json_safe)
    """What the store holds there (its ``repr`` if no JSON value can say it)."""
    document: Any = attrs.field(converter=json_safe)
    """What the document, as read, gives for it, in the form the store keeps it."""

    def describe(self) -> str:
        """Say what differs: ``column run_number holds 3, its document 1``."""
        stored, document = shown(self.stored), shown(self.document)
        return f"{self.place} {self.field} holds {stored}, its document {document}"
