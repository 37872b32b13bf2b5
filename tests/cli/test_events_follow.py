"""``cirec events --follow``: the backlog, then each new event once, in order, until Ctrl-C.

The subprocess tests run a real follower on each store while the test itself appends
events through the Recorder in steps, and wait (bounded) for each step to be printed.
"""

from __future__ import annotations

import itertools
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from cirec.cli.events import EventFilter, follow_events
from cirec.config import open_store
from eventstore import Recorder
from eventstore.catalog import Status, Trigger
from eventstore.recording import Receipt
from eventstore.records import RecordedEvent
from eventstore.store import EventStore
from tests.cli.helpers import ROOT, TIMEOUT_SECONDS, cirec, clean_env, command, json_lines
from tests.cli.test_events import URL, record_log
from tests.faults.processes import Lines

STEPS = 3


def record_run(store: EventStore, pipeline: str) -> list[Receipt]:
    """Record a short run of ``pipeline`` with one job (6 events); return their receipts."""
    recorder = Recorder(store, actor="ci-engine")
    run = recorder.start_run(
        repo_name="api",
        repo_url=URL,
        branch="main",
        pipeline_name=pipeline,
        commit_hash="bbbb2222",
        pipeline_config={"stages": ["test"]},
        trigger=Trigger.PUSH,
    )
    return [
        recorder.start_stage(run, "test"),
        recorder.start_job(run, "test", "unit"),
        recorder.finish_job(run, "test", "unit", Status.SUCCESS),
        recorder.finish_stage(run, "test", Status.SUCCESS),
        recorder.finish_run(run, Status.SUCCESS),
    ]


