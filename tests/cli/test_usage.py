"""What every command shares: help, version, usage errors, exit codes."""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path

import pytest

from tests.cli.helpers import cirec, json_lines

COMMANDS = ["demo", "emit", "project", "rebuild", "verify", "status", "show"]


@pytest.mark.parametrize("args", [[], *[[name] for name in COMMANDS]], ids=str)
def test_help_exits_0_and_documents_the_shared_options(args: list[str]) -> None:
    result = cirec(*args, "--help")

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: cirec")
    assert "--db URL" in result.stdout
    assert "--json" in result.stdout


def test_top_level_help_lists_every_command() -> None:
    result = cirec("--help")

    assert all(f"    {name}" in result.stdout for name in COMMANDS), result.stdout


def test_version_prints_the_package_version() -> None:
    result = cirec("--version")

    assert result.returncode == 0
    assert result.stdout.strip() == f"cirec {version('cirec')}"


def test_unknown_subcommand_is_a_usage_error_naming_the_choices() -> None:
    result = cirec("dmeo")

    assert result.returncode == 2
    assert "invalid choice: 'dmeo'" in result.stderr
    assert "demo" in result.stderr.splitlines()[-1]


@pytest.mark.parametrize("command", ["project", "rebuild", "verify"])
@pytest.mark.parametrize(
    ("typed", "hint"),
    [
        ("session", "did you mean 'sessions'? "),
        ("jobs-history", "did you mean 'jobs_history'? "),
        ("x", ""),
    ],
)
def test_an_unknown_projection_is_a_usage_error_naming_the_closest(
    command: str, typed: str, hint: str
) -> None:
    result = cirec(command, "--projection", typed)

    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.splitlines()[-1].endswith(
        f"error: argument --projection: no read model named {typed!r};"
        f" {hint}(one of sessions, repo_configs, jobs_history)"
    )


def test_an_unknown_url_scheme_is_one_error_line(tmp_path: Path) -> None:
    result = cirec("--db", "mongdb://127.0.0.1/x", "status")

    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "cirec: error: url='mongdb://127.0.0.1/x': unknown scheme 'mongdb', "
        "expected one of ['mongodb', 'mongodb+srv', 'sqlite']; did you mean mongodb://?"
    ]


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("mongodb://ci:hunter2-not-real@[bad", "url='<unparseable URL>': Invalid IPv6 URL"),
        (
            "mongodb://ci:hunter2-not-real@127.0.0.1:1/x?w=1&badoption=1",
            "url='mongodb://ci:***@127.0.0.1:1/x?w=1&badoption=1': unknown option 'badoption'"
            " (the URL's options are pymongo's MongoClient's)",
        ),
        (
            "mongodb://ci:hunter2-not-real@127.0.0.1:1/x?serverSelectionTimeoutMS=abc",
            "url='mongodb://ci:***@127.0.0.1:1/x?serverSelectionTimeoutMS=abc': option"
            " 'serverSelectionTimeoutMS': serverselectiontimeoutms must be an integer or float",
        ),
        (
            "mongodb://ci:hunter2-not-real@127.0.0.1:99999/x",
            "url='mongodb://ci:***@127.0.0.1:99999/x': Port must be an integer between 0 and 65535",
        ),
    ],
)
def test_a_url_that_does_not_parse_is_one_usage_error_line_without_its_password(
    url: str, reason: str
) -> None:
    result = cirec("--db", url, "status")

    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.splitlines() == [f"cirec: error: {reason}"]


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["runs", "api", "ci", "--limit", "0"], "argument --limit: must be 1 or more, got 0"),
        (["runs", "api", "ci", "--limit", "-3"], "argument --limit: must be 1 or more, got -3"),
        (
            ["runs", "api", "ci", "--limit", "x"],
            "argument --limit: expected a whole number, got 'x'",
        ),
        (["run", "api", "ci", "0"], "argument RUN: must be 1 or more, got 0"),
        (
            ["log", "api", "ci", "1", "test", "unit", "--attempt", "0"],
            "argument --attempt: must be 1 or more, got 0",
        ),
        (
            ["log", "api", "ci", "1", "test", "unit", "--attempt", "latest"],
            "argument --attempt: expected a whole number, got 'latest'",
        ),
    ],
)
def test_a_number_out_of_range_is_a_usage_error_and_creates_no_store(
    tmp_path: Path, args: list[str], problem: str
) -> None:
    path = tmp_path / "events.sqlite3"
    result = cirec("--db", f"sqlite://{path}", "show", *args)

    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.splitlines()[-1].endswith(f"error: {problem}")
    assert not path.exists()


@pytest.mark.parametrize(
    "args", [["status"], ["verify"], ["show", "repos"], ["show", "runs", "api", "ci"]], ids=" ".join
)
def test_a_read_only_command_never_creates_a_store(tmp_path: Path, args: list[str]) -> None:
    path = tmp_path / "missing" / "events.sqlite3"
    result = cirec("--db", f"sqlite://{path}", *args)

    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr.splitlines() == [
        f"cirec: error: url='sqlite://{path}': no store at {path}: nothing has been recorded"
        " there (cirec emit creates it; reading never does)"
    ]
    assert not path.parent.exists()


@pytest.mark.parametrize(
    ("args", "kind", "exit_code", "field"),
    [
        (["show", "runs", "--limit", "0", "api", "build"], "UsageError", 2, None),
        (["--db", "mongodb://u:secret@[bad", "status"], "UsageError", 2, "url"),
        (["--db", "mongdb://127.0.0.1/x", "status"], "UsageError", 2, "url"),
        (["emit", "{}", "--file", "x.jsonl"], "UsageError", 2, "--file"),
    ],
    ids=["bad-number", "unparseable-url", "unknown-scheme", "exclusive-options"],
)
def test_with_json_a_failure_is_one_json_object_on_stdout(
    args: list[str], kind: str, exit_code: int, field: str | None
) -> None:
    result = cirec("--json", *args)
    assert result.returncode == exit_code, result.stderr
    [printed] = json_lines(result.stdout)
    error = printed["error"]
    assert (error["type"], error["exit_code"], error.get("field")) == (kind, exit_code, field)
    assert error["message"] in result.stderr  # the same words as the line for people
    assert "secret" not in result.stdout + result.stderr


def test_with_json_a_missing_store_is_a_json_error_naming_the_url(tmp_path: Path) -> None:
    path = tmp_path / "nowhere" / "events.sqlite3"
    result = cirec("--db", f"sqlite://{path}", "show", "repos", "--json")
    assert result.returncode == 1
    [printed] = json_lines(result.stdout)
    assert printed["error"]["type"] == "ConfigError"
    assert printed["error"]["field"] == "url"
    assert f"no store at {path}" in printed["error"]["message"]
    assert not path.parent.exists()


@pytest.mark.parametrize("interval", ["0", "-1", "nan", "inf", "soon"])
def test_watch_refuses_an_interval_that_is_no_positive_finite_number(interval: str) -> None:
    result = cirec("watch", "api", "build", "--interval", interval)
    assert result.returncode == 2
    assert "argument --interval:" in result.stderr.splitlines()[-1]
