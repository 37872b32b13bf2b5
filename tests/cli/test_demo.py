"""``cirec demo``: a CI day recorded, projected and shown, on each store."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from cirec.config import open_store
from eventstore.records import RecordedEvent
from tests.cli.helpers import cirec, clean_env, json_lines

DAY_STATUSES = ["success", "failed", "success", "success", "canceled", "failed", "success"]


def stored_events(url: str) -> list[RecordedEvent]:
    with open_store(url) as store:
        return list(store.read_all())


def test_demo_records_a_day_and_shows_its_read_models(store_url: str, backend: str) -> None:
    result = cirec("--db", store_url, "demo")

    assert result.returncode == 0, result.stderr
    titles = [line for line in result.stdout.splitlines() if line and " " not in line]
    assert titles == ["sessions", "repo_configs", "jobs_history"]
    runs = result.stdout.split("jobs_history\n")[1].splitlines()[1:]
    assert [row.split()[4] for row in runs] == DAY_STATUSES
    events = stored_events(store_url)
    assert result.stderr == (
        f"{len(events)} events recorded and projected in the {backend} store at {store_url}\n"
    )
    types = Counter(event.type for event in events)
    assert types["RunStarted"] == len(DAY_STATUSES)
    assert types["PipelineValidationFailed"] == 1
    assert types["RunCanceled"] == 1
    repos = {(e.data["repo_name"], e.data["branch"]) for e in events if e.type == "RunStarted"}
    assert repos == {("api", "main"), ("api", "feature/login"), ("web", "main")}
    allowed = [e.data for e in events if e.type == "JobStarted" and e.data["allows_failure"]]
    assert allowed
    assert {event.metadata.actor for event in events} == {"cirec-demo"}
    assert cirec("--db", store_url, "verify").returncode == 0


def test_demo_json_prints_one_document_per_line(store_url: str) -> None:
    result = cirec("--db", store_url, "demo", "--json")

    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    printed = json_lines(result.stdout)
    kinds = Counter(line["read_model"] for line in printed)
    assert kinds == {"sessions": 3, "repo_configs": 3, "jobs_history": len(DAY_STATUSES)}
    runs = [line["document"] for line in printed if line["read_model"] == "jobs_history"]
    assert [run["status"] for run in runs] == DAY_STATUSES
    lint = runs[0]["logs"]["test"]["jobs"]["lint"]
    assert (lint["job_status"], lint["allows_failure"]) == ("failed", True)
    assert runs[0]["logs"]["test"]["stage_status"] == "success"


def test_demo_again_records_another_day_with_the_next_run_numbers(store_url: str) -> None:
    assert cirec("--db", store_url, "demo").returncode == 0
    again = cirec("--json", "--db", store_url, "demo")

    assert again.returncode == 0, again.stderr
    runs = [line["document"] for line in json_lines(again.stdout)]
    numbers = [run["run_number"] for run in runs if run.get("pipeline_name") == "build-and-test"]
    assert numbers == [5, 6, 7, 8]


def test_demo_without_a_url_uses_the_embedded_store_at_the_configured_path(
    tmp_path: Path,
) -> None:
    path = tmp_path / "data" / "events.sqlite3"

    result = cirec("demo", env=clean_env(CIREC_SQLITE_PATH=str(path)))

    assert result.returncode == 0, result.stderr
    assert path.is_file()
    assert f"in the sqlite store at sqlite://{path}" in result.stderr
    assert len(stored_events(f"sqlite://{path}")) > 100
