"""Big logs and users' names, end to end: recorder, projector, read models, queries."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from cirec.config import open_read_side, open_store
from eventstore.catalog import Status, Trigger
from eventstore.codec import dump_json, json_converter
from eventstore.recorder import Recorder, RunHandle
from eventstore.store import EventStore
from eventstore.streams import repo_stream
from projections.catalog import PROJECTIONS
from projections.documents import RunDocument
from projections.jobs_history import JOBS_HISTORY
from projections.log_tails import MAX_JOB_TAIL_BYTES
from projections.logs import full_job_log
from projections.repo_configs import REPO_CONFIGS
from projections.run_queries import RunQueries
from projections.sessions import SESSIONS
from projections.sizes import text_cost
from projections.store import ReadModelStore
from projections.worker import Projector

MIB = 1024 * 1024
TRICKY = ["deploy.prod", "$where", "", "a\x00b", "n" * 1000]
REPO_NAME, REPO_URL = "api", "https://git.example.com/acme/api.git"


Stores = tuple[EventStore, ReadModelStore, RunQueries]


@pytest.fixture
def stores(store_url: str) -> Iterator[Stores]:
    read_models, runs = open_read_side(store_url)
    with open_store(store_url) as events, read_models:
        yield events, read_models, runs


def project(events: EventStore, read_models: ReadModelStore) -> None:
    Projector(events, read_models, [SESSIONS, REPO_CONFIGS, JOBS_HISTORY]).catch_up()


def start(recorder: Recorder, pipeline: str, branch: str) -> RunHandle:
    return recorder.start_run(
        repo_name=REPO_NAME,
        repo_url=REPO_URL,
        branch=branch,
        pipeline_name=pipeline,
        commit_hash="9f2c1e7",
        pipeline_config={"matrix": [[1, 2], [3]], "$set": {"a.b": pipeline}},
        trigger=Trigger.PUSH,
    )


LOG_MIB = {"sqlite": 40, "mongodb": 4}
"""The job log's size. On FerretDB v1 every append's id query decodes the whole log
(docs/architecture.md, "What FerretDB v1 pushes down"), so 320 appends of a 40 MiB log
took over ten minutes there; 4 MiB is still 64 times the largest tail."""


@pytest.mark.slow
def test_a_job_log_of_many_mib_projects_bounded_and_reads_back_exactly(
    stores: Stores, backend: str
) -> None:
    events, read_models, _ = stores
    recorder = Recorder(events, actor="runner")
    run = recorder.start_run(
        repo_name=REPO_NAME,
        repo_url=REPO_URL,
        branch="main",
        pipeline_name="build",
        commit_hash="9f2c1e7",
        pipeline_config={},
        trigger=Trigger.PUSH,
    )
    recorder.start_stage(run, "test")
    recorder.start_job(run, "test", "unit")
    line = "collected ✓ 128 items \x00 in 4.2 s\r\n"
    chunk_chars = 128 * 1024
    chunks = [
        (f"[{index:05d}] " + line * chunk_chars)[:chunk_chars]
        for index in range(LOG_MIB[backend] * MIB // chunk_chars)
    ]
    for index, content in enumerate(chunks):
        recorder.append_log(run, "test", "unit", chunk_index=index, content=content)
    recorder.finish_job(run, "test", "unit", Status.SUCCESS)
    project(events, read_models)

    document = read_models.get(JOBS_HISTORY, str(run.run_id))
    assert isinstance(document, RunDocument)
    job = document.logs["test"].jobs["unit"]
    whole = "".join(chunks)
    assert len(whole) == LOG_MIB[backend] * MIB
    kept = len(job.job_logs)
    assert whole.endswith(job.job_logs)
    assert text_cost(job.job_logs) <= MAX_JOB_TAIL_BYTES < text_cost(whole[-kept - 1 :])
    assert (job.log_chars, job.log_truncated_chars, job.log_chunks) == (
        len(whole),
        len(whole) - kept,
        len(chunks),
    )
    for projection in PROJECTIONS:
        for _, stored in read_models.documents(projection, read_models.active_version(projection)):
            assert len(dump_json(json_converter.unstructure(stored.document)).encode()) < 16 * MIB
    assert full_job_log(events, run.run_id, "test", "unit") == whole


def test_users_names_round_trip_through_every_read_model(
    stores: Stores,
) -> None:
    events, read_models, runs_of = stores
    recorder = Recorder(events, actor="engine")
    runs = {}
    for name in TRICKY:
        recorder.pipeline_validated(
            repo_name=REPO_NAME,
            repo_url=REPO_URL,
            branch=name or "main",
            pipeline_name=name,
            pipeline_file_name=name,
            pipeline_config={name: [[name]]},
            commit_hash="9f2c1e7",
        )
        run = start(recorder, pipeline=name, branch=name or "main")
        runs[name] = run
        recorder.start_stage(run, name)
        recorder.start_job(run, name, name)
        recorder.append_log(run, name, name, chunk_index=0, content=name)
        recorder.finish_job(run, name, name, Status.SUCCESS)
    project(events, read_models)

    for name, run in runs.items():
        document = runs_of.run(REPO_NAME, REPO_URL, name, 1)
        assert document is not None
        assert document.pipeline_name == name
        assert document.pipeline_config_used == {"matrix": [[1, 2], [3]], "$set": {"a.b": name}}
        assert document.logs[name].jobs[name].job_logs == name
        assert full_job_log(events, run.run_id, name, name) == name
        config = read_models.get(REPO_CONFIGS, repo_stream(REPO_NAME, REPO_URL, name or "main"))
        assert config is not None
        assert config.pipelines[name].pipeline_config == {name: [[name]]}
        assert config.pipelines[name].job_run_history == (run.run_id,)
