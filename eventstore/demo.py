"""A scripted CI session, recorded through the :class:`Recorder`: what ``cirec demo`` plays.

A developer opens a session on a repository and comes back to it on a later commit; a
pipeline file fails validation once, then validates and is activated; one run goes
through build, test (with a lint job that may fail, and does) and deploy, and succeeds;
a second run is canceled during its test stage. Every event gets a fresh id, so playing
the demo again appends another session's worth of events next to the first.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypedDict

from attrs import frozen

from eventstore.catalog import Status, Trigger
from eventstore.recorder import Receipt, Recorder, RunHandle

ACTOR = "cirec-demo"
"""The actor the demo records its events as."""


class RepoBranch(TypedDict):
    """The keyword arguments that name a repository branch in :class:`Recorder` calls."""

    repo_name: str
    repo_url: str
    branch: str


DEVELOPER = "alice"
REPOSITORY = RepoBranch(
    repo_name="cirec-demo",
    repo_url="https://git.example.com/acme/cirec-demo.git",
    branch="main",
)
FIRST_COMMIT = "3f9a2c1e8d7b6a5f4e3d2c1b0a9f8e7d6c5b4a39"
SECOND_COMMIT = "9c1e5b7a2f4d6e8c0b1a3d5f7e9c2b4a6d8f0e12"
PIPELINE_NAME = "build-and-test"
PIPELINE_FILE = ".cirec/build-and-test.yml"
PIPELINE_CONFIG: dict[str, Any] = {
    "name": PIPELINE_NAME,
    "on": {"push": {"branches": ["main"]}},
    "image": "python:3.11-slim",
    "stages": ["build", "test", "deploy"],
    "jobs": {
        "compile": {"stage": "build", "script": ["python -m build --wheel"]},
        "unit": {"stage": "test", "script": ["pip install dist/*.whl", "pytest -q"]},
        "lint": {"stage": "test", "script": ["ruff check ."], "allow_failure": True},
        "publish": {"stage": "deploy", "script": ["twine upload dist/*"], "only": ["main"]},
    },
}
VALIDATION_ERRORS = (
    "jobs.unit.stage: unknown stage 'tests'; the stages are build, test, deploy",
    "jobs.publish: 'script' is required",
)


@frozen
class DemoJob:
    """A job the demo plays: its name, the two chunks of its log, and how it ends."""

    name: str
    log: tuple[str, str]
    status: Status = Status.SUCCESS
    allows_failure: bool = False

    @property
    def fails_stage(self) -> bool:
        """True when this job's outcome fails its stage (a failure that was not allowed)."""
        return self.status is Status.FAILED and not self.allows_failure


COMPILE = DemoJob(
    "compile",
    (
        "$ python -m build --wheel\n* Creating isolated environment: venv+pip...\n"
        "* Building wheel...\n",
        "Successfully built cirec_demo-0.3.1-py3-none-any.whl\n",
    ),
)
UNIT = DemoJob(
    "unit",
    (
        "$ pytest -q\n........................................                 [ 83%]\n",
        "........                                                 [100%]\n48 passed in 3.21s\n",
    ),
)
LINT = DemoJob(
    "lint",
    (
        "$ ruff check .\n",
        "src/cirec_demo/api.py:41:5: F841 Local variable `resp` is assigned to but never used\n"
        "Found 1 error.\n",
    ),
    status=Status.FAILED,
    allows_failure=True,
)
PUBLISH = DemoJob(
    "publish",
    (
        "$ twine upload dist/*\nUploading distributions to https://pypi.example.com/legacy/\n",
        "Uploading cirec_demo-0.3.1-py3-none-any.whl\n"
        "View at: https://pypi.example.com/project/cirec-demo/0.3.1/\n",
    ),
)
STAGES: tuple[tuple[str, tuple[DemoJob, ...]], ...] = (
    ("build", (COMPILE,)),
    ("test", (UNIT, LINT)),
    ("deploy", (PUBLISH,)),
)
"""The stages of the pipeline in order, each with its jobs."""


