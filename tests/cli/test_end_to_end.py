"""emit → project → show, status and verify: ``cirec`` as a subprocess on each store."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs

from cirec.config import open_read_models, open_read_side
from eventstore.codec import json_converter
from projections.jobs_history import JOBS_HISTORY
from projections.store import Change
from projections.stored_fields import FieldMismatch
from tests.cli.helpers import cirec, day_lines, json_lines
from tests.stored_copies import overwrite, tampering

API_URL = "https://git.example.com/acme/api.git"
SESSION_FIELDS = {"user_id", "repo_name", "repo_url", "branch", "commit_hash", "is_remote", "time"}
PIPELINE_FIELDS = {
    "pipeline_name",
    "pipeline_file_name",
    "pipeline_config",
    "job_run_history",
    "active",
    "running",
    "last_commit_hash",
}
RUN_FIELDS = {
    "pipeline_name",
    "run_number",
    "git_commit_hash",
    "pipeline_config_used",
    "status",
    "start_time",
    "completion_time",
    "logs",
}
STAGE_FIELDS = {"stage_name", "stage_status", "start_time", "completion_time"}
JOB_FIELDS = {
    "job_name",
    "job_status",
    "allows_failure",
    "start_time",
    "completion_time",
    "job_logs",
}


def emit_and_project(url: str, folder: Path) -> list[str]:
    lines = day_lines(folder)
    emitted = cirec("--db", url, "emit", stdin="\n".join(lines) + "\n")
    assert emitted.returncode == 0, emitted.stderr
    assert emitted.stdout.strip() == f"{len(lines)} appended, 0 already stored, 0 rejected"
    projected = cirec("--db", url, "project")
    assert projected.returncode == 0, projected.stderr
    return lines


def show(url: str, *args: str) -> list[Any]:
    result = cirec("--db", url, "show", *args, "--json")
    assert result.returncode == 0, result.stderr
    return json_lines(result.stdout)


def test_emit_project_show_gives_the_seed_shaped_documents(store_url: str, tmp_path: Path) -> None:
    emit_and_project(store_url, tmp_path)

    (session,) = show(store_url, "session", "alice")
    assert session.keys() >= SESSION_FIELDS
    assert (session["repo_name"], session["branch"], session["commit_hash"]) == (
        "api",
        "main",
        "a8f6e4d2",
    )
    configs = show(store_url, "repos", "api")
    assert {config["branch"] for config in configs} == {"main", "feature/login"}
    main = next(config for config in configs if config["branch"] == "main")
    assert set(main["pipelines"]) == {"build-and-test", "deploy"}
    for entry in main["pipelines"].values():
        assert entry.keys() >= PIPELINE_FIELDS
        assert (entry["active"], entry["running"]) == (True, False)
    runs = show(store_url, "runs", "api", "build-and-test")
    assert [(run["run_number"], run["status"]) for run in runs] == [
        (4, "success"),
        (3, "success"),
        (2, "failed"),
        (1, "success"),
    ]
    assert all(run.keys() >= RUN_FIELDS for run in runs)
    (failed,) = show(store_url, "run", "api", "build-and-test", "2")
    assert failed == runs[2]
    assert list(failed["logs"]) == ["build", "test"]  # the failed test stage skips publish
    test = failed["logs"]["test"]
    assert test.keys() >= STAGE_FIELDS
    assert test["stage_status"] == "failed"
    assert {name: job.keys() >= JOB_FIELDS for name, job in test["jobs"].items()} == {
        "unit": True,
        "lint": True,
    }
    assert test["jobs"]["lint"]["allows_failure"] is True
    (canceled,) = show(store_url, "run", "api", "deploy", "1", "--url", API_URL)
    assert canceled["status"] == "canceled"


def test_show_prints_what_the_read_models_hold(store_url: str, tmp_path: Path) -> None:
    emit_and_project(store_url, tmp_path)

    (run,) = show(store_url, "run", "api", "build-and-test", "2")
    store, runs = open_read_side(store_url)
    with store:
        stored = runs.run("api", API_URL, "build-and-test", 2)
    assert run == json_converter.unstructure(stored)
    log = cirec("--db", store_url, "show", "log", "api", "build-and-test", "2", "test", "unit")
    assert log.returncode == 0, log.stderr
    assert log.stdout == "$ pytest -q\nFAILED tests/test_login.py::test_expiry\n"


def test_show_of_something_missing_is_one_error_line(store_url: str, tmp_path: Path) -> None:
    emit_and_project(store_url, tmp_path)

    result = cirec("--db", store_url, "show", "run", "api", "build-and-test", "99")

    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == "cirec: error: no run #99 of pipeline 'build-and-test' of 'api'\n"


def test_status_shows_the_lag_and_then_zero_lag_after_project(
    store_url: str, tmp_path: Path
) -> None:
    lines = day_lines(tmp_path)
    assert cirec("--db", store_url, "emit", stdin="\n".join(lines)).returncode == 0

    before = cirec("--db", store_url, "status", "--json")
    assert before.returncode == 0, before.stderr
    (behind,) = json_lines(before.stdout)
    assert [(p["checkpoint"], p["lag_events"]) for p in behind["projections"]] == [
        (0, len(lines))
    ] * 3
    assert all(p["lag_seconds"] >= 0 for p in behind["projections"])

    assert cirec("--db", store_url, "project").returncode == 0
    after = cirec("--db", store_url, "status", "--json")
    (status,) = json_lines(after.stdout)
    assert status["head"] == len(lines)
    assert [p["projection"] for p in status["projections"]] == [
        "sessions",
        "repo_configs",
        "jobs_history",
    ]
    assert all(p["checkpoint"] == len(lines) for p in status["projections"])
    assert all((p["lag_events"], p["lag_seconds"]) == (0, 0) for p in status["projections"])
    assert status["store"] == store_url


def test_verify_passes_after_project_and_fails_on_a_tampered_document(
    store_url: str, tmp_path: Path
) -> None:
    emit_and_project(store_url, tmp_path)
    assert cirec("--db", store_url, "verify").returncode == 0
    healthy = cirec("--db", store_url, "verify", "--json")
    assert (healthy.returncode, json_lines(healthy.stdout)) == (
        0,
        [
            {"projection": name, "differing": 0}
            for name in ("sessions", "repo_configs", "jobs_history")
        ],
    )

    with open_read_models(store_url) as store:
        version = store.active_version(JOBS_HISTORY)
        key, stored = next(store.documents(JOBS_HISTORY, version))
        tampered = attrs.evolve(stored.document, status="success-ish")
        store.save(JOBS_HISTORY, version, [Change(key, tampered, stored.position, stored.position)])
    result = cirec("--db", store_url, "verify")

    assert result.returncode == 1
    assert f"jobs_history: document {key!r} differs in status" in result.stdout.splitlines()
    assert "jobs_history: 1 document differs" in result.stdout.splitlines()
    json_result = cirec("--db", store_url, "verify", "--json", "--projection", "jobs_history")
    difference, summary = json_lines(json_result.stdout)
    assert difference["fields"] == ["status"]
    assert difference["difference"]["stored"]["status"] == "success-ish"
    assert difference["difference"]["replayed"]["status"] != "success-ish"
    assert summary == {"projection": "jobs_history", "differing": 1}


def test_verify_fails_on_a_stored_query_value_its_document_does_not_give(
    store_url: str, backend: str, tmp_path: Path
) -> None:
    emit_and_project(store_url, tmp_path)
    with open_read_models(store_url) as store:
        version = store.active_version(JOBS_HISTORY)
        key, stored = next(store.documents(JOBS_HISTORY, version))
    name, value, expected = tampering(backend, stored.document)
    overwrite(store_url, JOBS_HISTORY, version, key, name, value)

    result = cirec("--db", store_url, "verify", "--projection", "jobs_history")

    assert result.returncode == 1, result.stderr
    mismatch = FieldMismatch(
        key, name, "column" if backend == "sqlite" else "field", value, expected
    )
    assert result.stdout.splitlines() == [
        f"jobs_history: document {key!r} {mismatch.describe()}",
        "jobs_history: 1 document differs",
    ]
    if backend == "sqlite":
        assert mismatch.describe() == f"column run_number holds {value}, its document {expected}"
    json_result = cirec("--db", store_url, "verify", "--json", "--projection", "jobs_history")
    assert json_result.returncode == 1
    difference, summary = json_lines(json_result.stdout)
    assert difference["fields"] == []
    assert difference["difference"]["mismatches"] == [json_converter.unstructure(mismatch)]
    assert difference["difference"]["mismatches"][0]["field"] == name
    assert summary == {"projection": "jobs_history", "differing": 1}


def test_rebuild_replays_into_a_new_version_and_verify_still_passes(
    store_url: str, tmp_path: Path
) -> None:
    lines = emit_and_project(store_url, tmp_path)

    result = cirec(
        "--db", store_url, "rebuild", "--projection", "jobs_history", "sessions", "--json"
    )

    assert result.returncode == 0, result.stderr
    sessions, rebuilt = json_lines(result.stdout)  # in catalog order
    assert (sessions["projection"], sessions["checkpoint"]) == ("sessions", len(lines))
    assert (rebuilt["projection"], rebuilt["checkpoint"]) == ("jobs_history", len(lines))
    with open_read_models(store_url) as store:
        assert store.active_version(JOBS_HISTORY) == rebuilt["version"]
    assert cirec("--db", store_url, "verify").returncode == 0
