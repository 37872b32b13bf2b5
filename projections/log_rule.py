"""Which of a job's log chunks make its log: the one rule of the read side. Pure.

A job's log is the log of its **latest attempt**: the highest ``attempt`` of the
``JobStarted`` events seen so far. A ``JobStarted`` above it starts a new, empty log; one
at or below it (a duplicate or a stray, only found past the write side's gate) starts
nothing. A chunk is taken when it belongs to that attempt and carries the next index
(0, 1, 2 … in the order the chunks are stored); any other chunk is skipped: a duplicate,
a gap, one out of order, one of an older attempt, one before its job started.

The write side (``eventstore/lifecycle.py``) refuses every chunk this rule would skip,
so for a log it has checked the rule takes every chunk. Logs written past the gate (raw
``EventStore.append``, an older version) hold the others; the ``jobs_history`` fold and
the full-log reader (:mod:`projections.logs`) both apply this rule, event by event in
stream order, so a job's tail is always a suffix of its attempt's full log.
"""

from __future__ import annotations

from attrs import frozen


@frozen
class LogCursor:
    """Where a job's log stands: the attempt it belongs to, and how many chunks it took."""

    attempt: int
    taken: int = 0
    """How many chunks of :attr:`attempt` the log holds: the next index it takes."""


def job_started(cursor: LogCursor | None, attempt: int) -> LogCursor:
    """Return the cursor after a ``JobStarted`` of ``attempt``: a higher attempt starts anew."""
    if cursor is None or attempt > cursor.attempt:
        return LogCursor(attempt=attempt)
    return cursor


def takes(cursor: LogCursor | None, attempt: int, chunk_index: int) -> bool:
    """Tell whether the log takes a chunk of ``attempt`` numbered ``chunk_index``."""
    return cursor is not None and attempt == cursor.attempt and chunk_index == cursor.taken


def took(cursor: LogCursor) -> LogCursor:
    """Return the cursor after it took one chunk."""
    return LogCursor(attempt=cursor.attempt, taken=cursor.taken + 1)
