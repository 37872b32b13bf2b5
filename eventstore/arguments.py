"""Checks of the arguments the store port takes, shared by every adapter.

Each check raises :class:`~eventstore.errors.InvalidArgumentError` naming the argument,
before anything is read, so every store refuses the same calls in the same words, and no
driver (which would coerce, compare across types or overflow) ever sees a bad value.
"""

from __future__ import annotations

from typing import Final
from uuid import UUID

from eventstore.errors import InvalidArgumentError
from eventstore.validation import INT64_MAX, LONE_SURROGATE, is_unicode

MAX_BATCH_SIZE: Final = 2**31 - 1
"""The largest ``batch_size`` a read may ask for (what MongoDB's ``batchSize`` holds)."""


def stream_id(value: object, *, error: type[InvalidArgumentError] = InvalidArgumentError) -> str:
    """Return ``value`` if it can name a stream: a non-empty string every store can encode.

    Raises ``error`` (an :class:`InvalidArgumentError`) naming ``stream_id`` otherwise.
    """
    if not isinstance(value, str):
        raise error("stream_id", f"expected a string, got {type(value).__name__}", value)
    if not value:
        raise error("stream_id", "must not be empty", value)
    if not is_unicode(value):
        raise error("stream_id", LONE_SURROGATE, value)
    return value


def _integer(name: str, value: object, minimum: int, maximum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgumentError(name, f"expected an integer, got {type(value).__name__}", value)
    if not minimum <= value <= maximum:
        raise InvalidArgumentError(name, f"must be between {minimum} and {maximum}", value)
    return value


def position(name: str, value: object) -> int:
    """Return ``value`` if it is a position or stream version to read after: an int >= 0."""
    return _integer(name, value, 0, INT64_MAX)


def batch_size(value: object) -> int:
    """Return ``value`` if it is a batch size: an int from 1 to :data:`MAX_BATCH_SIZE`."""
    return _integer("batch_size", value, 1, MAX_BATCH_SIZE)


def event_id(value: object) -> UUID:
    """Return ``value`` if it can be an event's id: a :class:`uuid.UUID`, never its string."""
    if not isinstance(value, UUID):
        raise InvalidArgumentError(
            "event_id", f"expected a UUID, got {type(value).__name__}", value
        )
    return value
