"""Events of a pipeline run: its start, stages, jobs, log chunks and end."""

from __future__ import annotations

from typing import Any, ClassVar
from uuid import UUID

from attrs import field, frozen

from eventstore import streams
from eventstore import validation as v
from eventstore.catalog.fields import (
    MAX_LOG_CHUNK,
    MAX_NAME,
    commit_hash,
    documented,
    key,
    run_id_field,
    user_name,
)
from eventstore.catalog.vocabulary import Status, Trigger, as_status, as_trigger

RUNNER = "the runner executing the job"
ENGINE = "the CI engine"


@frozen(kw_only=True)
class RunStarted:
    """A run of a pipeline started; it takes the pipeline's next run number.

    Stored in the pipeline's run-number stream, where it is the only event type, so run
    number N is appended with expected version N - 1: two runs can never share a number.
    """

    EMITTED_BY: ClassVar[str] = ENGINE
    CHANGES: ClassVar[tuple[str, ...]] = ("jobs_history", "repo_configs")
    SCHEMA_VERSION: ClassVar[int] = 1

    run_id: UUID = run_id_field()
    run_number: int = documented(
        "Sequential number of the run within its pipeline (1, 2, …).", v.integer(minimum=1)
    )
    repo_name: str = key("Name of the repository.")
    repo_url: str = key("URL (or local path) of the repository.")
    branch: str = key("Branch the run builds.")
    pipeline_name: str = user_name("Name of the pipeline.")
    commit_hash: str = commit_hash("Commit the run builds (`git_commit_hash`).")
    pipeline_config: dict[str, Any] = documented(
        "The configuration the run uses (`pipeline_config_used`).", v.json_object
    )
    trigger: Trigger = field(
        converter=as_trigger,
        validator=v.member_of(Trigger),
        metadata={"doc": "What started the run."},
    )
    actor: str = key("Who started the run (a user, or the engine for scheduled runs).")

    @property
    def stream_id(self) -> str:
        """The pipeline's run-number stream."""
        return streams.pipeline_stream(self.repo_name, self.repo_url, self.pipeline_name)

    @property
    def expected_version(self) -> int:
        """The version the run-number stream must be at: this run is its ``run_number``-th."""
        return self.run_number - 1


@frozen(kw_only=True)
class RunEvent:
    """Fields shared by the events inside one run's stream."""

    EMITTED_BY: ClassVar[str] = ENGINE
    CHANGES: ClassVar[tuple[str, ...]] = ("jobs_history",)
    SCHEMA_VERSION: ClassVar[int] = 1

    run_id: UUID = run_id_field()

    @property
    def stream_id(self) -> str:
        """The run's stream."""
        return streams.run_stream(self.run_id)


@frozen(kw_only=True)
class StageStarted(RunEvent):
    """A stage of a run started."""

    stage_name: str = user_name("Name of the stage.")


@frozen(kw_only=True)
class StageFinished(RunEvent):
    """A stage of a run ended."""

    stage_name: str = user_name("Name of the stage.")
    status: Status = field(
        converter=as_status, validator=v.member_of(Status), metadata={"doc": "How the stage ended."}
    )


@frozen(kw_only=True)
class JobEvent(RunEvent):
    """Fields shared by the events of one job."""

    EMITTED_BY: ClassVar[str] = RUNNER

    stage_name: str = user_name("Name of the job's stage.")
    job_name: str = user_name("Name of the job (the key of its logs within the stage).")


@frozen(kw_only=True)
class JobStarted(JobEvent):
    """A job started running."""

    allows_failure: bool = documented(
        "True when the job may fail without failing its stage or run.", v.boolean
    )
    attempt: int = field(
        default=1,
        validator=v.integer(minimum=1, maximum=1000),
        metadata={"doc": "1 for the first try of the job, 2 for its first retry, …"},
    )


@frozen(kw_only=True)
class JobLogChunkAppended(JobEvent):
    """The next piece of a job's log: each attempt's chunks are numbered 0, 1, 2 … in order.

    Version 2 added ``attempt``; a version 1 chunk is read as one of attempt 1.
    """

    SCHEMA_VERSION: ClassVar[int] = 2

    chunk_index: int = documented(
        "Position of this chunk in its attempt's log (0, 1, 2 …).", v.integer(minimum=0)
    )
    content: str = documented(
        f"The text of the chunk (at most {MAX_LOG_CHUNK} characters).",
        v.text(max_length=MAX_LOG_CHUNK),
    )
    attempt: int = field(
        default=1,
        validator=v.integer(minimum=1, maximum=1000),
        metadata={"doc": "The attempt of the job this output belongs to (its `JobStarted`'s)."},
    )


@frozen(kw_only=True)
class JobFinished(JobEvent):
    """A job ended."""

    status: Status = field(
        converter=as_status, validator=v.member_of(Status), metadata={"doc": "How the job ended."}
    )


@frozen(kw_only=True)
class RunEnded(RunEvent):
    """Fields shared by the events that end a run: they name the pipeline whose run ends."""

    CHANGES: ClassVar[tuple[str, ...]] = ("jobs_history", "repo_configs")

    repo_name: str = key("Name of the repository.")
    repo_url: str = key("URL (or local path) of the repository.")
    branch: str = key("Branch the run built.")
    pipeline_name: str = user_name("Name of the pipeline.")


@frozen(kw_only=True)
class RunFinished(RunEnded):
    """A run ended with its final status."""

    status: Status = field(
        converter=as_status, validator=v.member_of(Status), metadata={"doc": "How the run ended."}
    )


@frozen(kw_only=True)
class RunCanceled(RunEnded):
    """A run was canceled: its pending and running stages and jobs end as canceled."""

    reason: str | None = field(
        default=None,
        validator=v.optional_text(max_length=MAX_NAME),
        metadata={"doc": "Why it was canceled, if given."},
    )