def play_demo(recorder: Recorder) -> list[Receipt]:
    """Record the whole scripted session; return the receipts of its events, in order."""
    return [
        *_session_and_pipeline(recorder),
        *_successful_run(recorder),
        *_canceled_run(recorder),
    ]


def stage_status(jobs: Iterable[DemoJob]) -> Status:
    """Return how a stage (or a run) of ``jobs`` ends: failed only if a job failed unallowed."""
    return Status.FAILED if any(job.fails_stage for job in jobs) else Status.SUCCESS


def _session_and_pipeline(recorder: Recorder) -> list[Receipt]:
    return [
        recorder.open_session(DEVELOPER, **REPOSITORY, commit_hash=FIRST_COMMIT, is_remote=True),
        recorder.pipeline_validation_failed(
            **REPOSITORY,
            pipeline_file_name=PIPELINE_FILE,
            commit_hash=FIRST_COMMIT,
            errors=VALIDATION_ERRORS,
            pipeline_name=PIPELINE_NAME,
        ),
        recorder.access_session(DEVELOPER, **REPOSITORY, commit_hash=SECOND_COMMIT, is_remote=True),
        recorder.pipeline_validated(
            **REPOSITORY,
            pipeline_file_name=PIPELINE_FILE,
            pipeline_name=PIPELINE_NAME,
            pipeline_config=PIPELINE_CONFIG,
            commit_hash=SECOND_COMMIT,
        ),
        recorder.activate_pipeline(**REPOSITORY, pipeline_name=PIPELINE_NAME),
    ]


def _start_run(recorder: Recorder, trigger: Trigger) -> RunHandle:
    return recorder.start_run(
        **REPOSITORY,
        pipeline_name=PIPELINE_NAME,
        commit_hash=SECOND_COMMIT,
        pipeline_config=PIPELINE_CONFIG,
        trigger=trigger,
        actor=DEVELOPER,
    )


def _successful_run(recorder: Recorder) -> list[Receipt]:
    run = _start_run(recorder, Trigger.PUSH)
    receipts = [run.started]
    for stage, jobs in STAGES:
        receipts += _stage(recorder, run, stage, jobs)
    every_job = (job for _, jobs in STAGES for job in jobs)
    receipts.append(recorder.finish_run(run, stage_status(every_job)))
    return receipts


def _canceled_run(recorder: Recorder) -> list[Receipt]:
    run = _start_run(recorder, Trigger.MANUAL)
    build, build_jobs = STAGES[0]
    test, (first_test_job, *_) = STAGES[1]
    return [
        run.started,
        *_stage(recorder, run, build, build_jobs),
        recorder.start_stage(run, test),
        recorder.start_job(run, test, first_test_job.name),
        recorder.append_log(
            run, test, first_test_job.name, chunk_index=0, content=first_test_job.log[0]
        ),
        recorder.cancel_run(run, reason=f"canceled by {DEVELOPER}: wrong deploy target"),
        recorder.finish_run(run, Status.CANCELED),
    ]


def _stage(
    recorder: Recorder, run: RunHandle, stage: str, jobs: tuple[DemoJob, ...]
) -> list[Receipt]:
    receipts = [recorder.start_stage(run, stage)]
    for job in jobs:
        receipts += _job(recorder, run, stage, job)
    receipts.append(recorder.finish_stage(run, stage, stage_status(jobs)))
    return receipts


def _job(recorder: Recorder, run: RunHandle, stage: str, job: DemoJob) -> list[Receipt]:
    started = recorder.start_job(run, stage, job.name, allows_failure=job.allows_failure)
    logs = [
        recorder.append_log(run, stage, job.name, chunk_index=index, content=content)
        for index, content in enumerate(job.log)
    ]
    return [started, *logs, recorder.finish_job(run, stage, job.name, job.status)]
