"""``follow_idle_cpu``: the CPU a following worker uses while the log does not change.

``cirec project --follow`` (all three read models) is started on a small log and left to
fold it; once it has said what it folded and the log stays still, its CPU time (user +
system, from ``/proc/PID/stat``) is read at the start and the end of a window of wall
time, and divided by the window: milliseconds of CPU per second.

The baseline runs in the same window, beside it: a process doing what every following
worker did before it waited on commit notices, a pass over the three read models every
:data:`projections.worker.POLL_SECONDS` (``python -m bench.idle_cpu poll URL``). A
``sleep`` process would be a floor of 0, which says nothing; this is the cost the wake-up
removes, measured on the same machine at the same moment.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from bench.backends import Place
from bench.figures import Figure
from cirec.config import open_read_models, open_store
from projections.catalog import PROJECTIONS
from projections.worker import POLL_SECONDS, Projector
from tools.workload import Workload

SETTLE_SECONDS = 1.0
"""How long both processes idle after catching up before the window opens."""
_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """Return the user + system CPU time process ``pid`` has used, in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime: fields 14, 15


def measure(place: Place, seconds: float) -> dict[str, Figure]:
    """Return ``follow_idle_cpu`` over a window of ``seconds`` on ``place``'s store."""
    url = place.url
    with open_store(url) as events:
        for append in Workload(seed=6).appends(200):
            events.append(append.stream_id, append.events, append.expected)
    follower = subprocess.Popen(
        [sys.executable, "-m", "cirec.cli", "--db", url, "project", "--follow"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    poller: subprocess.Popen[bytes] | None = None
    try:
        assert follower.stderr is not None  # noqa: S101 -- asked for above
        for line in follower.stderr:  # its first report comes once its first batch is in
            if line.startswith("folded"):
                break
        threading.Thread(target=follower.stderr.read, daemon=True).start()
        # Only now: started beside the follower, the poller could fold the log first,
        # and the follower, finding nothing to fold, would never report.
        poller = subprocess.Popen([sys.executable, "-m", "bench.idle_cpu", "poll", url])
        time.sleep(SETTLE_SECONDS)
        before = cpu_seconds(follower.pid), cpu_seconds(poller.pid)
        began = time.monotonic()
        time.sleep(seconds)
        after = cpu_seconds(follower.pid), cpu_seconds(poller.pid)
        spent = time.monotonic() - began
    finally:
        for process in (follower, poller):
            if process is not None:
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=60)
    label = f"CPU ms per s idle over {spent:.0f} s; vs a pass every {POLL_SECONDS * 1000:g} ms"
    return {
        "follow_idle_cpu": Figure(
            (after[0] - before[0]) / spent * 1000,
            (after[1] - before[1]) / spent * 1000,
            "ms/s",
            label,
        )
    }


def poll(url: str) -> None:
    """Fold the log into the three read models every :data:`POLL_SECONDS` until SIGTERM."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with open_store(url) as events, open_read_models(url) as models:
        projector = Projector(events, models, PROJECTIONS)
        while not stop.is_set():
            if projector.catch_up() == 0:
                stop.wait(POLL_SECONDS)


if __name__ == "__main__":
    poll(sys.argv[2])
