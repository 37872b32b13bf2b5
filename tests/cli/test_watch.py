"""``cirec watch`` and ``cirec show log --follow`` as a person sees them: in a real terminal
(tmux) while an engine records a run and a projector follows the log, and piped."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest

from cirec.config import open_read_side, open_store
from projections.logs import full_job_log
from tests.cli.helpers import ROOT, TIMEOUT_SECONDS, clean_env, command, json_lines
from tests.cli.run_steps import PIPELINE, REPO, URL
from tests.cli.terminal import Engine, engine, terminal, wait_for_run
from tests.faults.processes import Lines, Worker

OPENING = ("start", "stage build", "job build compile", "log build compile compiling main.c")


@pytest.fixture
def projector(store_url: str) -> Iterator[Worker]:
    """A ``cirec project --follow`` on the test's store, stopped after the test."""
    worker = Worker(command("--db", store_url, "project", "--follow"))
    worker.stderr.wait_for("following the log")
    try:
        yield worker
    finally:
        worker.finish(stop=True)


@pytest.fixture
def ci(store_url: str) -> Iterator[Engine]:
    """The step-by-step engine on the test's store."""
    with engine(store_url) as started:
        yield started


def test_watch_redraws_the_run_in_place_until_it_ends(
    store_url: str, projector: Worker, ci: Engine
) -> None:
    ci.step(*OPENING)
    wait_for_run(store_url)
    with terminal("--db", store_url, "watch", REPO, PIPELINE, "--exit-status") as screen:
        first = screen.wait_for_text("compiling main.c", "● running")
        assert "run #1 of api build on main at 9f2c1e7d: running (running for" in first

        ci.step("log build compile linking app")
        screen.wait_for_text("compiling main.c\nlinking app")

        ci.step("job-done build compile success", "job build lint allowed")
        shown = screen.wait_for_text("✓ success", "lint")
        assert "linking app" not in shown  # only a running job's log is shown

        ci.step("job-done build lint failed", "stage-done build success", "run-done success")
        assert screen.exit_status() == 0  # a success with warnings is a success
        last = screen.screen()
    assert "run #1 of api build on main at 9f2c1e7d: success with warnings" in last
    assert "✗ failed (allowed)" in last
    assert last.count("run #1 of api build") == 1  # redrawn in place, not printed again


def test_watch_exit_status_is_1_for_a_failed_run(
    store_url: str, projector: Worker, ci: Engine
) -> None:
    ci.step(*OPENING)
    wait_for_run(store_url)
    with terminal("--db", store_url, "watch", REPO, PIPELINE, "1", "--exit-status") as screen:
        screen.wait_for_text("compiling main.c")
        ci.step("job-done build compile failed", "stage-done build failed", "run-done failed")
        assert screen.exit_status() == 1
        assert "✗ run #1 of api build on main at 9f2c1e7d: failed" in screen.screen()


