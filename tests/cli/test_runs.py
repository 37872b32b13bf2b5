"""``cirec runs`` and ``cirec show runs`` as subprocesses, on each store.

One small CI history is recorded and projected once per store (the tests only read it):
two repositories named ``api`` with different URLs, a repository whose pipeline was never
validated, a run still running and a success with an allowed failure.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from cirec.config import open_read_side, open_store
from eventstore import Recorder
from eventstore.catalog import Status, Trigger
from eventstore.clock import to_millis, utc_now
from projections.catalog import PROJECTIONS
from projections.worker import Projector
from tests.backends import BACKENDS, cleanup, fresh_url
from tests.cli.helpers import cirec, json_lines

API_ONE = "https://git.example.com/one/api.git"
API_TWO = "https://git.example.com/two/api.git"
WEB = "https://git.example.com/web.git"
LONELY = "https://git.example.com/lonely.git"
COMMIT_A = "aaaa1111" + "0" * 32
COMMIT_B = "bbbb2222" + "0" * 32


class Clock:
    """The emitter's clock: set to a moment, then one second later at every reading."""

    def __init__(self) -> None:
        self.now = utc_now()

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


def record_history(url: str, now: datetime) -> None:
    clock = Clock()
    with open_store(url) as store:
        recorder = Recorder(store, actor="ci-engine", clock=clock)
        recorder.pipeline_validated(
            repo_name="web",
            repo_url=WEB,
            branch="main",
            pipeline_name="deploy",
            pipeline_file_name=".cirec/deploy.yml",
            pipeline_config={"stages": ["ship"]},
            commit_hash="cccc3333",
        )

        def start(at: timedelta, repo: str, repo_url: str, pipeline: str, **rest: Any) -> Any:
            clock.now = now - at
            return recorder.start_run(
                repo_name=repo,
                repo_url=repo_url,
                pipeline_name=pipeline,
                pipeline_config={"stages": ["test"]},
                **rest,
            )

        a = start(
            timedelta(days=3), "api", API_ONE, "build", branch="main", commit_hash=COMMIT_A,
            trigger=Trigger.PUSH, actor="ada",
        )  # fmt: skip
        recorder.start_stage(a, "test")
        recorder.start_job(a, "test", "lint", allows_failure=True)
        recorder.finish_job(a, "test", "lint", Status.FAILED)
        recorder.finish_stage(a, "test", Status.SUCCESS)
        recorder.finish_run(a, Status.SUCCESS)
        b = start(
            timedelta(hours=5), "api", API_TWO, "build", branch="dev", commit_hash=COMMIT_B,
            trigger=Trigger.PULL_REQUEST, actor="bob",
        )  # fmt: skip
        recorder.finish_run(b, Status.FAILED)
        d = start(
            timedelta(hours=2), "lonely", LONELY, "nightly", branch="main",
            commit_hash="dddd4444", trigger=Trigger.SCHEDULE, actor="carol",
        )  # fmt: skip
        recorder.cancel_run(d, "superseded")
        start(
            timedelta(minutes=30), "web", WEB, "deploy", branch="main", commit_hash="cccc3333",
            trigger=Trigger.MANUAL, actor="ada",
        )  # fmt: skip
        read_models, _ = open_read_side(url)
        with read_models:
            Projector(store, read_models, PROJECTIONS).catch_up()


