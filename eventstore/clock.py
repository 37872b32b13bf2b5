"""Time as the log keeps it: timezone-aware UTC, truncated to milliseconds (what BSON holds)."""

from __future__ import annotations

from datetime import UTC, datetime

from eventstore.errors import InvalidEventError

NAIVE_TIME = "must carry a time zone (a UTC offset, e.g. a trailing 'Z'); got a naive time"
"""Why a time without a zone is refused, in the same words on every input path."""


def to_millis(moment: datetime) -> datetime:
    """Return ``moment`` in UTC with its microseconds cut to whole milliseconds.

    Raises ``ValueError`` for a naive datetime: its zone is unknown, so no UTC value is right.
    """
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment.isoformat()} has no time zone")
    moment = moment.astimezone(UTC)
    return moment.replace(microsecond=moment.microsecond - moment.microsecond % 1000)


def normalise_time(value: object, field: str = "occurred_at") -> datetime:
    """Return ``value`` as the log keeps a time: in UTC, cut (not rounded) to milliseconds.

    The one normalisation of a time an event takes from outside: the recorder's clock, the
    JSON form's ``occurred_at`` (``Recorder.emit``, ``cirec emit``, the importer) and any
    :class:`~eventstore.records.NewEvent` built by hand all go through it, so one instant
    is stored as one value however it was written. Any UTC offset is converted.

    Raises :class:`InvalidEventError` naming ``field`` (none when ``""``: the caller's path
    names it) for a naive datetime (its zone is unknown, so no UTC value is right:
    :data:`NAIVE_TIME`), for anything that is no datetime, and for a time that leaves the
    years 1 to 9999 once in UTC.
    """
    if not isinstance(value, datetime):
        raise InvalidEventError(field, f"expected a datetime, got {type(value).__name__}", value)
    if value.utcoffset() is None:
        raise InvalidEventError(field, NAIVE_TIME, value)
    if value.tzinfo is UTC and not value.microsecond % 1000:
        return value  # already as the log keeps it: every stored event read back
    try:
        return to_millis(value)
    except OverflowError:
        raise InvalidEventError(field, "falls outside the years 1 to 9999 in UTC", value) from None


def utc_now() -> datetime:
    """Return the current time in UTC, truncated to milliseconds."""
    return to_millis(datetime.now(UTC))


def to_epoch_millis(moment: datetime) -> int:
    """Return the whole milliseconds since the Unix epoch of an aware ``moment``."""
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


def from_epoch_millis(millis: int) -> datetime:
    """Return the aware UTC datetime ``millis`` milliseconds after the Unix epoch."""
    seconds, rest = divmod(millis, 1000)
    return datetime.fromtimestamp(seconds, UTC).replace(microsecond=rest * 1000)
