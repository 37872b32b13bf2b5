"""``python -m bench --store sqlite|mongo --size smoke|full [--out FILE.json]``.

Prints one table and writes the same figures to a JSON file (by default
``bench-STORE-SIZE.json``) whose top-level keys are the figure names. ``--store mongo``
uses the server ``MONGO_DB_URL`` names, in databases of its own that it drops after.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from bench import append, catchup, commands, concurrent, idle_cpu, lag, peer, rebuild_rss
from bench.backends import STORES, drop, new_place, remove_tree
from bench.figures import Figure, table, write_json
from bench.sizes import LAG_RATE, SIZES
from cirec.config import MONGO_URL_VARIABLE
from eventstore.urls import redact_url
from tools.workload import Workload


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark the arguments name; print the table; return the exit status."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--store", choices=STORES, required=True)
    parser.add_argument("--size", choices=("smoke", "full"), required=True)
    parser.add_argument("--out", type=Path, help="JSON file (default bench-STORE-SIZE.json)")
    args = parser.parse_args(argv)
    if args.store == "mongo" and not os.environ.get(MONGO_URL_VARIABLE):
        parser.error(f"--store mongo needs {MONGO_URL_VARIABLE}")
    out = args.out or Path(f"bench-{args.store}-{args.size}.json")
    size = SIZES[(args.store, args.size)]
    workdir = Path(tempfile.mkdtemp(prefix="cirec-bench-"))
    began = time.monotonic()
    figures: dict[str, Figure] = {}

    def step(name: str, measure: Callable[[], dict[str, Figure]]) -> None:
        print(f"[bench {time.monotonic() - began:6.1f} s] {name}", file=sys.stderr, flush=True)
        figures.update(measure())

    def in_place(
        name: str, measure: Callable[..., dict[str, Figure]], *rest: object, **options: object
    ) -> None:
        place = new_place(args.store, workdir, name)
        try:
            step(name, lambda: measure(place, *rest, **options))
        finally:
            drop(place)

    try:
        batched = list(Workload(seed=1).appends(size.append_events))
        in_place("append_batched", append.measure, batched, batched=True)
        del batched
        single = append.singles(
            list(Workload(seed=4).appends(size.single_events)), size.single_events
        )
        in_place("append_single", append.measure, single, batched=False)
        del single
        in_place("catchup", catchup.measure, Workload(seed=2).appends(size.catchup_events))
        step(
            "rebuild_rss",
            lambda: rebuild_rss.measure(
                args.store, workdir, size.rebuild_small, size.rebuild_large
            ),
        )
        in_place("lag", lag.measure, size.lag_seconds, LAG_RATE)
        in_place("follow_idle_cpu", idle_cpu.measure, size.idle_seconds)
        if args.store == "mongo":
            in_place("commands", commands.measure, Workload(seed=5).appends(size.catchup_events))
        if size.peer_events:
            runs = list(Workload(seed=3).appends(size.peer_events))
            step("peer", lambda: peer.measure(workdir, runs))
        if size.concurrent_jobs:
            step("concurrent", lambda: concurrent.measure(workdir, size.concurrent_jobs))
    finally:
        remove_tree(workdir)
    where = redact_url(os.environ[MONGO_URL_VARIABLE]) if args.store == "mongo" else "embedded"
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    title = f"cirec bench: store {args.store} ({where}), size {args.size}, {stamp}"
    print(table(title, figures))
    write_json(out, figures)
    print(f"figures written to {out} in {time.monotonic() - began:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
