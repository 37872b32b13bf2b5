"""No output of any command ever shows the password of the store URL."""

from __future__ import annotations

import time

import pytest

from tests.cli.helpers import cirec, clean_env

CANARY = "s3cret-pw"
UNREACHABLE = f"mongodb://user:{CANARY}@127.0.0.1:1/x?serverSelectionTimeoutMS=300"
EVENT = '{"type": "SessionOpened"}'

FAILING = [
    ["demo", "--db", UNREACHABLE],  # without --db the demo plays into its own file
    ["emit", EVENT],
    ["project"],
    ["project", "--projection", "sessions"],
    ["rebuild"],
    ["verify"],
    ["status"],
    ["show", "session", "alice"],
    ["show", "repos"],
    ["show", "runs", "api", "build"],
    ["show", "run", "api", "build", "1"],
    ["show", "log", "api", "build", "1", "test", "unit"],
]
HELP = [
    ["--help"],
    ["demo", "--help"],
    *[[args[0], "--help"] for args in FAILING if len(args) == 1],
    ["emit", "--help"],
    ["show", "--help"],
    *[["show", view, "--help"] for view in ("session", "repos", "runs", "run", "log")],
]
USAGE_ERRORS = [
    ["project", "--projection", "nope"],
    ["status", UNREACHABLE],
    ["show", "run", "api", "build", "not-a-number"],
    ["show"],
]


@pytest.mark.parametrize("args", FAILING, ids=" ".join)
def test_a_command_that_cannot_reach_the_store_never_prints_the_password(
    args: list[str],
) -> None:
    result = cirec(*args, env=clean_env(MONGO_DB_URL=UNREACHABLE))

    assert result.returncode == 1
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()  # one line, no traceback
    assert line.startswith("cirec: error: mongodb store: connecting to mongodb://user:***@")
    assert CANARY not in result.stdout + result.stderr


def test_an_unreachable_store_fails_within_the_urls_timeout() -> None:
    started = time.monotonic()
    result = cirec("--db", UNREACHABLE, "status")

    assert result.returncode == 1
    # The URL's serverSelectionTimeoutMS=300 beats the client's 10 s default.
    assert time.monotonic() - started < 5
    # One line saying what was tried and for how long, not the driver's topology dump.
    (line,) = result.stderr.splitlines()
    assert (
        "failed: ServerSelectionTimeoutError: no server could be selected within 0.3 s"
        " (serverSelectionTimeoutMS); last error: 127.0.0.1:1: [Errno 111] Connection refused"
    ) in line
    assert "Topology" not in line


@pytest.mark.parametrize("args", HELP, ids=" ".join)
def test_help_never_prints_the_password(args: list[str]) -> None:
    result = cirec(*args, env=clean_env(MONGO_DB_URL=UNREACHABLE))

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: cirec")
    assert CANARY not in result.stdout + result.stderr


@pytest.mark.parametrize("args", USAGE_ERRORS, ids=" ".join)
def test_a_usage_error_never_prints_the_password(args: list[str]) -> None:
    result = cirec(*args, "--db", UNREACHABLE, env=clean_env(MONGO_DB_URL=UNREACHABLE))

    assert result.returncode == 2
    assert "usage: cirec" in result.stderr
    assert CANARY not in result.stdout + result.stderr