class Follower:
    """A ``cirec events --follow`` child whose stdout is collected line by line."""

    def __init__(self, url: str, *args: str) -> None:
        self.process = subprocess.Popen(
            command("--db", url, "events", "--follow", "--interval", "0.05", *args),
            cwd=ROOT,
            env=clean_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        self.stdout = Lines(self.process.stdout)

    def interrupt(self) -> tuple[list[str], str]:
        """Send SIGINT (Ctrl-C), check it exits 130; return its stdout lines and its stderr."""
        assert self.process.poll() is None, "the follower ended by itself"
        self.process.send_signal(signal.SIGINT)
        self.process.wait(timeout=TIMEOUT_SECONDS)
        lines = self.stdout.text().splitlines()
        assert self.process.stderr is not None
        stderr = self.process.stderr.read()
        self.process.stderr.close()
        assert self.process.returncode == 130, stderr
        assert stderr.splitlines()[-1] == "cirec: interrupted", stderr
        return lines, stderr


@contextmanager
def following(url: str, *args: str) -> Iterator[Follower]:
    """Run a follower for the block; kill it if the block leaves it running."""
    follower = Follower(url, *args)
    try:
        yield follower
    finally:
        if follower.process.poll() is None:
            follower.process.kill()
            follower.process.wait(timeout=TIMEOUT_SECONDS)


def followed_events(lines: list[str]) -> list[dict[str, Any]]:
    """Return the events of a ``--json`` follower's output, checking it ends by the interrupt."""
    *events, last = json_lines("\n".join(lines))
    assert last == {"error": {"type": "Interrupted", "message": "interrupted", "exit_code": 130}}
    return events


def test_follow_prints_the_backlog_then_each_new_event_once_in_order(store_url: str) -> None:
    with open_store(store_url) as store:
        record_log(store)
        backlog = list(store.read_all())
        with following(store_url, "--json") as follower:
            follower.stdout.wait_for(str(backlog[-1].event_id), timeout=TIMEOUT_SECONDS)
            for step in range(STEPS):
                last = record_run(store, f"deploy-{step}")[-1]
                follower.stdout.wait_for(str(last.event_id), timeout=TIMEOUT_SECONDS)
            lines, _ = follower.interrupt()
        every = list(store.read_all())
    positions = [event["position"] for event in followed_events(lines)]
    assert all(a < b for a, b in itertools.pairwise(positions))
    assert positions == [event.position for event in every]  # none missing, none twice
    assert len(positions) == len(backlog) + STEPS * 6


def test_follow_keeps_the_type_asked_for_after_the_position_given(store_url: str) -> None:
    with open_store(store_url) as store:
        record_log(store)  # JobFinished at 6
        first = record_run(store, "deploy-0")[2]  # a JobFinished after 6: the backlog
        with following(store_url, "--json", "--type", "JobFinished", "--after", "6") as follower:
            follower.stdout.wait_for(str(first.event_id), timeout=TIMEOUT_SECONDS)
            for step in range(1, STEPS + 1):
                finished = record_run(store, f"deploy-{step}")[2]
                follower.stdout.wait_for(str(finished.event_id), timeout=TIMEOUT_SECONDS)
            lines, _ = follower.interrupt()
        expected = [e for e in store.read_all(6) if e.type == "JobFinished"]
    events = followed_events(lines)
    assert {event["type"] for event in events} == {"JobFinished"}
    assert [event["position"] for event in events] == [e.position for e in expected]
    assert [event["event_id"] for event in events] == [str(e.event_id) for e in expected]
    assert len(events) == 1 + STEPS


def test_follow_prints_one_header_and_rows_of_fixed_width(store_url: str) -> None:
    with open_store(store_url) as store:
        record_log(store)
        with following(store_url, "--type", "RunStarted") as follower:
            follower.stdout.wait_for(run_started(store, 1), timeout=TIMEOUT_SECONDS)
            record_run(store, "a-pipeline-with-a-much-longer-name-than-build")
            follower.stdout.wait_for(run_started(store, 2), timeout=TIMEOUT_SECONDS)
            lines, _ = follower.interrupt()
    header, *rows = lines
    assert header.split() == ["position", "recorded", "at", "type", "stream", "summary"]
    assert len(rows) == 2
    type_at = header.index("type")
    stream_at = header.index("stream")
    summary_at = header.index("summary")
    for line in rows:  # every column starts where its title does, whatever the rows hold
        assert line[type_at:].startswith("RunStarted ")
        assert line[stream_at - 2 : stream_at] == "  "
        assert line[stream_at] != " "
        assert line[summary_at - 2 : summary_at] == "  "
    assert [line.split()[0] for line in rows] == ["2", "9"]


def run_started(store: EventStore, number: int) -> str:
    """Return the run id of the ``number``-th RunStarted, as the table's summary shows it."""
    started = [e for e in store.read_all() if e.type == "RunStarted"]
    return f"run_id='{started[number - 1].data['run_id']}'"


class Stop(Exception):
    """Raised by a test's ``wait`` to end a follower."""


def test_follow_events_reads_a_stream_after_the_last_version_read(
    store: EventStore, store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The follower has a store of its own: the recorder's reads are not counted.
    record_run(store, "build")  # another run's stream: left out
    recorder = Recorder(store, actor="ci-engine")
    run = recorder.start_run(
        repo_name="api", repo_url=URL, branch="main", pipeline_name="deploy",
        commit_hash="cccc3333", pipeline_config={}, trigger=Trigger.PUSH,
    )  # fmt: skip
    first = recorder.start_stage(run, "test")  # version 1 of the run's stream, at --after
    reader = open_store(store_url)
    read_from: list[int] = []
    reading = reader.read_stream

    def read_stream(stream_id: str, *, after_version: int = 0) -> Iterator[RecordedEvent]:
        read_from.append(after_version)
        return reading(stream_id, after_version=after_version)

    monkeypatch.setattr(reader, "read_stream", read_stream)
    started: list[Receipt] = []

    def wait(seconds: float) -> None:
        assert seconds == 0.25
        if len(started) == STEPS:
            raise Stop
        open_session(recorder, f"c0ffee{len(started)}")  # in another stream: left out
        started.append(recorder.start_job(run, "test", f"job-{len(started)}"))

    where = EventFilter(stream_id=first.stream_id)
    got: list[RecordedEvent] = []
    with reader, pytest.raises(Stop):
        got.extend(follow_events(reader, first.position, where, wait))
    assert [(e.type, e.position) for e in got] == [("JobStarted", r.position) for r in started]
    assert read_from == list(range(STEPS + 1))  # each read after the last version read


def test_follow_events_reads_the_log_after_the_last_position_read_kept_or_not(
    store: EventStore, store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    record_log(store)  # JobFinished at 6 of 8
    recorder = Recorder(store, actor="ci-engine")
    reader = open_store(store_url)
    read_from: list[int] = []
    reading = reader.read_all

    def read_all(after: int = 0, **options: int) -> Iterator[RecordedEvent]:
        read_from.append(after)
        return reading(after, **options)

    monkeypatch.setattr(reader, "read_all", read_all)
    steps = iter(range(STEPS))

    def wait(seconds: float) -> None:
        step = next(steps, None)
        if step is None:
            raise Stop
        open_session(recorder, f"c0ffee{step}")  # not a JobFinished

    got: list[RecordedEvent] = []
    with reader, pytest.raises(Stop):
        got.extend(follow_events(reader, 0, EventFilter(type="JobFinished"), wait))
    assert [(e.type, e.position) for e in got] == [("JobFinished", 6)]
    assert read_from == [0, *range(8, 8 + STEPS)]  # not from 6, the last event kept


def open_session(recorder: Recorder, commit: str) -> None:
    """Record a session event (in a session's stream, not a run's)."""
    recorder.open_session(
        "ada", repo_name="api", repo_url=URL, branch="main", commit_hash=commit, is_remote=True
    )


def test_limit_with_follow_is_a_usage_error(store: EventStore, store_url: str) -> None:
    record_log(store)
    result = cirec("--db", store_url, "events", "--follow", "--limit", "5")
    assert result.returncode == 2, result.stderr
    assert "--limit='5': --follow prints every matching event" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("interval", ["0", "-1", "nan", "inf", "soon"])
def test_an_interval_not_above_0_is_a_usage_error(interval: str, tmp_path: Path) -> None:
    url = f"sqlite://{tmp_path / 'none.sqlite3'}"
    result = cirec("--db", url, "events", "--follow", "--interval", interval)
    assert result.returncode == 2, result.stderr
    assert "argument --interval: " in result.stderr
