"""How far each projection trails a steady writer: ``python -m bench.follow_lag URL SECONDS RATE``.

``cirec project --follow`` runs in a process of its own on the store ``URL`` while a
writer thread appends the workload at RATE appends per second for SECONDS (or as fast as
the store lets it, if slower). Four times a second the log's head and each projection's
checkpoint are read; the lag is the number of events between them. Prints, per
projection, the median, p99 and largest lag seen, and how long the follower took to
reach the head once the writer stopped. A measurement for people (issue 10 asks for a
bound under a steady writer); nothing here is asserted.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import threading
import time

from cirec.config import open_read_models, open_store
from projections.catalog import PROJECTIONS
from tools.workload import TRICKY, Workload

SAMPLE_SECONDS = 0.25
DRAIN_SECONDS = 300.0


def _write(url: str, seconds: float, rate: float, appended: list[int]) -> None:
    """Append the workload at ``rate`` appends per second for ``seconds``."""
    with open_store(url) as store:
        appends = iter(Workload(5, TRICKY).appends(10**9))
        began, count = time.monotonic(), 0
        while time.monotonic() - began < seconds:
            append = next(appends)
            store.append(append.stream_id, append.events, append.expected)
            count += 1
            ahead = began + count / rate - time.monotonic()
            if ahead > 0:
                time.sleep(ahead)  # keep to the rate
    appended.append(count)


def measure(url: str, seconds: float, rate: float) -> str:
    """Run the writer and a follower on ``url``; return the report."""
    open_store(url).close()
    open_read_models(url).close()
    follower = subprocess.Popen(
        [sys.executable, "-m", "cirec.cli", "project", "--follow", "--db", url],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    appended: list[int] = []
    writer = threading.Thread(target=_write, args=(url, seconds, rate, appended))
    lags: dict[str, list[int]] = {p.name: [] for p in PROJECTIONS}
    try:
        with open_store(url) as events, open_read_models(url) as read_models:
            writer.start()
            while writer.is_alive():
                head = events.head()
                for p in PROJECTIONS:
                    checkpoint = read_models.checkpoint(p, read_models.active_version(p))
                    lags[p.name].append(head - checkpoint)
                time.sleep(SAMPLE_SECONDS)
            writer.join()
            head, stopped = events.head(), time.monotonic()
            while any(
                read_models.checkpoint(p, read_models.active_version(p)) < head for p in PROJECTIONS
            ):
                if time.monotonic() - stopped > DRAIN_SECONDS:
                    break
                time.sleep(0.05)
            drain = time.monotonic() - stopped
    finally:
        follower.terminate()
        follower.wait(timeout=60)
    count = appended[0] if appended else 0
    lines = [
        f"{count} appends in {seconds:g} s ({count / seconds:.1f}/s of {rate:g}/s asked),"
        f" head {head}; every projection at the head {drain:.1f} s after the writer stopped"
    ]
    for name, seen in lags.items():
        seen.sort()
        p99 = seen[max(0, int(len(seen) * 0.99) - 1)]
        lines.append(
            f"  {name:<13} {len(seen)} samples; lag in events: median"
            f" {statistics.median(seen):g}, p99 {p99}, max {seen[-1]}"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    print(measure(sys.argv[1], float(sys.argv[2]), float(sys.argv[3])))
