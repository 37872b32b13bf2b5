"""Time as the log keeps it: timezone-aware UTC, truncated to milliseconds (what BSON holds)."""

from __future__ import annotations

from datetime import UTC, datetime


def to_millis(moment: datetime) -> datetime:
    """Return ``moment`` in UTC with its microseconds cut to whole milliseconds.

    Raises ``ValueError`` for a naive datetime: its zone is unknown, so no UTC value is right.
    """
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment.isoformat()} has no time zone")
    moment = moment.astimezone(UTC)
    return moment.replace(microsecond=moment.microsecond - moment.microsecond % 1000)


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
