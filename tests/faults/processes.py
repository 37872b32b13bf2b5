"""The processes of a fault test: a following projector and a writer, and their output."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO

from tests.cli.helpers import ROOT, cirec, clean_env, command
from tests.faults.checks import (
    acknowledged,
    assert_log_whole,
    assert_read_models_sound,
    seconds_to_lag_zero,
)

PROCESS_SECONDS = 240.0


class Lines:
    """The lines a process writes to a pipe, collected by a thread as they come."""

    def __init__(self, pipe: IO[str]) -> None:
        self.lines: list[str] = []
        self.closed = False
        self._pipe = pipe
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._collect, daemon=True)
        self._thread.start()

    def _collect(self) -> None:
        for line in self._pipe:
            with self._changed:
                self.lines.append(line)
                self._changed.notify_all()
        with self._changed:
            self.closed = True
            self._changed.notify_all()

    def wait_for(self, text: str, timeout: float = PROCESS_SECONDS) -> None:
        """Return once a line holding ``text`` has come; fail if the pipe closes first, or
        after ``timeout`` seconds."""

        def seen() -> bool:
            return any(text in line for line in self.lines)

        with self._changed:
            self._changed.wait_for(lambda: seen() or self.closed, timeout=timeout)
            assert seen(), f"no {text!r} (process ended: {self.closed}): {self.lines}"

    def text(self) -> str:
        """Return everything collected, once the process has closed the pipe; close it."""
        self._thread.join(timeout=60)
        self._pipe.close()
        return "".join(self.lines)


class Worker:
    """A child process whose stderr is collected line by line."""

    def __init__(self, argv: list[str]) -> None:
        self.process = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=clean_env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.process.stderr is not None
        self.stderr = Lines(self.process.stderr)

    def running(self) -> bool:
        """Tell whether the process still runs."""
        return self.process.poll() is None

    def finish(self, *, stop: bool) -> str:
        """SIGTERM it if ``stop``, wait for it, check it exited 0; return its stderr."""
        if stop:
            self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=PROCESS_SECONDS)
        text = self.stderr.text()
        assert self.process.returncode == 0, text
        return text

    def kill(self) -> None:
        """Kill it if it still runs (a test's cleanup)."""
        if self.running():
            self.process.kill()
        self.process.wait(timeout=60)
        self.stderr.text()


def follower(url: str) -> Worker:
    """Start ``cirec project --follow`` on ``url``."""
    return Worker(command("project", "--follow", "--db", url))


def writer(url: str, count: int, acks: Path) -> Worker:
    """Start :mod:`tests.faults.writer`: ``count`` events, acknowledged in ``acks``."""
    return Worker([sys.executable, "-m", "tests.faults.writer", url, str(count), str(acks)])


def wait_for_acks(acks: Path, count: int, by: Worker) -> None:
    """Return once ``count`` events are acknowledged in ``acks``; fail if ``by`` ends first."""
    deadline = time.monotonic() + PROCESS_SECONDS
    while not acks.exists() or len(acknowledged(acks)) < count:
        assert by.running(), f"the writer ended early: {by.stderr.lines}"
        assert time.monotonic() < deadline, f"fewer than {count} events acknowledged"
        time.sleep(0.05)  # polling the writer's progress, not waiting for a result


def assert_recovered(url: str, acks: Path, following: Worker) -> tuple[int, float]:
    """End a fault test whose writer has finished: return the head and the seconds to lag 0.

    The checks of :mod:`tests.faults.checks`, and of the follower: still running, it
    reported the store back, and it exits 0 on SIGTERM.
    """
    head = assert_log_whole(url, acks)
    lag_zero = seconds_to_lag_zero(url, head)
    assert following.running(), "the follower exited during the fault"
    reported = following.finish(stop=True)
    assert "store back after" in reported, reported
    assert_outage_in_status(url, following)
    assert_read_models_sound(url)
    return head, lag_zero


def assert_outage_in_status(url: str, following: Worker) -> None:
    """Check that ``cirec status`` shows the stopped follower and the outage it waited out."""
    shown = cirec("--db", url, "status", "--json")
    assert shown.returncode == 0, shown.stderr
    name = f"{socket.gethostname()}:{following.process.pid}"
    [report] = [each for each in json.loads(shown.stdout)["workers"] if each["worker"] == name]
    assert report["state"] == "stopped", report
    assert report["outages"] >= 1, report
    assert report["last_outage"]["failures"] >= 1, report
    assert report["last_outage"]["error"], report
