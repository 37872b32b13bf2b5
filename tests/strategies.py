"""Hypothesis strategies for the catalog: valid events of every type, and their records."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hypothesis import strategies as st

from eventstore.catalog import (
    EVENT_TYPES,
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
from eventstore.clock import to_millis
from eventstore.records import Metadata, NewEvent

# Names users choose: anything at all, with the troublemakers made likely.
TRICKY_NAMES = ["deploy.prod", "$where", "", "a\x00b", "x" * 1000, "%", "%25", "$", "."]
names = st.one_of(st.sampled_from(TRICKY_NAMES), st.text(max_size=40))
keys = st.text(min_size=1, max_size=40)
commits = st.text(alphabet="0123456789abcdef", min_size=7, max_size=40)

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(names, inner, max_size=4),
    max_leaves=12,
)
json_objects = st.dictionaries(names, json_values, max_size=5)

utc_times = st.datetimes(
    min_value=datetime(1970, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
).map(to_millis)

repo = {"repo_name": keys, "repo_url": keys, "branch": keys}
job = {"run_id": st.uuids(), "stage_name": names, "job_name": names}
run_end = {**repo, "run_id": st.uuids(), "pipeline_name": names}

EVENT_STRATEGIES: dict[type[Any], st.SearchStrategy[Any]] = {
    SessionOpened: st.builds(
        SessionOpened, user_id=keys, commit_hash=commits, is_remote=st.booleans(), **repo
    ),
    SessionAccessed: st.builds(
        SessionAccessed, user_id=keys, commit_hash=commits, is_remote=st.booleans(), **repo
    ),
    PipelineValidated: st.builds(
        PipelineValidated,
        pipeline_name=names,
        pipeline_file_name=names,
        pipeline_config=json_objects,
        commit_hash=commits,
        **repo,
    ),
    PipelineValidationFailed: st.builds(
        PipelineValidationFailed,
        pipeline_file_name=names,
        commit_hash=commits,
        errors=st.lists(st.text(max_size=30), min_size=1, max_size=3).map(tuple),
        pipeline_name=st.none() | names,
        **repo,
    ),
    PipelineActivated: st.builds(PipelineActivated, pipeline_name=names, **repo),
    PipelineDeactivated: st.builds(PipelineDeactivated, pipeline_name=names, **repo),
    RunStarted: st.builds(
        RunStarted,
        run_id=st.uuids(),
        run_number=st.integers(min_value=1, max_value=10**6),
        pipeline_name=names,
        commit_hash=commits,
        pipeline_config=json_objects,
        trigger=st.sampled_from(Trigger),
        actor=keys,
        **repo,
    ),
    StageStarted: st.builds(StageStarted, run_id=st.uuids(), stage_name=names),
    StageFinished: st.builds(
        StageFinished, run_id=st.uuids(), stage_name=names, status=st.sampled_from(Status)
    ),
    JobStarted: st.builds(
        JobStarted,
        allows_failure=st.booleans(),
        attempt=st.integers(min_value=1, max_value=5),
        **job,
    ),
    JobLogChunkAppended: st.builds(
        JobLogChunkAppended,
        chunk_index=st.integers(min_value=0, max_value=10**6),
        content=st.text(max_size=200),
        **job,
    ),
    JobFinished: st.builds(JobFinished, status=st.sampled_from(Status), **job),
    RunFinished: st.builds(RunFinished, status=st.sampled_from(Status), **run_end),
    RunCanceled: st.builds(RunCanceled, reason=st.none() | st.text(max_size=30), **run_end),
}
assert set(EVENT_STRATEGIES) == set(EVENT_TYPES.values()), "a catalog event has no strategy"

domain_events: st.SearchStrategy[DomainEvent] = st.one_of(*EVENT_STRATEGIES.values())

metadata = st.builds(
    Metadata,
    correlation_id=st.none() | st.uuids(),
    causation_id=st.none() | st.uuids(),
    actor=st.none() | st.text(max_size=20),
)


def new_events(
    data: st.SearchStrategy[dict[str, Any]] = json_objects,
) -> st.SearchStrategy[NewEvent]:
    """Records of an arbitrary type name and JSON payload (the store does not decode them)."""
    return st.builds(
        NewEvent,
        event_id=st.uuids(),
        type=st.sampled_from(sorted(EVENT_TYPES)),
        schema_version=st.integers(min_value=1, max_value=3),
        occurred_at=utc_times,
        data=data,
        metadata=metadata,
    )