def test_watch_piped_prints_a_plain_line_per_change(
    store_url: str, projector: Worker, ci: Engine
) -> None:
    ci.step(*OPENING)
    wait_for_run(store_url)
    watcher = subprocess.Popen(
        command("--db", store_url, "watch", REPO, PIPELINE),
        cwd=ROOT,
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert watcher.stdout is not None
    assert watcher.stderr is not None
    out = Lines(watcher.stdout)
    try:
        out.wait_for("● build / compile: running")
        ci.step("job-done build compile success")
        out.wait_for("✓ build / compile: success in")
        ci.step("stage-done build success", "run-done success")
        watcher.wait(timeout=TIMEOUT_SECONDS)
    finally:
        if watcher.poll() is None:
            watcher.kill()
    lines = out.text().splitlines()
    stderr = watcher.stderr.read()
    watcher.stderr.close()
    assert watcher.returncode == 0, stderr
    assert "\x1b" not in "".join(lines)  # no colour, no cursor motion in a pipe
    assert [line.split(" in ")[0] for line in lines[1:-1]] == [
        "● build: running",
        "● build / compile: running",
        "✓ build / compile: success",
        "✓ build: success",  # after its jobs
    ]
    assert lines[0].startswith("● run #1 of api build on main at 9f2c1e7d: running")
    assert lines[-1].startswith("✓ run #1 of api build on main at 9f2c1e7d: success (")
    assert "no projector" not in stderr


def test_watch_says_so_when_no_projector_follows_and_can_fold_itself(
    store_url: str, ci: Engine
) -> None:
    ci.step(*OPENING)
    subprocess.run(command("--db", store_url, "project"), cwd=ROOT, env=clean_env(), check=True,
                   capture_output=True, timeout=TIMEOUT_SECONDS)  # fmt: skip
    alone = subprocess.Popen(
        command("--db", store_url, "watch", REPO, PIPELINE),
        cwd=ROOT,
        env=clean_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert alone.stderr is not None
    said = Lines(alone.stderr)
    try:
        said.wait_for("cirec: warning: no projector is following jobs_history")
    finally:
        alone.kill()
        alone.wait(timeout=TIMEOUT_SECONDS)
        said.text()

    ci.step("job-done build compile success", "stage-done build success", "run-done success")
    folding = subprocess.run(
        command("--db", store_url, "watch", REPO, PIPELINE, "--project", "--exit-status"),
        cwd=ROOT, env=clean_env(), capture_output=True, text=True, timeout=TIMEOUT_SECONDS,
    )  # fmt: skip
    assert folding.returncode == 0, folding.stderr
    assert folding.stdout.splitlines()[-1].startswith("✓ run #1 of api build on main")


def test_show_log_follow_streams_the_log_until_the_job_ends(
    store_url: str, projector: Worker, ci: Engine
) -> None:
    ci.step(*OPENING)
    wait_for_run(store_url)
    args = ("--db", store_url, "show", "log", REPO, PIPELINE, "1", "build", "compile", "--follow")
    with terminal(*args) as screen:
        screen.wait_for_text("compiling main.c")
        ci.step("log build compile linking app")
        screen.wait_for_text("compiling main.c\nlinking app")
        ci.step("log build compile done", "job-done build compile success")
        assert screen.exit_status() == 0
        assert screen.screen().startswith("compiling main.c\nlinking app\ndone\n")


def test_show_log_follow_piped_gives_the_full_log(store_url: str, ci: Engine) -> None:
    # It reads the run's stream itself: once the run is found, no projector is needed.
    ci.step(*OPENING)
    subprocess.run(command("--db", store_url, "project"), cwd=ROOT, env=clean_env(), check=True,
                   capture_output=True, timeout=TIMEOUT_SECONDS)  # fmt: skip
    follower = subprocess.Popen(
        command("--db", store_url, "show", "log", REPO, PIPELINE, "1", "build", "compile",
                "--follow"),
        cwd=ROOT, env=clean_env(), stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert follower.stdout is not None
    out = Lines(follower.stdout)
    try:
        out.wait_for("compiling main.c")
        for n in range(5):
            ci.step(f"log build compile line {n}")
            out.wait_for(f"line {n}")
        ci.step("job-done build compile failed", "stage-done build failed", "run-done failed")
        follower.wait(timeout=TIMEOUT_SECONDS)
    finally:
        if follower.poll() is None:
            follower.kill()
    assert follower.returncode == 0
    store, queries = open_read_side(store_url)
    with store, open_store(store_url) as events:
        run = queries.run(REPO, URL, PIPELINE, 1)
        assert run is not None
        assert out.text() == full_job_log(events, run.run_id, "build", "compile")


def test_watch_json_prints_the_document_at_each_change(store_url: str, ci: Engine) -> None:
    ci.step(*OPENING, "job-done build compile success", "stage-done build success")
    ci.step("run-done success")
    done = subprocess.run(
        command("--db", store_url, "watch", REPO, PIPELINE, "--project", "--json"),
        cwd=ROOT, env=clean_env(), capture_output=True, text=True, timeout=TIMEOUT_SECONDS,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    [document] = json_lines(done.stdout)  # folded before the first look: one state, ended
    assert (document["run_number"], document["status"]) == (1, "success")
    assert document["logs"]["build"]["jobs"]["compile"]["job_status"] == "success"
