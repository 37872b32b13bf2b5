"""Every refusal names its field as a path in the one documented form (docs/events.md).

Event fields are joined by ``.``, list items are ``[index]``, and a key inside a user's JSON
value is ``.key`` when it is a plain identifier, its JSON string in brackets otherwise.
The same fault gets the same path through ``Codec.parse_new_event`` and ``Recorder.emit``
(which start at the envelope) and the recorder's step methods (which start at the field).
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from eventstore.catalog import Trigger
from eventstore.codec import Codec
from eventstore.errors import InvalidEventError
from eventstore.field_paths import field_path
from eventstore.recorder import Recorder, RunHandle
from eventstore.store import EventStore

RUN_ID = uuid.UUID("00000000-0000-4000-8000-0000000000aa")
REPO: dict[str, Any] = {
    "repo_name": "api",
    "repo_url": "https://git.example.com/api.git",
    "branch": "main",
}
CHUNK: dict[str, Any] = {
    "run_id": str(RUN_ID),
    "stage_name": "test",
    "job_name": "unit",
    "attempt": 1,
    "chunk_index": 0,
    "content": "ok\n",
}
VALIDATED: dict[str, Any] = {
    **REPO,
    "pipeline_name": "build",
    "pipeline_file_name": ".ci/build.yaml",
    "pipeline_config": {"stages": []},
    "commit_hash": "9f2c1e7",
}
FAILED: dict[str, Any] = {
    **REPO,
    "pipeline_file_name": ".ci/build.yaml",
    "commit_hash": "9f2c1e7",
    "errors": ["stages: required"],
    "pipeline_name": None,
}
VERSIONS = {"JobLogChunkAppended": 2, "PipelineValidated": 1, "PipelineValidationFailed": 1}
DATA: dict[str, dict[str, Any]] = {
    "JobLogChunkAppended": CHUNK,
    "PipelineValidated": VALIDATED,
    "PipelineValidationFailed": FAILED,
}


def event(type_name: str, **data: Any) -> dict[str, Any]:
    """The JSON form of a valid event of ``type_name``, its ``data`` changed by ``data``."""
    return {
        "event_id": str(uuid.uuid4()),
        "type": type_name,
        "schema_version": VERSIONS[type_name],
        "occurred_at": "2026-01-15T09:30:00.000Z",
        "data": {**copy.deepcopy(DATA[type_name]), **data},
        "metadata": {"correlation_id": None, "causation_id": None, "actor": "ci"},
    }


def without(raw: dict[str, Any], *path: str) -> dict[str, Any]:
    """``raw`` with the field at ``path`` left out."""
    *parents, last = path
    inner = raw
    for step in parents:
        inner = inner[step]
    del inner[last]
    return raw


def with_(raw: dict[str, Any], *path: str, value: Any) -> dict[str, Any]:
    """``raw`` with the field at ``path`` set to ``value``."""
    *parents, last = path
    inner = raw
    for step in parents:
        inner = inner[step]
    inner[last] = value
    return raw


SURROGATE = "\ud800"
SURROGATE_KEY_CONFIG = {"stages": [{"build": 1, SURROGATE: 2}]}
SURROGATE_VALUE_CONFIG = {"stages": [{"deploy.prod": f"run {SURROGATE}"}]}
NESTED_LIST_CONFIG = {"matrix": [[1, 2], [3, 2**64]]}
EMPTY_KEY_CONFIG = {"env": {"": float("nan")}}

# (what is wrong, the JSON form with the fault, the path its refusal names)
JSON_CASES: list[tuple[str, Callable[[], dict[str, Any]], str]] = [
    (
        "surrogate in content",
        lambda: event("JobLogChunkAppended", content=f"ok {SURROGATE}"),
        "data.content",
    ),
    (
        "surrogate in a pipeline_config key",
        lambda: event("PipelineValidated", pipeline_config=SURROGATE_KEY_CONFIG),
        'data.pipeline_config.stages[0]["\\ud800"]',
    ),
    (
        "surrogate in a pipeline_config value",
        lambda: event("PipelineValidated", pipeline_config=SURROGATE_VALUE_CONFIG),
        'data.pipeline_config.stages[0]["deploy.prod"]',
    ),
    (
        "nested list",
        lambda: event("PipelineValidated", pipeline_config=NESTED_LIST_CONFIG),
        "data.pipeline_config.matrix[1][1]",
    ),
    (
        "empty key",
        lambda: event("PipelineValidated", pipeline_config=EMPTY_KEY_CONFIG),
        'data.pipeline_config.env[""]',
    ),
    (
        "unknown field in data",
        lambda: event("JobLogChunkAppended", colour="blue"),
        "data.colour",
    ),
    (
        "unknown field that is no identifier",
        lambda: event("JobLogChunkAppended", **{"deploy.prod": 1}),
        'data["deploy.prod"]',
    ),
    (
        "unknown field in metadata",
        lambda: with_(event("JobLogChunkAppended"), "metadata", "who", value="me"),
        "metadata.who",
    ),
    (
        "unknown field in the envelope",
        lambda: with_(event("JobLogChunkAppended"), "recorded at", value="now"),
        '["recorded at"]',
    ),
    (
        "wrong type in data",
        lambda: event("JobLogChunkAppended", chunk_index="0"),
        "data.chunk_index",
    ),
    (
        "wrong type in a list",
        lambda: event("PipelineValidationFailed", errors=["stages: required", 3]),
        "data.errors[1]",
    ),
    (
        "wrong type in metadata",
        lambda: with_(event("JobLogChunkAppended"), "metadata", "actor", value=5),
        "metadata.actor",
    ),
    (
        "surrogate in metadata",
        lambda: with_(event("JobLogChunkAppended"), "metadata", "actor", value=SURROGATE),
        "metadata.actor",
    ),
    (
        "missing field in data",
        lambda: without(event("JobLogChunkAppended"), "data", "content"),
        "data.content",
    ),
    (
        "missing field in the envelope",
        lambda: without(event("JobLogChunkAppended"), "occurred_at"),
        "occurred_at",
    ),
]
JSON_IDS = [case[0] for case in JSON_CASES]


@pytest.mark.parametrize(("_", "build", "path"), JSON_CASES, ids=JSON_IDS)
def test_the_codec_names_the_path_in_the_documented_form(
    _: str, build: Callable[[], dict[str, Any]], path: str
) -> None:
    with pytest.raises(InvalidEventError) as caught:
        Codec().parse_new_event(build())
    assert caught.value.field == path
    assert str(caught.value).startswith(f"{path}: ")


@pytest.mark.parametrize(("_", "build", "path"), JSON_CASES, ids=JSON_IDS)
def test_emit_names_the_same_path_and_stores_nothing(
    store: EventStore, _: str, build: Callable[[], dict[str, Any]], path: str
) -> None:
    with pytest.raises(InvalidEventError) as caught:
        Recorder(store, actor="ci").emit(build())
    assert caught.value.field == path
    assert store.head() == 0


def start(recorder: Recorder) -> RunHandle:
    return recorder.start_run(
        **REPO,
        pipeline_name="build",
        commit_hash="9f2c1e7",
        pipeline_config={},
        trigger=Trigger.PUSH,
        run_id=RUN_ID,
    )


def untyped(value: object) -> Any:
    """Let a wrongly typed value through the type checker: the step must refuse it."""
    return value


# (what is wrong, the step with the fault, the path: the JSON case's, without its ``data.``)
STEP_CASES: list[tuple[str, Callable[[Recorder, RunHandle], object], str]] = [
    (
        "surrogate in content",
        lambda r, run: r.append_log(run, "test", "unit", chunk_index=0, content=f"ok {SURROGATE}"),
        "content",
    ),
    (
        "surrogate in a pipeline_config key",
        lambda r, _: r.pipeline_validated(**{**VALIDATED, "pipeline_config": SURROGATE_KEY_CONFIG}),
        'pipeline_config.stages[0]["\\ud800"]',
    ),
    (
        "surrogate in a pipeline_config value",
        lambda r, _: r.start_run(
            **REPO,
            pipeline_name="build",
            commit_hash="9f2c1e7",
            pipeline_config=SURROGATE_VALUE_CONFIG,
            trigger=Trigger.PUSH,
        ),
        'pipeline_config.stages[0]["deploy.prod"]',
    ),
    (
        "nested list",
        lambda r, _: r.pipeline_validated(**{**VALIDATED, "pipeline_config": NESTED_LIST_CONFIG}),
        "pipeline_config.matrix[1][1]",
    ),
    (
        "empty key",
        lambda r, _: r.pipeline_validated(**{**VALIDATED, "pipeline_config": EMPTY_KEY_CONFIG}),
        'pipeline_config.env[""]',
    ),
    (
        "wrong type in data",
        lambda r, run: r.append_log(run, "test", "unit", chunk_index=untyped("0"), content="ok\n"),
        "chunk_index",
    ),
    (
        "wrong type in a list",
        lambda r, _: r.pipeline_validation_failed(
            **{**FAILED, "errors": ["stages: required", untyped(3)]}
        ),
        "errors[1]",
    ),
]


@pytest.mark.parametrize(("_", "step", "path"), STEP_CASES, ids=[c[0] for c in STEP_CASES])
def test_a_step_method_names_the_path_from_its_argument_and_stores_nothing(
    store: EventStore, _: str, step: Callable[[Recorder, RunHandle], object], path: str
) -> None:
    recorder = Recorder(store, actor="ci")
    run = start(recorder)
    head = store.head()
    with pytest.raises(InvalidEventError) as caught:
        step(recorder, run)
    assert caught.value.field == path
    assert store.head() == head


def test_every_step_case_is_a_json_case_with_the_path_under_data() -> None:
    json_paths = {name: path for name, _, path in JSON_CASES}
    for name, _, path in STEP_CASES:
        assert json_paths[name] == f"data.{path}"


@pytest.mark.parametrize(
    ("steps", "path"),
    [
        (("data", "content"), "data.content"),
        (("data", "errors", 0), "data.errors[0]"),
        (("metadata", "_actor2"), "metadata._actor2"),
        (
            ("data", "pipeline_config", "stages", 0, "deploy.prod"),
            'data.pipeline_config.stages[0]["deploy.prod"]',
        ),
        (("data", "2fa"), 'data["2fa"]'),
        (("data", "café"), 'data["café"]'),
        (("data", 'say "hi"\n'), 'data["say \\"hi\\"\\n"]'),
        (("data", ""), 'data[""]'),
        (("data", "\udfff"), 'data["\\udfff"]'),
        (("deploy.prod", "x"), '["deploy.prod"].x'),
        ((3, "x"), "[3].x"),
        ((), ""),
    ],
)
def test_a_path_is_written_in_one_form(steps: tuple[str | int, ...], path: str) -> None:
    assert field_path(*steps) == path


def test_an_error_nested_under_a_field_keeps_its_steps() -> None:
    inner = InvalidEventError(("stages", 0, "deploy.prod"), "holds a lone surrogate")
    outer = inner.under("data", "pipeline_config")
    assert outer.path == ("data", "pipeline_config", "stages", 0, "deploy.prod")
    assert outer.field == 'data.pipeline_config.stages[0]["deploy.prod"]'
    assert str(outer) == 'data.pipeline_config.stages[0]["deploy.prod"]: holds a lone surrogate'
