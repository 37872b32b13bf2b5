"""``cirec project --follow`` keeps the read models current and stops cleanly on a signal."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from cirec.cli.project import REPORT_SECONDS, FoldedReport
from cirec.config import open_read_models, open_store
from eventstore.recorder import Recorder
from projections.sessions import SESSIONS
from tests.cli.helpers import ROOT, TIMEOUT_SECONDS, cirec, command
from tests.faults.processes import Worker

DEADLINE_SECONDS = 30.0


def open_session(url: str, commit: str) -> None:
    with open_store(url) as events:
        Recorder(events, actor="dev").open_session(
            "ada", repo_name="api", repo_url="u", branch="main", commit_hash=commit, is_remote=True
        )


def wait_for_commit(url: str, commit: str, worker: subprocess.Popen[str]) -> None:
    """Poll the read model until the worker has projected ``commit``, within the deadline."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    with open_read_models(url) as store:
        while (doc := store.get(SESSIONS, "ada")) is None or doc.commit_hash != commit:
            assert worker.poll() is None, "the worker exited early"
            assert time.monotonic() < deadline, f"{commit} not projected in time"
            time.sleep(0.02)  # a poll interval, not a wait for correctness


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_follow_projects_new_events_and_exits_0_on_a_signal(
    store_url: str, signum: signal.Signals, tmp_path: Path
) -> None:
    worker = subprocess.Popen(
        command("--db", store_url, "project", "--follow", "--projection", "sessions"),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for commit in ("c0ffee1", "c0ffee2"):
            open_session(store_url, commit)
            wait_for_commit(store_url, commit, worker)
        worker.send_signal(signum)
        stdout, stderr = worker.communicate(timeout=TIMEOUT_SECONDS)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.communicate(timeout=TIMEOUT_SECONDS)

    assert worker.returncode == 0, stderr
    assert stderr.splitlines()[-1] == "stopped"
    assert "Traceback" not in stderr
    assert stdout == "sessions: checkpoint 2\n"
    assert_reported_stopped(store_url, f"{socket.gethostname()}:{worker.pid}")


def assert_reported_stopped(url: str, name: str) -> None:
    """Check that ``cirec status`` lists the worker ``name`` as stopped, without outages."""
    shown = cirec("--db", url, "status", "--json")
    assert shown.returncode == 0, shown.stderr
    [report] = json.loads(shown.stdout)["workers"]
    assert report["worker"] == name
    assert report["projections"] == ["sessions"]
    assert report["state"] == "stopped"
    assert (report["outages"], report["last_outage"]) == (0, None)
    table = cirec("--db", url, "status").stdout.splitlines()
    row = table[table.index("workers:") + 2]
    worker, projections, state, seen, unit, ago, outages, last_outage = row.split()
    assert (worker, projections, state, unit, ago) == (name, "sessions", "stopped", "s", "ago")
    assert abs(int(seen) - report["seen_seconds_ago"]) <= 60  # two runs of status apart
    assert (outages, last_outage) == ("0", "-")


def test_follow_says_what_it_folds(store_url: str) -> None:
    # Before, a following worker printed nothing between its first line and "stopped".
    worker = Worker(command("--db", store_url, "project", "--follow", "--projection", "sessions"))
    try:
        worker.stderr.wait_for("following the log")
        open_session(store_url, "c0ffee1")
        worker.stderr.wait_for("folded 1 events since the last report; at sessions 1")
    finally:
        text = worker.finish(stop=True)
    assert "Traceback" not in text


def test_the_folded_report_speaks_at_most_every_few_seconds() -> None:
    said: list[str] = []
    now = [100.0]
    report = FoldedReport(said.append, {"sessions": 10, "jobs_history": 4}, lambda: now[0])
    report.folded("sessions", 30)  # the first batch: said at once
    report.folded("jobs_history", 24)
    now[0] += REPORT_SECONDS
    report.folded("sessions", 31)
    assert said == [
        "folded 20 events since the last report; at jobs_history 4, sessions 30",
        "folded 21 events since the last report; at jobs_history 24, sessions 31",
    ]
