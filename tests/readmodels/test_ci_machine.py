"""A CI engine played at random through the recorder, checked against an independent model.

A hypothesis state machine opens and uses sessions, validates pipelines (and fails to),
switches them on and off, and runs them: several runs of one pipeline at once, stages,
jobs that may fail, log chunks big enough to cut the kept tail, and now and then an event
out of lifecycle order (a job finished twice, a chunk for a job that never started, an
event of a run that never started). Names come from a small pool of troublemakers, so
events keep landing on the same documents.

After every step the projector catches up (with a batch size drawn once per example) and
three things must hold for each read model:

(a) the stored documents of the active version, and the positions they carry, are
    exactly those of :class:`tests.readmodels.model.ReadModels`, a second implementation
    written from the rules alone;
(b) :func:`projections.rebuild.verify` finds no difference with an in-memory replay;
(c) folding the same log in memory with the worker's own batch fold
    (:func:`projections.worker.fold_batch`, over :func:`projections.folding.fold`) in
    batches of 1 and of 3 gives the same documents.

At the end of each example one projection is rebuilt for real and must come out equal.
"""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import hypothesis
from attrs import frozen
from hypothesis import HealthCheck
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
)

from cirec.config import open_read_models, open_store
from eventstore.catalog import (
    DomainEvent,
    JobFinished,
    JobLogChunkAppended,
    JobStarted,
    PipelineActivated,
    PipelineDeactivated,
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
from eventstore.codec import Codec, json_converter
from eventstore.recorder import Receipt, Recorder, RunHandle
from eventstore.records import ANY, Metadata
from eventstore.streams import pipeline_stream
from projections.catalog import PROJECTIONS
from projections.folding import touched_keys
from projections.jobs_history import JOBS_HISTORY
from projections.projection import Envelope, Projection
from projections.rebuild import rebuild, verify
from projections.store import Versioned
from projections.worker import Projector, fold_batch
from tests.backends import cleanup, fresh_url
from tests.readmodels.model import RUNNING, Document, ReadModels

D = TypeVar("D")

# -- sizing -------------------------------------------------------------------------------

IN_CI = os.environ.get("HYPOTHESIS_PROFILE", "dev") == "ci"
# Each step checks every read model against the model, a replay and two in-memory folds:
# about 0.2 s on FerretDB v1, which answers each of its hundreds of commands by scanning.
# So FerretDB gets 30 examples of 20 steps (600 checked steps, 117 s on a quiet machine);
# the embedded store, where the same checks are cheap, gets 200 (4,000 steps, 77 s).
EXAMPLES = {"sqlite": 200 if IN_CI else 30, "mongodb": 30 if IN_CI else 5}
STEPS = 20
BATCH_SIZES = (1, 2, 7, 500)
IN_MEMORY_BATCH_SIZES = (1, 3)

ACTOR = "ci-engine"
START = datetime(2026, 1, 15, 9, 30, 0, 120_000, tzinfo=UTC)

# -- what the engine draws from -------------------------------------------------------------

LONG_NAME = "long-" + "n" * 9_995  # as long as a name may be (MAX_NAME)
TRICKY_NAMES = ["deploy.prod", "$where", "", "a\x00b", LONG_NAME]
names = st.sampled_from(["build", "test", *TRICKY_NAMES])
"""Pipeline, stage and job names: a small pool, so events meet on the same keys."""
repo_names = st.sampled_from(["cirec", "deploy.prod", "$where", "a\x00b", LONG_NAME])
repo_urls = st.sampled_from(["https://git.example/cirec.git", "/srv/$where.git"])
branches = st.sampled_from(["main", "release.1"])
users = st.sampled_from(["ada", "$where", "u.ser", "a\x00b", LONG_NAME])
commits = st.sampled_from(["9f2c1e7", "0123456789abcdef0123456789abcdef01234567"])
statuses = st.sampled_from(list(Status))
likely_success = st.sampled_from([Status.SUCCESS, Status.SUCCESS, Status.FAILED, Status.CANCELED])
triggers = st.sampled_from(list(Trigger))

odd_keys = st.sampled_from(
    ["stages", "deploy.prod", "$where", "", "a\x00b", "_id", "$set", "a.b.c", "é"]
) | st.text(max_size=6)
json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=10),
    # Values a store can silently change: the sign of zero, subnormals, 64-bit limits.
    st.sampled_from([-0.0, 5e-324, 2**53 + 1, 2**63 - 1, -(2**63)]),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(odd_keys, inner, max_size=3),
    max_leaves=10,
)
configs = st.dictionaries(odd_keys, json_values, max_size=4) | st.just(
    {"stages": [["build", ["unit", []]], {"$where": {"a.b": [[1, 2.5], [None, True]]}}]}
)
"""Pipeline configurations: nested arrays, dotted and dollar keys, NUL, empty keys."""


