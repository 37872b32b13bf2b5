"""A job's log as a writer that numbers its chunks itself: 0, 1, 2 … in the order written.

:meth:`~eventstore.Recorder.job_log` makes one, starting after the last chunk the run's
stream already holds for that job, so a log continued by another process (or after a
restart) goes on where it stopped. Each chunk's ``event_id`` is derived from the run, the
job, its attempt and the chunk's number: a write retried after a timeout whose outcome is
unknown is stored once, and a number is never taken twice.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from uuid import UUID, uuid5

from eventstore.recording import Receipt

ChunkAppender = Callable[[int, str, UUID], Receipt]
"""Appends one chunk: (chunk_index, content, event_id) -> where it was stored."""


def chunk_event_id(
    run_id: UUID, stage_name: str, job_name: str, chunk_index: int, attempt: int = 1
) -> UUID:
    """Return the ``event_id`` of chunk ``chunk_index`` of a job's attempt, the same in any process.

    Each attempt's chunks have ids of their own (a retry numbers its chunks from 0 again);
    the first attempt's are those of logs written before attempts were told apart.
    """
    parts: list[object] = ["JobLogChunkAppended", stage_name, job_name, chunk_index]
    if attempt != 1:
        parts.append(attempt)
    return uuid5(run_id, json.dumps(parts))


class JobLog:
    """Writes one job's log, numbering the chunks itself; get one from ``Recorder.job_log``.

    One writer per job at a time: two writers of the same job's log, in one process or
    two, would each number from where they started (and the second to reach a number
    would find it stored: its write returns that chunk's receipt, ``already_stored``).
    """

    def __init__(
        self,
        append: ChunkAppender,
        run_id: UUID,
        stage_name: str,
        job_name: str,
        next_index: int,
        attempt: int = 1,
    ) -> None:
        self._append = append
        self._run_id = run_id
        self._stage_name = stage_name
        self._job_name = job_name
        self._next_index = next_index
        self._attempt = attempt

    @property
    def next_index(self) -> int:
        """The number the next :meth:`write` gives its chunk."""
        return self._next_index

    def write(self, content: str) -> Receipt:
        """Append ``content`` as the job's next chunk and return where it was stored.

        A refused chunk (too long, not text) raises and takes no number; a write that
        raised a transient :class:`~eventstore.errors.StoreError` may be made again with
        the same content, and is stored once.
        """
        index = self._next_index
        event_id = chunk_event_id(
            self._run_id, self._stage_name, self._job_name, index, self._attempt
        )
        receipt = self._append(index, content, event_id)
        self._next_index = index + 1
        return receipt
