"""The seeded generator of appends, run by run (see :mod:`tools.workload`)."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

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
from eventstore.store import EventStore
from tools.workload.shapes import BENCHMARK, LOG_LINES, Shape


@frozen
class _Branch:
    repo_name: str
    repo_url: str
    branch: str


@frozen
class Append:
    """One call of ``EventStore.append``: the events of one stream and the expectation."""

    stream_id: str
    events: tuple[NewEvent, ...]
    expected: ExpectedVersion = ANY


class Workload:
    """An endless, seeded stream of appends: same seed and shape, same events."""

    def __init__(self, seed: int = 2026, shape: Shape = BENCHMARK) -> None:
        self._rng = random.Random(seed)
        self._shape = shape
        self._codec = Codec()
        self._moment = datetime(2026, 11, 1, tzinfo=UTC)
        self._numbers: dict[tuple[str, str, str], int] = {}
        self._known: set[_Branch] = set()
        self._lines = [line.format(n=n) for line in LOG_LINES for n in range(40)]

    def runs(self) -> Iterator[list[Append]]:
        """Yield, forever, each run's appends (with the setup of a new branch first)."""
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

    def write(self, store: EventStore, limit_events: int) -> int:
        """Append at least ``limit_events`` events to ``store``; return its head."""
        for append in self.appends(limit_events):
            store.append(append.stream_id, append.events, append.expected)
        return store.head()

    def _run(self) -> Iterator[Append]:
        rng, shape = self._rng, self._shape
        repo_name, repo_url = rng.choice(shape.repos)
        branch, pipeline = rng.choice(shape.branches), rng.choice(shape.pipelines)
        user = f"dev-{rng.randrange(shape.users)}"
        where = _Branch(repo_name, repo_url, branch)
        if where not in self._known:
            self._known.add(where)
            yield from self._setup(user, where)
        commit = f"{rng.getrandbits(160):040x}"
        yield self._single(self._session(SessionAccessed, user, where, commit, rng.random() < 0.7))
        if rng.random() < shape.validation_failure_rate:
            failed = PipelineValidationFailed(
                repo_name=repo_name,
                repo_url=repo_url,
                branch=branch,
                pipeline_file_name=f"{pipeline}.yml",
                commit_hash=commit,
                errors=("bad key 'stagez'",),
            )
            yield self._single(failed)
        yield self._single(self._validated(where, pipeline, commit))
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
            pipeline_config=shape.pipeline_config,
            trigger=rng.choice((Trigger.PUSH, Trigger.PULL_REQUEST, Trigger.SCHEDULE)),
            actor=user,
        )
        yield self._single(started, expected=number - 1)
        yield from self._body(started)

    def _setup(self, user: str, where: _Branch) -> Iterator[Append]:
        yield self._single(self._session(SessionOpened, user, where, "0" * 40, True))
        for name in self._shape.pipelines:
            yield self._single(self._validated(where, name, "0" * 40))
            activated = PipelineActivated(
                repo_name=where.repo_name,
                repo_url=where.repo_url,
                branch=where.branch,
                pipeline_name=name,
            )
            yield self._single(activated)

    @staticmethod
    def _session(
        kind: type[SessionOpened] | type[SessionAccessed],
        user: str,
        where: _Branch,
        commit: str,
        is_remote: bool,
    ) -> DomainEvent:
        return kind(
            user_id=user,
            repo_name=where.repo_name,
            repo_url=where.repo_url,
            branch=where.branch,
            commit_hash=commit,
            is_remote=is_remote,
        )

    def _validated(self, where: _Branch, pipeline: str, commit: str) -> PipelineValidated:
        return PipelineValidated(
            repo_name=where.repo_name,
            repo_url=where.repo_url,
            branch=where.branch,
            pipeline_name=pipeline,
            pipeline_file_name=f"{pipeline}.yml",
            pipeline_config=self._shape.pipeline_config,
            commit_hash=commit,
        )

    def _body(self, run: RunStarted) -> Iterator[Append]:
        rng, shape = self._rng, self._shape
        stages = list(shape.stage_names[: rng.randint(*shape.stages)])
        per_stage = [1] * len(stages)
        for _ in range(rng.randint(*shape.jobs) - len(stages)):
            per_stage[rng.randrange(len(stages))] += 1
        failure_rate = rng.uniform(*shape.failure_rate)
        canceled_in = rng.randrange(len(stages)) if rng.random() < shape.cancel_rate else None
        for index, (stage, count) in enumerate(zip(stages, per_stage, strict=True)):
            events: list[DomainEvent] = [StageStarted(run_id=run.run_id, stage_name=stage)]
            names = [self._job_name(stage, n) for n in range(1, count + 1)]
            if index == canceled_in:
                events.append(
                    JobStarted(
                        run_id=run.run_id, stage_name=stage, job_name=names[0], allows_failure=False
                    )
                )
                events.append(
                    RunCanceled(
                        run_id=run.run_id,
                        repo_name=run.repo_name,
                        repo_url=run.repo_url,
                        branch=run.branch,
                        pipeline_name=run.pipeline_name,
                        reason="superseded",
                    )
                )
                yield self._batch(streams.run_stream(run.run_id), events)
                return
            statuses = []
            for job in names:
                allowed = rng.random() < shape.allowed_failure_rate
                status = Status.FAILED if rng.random() < failure_rate else Status.SUCCESS
                statuses.append(Status.SUCCESS if allowed else status)
                events.extend(self._job(run, stage, job, allowed, status))
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

    def _job_name(self, stage: str, number: int) -> str:
        names = self._shape.job_names
        return names[number - 1] if number <= len(names) else f"{stage}-{number}"

    def _job(
        self, run: RunStarted, stage: str, job: str, allowed: bool, status: Status
    ) -> Iterator[DomainEvent]:
        rng = self._rng
        run_id = run.run_id
        yield JobStarted(run_id=run_id, stage_name=stage, job_name=job, allows_failure=allowed)
        steps = rng.randint(2, 4) if self._shape.sections else 1
        chunks = rng.randint(*self._shape.chunks)
        index = 0
        for step in range(steps):
            texts = [self._text() for _ in range(chunks // steps + (step < chunks % steps))]
            if self._shape.sections:
                start = f"section_start:{step}:step_{step}\r\x1b[0K$ ./ci/step-{step}.sh\n"
                texts = [start, *texts, f"section_end:{step}:step_{step}\r\x1b[0K\n"]
            for text in texts:
                yield JobLogChunkAppended(
                    run_id=run_id, stage_name=stage, job_name=job, chunk_index=index, content=text
                )
                index += 1
        yield JobFinished(run_id=run_id, stage_name=stage, job_name=job, status=status)

    def _text(self) -> str:
        """Return log lines of a size within the shape's ``chunk_chars``."""
        size = self._rng.randint(*self._shape.chunk_chars)
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