def _repeat(unit: str, length: int) -> str:
    return (unit * (length // len(unit) + 1))[:length]


small_chunks = st.text(max_size=30)
big_chunks = st.builds(
    _repeat, st.text(min_size=1, max_size=5), st.integers(min_value=20_000, max_value=70_000)
)
chunks = small_chunks | big_chunks
"""Log chunks: mostly short, sometimes long enough that a few cut the 64 Ki tail."""


# -- the references the engine keeps --------------------------------------------------------


@frozen
class PipelineRef:
    """A pipeline the engine validated on a repository branch."""

    repo_name: str
    repo_url: str
    branch: str
    pipeline_name: str


@frozen
class StageRef:
    """A stage the engine started in a run."""

    run: RunHandle
    stage_name: str


@frozen
class JobRef:
    """A job the engine started in a stage of a run."""

    run: RunHandle
    stage_name: str
    job_name: str


# -- comparing documents ----------------------------------------------------------------------


def strict(value: Any) -> Any:
    """Return ``value`` tagged with its JSON types, so ``True`` is not ``1`` nor ``-0.0`` ``0.0``.

    Objects stay dicts (compared without regard to key order); arrays are lists.
    """
    if isinstance(value, dict):
        return ("object", {key: strict(item) for key, item in value.items()})
    if isinstance(value, list | tuple):
        return ("array", [strict(item) for item in value])
    if value is None:
        return ("null",)
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, int):
        return ("int", value)
    if isinstance(value, float):
        return ("float", value.hex())
    if isinstance(value, str):
        return ("str", value)
    return ("other", type(value).__name__, repr(value))


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 160 else f"{text[:120]}…({len(text)} chars)…{text[-30:]}"


def differences(expected: Any, actual: Any, path: str = "") -> list[str]:
    """Return where ``actual`` differs from ``expected``, one line per differing leaf."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        found: list[str] = []
        for key in list(expected) + [k for k in actual if k not in expected]:
            where = f"{path}[{key!r}]" if len(repr(key)) < 80 else f"{path}[{_short(key)}]"
            if key not in actual:
                found.append(f"{where}: missing (model has {_short(expected[key])})")
            elif key not in expected:
                found.append(f"{where}: unexpected {_short(actual[key])}")
            else:
                found.extend(differences(expected[key], actual[key], where))
        return found
    if (
        isinstance(expected, list)
        and isinstance(actual, list | tuple)
        and len(expected) == len(actual)
    ):
        return [
            line
            for index, (mine, theirs) in enumerate(zip(expected, actual, strict=True))
            for line in differences(mine, theirs, f"{path}[{index}]")
        ]
    if strict(expected) != strict(actual):
        return [f"{path or '<document>'}: model {_short(expected)} but got {_short(actual)}"]
    return []


def assert_same(
    label: str,
    expected: dict[str, tuple[Document, int]],
    actual: dict[str, tuple[Document, int]],
) -> None:
    """Fail naming every document and field where ``actual`` differs from ``expected``."""
    problems: list[str] = []
    for key in sorted(expected.keys() | actual.keys()):
        if key not in actual:
            problems.append(f"{_short(key)}: missing (model: {_short(expected[key][0])})")
        elif key not in expected:
            problems.append(f"{_short(key)}: should not exist (got {_short(actual[key][0])})")
        else:
            (mine, my_position), (theirs, their_position) = expected[key], actual[key]
            problems.extend(f"{_short(key)}{line}" for line in differences(mine, theirs))
            if my_position != their_position:
                problems.append(
                    f"{_short(key)}: position: model {my_position} but got {their_position}"
                )
    assert not problems, f"{label}:\n  " + "\n  ".join(problems)


def plain(document: Any) -> Document:
    """Return a projection's document as plain JSON values."""
    unstructured: Document = json_converter.unstructure(document)
    return unstructured


def fold_in_memory(
    projection: Projection[D], log: list[Envelope], batch_size: int
) -> dict[str, tuple[Document, int]]:
    """Fold ``log`` as the worker does, in batches of ``batch_size``, without any store."""
    state: dict[str, Versioned[D]] = {}
    for start in range(0, len(log), batch_size):
        batch = log[start : start + batch_size]
        loaded = {key: state[key] for key in touched_keys(projection, batch) if key in state}
        for change in fold_batch(projection, loaded, batch):
            before = loaded.get(change.key)
            assert change.loaded_at == (None if before is None else before.position)
            state[change.key] = Versioned(change.document, change.position)
    return {key: (plain(doc.document), doc.position) for key, doc in state.items()}


# -- the machine ------------------------------------------------------------------------------


class CIMachine(RuleBasedStateMachine):
    """A CI engine recording its work, with the read models checked after every step."""

    backend: ClassVar[str] = "sqlite"

    pipelines = Bundle[PipelineRef]("pipelines")
    runs = Bundle[RunHandle]("runs")
    stages = Bundle[StageRef]("stages")
    jobs = Bundle[JobRef]("jobs")

    def __init__(self) -> None:
        super().__init__()
        self._folder = Path(tempfile.mkdtemp(prefix="cirec-ci-machine-"))
        try:
            self._url = fresh_url(self.backend, self._folder)
        except BaseException:  # a skip without MongoDB, too
            shutil.rmtree(self._folder, ignore_errors=True)
            raise
        self._events = open_store(self._url)
        self._read = open_read_models(self._url)
        self._ids = itertools.count(1)
        self._now = START
        self._tick = timedelta(milliseconds=1)
        self._recorder = Recorder(
            self._events, actor=ACTOR, clock=lambda: self._now, new_id=self._new_id
        )
        self._model = ReadModels()
        self._fed: list[tuple[int, datetime, DomainEvent]] = []
        self._chunk_index: dict[JobRef, int] = {}
        self._attempt: dict[JobRef, int] = {}
        self._batch_size = 500
        self._rebuild_target: Projection[Any] = JOBS_HISTORY
        self._checked = False

    def _new_id(self) -> uuid.UUID:
        return uuid.uuid5(uuid.NAMESPACE_URL, f"cirec-ci-machine/{next(self._ids)}")

    # -- recording ----------------------------------------------------------------------------

    def _feed(self, event: DomainEvent, occurred_at: datetime, receipt: Receipt) -> None:
        assert not receipt.already_stored
        self._fed.append((receipt.position, occurred_at, event))
        self._model.apply(event, occurred_at, receipt.position)

    def _emit(self, event: DomainEvent) -> Receipt:
        """Append ``event`` to its stream as it is, and feed the model.

        Past the run gate: the folds must be total on any log, and logs written before
        the write side checked lifecycles hold sequences it now refuses. The gate has
        tests of its own (``tests/lifecycle``); this machine tests the read side.
        """
        self._checked = False
        occurred_at = self._now
        event_id = self._new_id()
        correlation = getattr(event, "run_id", None)
        record = Codec().to_new_event(
            event,
            event_id=event_id,
            occurred_at=occurred_at,
            metadata=Metadata(correlation_id=correlation, actor=ACTOR),
        )
        result = self._events.append(event.stream_id, [record], ANY)
        receipt = Receipt(
            event_id=event_id,
            stream_id=event.stream_id,
            position=result.positions[0],
            stream_version=result.stream_version,
            already_stored=result.already_stored,
        )
        self._feed(event, occurred_at, receipt)
        self._now += self._tick
        return receipt

    def _in_run(self, run: RunHandle, event: DomainEvent) -> None:
        """Append an event of ``run`` as it is (see :meth:`_emit`)."""
        assert getattr(event, "run_id", None) == run.run_id
        self._emit(event)

    def _start_run(
        self,
        pipeline: PipelineRef,
        commit_hash: str,
        config: dict[str, Any],
        trigger: Trigger,
        actor: str | None,
    ) -> RunHandle:
        self._checked = False
        occurred_at = self._now
        run = self._recorder.start_run(
            repo_name=pipeline.repo_name,
            repo_url=pipeline.repo_url,
            branch=pipeline.branch,
            pipeline_name=pipeline.pipeline_name,
            commit_hash=commit_hash,
            pipeline_config=config,
            trigger=trigger,
            actor=actor,
        )
        event = RunStarted(
            run_id=run.run_id,
            run_number=run.run_number,
            repo_name=pipeline.repo_name,
            repo_url=pipeline.repo_url,
            branch=pipeline.branch,
            pipeline_name=pipeline.pipeline_name,
            commit_hash=commit_hash,
            pipeline_config=config,
            trigger=trigger,
            actor=actor or ACTOR,
        )
        self._feed(event, occurred_at, run.started)
        self._now += self._tick
        return run

    def _started(self, job: JobRef, attempt: int) -> None:
        """Note a job's start: a higher attempt than its last numbers its chunks from 0."""
        if attempt > self._attempt.get(job, 0):
            self._attempt[job] = attempt
            self._chunk_index[job] = 0

    def _log(self, job: JobRef, content: str) -> None:
        index = self._chunk_index.get(job, 0)
        self._chunk_index[job] = index + 1
        self._in_run(
            job.run,
            JobLogChunkAppended(
                run_id=job.run.run_id,
                stage_name=job.stage_name,
                job_name=job.job_name,
                chunk_index=index,
                content=content,
                attempt=self._attempt.get(job, 1),
            ),
        )

    @staticmethod
    def _ended(run: RunHandle, status: Status) -> RunFinished:
        return RunFinished(
            run_id=run.run_id,
            repo_name=run.repo_name,
            repo_url=run.repo_url,
            branch=run.branch,
            pipeline_name=run.pipeline_name,
            status=status,
        )

    # -- set-up -------------------------------------------------------------------------------

    @initialize(
        batch_size=st.sampled_from(BATCH_SIZES),
        tick_ms=st.sampled_from([1, 0, 997, 3_600_000]),
        rebuild_target=st.sampled_from(PROJECTIONS),
    )
    def choose(self, batch_size: int, tick_ms: int, rebuild_target: Projection[Any]) -> None:
        """Draw the projector's batch size, the clock's step and the projection to rebuild."""
        self._batch_size = batch_size
        self._tick = timedelta(milliseconds=tick_ms)
        self._rebuild_target = rebuild_target

    # -- sessions -----------------------------------------------------------------------------

    @rule(
        user=users,
        repo_name=repo_names,
        repo_url=repo_urls,
        branch=branches,
        commit=commits,
        is_remote=st.booleans(),
        opened=st.booleans(),
    )
    def session(
        self,
        user: str,
        repo_name: str,
        repo_url: str,
        branch: str,
        commit: str,
        is_remote: bool,
        opened: bool,
    ) -> None:
        """A developer opens a session, or uses theirs again (whether or not it exists)."""
        kind = SessionOpened if opened else SessionAccessed
        self._checked = False
        occurred_at = self._now
        call = self._recorder.open_session if opened else self._recorder.access_session
        receipt = call(
            user,
            repo_name=repo_name,
            repo_url=repo_url,
            branch=branch,
            commit_hash=commit,
            is_remote=is_remote,
        )
        event = kind(
            user_id=user,
            repo_name=repo_name,
            repo_url=repo_url,
            branch=branch,
            commit_hash=commit,
            is_remote=is_remote,
        )
        self._feed(event, occurred_at, receipt)
        self._now += self._tick

    # -- pipelines ----------------------------------------------------------------------------

    @rule(
        target=pipelines,
        repo_name=repo_names,
        repo_url=repo_urls,
        branch=branches,
        pipeline_name=names,
        file_name=st.sampled_from([".ci/build.yml", "$where.yml", ""]),
        config=configs,
        commit=commits,
    )
    def validate(
        self,
        repo_name: str,
        repo_url: str,
        branch: str,
        pipeline_name: str,
        file_name: str,
        config: dict[str, Any],
        commit: str,
    ) -> PipelineRef:
        """A pipeline file passes validation (again, maybe with another configuration)."""
        self._emit(
            PipelineValidated(
                repo_name=repo_name,
                repo_url=repo_url,
                branch=branch,
                pipeline_name=pipeline_name,
                pipeline_file_name=file_name,
                pipeline_config=config,
                commit_hash=commit,
            )
        )
        return PipelineRef(repo_name, repo_url, branch, pipeline_name)

    @rule(
        repo_name=repo_names,
        repo_url=repo_urls,
        branch=branches,
        pipeline_name=st.none() | names,
        commit=commits,
        errors=st.lists(st.text(max_size=10), min_size=1, max_size=2),
    )
    def fail_validation(
        self,
        repo_name: str,
        repo_url: str,
        branch: str,
        pipeline_name: str | None,
        commit: str,
        errors: list[str],
    ) -> None:
        """A pipeline file fails validation: only the log keeps it."""
        self._emit(
            PipelineValidationFailed(
                repo_name=repo_name,
                repo_url=repo_url,
                branch=branch,
                pipeline_file_name="bad.yml",
                commit_hash=commit,
                errors=tuple(errors),
                pipeline_name=pipeline_name,
            )
        )

    @rule(pipeline=pipelines, active=st.booleans())
    def switch(self, pipeline: PipelineRef, active: bool) -> None:
        """A validated pipeline is switched on or off."""
        kind = PipelineActivated if active else PipelineDeactivated
        self._emit(
            kind(
                repo_name=pipeline.repo_name,
                repo_url=pipeline.repo_url,
                branch=pipeline.branch,
                pipeline_name=pipeline.pipeline_name,
            )
        )

    @rule(
        repo_name=repo_names,
        repo_url=repo_urls,
        branch=branches,
        pipeline_name=names,
        active=st.booleans(),
    )
    def switch_any(
        self, repo_name: str, repo_url: str, branch: str, pipeline_name: str, active: bool
    ) -> None:
        """Any pipeline, validated or not, is switched on or off."""
        kind = PipelineActivated if active else PipelineDeactivated
        self._emit(
            kind(repo_name=repo_name, repo_url=repo_url, branch=branch, pipeline_name=pipeline_name)
        )

    # -- runs ---------------------------------------------------------------------------------

    @rule(
        target=runs,
        pipeline=pipelines,
        commit=commits,
        config=configs,
        trigger=triggers,
        actor=st.none() | users,
    )
    def start_run(
        self,
        pipeline: PipelineRef,
        commit: str,
        config: dict[str, Any],
        trigger: Trigger,
        actor: str | None,
    ) -> RunHandle:
        """A validated pipeline starts a run (others of it may be in progress)."""
        return self._start_run(pipeline, commit, config, trigger, actor)

    @rule(
        target=runs,
        repo_name=repo_names,
        repo_url=repo_urls,
        branch=branches,
        pipeline_name=names,
        trigger=triggers,
    )
    def start_unvalidated_run(
        self, repo_name: str, repo_url: str, branch: str, pipeline_name: str, trigger: Trigger
    ) -> RunHandle:
        """A run of a pipeline that may never have been validated on that branch."""
        pipeline = PipelineRef(repo_name, repo_url, branch, pipeline_name)
        return self._start_run(pipeline, "9f2c1e7", {"stages": []}, trigger, None)

    @rule(target=stages, run=runs, stage_name=names)
    def start_stage(self, run: RunHandle, stage_name: str) -> StageRef:
        """A stage starts (or starts again)."""
        self._in_run(run, StageStarted(run_id=run.run_id, stage_name=stage_name))
        return StageRef(run, stage_name)

    @rule(
        target=jobs,
        stage=stages,
        job_name=names,
        allows_failure=st.booleans(),
        attempt=st.integers(min_value=1, max_value=3),
    )
    def start_job(
        self, stage: StageRef, job_name: str, allows_failure: bool, attempt: int
    ) -> JobRef:
        """A job of a started stage starts (a retry if it ran before)."""
        run = stage.run
        self._in_run(
            run,
            JobStarted(
                run_id=run.run_id,
                stage_name=stage.stage_name,
                job_name=job_name,
                allows_failure=allows_failure,
                attempt=attempt,
            ),
        )
        job = JobRef(run, stage.stage_name, job_name)
        self._started(job, attempt)
        return job

    @rule(
        target=jobs,
        run=runs,
        stage_name=names,
        job_name=names,
        allows_failure=st.booleans(),
    )
    def start_job_of_unstarted_stage(
        self, run: RunHandle, stage_name: str, job_name: str, allows_failure: bool
    ) -> JobRef:
        """A job starts in a stage that may not have started."""
        self._in_run(
            run,
            JobStarted(
                run_id=run.run_id,
                stage_name=stage_name,
                job_name=job_name,
                allows_failure=allows_failure,
                attempt=1,
            ),
        )
        job = JobRef(run, stage_name, job_name)
        self._started(job, 1)
        return job

    @rule(job=jobs, content=chunks)
    def append_log(self, job: JobRef, content: str) -> None:
        """The next chunk of a job's log arrives."""
        self._log(job, content)

    @rule(run=runs, stage_name=names, job_name=names, content=small_chunks)
    def append_log_anywhere(
        self, run: RunHandle, stage_name: str, job_name: str, content: str
    ) -> None:
        """A chunk arrives for a job that may never have started."""
        self._log(JobRef(run, stage_name, job_name), content)

    @rule(job=jobs, status=likely_success)
    def finish_job(self, job: JobRef, status: Status) -> None:
        """A job ends (maybe again)."""
        self._in_run(
            job.run,
            JobFinished(
                run_id=job.run.run_id,
                stage_name=job.stage_name,
                job_name=job.job_name,
                status=status,
            ),
        )

    @rule(stage=stages, status=statuses)
    def finish_stage(self, stage: StageRef, status: Status) -> None:
        """A stage ends, whatever its jobs are doing."""
        self._in_run(
            stage.run,
            StageFinished(run_id=stage.run.run_id, stage_name=stage.stage_name, status=status),
        )

    @rule(run=runs, stage_name=names, status=statuses)
    def finish_unstarted_stage(self, run: RunHandle, stage_name: str, status: Status) -> None:
        """A stage that may never have started ends."""
        self._in_run(run, StageFinished(run_id=run.run_id, stage_name=stage_name, status=status))

    @rule(run=runs, status=likely_success)
    def finish_run(self, run: RunHandle, status: Status) -> None:
        """A run ends, whatever its stages are doing (maybe again)."""
        self._in_run(run, self._ended(run, status))

    @rule(run=runs, reason=st.none() | st.sampled_from(["", "superseded", "$where"]))
    def cancel_run(self, run: RunHandle, reason: str | None) -> None:
        """A run is canceled, even one that has ended."""
        self._in_run(
            run,
            RunCanceled(
                run_id=run.run_id,
                repo_name=run.repo_name,
                repo_url=run.repo_url,
                branch=run.branch,
                pipeline_name=run.pipeline_name,
                reason=reason,
            ),
        )

    @rule(run=runs, data=st.data())
    def complete_run(self, run: RunHandle, data: st.DataObject) -> None:
        """The engine ends a run in order: its running jobs, its running stages, the run."""
        document = self._model.documents(JOBS_HISTORY.name).get(str(run.run_id))
        stage_logs: dict[str, Any] = document["logs"] if document else {}
        for stage_name, stage in stage_logs.items():
            if stage["stage_status"] != RUNNING:
                continue
            for job_name, job in stage["jobs"].items():
                if job["job_status"] == RUNNING:
                    status = data.draw(likely_success, label="job status")
                    self._in_run(
                        run,
                        JobFinished(
                            run_id=run.run_id,
                            stage_name=stage_name,
                            job_name=job_name,
                            status=status,
                        ),
                    )
            status = data.draw(likely_success, label="stage status")
            self._in_run(
                run, StageFinished(run_id=run.run_id, stage_name=stage_name, status=status)
            )
        self._in_run(run, self._ended(run, data.draw(likely_success, label="run status")))

    @rule(
        target=runs,
        pipeline=pipelines,
        plan=st.lists(
            st.tuples(
                names,
                st.lists(
                    st.tuples(names, st.booleans(), likely_success, st.lists(chunks, max_size=2)),
                    max_size=3,
                    unique_by=lambda job: job[0],
                ),
                likely_success,
            ),
            min_size=1,
            max_size=3,
            unique_by=lambda stage: stage[0],
        ),
        status=likely_success,
    )
    def whole_run(
        self,
        pipeline: PipelineRef,
        plan: list[tuple[str, list[tuple[str, bool, Status, list[str]]], Status]],
        status: Status,
    ) -> RunHandle:
        """A whole run in lifecycle order, stage after stage."""
        run = self._start_run(
            pipeline, "9f2c1e7", {"stages": [s[0] for s in plan]}, Trigger.PUSH, None
        )
        for stage_name, stage_jobs, stage_status in plan:
            self._in_run(run, StageStarted(run_id=run.run_id, stage_name=stage_name))
            for job_name, allows_failure, _, _ in stage_jobs:
                self._in_run(
                    run,
                    JobStarted(
                        run_id=run.run_id,
                        stage_name=stage_name,
                        job_name=job_name,
                        allows_failure=allows_failure,
                    ),
                )
                self._started(JobRef(run, stage_name, job_name), 1)
            for job_name, _, job_status, job_chunks in stage_jobs:
                for content in job_chunks:
                    self._log(JobRef(run, stage_name, job_name), content)
                self._in_run(
                    run,
                    JobFinished(
                        run_id=run.run_id,
                        stage_name=stage_name,
                        job_name=job_name,
                        status=job_status,
                    ),
                )
            self._in_run(
                run, StageFinished(run_id=run.run_id, stage_name=stage_name, status=stage_status)
            )
        self._in_run(run, self._ended(run, status))
        return run

    @rule(
        pipeline=pipelines,
        kind=st.sampled_from(
            [
                StageStarted,
                StageFinished,
                JobStarted,
                JobLogChunkAppended,
                JobFinished,
                RunFinished,
                RunCanceled,
            ]
        ),
        name=names,
    )
    def event_of_unknown_run(self, pipeline: PipelineRef, kind: type[Any], name: str) -> None:
        """An event of a run that never started (its pipeline may exist)."""
        run_id = self._new_id()
        fake = Receipt(
            event_id=run_id,
            stream_id=pipeline_stream("r", "u", "p"),
            position=0,
            stream_version=0,
            already_stored=False,
        )
        run = RunHandle(
            run_id=run_id,
            run_number=1,
            repo_name=pipeline.repo_name,
            repo_url=pipeline.repo_url,
            branch=pipeline.branch,
            pipeline_name=pipeline.pipeline_name,
            started=fake,
        )
        events: dict[type[Any], DomainEvent] = {
            StageStarted: StageStarted(run_id=run_id, stage_name=name),
            StageFinished: StageFinished(run_id=run_id, stage_name=name, status=Status.SUCCESS),
            JobStarted: JobStarted(
                run_id=run_id, stage_name=name, job_name=name, allows_failure=False
            ),
            JobLogChunkAppended: JobLogChunkAppended(
                run_id=run_id, stage_name=name, job_name=name, chunk_index=0, content="orphan"
            ),
            JobFinished: JobFinished(
                run_id=run_id, stage_name=name, job_name=name, status=Status.FAILED
            ),
            RunFinished: self._ended(run, Status.SUCCESS),
            RunCanceled: RunCanceled(
                run_id=run_id,
                repo_name=run.repo_name,
                repo_url=run.repo_url,
                branch=run.branch,
                pipeline_name=run.pipeline_name,
                reason="stray",
            ),
        }
        self._in_run(run, events[kind])

    @rule(millis=st.integers(min_value=-86_400_000, max_value=10**10))
    def tick(self, millis: int) -> None:
        """The engine's clock jumps (backwards too: emitter clocks are not monotonic)."""
        self._now += timedelta(milliseconds=millis)

    # -- the checks ---------------------------------------------------------------------------

    def _stored(self, projection: Projection[Any]) -> dict[str, tuple[Document, int]]:
        version = self._read.active_version(projection)
        stored: dict[str, tuple[Document, int]] = {}
        for key, versioned in self._read.documents(projection, version):
            assert isinstance(versioned.document, projection.document_type)
            stored[key] = (plain(versioned.document), versioned.position)
        return stored

    def _log_as_folded(self) -> list[Envelope]:
        codec = Codec()
        log = [Envelope.of(record, codec) for record in self._events.read_all()]
        assert [(e.position, e.occurred_at, e.event) for e in log] == self._fed, (
            "the log is not what the engine recorded"
        )
        return log

    @invariant()
    def read_models_match_the_model(self) -> None:
        """Catch up, then compare stored, replayed and in-memory folds with the model."""
        self._checked = False
        Projector(self._events, self._read, PROJECTIONS, batch_size=self._batch_size).catch_up()
        log = self._log_as_folded()
        for projection in PROJECTIONS:
            expected = self._model.snapshot(projection.name)
            assert_same(f"{projection.name}: stored vs model", expected, self._stored(projection))
            found = verify(self._events, self._read, projection)
            assert found == [], f"{projection.name}: verify found {found!r}"
            for size in IN_MEMORY_BATCH_SIZES:
                assert_same(
                    f"{projection.name}: fold_batch in batches of {size} vs model",
                    expected,
                    fold_in_memory(projection, log, size),
                )
        self._checked = True

    def teardown(self) -> None:
        """Rebuild one projection for real (it must come out the same), then clean up."""
        try:
            if self._checked:
                target = self._rebuild_target
                version = rebuild(self._events, self._read, target, batch_size=self._batch_size)
                assert self._read.active_version(target) == version
                assert self._read.versions(target) == [version]
                assert_same(
                    f"{target.name}: rebuilt vs model",
                    self._model.snapshot(target.name),
                    self._stored(target),
                )
                assert verify(self._events, self._read, target) == []
        finally:
            try:
                self._read.close()
                self._events.close()
                cleanup(self._url)
            finally:
                shutil.rmtree(self._folder, ignore_errors=True)


class SQLiteCIMachine(CIMachine):
    """The CI engine on the embedded SQLite store."""

    backend = "sqlite"


class MongoDBCIMachine(CIMachine):
    """The CI engine on MongoDB (skipped without ``MONGO_DB_URL``)."""

    backend = "mongodb"


def _settings(backend: str) -> hypothesis.settings:
    return hypothesis.settings(
        max_examples=EXAMPLES[backend],
        stateful_step_count=STEPS,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )


TestSQLiteCIMachine = SQLiteCIMachine.TestCase
TestSQLiteCIMachine.settings = _settings("sqlite")

TestMongoDBCIMachine = MongoDBCIMachine.TestCase
TestMongoDBCIMachine.settings = _settings("mongodb")
