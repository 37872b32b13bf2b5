"""``rebuild_rss_growth``: peak RSS of a rebuild of a large log over that of a small one.

Each size gets its own fresh store, written first (not measured). The rebuild of the
three read models then runs in a fresh Python process (``python -m bench.rebuild_rss
URL``) which prints its own wall time and peak RSS, so neither size's memory leaks into
the other's figure. The peak is ``VmHWM`` of ``/proc/self/status``, the high-water mark
of the process's own memory since ``exec``; ``ru_maxrss`` would not do, as Linux carries
the parent's peak across ``exec`` (it reported the parent's 332 MiB for both sizes).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from bench.backends import drop, new_place
from bench.catchup import write_log
from bench.figures import Figure
from cirec.config import open_read_models, open_store
from projections.catalog import PROJECTIONS
from projections.rebuild import rebuild
from tools.workload import Workload


def measure(store: str, workdir: Path, small: int, large: int) -> dict[str, Figure]:
    """Return ``rebuild_rss_growth`` and ``rebuild_wall_s`` for logs of two sizes."""
    results = [_rebuild_in_child(store, workdir, events) for events in (small, large)]
    (small_rss, small_wall, small_head), (large_rss, large_wall, large_head) = results
    label = f"{large_head:,} vs {small_head:,} events"
    return {
        "rebuild_rss_growth": Figure(large_rss, small_rss, "MiB", label),
        "rebuild_wall_s": Figure(large_wall, small_wall, "s", label),
    }


def _rebuild_in_child(store: str, workdir: Path, events: int) -> tuple[float, float, int]:
    """Write a log of about ``events`` events, rebuild it in a child; return its figures."""
    place = new_place(store, workdir, f"rebuild{events}")
    try:
        head = write_log(place, Workload(seed=events).appends(events))
        out = subprocess.run(
            [sys.executable, "-m", "bench.rebuild_rss", place.url],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        reply = json.loads(out.splitlines()[-1])
        return reply["peak_rss_kib"] / 1024, reply["wall_s"], head
    finally:
        drop(place)


def child(url: str) -> None:
    """Rebuild the three read models of the store at ``url``; print wall time and peak RSS."""
    with open_store(url) as events, open_read_models(url) as models:
        began = time.perf_counter()
        for projection in PROJECTIONS:
            rebuild(events, models, projection)
        wall = time.perf_counter() - began
    print(json.dumps({"wall_s": wall, "peak_rss_kib": _peak_rss_kib()}))


def _peak_rss_kib() -> int:
    """Return this process's peak resident memory since it started, in KiB."""
    for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status (the benchmark needs Linux)")


if __name__ == "__main__":
    child(sys.argv[1])
