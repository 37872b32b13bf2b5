"""A seeded, realistic CI workload, produced run by run so memory stays flat.

Per run: 3-5 stages holding 8-15 jobs; per job a ``JobStarted``, 4-8 section markers
(small log chunks opening and closing the job's steps, as GitLab writes them), 20-200
log chunks of 1-8 KiB and a ``JobFinished``: 6-10 lifecycle events per job. 3-10 % of the
jobs fail (some of them allowed to), and about one run in twenty is canceled. Sessions
and pipeline validations come in proportion: a session access and a validation (one in
ten failed) per run, a session opening and an activation per repository branch.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from attrs import frozen

from eventstore import streams
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

REPOS = (
    ("api", "https://git.example.com/acme/api.git"),
    ("web", "https://git.example.com/acme/web.git"),
    ("infra", "https://git.example.com/acme/infra.git"),
)
BRANCHES = ("main", "feature/cache", "release/2.4")
PIPELINES = ("build", "nightly", "deploy.prod")
STAGE_NAMES = ("prepare", "build", "test", "package", "deploy")
LOG_LINES = (
    "$ make -j2 all\n",
    "gcc -O2 -c src/{n}.c -o build/{n}.o\n",
    "ok   github.com/acme/pkg/{n}  0.{n}s\n",
    "PASSED tests/test_{n}.py::test_case_{n} [ {n}%]\n",
    "Downloading https://registry.example/pkg-{n}.tgz (12.{n} kB)\n",
    "warning: unused variable `tmp_{n}` — café ✓\n",
)


@frozen
class Append:
    """One call of ``EventStore.append``: the events of one stream and the expectation."""

    stream_id: str
    events: tuple[NewEvent, ...]
    expected: ExpectedVersion = ANY


class Workload:
    """An endless, seeded stream of appends: same seed, same events (ids included)."""

    def __init__(self, seed: int = 2026) -> None:
        self._rng = random.Random(seed)
        self._codec = Codec()
        self._moment = datetime(2026, 11, 1, tzinfo=UTC)
        self._numbers: dict[tuple[str, str, str], int] = {}
        self._known: set[tuple[str, str, str]] = set()
        self._lines = [line.format(n=n) for line in LOG_LINES for n in range(40)]

    def runs(self) -> Iterator[list[Append]]:
        """Yield, forever, each run's appends: setup, RunStarted, one per stage, the end.

        The run's body is one append per stage's worth of events; the run's end goes
        with its last stage.
        """
        while True:
            yield list(self._run())

    def appends(self, limit_events: int) -> Iterator[Append]:
        """Yield appends until at least ``limit_events`` events are given.

        The last run may stop after any of its appends, unfinished, as runs in progress do.
        """
        given = 0
        for run in self.runs():
            for append in run:
                yield append
                given += len(append.events)
                if given >= limit_events:
                    return

    def _run(self) -> Iterator[Append]:
        rng = self._rng
        repo_name, repo_url = rng.choice(REPOS)
        branch, pipeline = rng.choice(BRANCHES), rng.choice(PIPELINES)
        user = f"dev-{rng.randrange(12)}"
        config: dict[str, Any] = {"stages": list(STAGE_NAMES), "image": "python:3.11"}
        if (repo_name, repo_url, branch) not in self._known:
            self._known.add((repo_name, repo_url, branch))
            yield self._single(
                SessionOpened(
                    user_id=user,
                    repo_name=repo_name,
                    repo_url=repo_url,
                    branch=branch,
                    commit_hash="0" * 40,
                    is_remote=True,
                )
            )
            for name in PIPELINES:
                yield self._single(
                    PipelineValidated(
                        repo_name=repo_name,
                        repo_url=repo_url,
                        branch=branch,
                        pipeline_name=name,
                        pipeline_file_name=f"{name}.yml",
                        pipeline_config=config,
                        commit_hash="0" * 40,
                    )
                )
                yield self._single(
                    PipelineActivated(
                        repo_name=repo_name, repo_url=repo_url, branch=branch, pipeline_name=name
                    )
                )
        commit = f"{rng.getrandbits(160):040x}"
        yield self._single(
            SessionAccessed(
                user_id=user,
                repo_name=repo_name,
                repo_url=repo_url,
                branch=branch,
                commit_hash=commit,
                is_remote=rng.random() < 0.7,
            )
        )
        if rng.random() < 0.1:
            yield self._single(
                PipelineValidationFailed(
                    repo_name=repo_name,
                    repo_url=repo_url,
                    branch=branch,
                    pipeline_file_name=f"{pipeline}.yml",
                    commit_hash=commit,
                    errors=("bad key 'stagez'",),
                )
            )
        yield self._single(
            PipelineValidated(
                repo_name=repo_name,
                repo_url=repo_url,
                branch=branch,
                pipeline_name=pipeline,
                pipeline_file_name=f"{pipeline}.yml",
                pipeline_config=config,
                commit_hash=commit,
            )
        )
        pipeline_key = (repo_name, repo_url, pipeline)
        number = self._numbers.get(pipeline_key, 0) + 1
        self._numbers[pipeline_key] = number
        started = RunStarted(
            run_id=uuid.UUID(int=rng.getrandbits(128), version=4),
            run_number=number,
            repo_name=repo_name,
            repo_url=repo_url,
            branch=branch,
            pipeline_name=pipeline,
            commit_hash=commit,
            pipeline_config=config,
            trigger=rng.choice((Trigger.PUSH, Trigger.PULL_REQUEST, Trigger.SCHEDULE)),
            actor=user,
        )
        yield self._single(started, expected=number - 1)
        yield from self._body(started)

    def _body(self, run: RunStarted) -> Iterator[Append]:
        rng = self._rng
        stages = list(STAGE_NAMES[: rng.randint(3, 5)])
        jobs = rng.randint(8, 15)
        per_stage = [1] * len(stages)
        for _ in range(jobs - len(stages)):
            per_stage[rng.randrange(len(stages))] += 1
        failure_rate = rng.uniform(0.03, 0.10)
        canceled_in = rng.randrange(len(stages)) if rng.random() < 0.05 else None
        for index, (stage, count) in enumerate(zip(stages, per_stage, strict=True)):
            events: list[DomainEvent] = [StageStarted(run_id=run.run_id, stage_name=stage)]
            if index == canceled_in:
                events.append(
                    JobStarted(
                        run_id=run.run_id,
                        stage_name=stage,
                        job_name=f"{stage}-1",
                        allows_failure=False,
                    )
                )
                events.append(
                    RunCanceled(
                        run_id=run.run_id,
                        repo_name=run.repo_name,
                        repo_url=run.repo_url,
                        branch=run.branch,
                        pipeline_name=run.pipeline_name,
                    )
                )
                yield self._batch(streams.run_stream(run.run_id), events)
                return
            statuses = []
            for job in range(1, count + 1):
                allowed = rng.random() < 0.1
                status = Status.FAILED if rng.random() < failure_rate else Status.SUCCESS
                statuses.append(Status.SUCCESS if allowed else status)
                events.extend(self._job(run, stage, f"{stage}-{job}", allowed, status))
            stage_status = Status.FAILED if Status.FAILED in statuses else Status.SUCCESS
            events.append(StageFinished(run_id=run.run_id, stage_name=stage, status=stage_status))
            if index == len(stages) - 1:
                events.append(
                    RunFinished(
                        run_id=run.run_id,
                        repo_name=run.repo_name,
                        repo_url=run.repo_url,
                        branch=run.branch,
                        pipeline_name=run.pipeline_name,
                        status=stage_status,
                    )
                )
            yield self._batch(streams.run_stream(run.run_id), events)

    def _job(
        self, run: RunStarted, stage: str, job: str, allowed: bool, status: Status
    ) -> Iterator[DomainEvent]:
        rng = self._rng
        yield JobStarted(run_id=run.run_id, stage_name=stage, job_name=job, allows_failure=allowed)
        steps = rng.randint(2, 4)
        chunks = rng.randint(20, 200)
        index = 0
        for step in range(steps):
            marker = f"section_start:{step}:step_{step}\r\x1b[0K$ ./ci/step-{step}.sh\n"
            yield JobLogChunkAppended(
                run_id=run.run_id, stage_name=stage, job_name=job, chunk_index=index, content=marker
            )
            index += 1
            for _ in range(chunks // steps + (step < chunks % steps)):
                yield JobLogChunkAppended(
                    run_id=run.run_id,
                    stage_name=stage,
                    job_name=job,
                    chunk_index=index,
                    content=self._text(),
                )
                index += 1
            marker = f"section_end:{step}:step_{step}\r\x1b[0K\n"
            yield JobLogChunkAppended(
                run_id=run.run_id, stage_name=stage, job_name=job, chunk_index=index, content=marker
            )
            index += 1
        yield JobFinished(run_id=run.run_id, stage_name=stage, job_name=job, status=status)

    def _text(self) -> str:
        """Return 1-8 KiB of log lines."""
        size = self._rng.randint(1024, 8192)
        parts: list[str] = []
        length = 0
        while length < size:
            line = self._rng.choice(self._lines)
            parts.append(line)
            length += len(line)
        return "".join(parts)[:size]

    def _single(self, event: DomainEvent, expected: ExpectedVersion = ANY) -> Append:
        return Append(event.stream_id, (self._record(event),), expected)

    def _batch(self, stream_id: str, events: list[DomainEvent]) -> Append:
        return Append(stream_id, tuple(self._record(e) for e in events))

    def _record(self, event: DomainEvent) -> NewEvent:
        self._moment += timedelta(milliseconds=self._rng.randint(1, 400))
        return self._codec.to_new_event(
            event,
            event_id=uuid.UUID(int=self._rng.getrandbits(128), version=4),
            occurred_at=self._moment,
            metadata=Metadata(actor="ci-engine"),
        )
