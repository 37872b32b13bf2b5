"""The type checks every read-model store and query makes of its arguments, up front.

A store never converts an argument: a key must be a string (on MongoDB anything else
could be read as an operator), and a number must be an ``int`` that is not a ``bool``.
Each check raises :class:`~projections.errors.QueryArgumentError` naming the argument, so
every backend refuses the same calls with the same error, before it touches anything.
"""

from __future__ import annotations

from collections.abc import Iterable

from projections.errors import QueryArgumentError


def text(value: object, field: str) -> str:
    """Return ``value`` if it is a string; else raise :class:`QueryArgumentError`."""
    if not isinstance(value, str):
        raise QueryArgumentError(field, value, "a string")
    return value


def whole_number(value: object, field: str) -> int:
    """Return ``value`` if it is an ``int`` (a ``bool`` is not); else raise."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise QueryArgumentError(field, value, "an integer")
    return value


def optional_number(value: object, field: str) -> int | None:
    """Return ``value`` if it is None or an ``int`` (a ``bool`` is not); else raise."""
    return None if value is None else whole_number(value, field)


def keys(values: Iterable[object]) -> list[str]:
    """Return the distinct ``values`` in their first order, each checked to be a string."""
    return list(dict.fromkeys(text(value, "key") for value in values))


def batch(start: object, end: object) -> tuple[int, int]:
    """Return the positions a batch starts after and ends at, each checked to be an ``int``."""
    return whole_number(start, "start"), whole_number(end, "end")
