"""A real terminal for CLI tests: a private tmux server, its screen read back as text,
and the step-by-step CI engine of :mod:`tests.cli.run_steps` to change what it shows."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from cirec.config import open_read_side
from tests.cli.helpers import ROOT, clean_env, command

TMUX = shutil.which("tmux") or "tmux"
EXITED = re.compile(r"^\[exited (\d+)\]$", re.MULTILINE)
SCREEN_SECONDS = 60.0
"""How long a test waits for the screen to show what it expects before it fails."""
WIDTH, HEIGHT = 110, 40


class Terminal:
    """One tmux window running one command, on a tmux server of its own."""

    def __init__(self, argv: list[str]) -> None:
        if shutil.which(TMUX) is None:
            raise AssertionError("tmux is not installed (.ci/run installs it from Debian)")
        self._socket = f"cirec-test-{uuid.uuid4().hex[:12]}"
        # tmux's own record of the exit status proved unreliable (at times empty for good),
        # so the shell prints it.
        line = " ".join(shlex.quote(word) for word in argv) + '; echo "[exited $?]"'
        self._tmux(
            "new-session", "-d", "-s", "t", "-x", str(WIDTH), "-y", str(HEIGHT),
            "-e", "PYTHONUNBUFFERED=1", "-c", str(ROOT), line,
        )  # fmt: skip
        self._tmux("set-option", "-t", "t", "remain-on-exit", "on")

    def _tmux(self, *args: str) -> str:
        done = subprocess.run(
            [TMUX, "-L", self._socket, *args],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
            env=clean_env(),
        )
        return done.stdout

    def screen(self, *, styled: bool = False) -> str:
        """Return what the window shows now, with any lines scrolled off its top.

        Plain text, or with ``styled`` the colours as escape sequences. (tmux's "Pane is
        dead" line can push the first line off a full screen.)
        """
        return self._tmux("capture-pane", "-p", *(["-e"] if styled else []), "-S", "-", "-t", "t")

    def wait_for(self, seen: Callable[[str], bool], what: str) -> str:
        """Return the screen once ``seen(screen)``; fail after :data:`SCREEN_SECONDS`."""
        deadline = time.monotonic() + SCREEN_SECONDS
        while not seen(screen := self.screen()):
            assert time.monotonic() < deadline, f"the screen never showed {what}:\n{screen}"
            time.sleep(0.05)  # the poll of a screen, not a wait for a result
        return screen

    def wait_for_text(self, *texts: str) -> str:
        """Return the screen once it holds every one of ``texts``."""
        return self.wait_for(lambda screen: all(t in screen for t in texts), repr(texts))

    def exit_status(self) -> int:
        """Wait for the command to end; return its exit status (as its shell printed it)."""
        screen = self.wait_for(lambda text: EXITED.search(text) is not None, "the command end")
        found = EXITED.search(screen)
        assert found is not None
        return int(found.group(1))

    def close(self) -> None:
        """End the tmux server and all it runs."""
        subprocess.run([TMUX, "-L", self._socket, "kill-server"], capture_output=True, timeout=30)


@contextmanager
def terminal(*cirec_args: str) -> Iterator[Terminal]:
    """Run ``cirec cirec_args`` in a fresh terminal; close it after the block."""
    opened = Terminal(command(*cirec_args))
    try:
        yield opened
    finally:
        opened.close()


class Engine:
    """The step-by-step CI engine (:mod:`tests.cli.run_steps`) as a child process."""

    def __init__(self, url: str) -> None:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "tests.cli.run_steps", url],
            cwd=ROOT,
            env=clean_env(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def step(self, *lines: str) -> None:
        """Record each step; return once the last is stored."""
        assert self._process.stdin is not None
        assert self._process.stdout is not None
        for line in lines:
            self._process.stdin.write(line + "\n")
            self._process.stdin.flush()
            answer = self._process.stdout.readline()
            assert answer == "ok\n", f"{line!r}: the engine answered {answer!r}"

    def close(self) -> None:
        """End the engine."""
        if self._process.stdin is not None:
            self._process.stdin.close()
        self._process.wait(timeout=60)
        if self._process.stdout is not None:
            self._process.stdout.close()


@contextmanager
def engine(url: str) -> Iterator[Engine]:
    """Start the engine on ``url``; end it after the block."""
    started = Engine(url)
    try:
        yield started
    finally:
        started.close()


def wait_for_run(url: str, number: int = 1) -> None:
    """Return once ``jobs_history`` holds run ``number`` of the engine's pipeline."""
    from tests.cli.run_steps import PIPELINE, REPO, URL

    deadline = time.monotonic() + SCREEN_SECONDS
    store, queries = open_read_side(url)
    with store:
        while queries.run(REPO, URL, PIPELINE, number) is None:
            assert time.monotonic() < deadline, f"run #{number} never projected"
            time.sleep(0.02)  # polling the projector's progress, not waiting for a result
