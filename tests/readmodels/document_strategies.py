"""Hypothesis strategies for whole read-model documents, each consistent with itself.

Every map is keyed by the name its values carry (a stage under its ``stage_name``, …),
as the folds build them; names come from :data:`tests.strategies.names`, troublemakers
included, and counters reach past 32 bits.
"""

from __future__ import annotations

from hypothesis import strategies as st

from projections.documents import (
    JobLog,
    PipelineEntry,
    RepoConfigDocument,
    RunDocument,
    SessionDocument,
    StageLog,
)
from tests.strategies import commits, json_objects, keys, names, utc_times

statuses = st.sampled_from(["running", "success", "failed", "canceled"])
counts = st.integers(min_value=0, max_value=2**40)
job_logs = st.builds(
    JobLog,
    job_name=names,
    job_status=statuses,
    allows_failure=st.booleans(),
    start_time=utc_times,
    completion_time=st.none() | utc_times,
    job_logs=st.text(max_size=60),
    attempt=st.integers(min_value=1, max_value=5),
    log_chars=counts,
    log_truncated_chars=counts,
    log_chunks=counts,
)
stage_logs = st.builds(
    StageLog,
    stage_name=names,
    stage_status=statuses,
    start_time=utc_times,
    completion_time=st.none() | utc_times,
    jobs=st.lists(job_logs, max_size=3).map(lambda jobs: {each.job_name: each for each in jobs}),
)
runs = st.builds(
    RunDocument,
    run_id=st.uuids(),
    repo_name=names,
    repo_url=names,
    branch=names,
    pipeline_name=names,
    run_number=st.integers(min_value=1, max_value=2**31),
    git_commit_hash=commits,
    pipeline_config_used=json_objects,
    status=statuses,
    start_time=utc_times,
    completion_time=st.none() | utc_times,
    logs=st.lists(stage_logs, max_size=3).map(
        lambda logs: {each.stage_name: each for each in logs}
    ),
    trigger=st.sampled_from(["push", "manual", "schedule"]),
    actor=names,
    duration_ms=st.none() | counts,
    cancel_reason=st.none() | st.text(max_size=30),
)
pipeline_entries = st.builds(
    PipelineEntry,
    pipeline_name=names,
    pipeline_file_name=names,
    pipeline_config=json_objects,
    job_run_history=st.lists(st.uuids(), max_size=3).map(tuple),
    active=st.booleans(),
    running=st.booleans(),
    last_commit_hash=commits,
    validated_at=utc_times,
    running_runs=st.lists(st.uuids(), max_size=2).map(tuple),
)
repo_configs = st.builds(
    RepoConfigDocument,
    repo_name=names,
    repo_url=names,
    branch=names,
    pipelines=st.lists(pipeline_entries, max_size=4).map(
        lambda entries: {each.pipeline_name: each for each in entries}
    ),
)
sessions = st.builds(
    SessionDocument,
    user_id=keys,
    repo_name=keys,
    repo_url=keys,
    branch=keys,
    commit_hash=keys,
    is_remote=st.booleans(),
    time=utc_times,
    opened_at=utc_times,
)
