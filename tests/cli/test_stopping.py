"""A signal stops ``cirec project`` after the batch in hand, says so at once, and a second one
stops it there and then, leaving nothing the next worker cannot finish."""

from __future__ import annotations

import signal
import time

import pytest

from cirec.config import open_read_models, open_store
from eventstore.recorder import Recorder
from projections.sessions import SESSIONS
from tests.cli.helpers import cirec, command
from tests.faults.processes import Worker

NOTICE = "stopping after the batch in hand"
DEADLINE_SECONDS = 120.0


def backlog(url: str, events: int) -> None:
    """Append ``events`` session openings, one user each."""
    with open_store(url) as store:
        recorder = Recorder(store, actor="dev")
        for n in range(events):
            recorder.open_session(
                f"dev-{n}",
                repo_name="api",
                repo_url="u",
                branch="main",
                commit_hash=f"{n:07x}",
                is_remote=False,
            )


def sessions_checkpoint(url: str) -> int:
    """Return the checkpoint of the active ``sessions`` version."""
    with open_read_models(url) as store:
        return store.checkpoint(SESSIONS, store.active_version(SESSIONS))


def wait_until_folding(url: str, worker: Worker) -> None:
    """Return once the worker has finished its first batch (its checkpoint moved)."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    while sessions_checkpoint(url) == 0:
        assert worker.running(), f"the worker exited early: {worker.stderr.lines}"
        assert time.monotonic() < deadline, "the worker never finished a batch"
        time.sleep(0.01)  # polling the worker's progress, not waiting for a result


@pytest.fixture
def sizes(backend: str) -> tuple[int, int]:
    """Events in the backlog and the batch size: a pass of many batches on either store."""
    return (150, 3) if backend == "mongodb" else (6000, 50)


@pytest.mark.parametrize(
    ("signum", "follow"),
    [(signal.SIGINT, True), (signal.SIGTERM, False)],
    ids=["SIGINT-follow", "SIGTERM-catch-up"],
)
def test_a_signal_stops_the_worker_after_the_batch_in_hand(
    store_url: str, sizes: tuple[int, int], follow: bool, signum: signal.Signals
) -> None:
    events, batch = sizes
    backlog(store_url, events)
    mode = ["--follow"] if follow else []
    worker = Worker(
        command(
            "--db",
            store_url,
            "project",
            *mode,
            "--projection",
            "sessions",
            "--batch-size",
            str(batch),
        )
    )
    try:
        wait_until_folding(store_url, worker)
        worker.process.send_signal(signum)
        worker.stderr.wait_for(f"cirec: {signum.name}: {NOTICE}; {signum.name} again")
        worker.process.wait(timeout=DEADLINE_SECONDS)
    finally:
        worker.kill()
    # Before, a pass ran on to the head before the request was looked at.
    assert 0 < sessions_checkpoint(store_url) < events
    stderr = "".join(worker.stderr.lines)
    assert "Traceback" not in stderr
    assert worker.process.returncode == (0 if follow else 130), stderr


def test_a_second_sigint_stops_at_once_and_the_next_worker_finishes(
    store_url: str, sizes: tuple[int, int]
) -> None:
    events, _ = sizes
    backlog(store_url, events)
    # One batch holds the whole backlog, so the second signal comes while it is in hand.
    worker = Worker(
        command(
            "--db",
            store_url,
            "project",
            "--follow",
            "--projection",
            "sessions",
            "--batch-size",
            str(events),
        )
    )
    try:
        worker.stderr.wait_for("following the log")
        worker.process.send_signal(signal.SIGINT)
        worker.stderr.wait_for(NOTICE)
        worker.process.send_signal(signal.SIGINT)
        worker.process.wait(timeout=DEADLINE_SECONDS)
    finally:
        worker.kill()
    assert worker.process.returncode == 130, worker.stderr.lines
    assert worker.stderr.lines[-1] == "cirec: interrupted\n"
    assert sessions_checkpoint(store_url) == 0  # the batch in hand was cut short

    caught_up = cirec("--db", store_url, "project", "--projection", "sessions")
    assert caught_up.returncode == 0, caught_up.stderr
    assert sessions_checkpoint(store_url) == events
    verified = cirec("--db", store_url, "verify", "--projection", "sessions")
    assert verified.returncode == 0, verified.stdout + verified.stderr
