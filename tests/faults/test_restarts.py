"""A following projector and a writer ride out their server's restart (SIGKILL, SIGTERM).

Real processes: a FerretDB server of the test's own, ``cirec project --follow`` and a
writer appending through it. The server is stopped with a signal while both run, and
started again on the same data once the follower has reported the outage (its URL gives
up on finding a server after 1 s, so a restart is an error to it, not a pause); the
writer retries its appends with the same event ids.
Before workers waited faults out, the follower exited 1 on the first lost connection
(issue 10, bug 2).
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO

import pytest

from tests.cli.helpers import ROOT, clean_env, command
from tests.faults.checks import (
    acknowledged,
    assert_log_whole,
    assert_read_models_sound,
    seconds_to_lag_zero,
)
from tests.faults.servers import FerretServer, require_ferretdb

EVENTS = 300
KILL_AFTER = 100
"""Acknowledged events before the server is stopped (the writer is then mid-way)."""
PROCESS_SECONDS = 240


class Lines:
    """The lines a process writes to a pipe, collected by a thread as they come."""

    def __init__(self, pipe: IO[str]) -> None:
        self.lines: list[str] = []
        self.closed = False
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._collect, args=(pipe,), daemon=True)
        self._thread.start()

    def _collect(self, pipe: IO[str]) -> None:
        for line in pipe:
            with self._changed:
                self.lines.append(line)
                self._changed.notify_all()
        with self._changed:
            self.closed = True
            self._changed.notify_all()

    def wait_for(self, text: str, timeout: float) -> None:
        """Return once a line holding ``text`` has come; fail if the pipe closes first, or
        after ``timeout`` seconds."""

        def seen() -> bool:
            return any(text in line for line in self.lines)

        with self._changed:
            self._changed.wait_for(lambda: seen() or self.closed, timeout=timeout)
            assert seen(), f"no {text!r} (process ended: {self.closed}): {self.lines}"

    def text(self) -> str:
        """Return everything collected, once the process has closed the pipe."""
        self._thread.join(timeout=60)
        return "".join(self.lines)


def wait_for_acks(acks: Path, count: int, writer: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + PROCESS_SECONDS
    while not acks.exists() or len(acknowledged(acks)) < count:
        assert writer.poll() is None, "the writer ended early"
        assert time.monotonic() < deadline, f"fewer than {count} events acknowledged"
        time.sleep(0.05)  # polling the writer's progress, not waiting for a result


@pytest.mark.parametrize("stop", [signal.SIGKILL, signal.SIGTERM], ids=["sigkill", "sigterm"])
def test_follow_and_a_writer_ride_out_a_server_restart(
    tmp_path: Path, stop: signal.Signals
) -> None:
    require_ferretdb()
    server = FerretServer(tmp_path / "ferretdb")
    server.start()
    acks = tmp_path / "acks"
    env = clean_env()
    follower = subprocess.Popen(
        command("project", "--follow", "--db", f"{server.url}?serverSelectionTimeoutMS=1000"),
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    writer = subprocess.Popen(
        [sys.executable, "-m", "tests.faults.writer", server.url, str(EVENTS), str(acks)],
        cwd=ROOT,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert follower.stderr is not None
    reports = Lines(follower.stderr)
    try:
        wait_for_acks(acks, KILL_AFTER, writer)
        server.stop_with(stop)
        reports.wait_for("store unavailable", PROCESS_SECONDS)
        server.start()
        _, writer_err = writer.communicate(timeout=PROCESS_SECONDS)
        assert writer.returncode == 0, writer_err
        assert follower.poll() is None, "the follower exited on the restart"
        head = assert_log_whole(server.url, acks)
        lag_zero = seconds_to_lag_zero(server.url, head)
        follower.send_signal(signal.SIGTERM)
        follower.wait(timeout=60)
        follower_err = reports.text()
        assert follower.returncode == 0, follower_err
        assert "store unavailable" in follower_err, follower_err
        assert "store back after" in follower_err, follower_err
        assert_read_models_sound(server.url)
        print(f"{stop.name}: head {head}, lag 0 {lag_zero:.1f} s after the writer ended")
    finally:
        for process in (writer, follower):
            if process.poll() is None:
                process.kill()
                process.communicate(timeout=60)
        server.close()
        reports.text()
        follower.stderr.close()
