"""``cirec project``'s progress as a person sees it: a bar per projection in a real terminal
(tmux), each with its count, rate and time left, left on the screen when it ends."""

from __future__ import annotations

from pathlib import Path

from cirec.config import open_store
from eventstore import Recorder
from eventstore.catalog import Status, Trigger
from projections.catalog import PROJECTIONS
from tests.cli.terminal import terminal

RUNS = 300
EVENTS = RUNS * 7
BATCH_SIZE = 5
"""Small batches make the catch-up of the backlog take a couple of seconds."""


def record_backlog(url: str) -> None:
    """Record :data:`RUNS` runs of one job each: :data:`EVENTS` events."""
    with open_store(url) as store:
        recorder = Recorder(store, actor="ci")
        for _ in range(RUNS):
            run = recorder.start_run(
                repo_name="api",
                repo_url="https://git.example/api.git",
                branch="main",
                pipeline_name="build",
                commit_hash="9f2c1e7d",
                pipeline_config={},
                trigger=Trigger.PUSH,
            )
            recorder.start_stage(run, "build")
            recorder.start_job(run, "build", "compile")
            recorder.append_log(run, "build", "compile", chunk_index=0, content="compiling\n")
            recorder.finish_job(run, "build", "compile", Status.SUCCESS)
            recorder.finish_stage(run, "build", Status.SUCCESS)
            recorder.finish_run(run, Status.SUCCESS)
        assert store.head() == EVENTS


def test_project_on_a_terminal_shows_a_bar_per_projection_with_its_rate(tmp_path: Path) -> None:
    url = f"sqlite://{tmp_path / 'backlog.sqlite3'}"
    record_backlog(url)
    args = ("--db", url, "project", "--batch-size", str(BATCH_SIZE))
    with terminal(*args) as screen:
        assert screen.exit_status() == 0
        last = screen.screen()

    names = [projection.name for projection in PROJECTIONS]
    bars = [line for line in last.splitlines() if line.split(" ", 1)[0] in names]
    assert [line.split()[0] for line in bars] == names, last  # one line each, in place
    for line in bars:
        assert f"{EVENTS}/{EVENTS} events (100%)" in line, last
        assert " ev/s " in line, last
        assert "ETA 0 s" in line, last
    assert f"caught up to position {EVENTS}" in last
