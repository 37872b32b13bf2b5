"""``python -m bench.profile_catchup [EVENTS]``: where a catch-up's time goes.

Appends a backlog of about ``EVENTS`` (default 6,000) events of the benchmark's workload
(seed 2, as the ``catchup`` figure) to a fresh embedded store, then runs
``Projector.catch_up`` on the three read models under pyinstrument
(``Profiler(interval=0.0005)``) and prints the rate and the profile. What
``docs/performance.md`` quotes for ``catchup`` comes from here.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from bench.backends import new_place, remove_tree
from bench.catchup import write_log
from cirec.config import open_read_models, open_store
from projections.catalog import PROJECTIONS
from projections.worker import Projector
from tools.workload import Workload


def main(argv: list[str]) -> int:
    """Profile one catch-up of a backlog of ``argv[0]`` events; print the rate and profile."""
    from pyinstrument import Profiler  # the bench extra: not needed by the figures

    events = int(argv[0]) if argv else 6000
    workdir = Path(tempfile.mkdtemp(prefix="cirec-profile-"))
    try:
        place = new_place("sqlite", workdir, "catchup")
        head = write_log(place, Workload(seed=2).appends(events))
        with open_store(place.url) as log, open_read_models(place.url) as models:
            profiler = Profiler(interval=0.0005)
            began = time.perf_counter()
            profiler.start()
            Projector(log, models, PROJECTIONS).catch_up()
            profiler.stop()
            took = time.perf_counter() - began
    finally:
        remove_tree(workdir)
    print(f"{head:,} events in {took:.2f} s: {head / took:,.0f} events/s")
    print(profiler.output_text(unicode=False, color=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
