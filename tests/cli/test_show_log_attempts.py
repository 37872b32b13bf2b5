"""``cirec show log`` and the kept tail tell one story, attempt by attempt, on each store.

Logs are recorded in this process (through the recorder, or raw past its gate, as an
older version may have written them), then projected and read by the real CLI.
"""

from __future__ import annotations

from collections.abc import Iterator
from uuid import uuid4

import pytest

from cirec.config import open_store
from eventstore.catalog import DomainEvent, JobLogChunkAppended, Status, Trigger
from eventstore.clock import utc_now
from eventstore.codec import Codec
from eventstore.recorder import Recorder, RunHandle
from eventstore.records import ANY, Metadata
from eventstore.store import EventStore
from tests.cli.helpers import cirec, json_lines

REPO, URL, PIPELINE, STAGE, JOB = "api", "https://git.example/api.git", "build", "test", "unit"
LOG = ("log", REPO, PIPELINE, "1", STAGE, JOB)


@pytest.fixture
def events(store_url: str) -> Iterator[EventStore]:
    """The event log of the test's store."""
    with open_store(store_url) as opened:
        yield opened


def start(recorder: Recorder) -> RunHandle:
    """Start run #1 of ``api``/``build`` with job ``unit`` of stage ``test`` running."""
    run = recorder.start_run(
        repo_name=REPO,
        repo_url=URL,
        branch="main",
        pipeline_name=PIPELINE,
        commit_hash="9f2c1e7",
        pipeline_config={},
        trigger=Trigger.PUSH,
    )
    recorder.start_stage(run, STAGE)
    recorder.start_job(run, STAGE, JOB)
    return run


def append_raw(events: EventStore, run: RunHandle, chunks: list[tuple[int, str]]) -> None:
    """Append chunks of attempt 1 with ``EventStore.append``: past the write side's checks."""
    codec = Codec()
    for index, content in chunks:
        event: DomainEvent = JobLogChunkAppended(
            run_id=run.run_id, stage_name=STAGE, job_name=JOB, chunk_index=index, content=content
        )
        record = codec.to_new_event(
            event,
            event_id=uuid4(),
            occurred_at=utc_now(),
            metadata=Metadata(correlation_id=run.run_id, actor="older-version"),
        )
        events.append(event.stream_id, [record], ANY)


def shown(store_url: str, *args: str) -> str:
    """Return what ``cirec show ARGS`` prints, checking it succeeded."""
    result = cirec("--db", store_url, "show", *args)
    assert (result.returncode, result.stderr) == (0, "")
    return result.stdout


def projected_tail(store_url: str) -> dict[str, object]:
    """Project the log, and return job ``unit`` of run #1 as ``show run --json`` gives it."""
    projected = cirec("--db", store_url, "project")
    assert projected.returncode == 0, projected.stderr
    (run,) = json_lines(shown(store_url, "run", REPO, PIPELINE, "1", "--json"))
    job: dict[str, object] = run["logs"][STAGE]["jobs"][JOB]
    return job


@pytest.mark.parametrize(
    ("chunks", "log"),
    [
        ([(0, "zero\n"), (1, "one\n"), (1, "ONE\n"), (2, "two\n")], "zero\none\ntwo\n"),
        ([(1, "one\n"), (0, "zero\n")], "zero\n"),
    ],
    ids=["index-resent-with-other-text", "out-of-order"],
)
def test_the_tail_and_show_log_agree_on_chunks_past_the_gate(
    store_url: str, events: EventStore, chunks: list[tuple[int, str]], log: str
) -> None:
    run = start(Recorder(events, actor="engine"))
    append_raw(events, run, chunks)

    job = projected_tail(store_url)
    full = shown(store_url, *LOG)

    assert full == log  # each index once, the first taken; none before the one it follows
    assert job["job_logs"] == full
    assert (job["log_chars"], job["log_truncated_chars"]) == (len(full), 0)


def test_show_log_gives_the_latest_attempt_and_attempt_n_the_one_asked_for(
    store_url: str, events: EventStore
) -> None:
    recorder = Recorder(events, actor="engine")
    run = start(recorder)
    recorder.append_log(run, STAGE, JOB, chunk_index=0, content="first try\n")
    recorder.append_log(run, STAGE, JOB, chunk_index=1, content="FAILED\n")
    recorder.finish_job(run, STAGE, JOB, Status.FAILED)
    recorder.start_job(run, STAGE, JOB, attempt=2)
    recorder.append_log(run, STAGE, JOB, chunk_index=0, content="second try\n")

    job = projected_tail(store_url)
    assert (job["attempt"], job["job_logs"]) == (2, "second try\n")
    assert shown(store_url, *LOG) == "second try\n"
    assert shown(store_url, *LOG, "--attempt", "2") == "second try\n"
    assert shown(store_url, *LOG, "--attempt", "1") == "first try\nFAILED\n"
    (as_json,) = json_lines(shown(store_url, *LOG, "--attempt", "1", "--json"))
    assert (as_json["attempt"], as_json["log"]) == (1, "first try\nFAILED\n")
    # An attempt over (a later one started) is followed to its end at once.
    assert shown(store_url, *LOG, "--attempt", "1", "--follow") == "first try\nFAILED\n"

    recorder.finish_job(run, STAGE, JOB, Status.SUCCESS)
    assert shown(store_url, *LOG, "--follow") == "second try\n"


@pytest.mark.parametrize("follow", [[], ["--follow"]], ids=["read", "follow"])
def test_an_attempt_that_never_ran_is_one_error_line_and_in_json_one_error_object(
    store_url: str, events: EventStore, follow: list[str]
) -> None:
    recorder = Recorder(events, actor="engine")
    run = start(recorder)
    recorder.finish_job(run, STAGE, JOB, Status.SUCCESS)
    recorder.finish_stage(run, STAGE, Status.SUCCESS)
    recorder.finish_run(run, Status.SUCCESS)
    projected_tail(store_url)
    message = "no attempt 2 of job 'unit' in stage 'test' of run #1 (attempts that ran: 1)"

    result = cirec("--db", store_url, "show", *LOG, "--attempt", "2", *follow)
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr.splitlines() == [f"cirec: error: {message}"]

    result = cirec("--db", store_url, "show", *LOG, "--attempt", "2", *follow, "--json")
    assert result.returncode == 1
    [printed] = json_lines(result.stdout)
    assert printed == {"error": {"type": "NotFoundError", "message": message, "exit_code": 1}}
