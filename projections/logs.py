"""The full log of a job, byte for byte, read back from the event log.

``jobs_history`` keeps only the tail of each job's output; every chunk stays in the run's
stream, so the whole log is the run's chunks for that job, in chunk order.
"""

from __future__ import annotations

from uuid import UUID

from eventstore import streams
from eventstore.catalog import JobLogChunkAppended
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
