"""The full log of a job's attempt, byte for byte, read back from the event log.

``jobs_history`` keeps only the tail of each job's output; every chunk stays in the run's
stream. An attempt's whole log is the chunks :mod:`projections.log_rule` takes, read in
stream order: the same rule the fold keeps the tail by, so the tail is always a suffix
of the latest attempt's full log.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from uuid import UUID

from attrs import frozen

from eventstore import streams
from eventstore.catalog import (
    JobFinished,
    JobLogChunkAppended,
    JobStarted,
    RunCanceled,
    RunFinished,
)
from eventstore.codec import Codec
from eventstore.records import RecordedEvent
from eventstore.store import EventStore
from eventstore.wakeup import Wakeup
from projections import log_rule


@frozen
class AttemptLog:
    """What :func:`read_job_log` found: one attempt's log, and every attempt that started."""

    text: str
    attempt: int | None
    """The attempt read: the one asked for, else the latest; None if none started."""
    attempts: tuple[int, ...]
    """The attempts of the job that started, in the order their logs began."""

    @property
    def ran(self) -> bool:
        """Tell whether the attempt read ever started (else :attr:`text` is empty)."""
        return self.attempt in self.attempts


def read_job_log(
    events: EventStore, run_id: UUID, stage_name: str, job_name: str, attempt: int | None = None
) -> AttemptLog:
    """Return the log of attempt ``attempt`` of one job of a run (None: its latest attempt)."""
    reader = _AttemptReader(stage_name, job_name, attempt)
    for record in events.read_stream(streams.run_stream(run_id)):
        reader.feed(record)
    return AttemptLog(
        text="".join(reader.take()), attempt=reader.attempt, attempts=tuple(reader.attempts)
    )


def full_job_log(
    events: EventStore, run_id: UUID, stage_name: str, job_name: str, attempt: int | None = None
) -> str:
    """Return the whole output of an attempt of one job (None: its latest attempt).

    Empty if it logged nothing, or if that attempt never started (:func:`read_job_log`
    tells the two apart).
    """
    return read_job_log(events, run_id, stage_name, job_name, attempt).text


def follow_job_log(
    events: EventStore,
    run_id: UUID,
    stage_name: str,
    job_name: str,
    wait: Callable[[float], object],
    interval: float = 0.25,
    attempt: int | None = None,
    wakeup: Wakeup | None = None,
) -> Generator[str, None, AttemptLog]:
    """Yield an attempt's output as it is appended, until that attempt or its run ends.

    It follows ``attempt``, or (None) the job's latest attempt at the first read that
    finds the job started; a retry that starts later is a new log, not followed. It
    ends once that attempt is over: its job's ``JobFinished`` arrives while it is the
    latest attempt, a later attempt starts, or the run ends. What it yields, joined, is
    :func:`full_job_log` of that attempt at the end (the chunks it takes are those of
    :mod:`projections.log_rule`, as they are stored). It reads the run's stream itself,
    after the last version it has seen, and ``wait(interval)`` between reads (an
    interrupt there ends it); given a ``wakeup``, it waits on that instead, for at most
    ``interval``, until the log grows past the head read before the last read. It
    returns what it followed, as :func:`read_job_log` would say it, without the text
    (``ran`` is False for an attempt the run ended without).
    """
    stream = streams.run_stream(run_id)
    reader = _AttemptReader(stage_name, job_name, attempt)
    seen = 0
    while True:
        mark = events.head() if wakeup is not None else 0  # a read that ends finds it at least
        for record in events.read_stream(stream, after_version=seen):
            seen = record.stream_version
            reader.feed(record)
        reader.settle()
        yield from reader.take()
        if reader.over:
            return AttemptLog(text="", attempt=reader.attempt, attempts=tuple(reader.attempts))
        if wakeup is None:
            wait(interval)
        else:
            wakeup.wait(mark, interval)


_READ = frozenset(
    event_type.__name__
    for event_type in (JobStarted, JobLogChunkAppended, JobFinished, RunFinished, RunCanceled)
)
"""The types of event that can change what an attempt's log holds, or end it."""


class _AttemptReader:
    """Folds a run's stream into one attempt's log: the chunks the log rule takes.

    With no attempt given it keeps the latest attempt's, until :meth:`settle` fixes the
    attempt to the latest started so far.
    """

    def __init__(self, stage_name: str, job_name: str, attempt: int | None) -> None:
        self._job = (stage_name, job_name)
        self._codec = Codec()
        self._cursor: log_rule.LogCursor | None = None
        self._wanted = attempt
        self._finished = False  # the job's latest attempt has finished
        self._run_ended = False
        self._taken: list[str] = []
        self.attempts: list[int] = []

    @property
    def attempt(self) -> int | None:
        """The attempt read: the one fixed, else the latest started (None: none has)."""
        if self._wanted is not None:
            return self._wanted
        return None if self._cursor is None else self._cursor.attempt

    @property
    def over(self) -> bool:
        """Tell whether no chunk of the attempt read can be taken any more."""
        if self._run_ended:
            return True
        if self._wanted is None or self._cursor is None:
            return False
        return self._cursor.attempt > self._wanted or (
            self._cursor.attempt == self._wanted and self._finished
        )

    def settle(self) -> None:
        """Fix the attempt read to the latest started, if none was given and one started."""
        self._wanted = self.attempt

    def take(self) -> list[str]:
        """Return the chunks of the attempt read taken since the last call."""
        taken, self._taken = self._taken, []
        return taken

    def feed(self, record: RecordedEvent) -> None:
        """Fold one event of the run's stream."""
        if record.type not in _READ:
            return  # decode only what can matter
        event = self._codec.decode(record)
        if isinstance(event, RunFinished | RunCanceled):
            self._run_ended = True
            return
        if not isinstance(event, JobStarted | JobLogChunkAppended | JobFinished):
            return
        if (event.stage_name, event.job_name) != self._job:
            return
        if isinstance(event, JobStarted):
            self._started(event.attempt)
        elif isinstance(event, JobFinished):
            self._finished = self._cursor is not None
        elif self._cursor is not None and log_rule.takes(
            self._cursor, event.attempt, event.chunk_index
        ):
            self._chunk(self._cursor, event.content)

    def _started(self, attempt: int) -> None:
        cursor = log_rule.job_started(self._cursor, attempt)
        if cursor == self._cursor:
            return  # not a newer attempt: the log goes on
        self._cursor = cursor
        self._finished = False
        self.attempts.append(cursor.attempt)
        if self._wanted is None:
            self._taken = []  # a newer attempt: the log read is its

    def _chunk(self, cursor: log_rule.LogCursor, content: str) -> None:
        self._cursor = log_rule.took(cursor)
        if cursor.attempt == self.attempt:
            self._taken.append(content)
