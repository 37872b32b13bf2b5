"""A FerretDB server of a test's own, which the test may kill and start again.

Started with ``.ci/ferretdb.sh`` (the same binary and flags as the suite's server) on a
free port of 127.0.0.1, with its data in a folder of the test's. Stopping it with a
signal is the fault; starting it again on the same folder and port is the recovery.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / ".ci" / "ferretdb.sh"
TOOLS = Path(os.environ.get("CIREC_TOOLS", Path.home() / ".cache" / "cirec-tools"))
BINARY = TOOLS / "bin" / "ferretdb"
EXIT_SECONDS = 30.0


def free_port() -> int:
    """Return a TCP port of 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def require_ferretdb() -> None:
    """Skip (or, with ``CIREC_REQUIRE_MONGO=1`` as in CI, fail) without the FerretDB binary."""
    if BINARY.exists():
        return
    reason = f"fault tests need FerretDB at {BINARY}: run `bash .ci/ferretdb.sh install`"
    if os.environ.get("CIREC_REQUIRE_MONGO") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


class FerretServer:
    """One FerretDB process on ``port`` over the data in ``folder``; restartable."""

    def __init__(self, folder: Path, port: int | None = None) -> None:
        self.folder = folder
        self.port = port or free_port()
        self.restarts = 0

    @property
    def url(self) -> str:
        """The URL of database ``faults`` on this server."""
        return f"mongodb://127.0.0.1:{self.port}/faults"

    def start(self) -> None:
        """Start the server and return once it answers a ping (the script waits, 30 s)."""
        bash = shutil.which("bash")
        assert bash is not None, "the fault tests need bash"
        subprocess.run(
            [bash, str(SCRIPT), "start", str(self.folder), str(self.port)],
            env={**os.environ, "PYTHON": sys.executable, "CIREC_TOOLS": str(TOOLS)},
            check=True,
            capture_output=True,
            timeout=60,
        )

    def pid(self) -> int:
        """Return the running server's process id."""
        return int((self.folder / "ferretdb.pid").read_text())

    def stop_with(self, number: signal.Signals) -> None:
        """Send ``number`` to the server and return once its process is gone."""
        pid = self.pid()
        os.kill(pid, number)
        deadline = time.monotonic() + EXIT_SECONDS
        while _alive(pid):
            if time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
            time.sleep(0.05)  # polling for the process to exit, not for a result
        (self.folder / "ferretdb.pid").unlink(missing_ok=True)

    def close(self) -> None:
        """Stop the server if it runs."""
        if (self.folder / "ferretdb.pid").exists():
            self.stop_with(signal.SIGTERM)


def _alive(pid: int) -> bool:
    """Tell whether ``pid`` still runs (reaping it if it is our exited child)."""
    try:
        finished, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:  # not our child: ask the kernel
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return _is_running(pid)
    return finished == 0


def _is_running(pid: int) -> bool:
    """Tell whether ``pid`` exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"
