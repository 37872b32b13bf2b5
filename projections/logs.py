"""The full log of a job, byte for byte, read back from the event log.

``jobs_history`` keeps only the tail of each job's output; every chunk stays in the run's
stream, so the whole log is the run's chunks for that job, in chunk order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from uuid import UUID

from eventstore import streams
from eventstore.catalog import JobFinished, JobLogChunkAppended, RunCanceled, RunFinished
from eventstore.codec import Codec
from eventstore.store import EventStore


def full_job_log(events: EventStore, run_id: UUID, stage_name: str, job_name: str) -> str:
    """Return the whole output of one job of a run (empty if it logged nothing)."""
    codec = Codec()
    chunks: dict[int, str] = {}
    for record in events.read_stream(streams.run_stream(run_id)):
        if record.type != JobLogChunkAppended.__name__:
            continue  # decode only the chunks
        chunk = codec.decode(record)
        if isinstance(chunk, JobLogChunkAppended) and (chunk.stage_name, chunk.job_name) == (
            stage_name,
            job_name,
        ):
            chunks.setdefault(chunk.chunk_index, chunk.content)
    return "".join(chunks[index] for index in sorted(chunks))


_ENDINGS = {JobFinished.__name__, RunFinished.__name__, RunCanceled.__name__}


def follow_job_log(
    events: EventStore,
    run_id: UUID,
    stage_name: str,
    job_name: str,
    wait: Callable[[float], object],
    interval: float = 0.25,
) -> Iterator[str]:
    """Yield one job's output as it is appended, until the job or its run ends.

    What it yields, joined, is :func:`full_job_log` at the end: chunks come out in chunk
    order (one that arrives early waits for those before it; the first chunk stored at
    an index is the one kept), and when the job ends whatever is still waiting comes out
    in order. It reads the run's stream itself, after the last version it has seen, and
    ``wait(interval)`` between reads (an interrupt there ends it).
    """
    codec = Codec()
    stream = streams.run_stream(run_id)
    seen = 0
    waiting: dict[int, str] = {}
    given = 0  # the next chunk index to yield
    while True:
        ended = False
        for record in events.read_stream(stream, after_version=seen):
            seen = record.stream_version
            if record.type == JobLogChunkAppended.__name__:
                chunk = codec.decode(record)
                if (
                    isinstance(chunk, JobLogChunkAppended)
                    and _is_job(chunk, stage_name, job_name)
                    and chunk.chunk_index >= given  # below: a chunk already given
                ):
                    waiting.setdefault(chunk.chunk_index, chunk.content)
            elif record.type in _ENDINGS:
                ending = codec.decode(record)
                if isinstance(ending, JobFinished):
                    ended = ended or _is_job(ending, stage_name, job_name)
                else:
                    ended = True  # the run is over: no chunk of it will come
        while given in waiting:
            yield waiting.pop(given)
            given += 1
        if ended:
            for index in sorted(waiting):
                yield waiting[index]
            return
        wait(interval)


def _is_job(event: JobLogChunkAppended | JobFinished, stage_name: str, job_name: str) -> bool:
    return (event.stage_name, event.job_name) == (stage_name, job_name)
