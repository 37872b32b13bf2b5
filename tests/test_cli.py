"""The ``cirec`` command, run as a subprocess against each real store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest

from eventstore.config import open_store
from eventstore.records import RecordedEvent

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT_SECONDS = 120

JOB = ["JobStarted", "JobLogChunkAppended", "JobLogChunkAppended", "JobFinished"]
SESSION_AND_PIPELINE = [
    "SessionOpened",
    "PipelineValidationFailed",
    "SessionAccessed",
    "PipelineValidated",
    "PipelineActivated",
]
BUILD = ["StageStarted", *JOB, "StageFinished"]
TEST = ["StageStarted", *JOB, *JOB, "StageFinished"]
DEPLOY = ["StageStarted", *JOB, "StageFinished"]
FIRST_RUN = ["RunStarted", *BUILD, *TEST, *DEPLOY, "RunFinished"]
CANCELED_RUN = [
    "RunStarted",
    *BUILD,
    "StageStarted",
    "JobStarted",
    "JobLogChunkAppended",
    "RunCanceled",
    "RunFinished",
]
DEMO_TYPES = [*SESSION_AND_PIPELINE, *FIRST_RUN, *CANCELED_RUN]

CANARY = "s3cret-pw"  # the password in the URL below, which no output may show
UNREACHABLE = f"mongodb://user:{CANARY}@127.0.0.1:1/x?serverSelectionTimeoutMS=300"


def cirec(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "eventstore.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
        check=False,
    )


def stored_events(url: str) -> list[RecordedEvent]:
    with open_store(url) as store:
        return list(store.read_all())


def table_types(stdout: str) -> list[str]:
    header, *rows = stdout.splitlines()
    start = header.index("type")
    return [row[start:].split()[0] for row in rows]


def of_type(events: list[RecordedEvent], name: str) -> list[dict[str, Any]]:
    return [event.data for event in events if event.type == name]


def test_demo_prints_its_events_in_order_and_stores_them(store_url: str, backend: str) -> None:
    result = cirec("--db", store_url, "demo")

    assert result.returncode == 0, result.stderr
    assert table_types(result.stdout) == DEMO_TYPES
    events = stored_events(store_url)
    assert [event.type for event in events] == DEMO_TYPES
    assert [event.position for event in events] == list(range(1, len(DEMO_TYPES) + 1))
    assert [data["run_number"] for data in of_type(events, "RunStarted")] == [1, 2]
    assert [data["status"] for data in of_type(events, "RunFinished")] == ["success", "canceled"]
    stages = {(d["stage_name"], d["status"]) for d in of_type(events, "StageFinished")}
    assert ("test", "success") in stages  # lint failed, but it was allowed to
    assert {event.metadata.actor for event in events} == {"cirec-demo"}
    summary = f"{len(DEMO_TYPES)} events stored in {backend} store at "
    assert result.stderr.startswith(summary)


def test_demo_table_columns_are_aligned_and_long_cells_clipped(store_url: str) -> None:
    result = cirec("--db", store_url, "demo")

    header, *rows = result.stdout.splitlines()
    starts = [header.index(title) for title in ("type", "stream", "summary")]
    for row in rows:
        assert all(row[start - 2 : start] == "  " and row[start] != " " for start in starts), row
    assert any("…" in row for row in rows)  # repository stream ids are longer than the column


def test_demo_json_prints_one_stored_event_per_line(store_url: str) -> None:
    result = cirec("--db", store_url, "demo", "--json")

    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    printed = [json.loads(line) for line in result.stdout.splitlines()]
    positions = [event["position"] for event in printed]
    assert positions == sorted(set(positions))
    stored = stored_events(store_url)
    assert [(e["type"], e["event_id"]) for e in printed] == [
        (e.type, str(e.event_id)) for e in stored
    ]
    assert [e["type"] for e in printed] == DEMO_TYPES


def test_demo_again_appends_a_second_session_with_the_next_run_numbers(store_url: str) -> None:
    assert cirec("--db", store_url, "demo").returncode == 0
    again = cirec("--json", "--db", store_url, "demo")

    assert again.returncode == 0, again.stderr
    first_position = json.loads(again.stdout.splitlines()[0])["position"]
    assert first_position == len(DEMO_TYPES) + 1
    events = stored_events(store_url)
    assert [event.type for event in events] == DEMO_TYPES * 2
    assert [data["run_number"] for data in of_type(events, "RunStarted")] == [1, 2, 3, 4]


def test_demo_without_a_url_uses_the_embedded_store_at_the_configured_path(
    tmp_path: Path,
) -> None:
    path = tmp_path / "data" / "events.sqlite3"
    env = {key: value for key, value in os.environ.items() if key != "MONGO_DB_URL"}
    env["CIREC_SQLITE_PATH"] = str(path)

    result = cirec("demo", env=env)

    assert result.returncode == 0, result.stderr
    assert path.is_file()
    assert f"sqlite store at sqlite://{path}" in result.stderr
    assert [event.type for event in stored_events(f"sqlite://{path}")] == DEMO_TYPES


@pytest.mark.parametrize("args", [["--help"], ["demo", "--help"]])
def test_help_exits_0(args: list[str]) -> None:
    result = cirec(*args)

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: cirec")
    assert "--db URL" in result.stdout


def test_version_prints_the_package_version() -> None:
    result = cirec("--version")

    assert result.returncode == 0
    assert result.stdout.strip() == f"cirec {version('cirec')}"


def test_unknown_subcommand_is_a_usage_error_naming_the_choices() -> None:
    result = cirec("dmeo")

    assert result.returncode == 2
    assert "invalid choice: 'dmeo'" in result.stderr
    assert "demo" in result.stderr.splitlines()[-1]


def test_unreachable_store_is_one_error_line_without_the_password() -> None:
    started = time.monotonic()
    result = cirec("--db", UNREACHABLE, "demo")

    assert result.returncode == 1
    # The URL's serverSelectionTimeoutMS=300 beats the client's 10 s default.
    assert time.monotonic() - started < 5
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("cirec: error: mongodb store: connecting to mongodb://user:***@")
    assert "Traceback" not in result.stderr
    assert CANARY not in result.stdout + result.stderr
