"""``cirec events`` as a subprocess on each store, and the reading and summary behind it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from cirec.cli.events import EventFilter, events_after, summary
from cirec.config import open_store
from eventstore import Recorder
from eventstore.catalog import Status, Trigger
from eventstore.store import EventStore
from tests.backends import BACKENDS, cleanup, fresh_url
from tests.cli.helpers import cirec, json_lines

URL = "https://git.example.com/api.git"


def record_log(store: EventStore) -> str:
    """Record a session and a short run (8 events); return the run's stream id.

    RunStarted goes to its pipeline's stream (where run numbers are taken); the run's
    other events to the run's own stream.
    """
    recorder = Recorder(store, actor="ci-engine")
    recorder.open_session(
        user_id="ada",
        repo_name="api",
        repo_url=URL,
        branch="main",
        commit_hash="aaaa1111",
        is_remote=True,
    )
    run = recorder.start_run(
        repo_name="api",
        repo_url=URL,
        branch="main",
        pipeline_name="build",
        commit_hash="aaaa1111",
        pipeline_config={"stages": ["test"]},
        trigger=Trigger.PUSH,
    )
    recorder.start_stage(run, "test")
    recorder.start_job(run, "test", "unit")
    recorder.append_log(run, "test", "unit", chunk_index=0, content="x" * 100)
    recorder.finish_job(run, "test", "unit", Status.SUCCESS)
    recorder.finish_stage(run, "test", Status.SUCCESS)
    recorder.finish_run(run, Status.SUCCESS)
    (started,) = [e for e in store.read_all() if e.type == "StageStarted"]
    return started.stream_id


@pytest.fixture(scope="module", params=BACKENDS)
def log(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str]]:
    """A store holding the log above (shared: tests only read), and the run's stream id."""
    url = fresh_url(str(request.param), tmp_path_factory.mktemp("events"))
    with open_store(url) as store:
        stream = record_log(store)
    yield url, stream
    cleanup(url)


def browse(url: str, *args: str) -> list[dict[str, object]]:
    result = cirec("--db", url, "events", *args, "--json")
    assert result.returncode == 0, result.stderr
    return json_lines(result.stdout)


def test_events_come_oldest_first_after_a_position_a_page_at_a_time(log: tuple[str, str]) -> None:
    url, _ = log
    every = browse(url)
    assert [e["position"] for e in every] == list(range(1, 9))
    assert every[0]["type"] == "SessionOpened"
    assert [e["position"] for e in browse(url, "--after", "3", "--limit", "2")] == [4, 5]
    assert browse(url, "--after", "8") == []


def test_type_and_stream_narrow_the_events(log: tuple[str, str]) -> None:
    url, stream = log
    assert [e["type"] for e in browse(url, "--type", "JobFinished")] == ["JobFinished"]
    of_run = browse(url, "--stream", stream)
    assert [e["stream_version"] for e in of_run] == list(range(1, 7))
    assert {e["stream_id"] for e in of_run} == {stream}
    narrowed = browse(url, "--stream", stream, "--type", "StageStarted", "--after", "2")
    assert [e["type"] for e in narrowed] == ["StageStarted"]
    assert browse(url, "--stream", stream, "--after", "8") == []
    assert browse(url, "--stream", "no such stream") == []


def test_the_table_shows_position_time_with_zone_type_stream_and_a_summary(
    log: tuple[str, str],
) -> None:
    url, _ = log
    result = cirec("--db", url, "events", "--type", "JobLogChunkAppended")
    assert result.returncode == 0, result.stderr
    header, line = result.stdout.splitlines()
    assert header.split() == ["position", "recorded", "at", "type", "stream", "summary"]
    assert line.split()[0] == "5"
    assert " UTC " in line
    assert "JobLogChunkAppended" in line
    assert "chunk_index=0" in line


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--type", "RunEnded"], "invalid choice: 'RunEnded'"),
        (["--after", "-1"], "must be 0 or more"),
        (["--limit", "0"], "must be 1 or more"),
    ],
)
def test_a_bad_option_is_a_usage_error(args: list[str], message: str, tmp_path: Path) -> None:
    result = cirec("--db", f"sqlite://{tmp_path / 'none.sqlite3'}", "events", *args)
    assert result.returncode == 2
    assert message in result.stderr


def test_events_after_reads_only_as_far_as_it_is_consumed(store: EventStore) -> None:
    stream = record_log(store)
    reading = events_after(store, 0, EventFilter(stream_id=stream))
    first = next(reading)
    assert (first.type, first.position) == ("StageStarted", 3)
    kept = list(events_after(store, 4, EventFilter(type="JobFinished")))
    assert [e.position for e in kept] == [6]


def test_a_summary_cuts_long_text_and_counts_collections(store: EventStore) -> None:
    record_log(store)
    by_type = {e.type: e for e in store.read_all()}
    chunk = summary(by_type["JobLogChunkAppended"])
    assert "content='" + "x" * 40 + "'…(100 chars)" in chunk
    assert "pipeline_config={1 keys}" in summary(by_type["RunStarted"])
    assert isinstance(by_type["RunStarted"].recorded_at, datetime)
