"""Events of a repository branch's pipelines: validations and (de)activation."""

from __future__ import annotations

from typing import Any, ClassVar

from attrs import field, frozen

from eventstore import streams
from eventstore import validation as v
from eventstore.catalog.fields import MAX_NAME, commit_hash, documented, key, user_name
from eventstore.errors import InvalidEventError


@frozen(kw_only=True)
class RepoBranchEvent:
    """Fields shared by events about one repository branch (a ``repo_configs`` document)."""

    EMITTED_BY: ClassVar[str] = "the CI engine"
    CHANGES: ClassVar[tuple[str, ...]] = ("repo_configs",)
    SCHEMA_VERSION: ClassVar[int] = 1

    repo_name: str = key("Name of the repository.")
    repo_url: str = key("URL (or local path) of the repository.")
    branch: str = key("The branch the pipeline files were read from.")

    @property
    def stream_id(self) -> str:
        """The repository branch's stream."""
        return streams.repo_stream(self.repo_name, self.repo_url, self.branch)


@frozen(kw_only=True)
class PipelineValidated(RepoBranchEvent):
    """A pipeline file passed validation; its configuration becomes the stored one."""

    EMITTED_BY: ClassVar[str] = "the CI engine, after it checks a pipeline file"

    pipeline_name: str = user_name("Name of the pipeline (any string; the key in `pipelines`).")
    pipeline_file_name: str = user_name("File the pipeline was read from.")
    pipeline_config: dict[str, Any] = documented(
        "The validated configuration, as a JSON object.", v.json_object
    )
    commit_hash: str = commit_hash("Commit the file was validated at (`last_commit_hash`).")


def _error_list(_: Any, attribute: Any, value: Any) -> None:
    if not isinstance(value, tuple) or not value:
        raise InvalidEventError(attribute.name, "expected a non-empty list of messages", value)
    for index, message in enumerate(value):
        if not isinstance(message, str):
            raise InvalidEventError((attribute.name, index), "expected a string", message)


@frozen(kw_only=True)
class PipelineValidationFailed(RepoBranchEvent):
    """A pipeline file failed validation. Kept in the log only: ``repo_configs`` ignores it."""

    EMITTED_BY: ClassVar[str] = "the CI engine, after it checks a pipeline file"
    CHANGES: ClassVar[tuple[str, ...]] = ()

    pipeline_file_name: str = user_name("File that failed validation.")
    commit_hash: str = commit_hash("Commit the file was read at.")
    errors: tuple[str, ...] = documented(
        "What the validator reported, one message each.", _error_list
    )
    pipeline_name: str | None = field(
        default=None,
        validator=v.optional_text(max_length=MAX_NAME),
        metadata={"doc": "Name of the pipeline, if the file got far enough to name one."},
    )


@frozen(kw_only=True)
class PipelineActivated(RepoBranchEvent):
    """A pipeline is switched on: the engine will run it."""

    pipeline_name: str = user_name("Name of the pipeline.")


@frozen(kw_only=True)
class PipelineDeactivated(RepoBranchEvent):
    """A pipeline is switched off: kept with its history, no longer run."""

    pipeline_name: str = user_name("Name of the pipeline.")