@pytest.fixture(scope="module", params=BACKENDS)
def history(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The URL of a store holding the history above, projected (shared: tests only read)."""
    url = fresh_url(str(request.param), tmp_path_factory.mktemp("runs"))
    record_history(url, to_millis(utc_now()))
    yield url
    cleanup(url)


def found(url: str, *args: str) -> list[str]:
    """Return the actor and pipeline of each run ``cirec runs ARGS --json`` prints, in order."""
    result = cirec("--db", url, "runs", *args, "--json")
    assert result.returncode == 0, result.stderr
    return [f"{run['repo_name']}/{run['pipeline_name']}" for run in json_lines(result.stdout)]


NEWEST_FIRST = ["web/deploy", "lonely/nightly", "api/build", "api/build"]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ([], NEWEST_FIRST),
        (["--repo", "api"], ["api/build", "api/build"]),
        (["--repo", "api", "--url", API_ONE], ["api/build"]),
        (["--url", API_TWO], ["api/build"]),
        (["--pipeline", "deploy"], ["web/deploy"]),
        (["--branch", "dev"], ["api/build"]),
        (["--status", "running"], ["web/deploy"]),
        (["--status", "canceled"], ["lonely/nightly"]),
        (["--commit", "aaaa"], ["api/build"]),
        (["--commit", COMMIT_B, "--repo", "api"], ["api/build"]),
        (["--actor", "ada"], ["web/deploy", "api/build"]),
        (["--actor", "nobody"], []),
        (["--since", "4h"], ["web/deploy", "lonely/nightly"]),
        (["--since", "1d"], NEWEST_FIRST[:3]),
        (["--limit", "2"], NEWEST_FIRST[:2]),
        (["--limit", "2", "--page", "2"], NEWEST_FIRST[2:]),
        (["--limit", "3", "--page", "3"], []),
    ],
    ids=lambda value: " ".join(value) if isinstance(value, list) else None,
)
def test_each_option_narrows_the_runs_found(
    history: str, args: list[str], expected: list[str]
) -> None:
    assert found(history, *args) == expected


def test_an_iso_since_is_a_moment_in_any_zone(history: str) -> None:
    (latest,) = json_lines(cirec("--db", history, "runs", "--limit", "1", "--json").stdout)
    started = datetime.fromisoformat(latest["start_time"])
    moment = started.astimezone().isoformat()  # this machine's zone, with its offset
    assert found(history, "--since", moment) == ["web/deploy"]
    naive = started.replace(tzinfo=None).isoformat()  # no zone: UTC
    assert found(history, "--since", naive) == ["web/deploy"]


def test_the_commit_filter_and_json_give_whole_hashes(history: str) -> None:
    result = cirec("--db", history, "runs", "--commit", "bbbb", "--json")
    (run,) = json_lines(result.stdout)
    assert run["git_commit_hash"] == COMMIT_B
    assert run["repo_url"] == API_TWO


def test_the_table_tells_namesakes_apart_and_marks_warnings_and_running_runs(
    history: str,
) -> None:
    result = cirec("--db", history, "runs")
    assert result.returncode == 0, result.stderr
    header, *rows = result.stdout.splitlines()
    assert header.split() == [
        "run", "repo", "url", "pipeline", "branch", "status", "commit", "trigger", "actor",
        "started", "started", "at", "duration",
    ]  # fmt: skip
    web, lonely, two, one = rows
    assert "warning" in one.split()
    assert API_ONE in one
    assert "3 days ago" in one
    assert "aaaa1111" in one.split()
    assert COMMIT_A not in one
    assert "failed" in two.split()
    assert API_TWO in two
    assert "5 h ago" in two
    assert "running" in web.split()
    assert "min ago" in web  # 30 when recorded
    assert web.endswith(" so far")
    assert "canceled" in lonely.split()
    assert "UTC" in lonely
    started_at = next(part for part in web.split("  ") if part.strip().endswith("UTC"))
    datetime.strptime(started_at.strip(), "%Y-%m-%d %H:%M UTC")


def test_the_table_has_no_url_column_when_names_are_unique(history: str) -> None:
    result = cirec("--db", history, "runs", "--url", API_ONE)
    header, row = result.stdout.splitlines()
    assert "url" not in header.split()
    assert API_ONE not in row


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--status", "done"], "invalid choice: 'done'"),
        (["--since", "yesterday"], "expected an age (30m, 2h, 3d, 1w) or an ISO time"),
        (["--page", "0"], "must be 1 or more"),
        (["--limit", "x"], "expected a whole number"),
    ],
)
def test_a_bad_option_is_a_usage_error(args: list[str], message: str, tmp_path: Path) -> None:
    result = cirec("--db", f"sqlite://{tmp_path / 'none.sqlite3'}", "runs", *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert not (tmp_path / "none.sqlite3").exists()


def test_show_runs_of_a_repository_without_a_validated_pipeline(history: str) -> None:
    # Before: "no repository named 'lonely' in repo_configs; give --url".
    result = cirec("--db", history, "show", "runs", "lonely", "nightly", "--json")
    assert result.returncode == 0, result.stderr
    (run,) = json_lines(result.stdout)
    assert (run["repo_url"], run["status"]) == (LONELY, "canceled")


def test_show_runs_of_nothing_says_so_without_blaming_the_url(history: str) -> None:
    result = cirec("--db", history, "show", "runs", "nobody", "build")
    assert result.returncode == 1
    assert result.stderr == "cirec: error: no runs of pipeline 'build' of repository 'nobody'\n"


def test_show_runs_asks_for_the_url_only_when_names_collide(history: str) -> None:
    result = cirec("--db", history, "show", "runs", "api", "build")
    assert result.returncode == 1
    assert "--url" in result.stderr
    assert API_ONE in result.stderr
    assert API_TWO in result.stderr
    chosen = cirec("--db", history, "show", "runs", "api", "build", "--url", API_TWO, "--json")
    assert [run["repo_url"] for run in json_lines(chosen.stdout)] == [API_TWO]


def test_show_run_and_log_find_a_repository_no_pipeline_was_validated_for(history: str) -> None:
    # Before, both blamed the URL: "no repository named 'lonely' in repo_configs; give --url".
    shown = cirec("--db", history, "show", "run", "lonely", "nightly", "1", "--json")
    assert shown.returncode == 0, shown.stderr
    assert json_lines(shown.stdout)[0]["repo_url"] == LONELY
    log = cirec("--db", history, "show", "log", "lonely", "nightly", "1", "s", "j")
    assert log.returncode == 1
    assert log.stderr == "cirec: error: no job 'j' in stage 's' of run #1\n"


def test_show_repos_tells_namesakes_apart_by_url(store_url: str) -> None:
    with open_store(store_url) as store:
        recorder = Recorder(store, actor="ci-engine")
        for repo_url in (API_ONE, API_TWO):
            recorder.pipeline_validated(
                repo_name="api",
                repo_url=repo_url,
                branch="main",
                pipeline_name="build",
                pipeline_file_name=".cirec/build.yml",
                pipeline_config={},
                commit_hash="aaaa1111",
            )
    assert cirec("--db", store_url, "project").returncode == 0
    table = cirec("--db", store_url, "show", "repos").stdout.splitlines()
    assert table[0].split()[:3] == ["repo", "url", "branch"]
    assert sorted(row.split()[1] for row in table[1:]) == sorted([API_ONE, API_TWO])
