"""A realistic CI log written quickly: whole runs appended a commit at a time.

The recorder appends one event per call, which is what a CI engine does but is slow for
building a 20,000-event log on a test server; here each run's events go in a few
multi-event appends, through the same catalog and codec.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from eventstore.catalog import (
    DomainEvent,
    JobFinished,
    JobLogChunkAppended,
    JobStarted,
    PipelineActivated,
    PipelineValidated,
    PipelineValidationFailed,
    RunCanceled,
    RunFinished,
    RunStarted,
    SessionAccessed,
    SessionOpened,
    StageFinished,
    StageStarted,
    Status,
    Trigger,
)
from eventstore.codec import Codec
from eventstore.records import ANY, ExpectedVersion, Metadata, NewEvent
from eventstore.store import EventStore

REPOS = [
    ("api", "https://git.example.com/acme/api.git"),
    ("web", "https://git.example.com/acme/web.git"),
]
BRANCHES = ["main", "feature/x", "deploy.prod"]
PIPELINES = ["build", "$where", "release.v2"]
STAGES = {"build": ["compile"], "test": ["unit", "lint", ""], "deploy": ["publish"]}
PER_APPEND = 50


def write_ci_log(store: EventStore, total_events: int, seed: int = 7) -> int:
    """Append about ``total_events`` events of sessions, validations and runs; return the head."""
    rng = random.Random(seed)
    codec = Codec()
    clock = _clock(datetime(2026, 11, 1, tzinfo=UTC))
    run_numbers: dict[tuple[str, str, str], int] = {}
    written = 0
    for repo_name, repo_url in REPOS:
        for branch in BRANCHES:
            written += _append(store, codec, clock, _setup(rng, repo_name, repo_url, branch))
    while written < total_events:
        repo_name, repo_url = rng.choice(REPOS)
        branch, pipeline = rng.choice(BRANCHES), rng.choice(PIPELINES)
        number = run_numbers.get((repo_name, repo_url, pipeline), 0) + 1
        run_numbers[(repo_name, repo_url, pipeline)] = number
        started = RunStarted(
            run_id=uuid.uuid4(),
            run_number=number,
            repo_name=repo_name,
            repo_url=repo_url,
            branch=branch,
            pipeline_name=pipeline,
            commit_hash=f"{rng.getrandbits(40):010x}",
            pipeline_config={"stages": [[name, jobs] for name, jobs in STAGES.items()]},
            trigger=Trigger.PUSH,
            actor="dev-1",
        )
        written += _append(store, codec, clock, [started], expected=number - 1)
        for start in range(0, len(body := list(_run_body(rng, started))), PER_APPEND):
            written += _append(store, codec, clock, body[start : start + PER_APPEND])
    return store.head()


def _setup(rng: random.Random, repo_name: str, repo_url: str, branch: str) -> list[DomainEvent]:
    user = f"dev-{rng.randrange(5)}"
    events: list[DomainEvent] = [
        SessionOpened(
            user_id=user,
            repo_name=repo_name,
            repo_url=repo_url,
            branch=branch,
            commit_hash="0abc123",
            is_remote=True,
        ),
        SessionAccessed(
            user_id=user,
            repo_name=repo_name,
            repo_url=repo_url,
            branch=branch,
            commit_hash="0abc124",
            is_remote=rng.random() < 0.5,
        ),
    ]
    for pipeline in PIPELINES:
        events.append(
            PipelineValidationFailed(
                repo_name=repo_name,
                repo_url=repo_url,
                branch=branch,
                pipeline_file_name=f"{pipeline}.yml",
                commit_hash="0abc123",
                errors=("bad",),
            )
        )
        config = {"stages": list(STAGES), "matrix": [[1, 2], [3]], "$set": {"a.b": pipeline}}
        events.append(
            PipelineValidated(
                repo_name=repo_name,
                repo_url=repo_url,
                branch=branch,
                pipeline_name=pipeline,
                pipeline_file_name=f"{pipeline}.yml",
                pipeline_config=config,
                commit_hash="0abc124",
            )
        )
        events.append(
            PipelineActivated(
                repo_name=repo_name, repo_url=repo_url, branch=branch, pipeline_name=pipeline
            )
        )
    return events


def _run_body(rng: random.Random, run: RunStarted) -> Iterator[DomainEvent]:
    canceled_at = rng.choice([None, None, None, "test"])
    for stage, jobs in STAGES.items():
        yield StageStarted(run_id=run.run_id, stage_name=stage)
        if stage == canceled_at:
            yield JobStarted(
                run_id=run.run_id, stage_name=stage, job_name=jobs[0], allows_failure=False
            )
            yield RunCanceled(
                run_id=run.run_id,
                repo_name=run.repo_name,
                repo_url=run.repo_url,
                branch=run.branch,
                pipeline_name=run.pipeline_name,
                reason="superseded",
            )
            yield RunFinished(
                run_id=run.run_id,
                repo_name=run.repo_name,
                repo_url=run.repo_url,
                branch=run.branch,
                pipeline_name=run.pipeline_name,
                status=Status.CANCELED,
            )
            return
        for job in jobs:
            allowed = job == "lint"
            yield JobStarted(
                run_id=run.run_id, stage_name=stage, job_name=job, allows_failure=allowed
            )
            for index in range(rng.randint(1, 4)):
                yield JobLogChunkAppended(
                    run_id=run.run_id,
                    stage_name=stage,
                    job_name=job,
                    chunk_index=index,
                    content=f"{job} line {index}\n" * 20,
                )
            status = Status.FAILED if rng.random() < 0.08 else Status.SUCCESS
            yield JobFinished(run_id=run.run_id, stage_name=stage, job_name=job, status=status)
        yield StageFinished(run_id=run.run_id, stage_name=stage, status=Status.SUCCESS)
    yield RunFinished(
        run_id=run.run_id,
        repo_name=run.repo_name,
        repo_url=run.repo_url,
        branch=run.branch,
        pipeline_name=run.pipeline_name,
        status=Status.SUCCESS,
    )


def _append(
    store: EventStore,
    codec: Codec,
    clock: Iterator[datetime],
    events: list[DomainEvent],
    expected: ExpectedVersion = ANY,
) -> int:
    """Append ``events`` (all of one stream) in one call; return how many."""
    records = [
        codec.to_new_event(
            event, event_id=uuid.uuid4(), occurred_at=next(clock), metadata=Metadata()
        )
        for event in events
    ]
    by_stream: dict[str, list[NewEvent]] = {}
    for event, record in zip(events, records, strict=True):
        by_stream.setdefault(event.stream_id, []).append(record)
    for stream, batch in by_stream.items():
        store.append(stream, batch, expected)
    return len(records)


def _clock(start: datetime) -> Iterator[datetime]:
    moment = start
    while True:
        moment += timedelta(milliseconds=137)
        yield moment
