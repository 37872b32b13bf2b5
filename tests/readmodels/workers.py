"""Projector processes for the multi-process tests: ``python -m tests.readmodels.workers …``.

* ``project URL BATCH``: catch every projection up with the log, printing each step.
* ``rebuild URL NAME BATCH``: rebuild one projection, printing its progress.
"""

from __future__ import annotations

import sys

from cirec.config import open_read_models, open_store
from projections.catalog import PROJECTIONS
from projections.rebuild import rebuild
from projections.worker import Projector


def project(url: str, batch_size: int) -> None:
    """Fold the whole log into every projection, printing each step's checkpoint."""
    with open_store(url) as events, open_read_models(url) as store:
        projector = Projector(events, store, PROJECTIONS, batch_size=batch_size)
        projector.catch_up(on_progress=lambda name, at: print(name, at, flush=True))
    print("done", flush=True)


def rebuild_one(url: str, name: str, batch_size: int) -> None:
    """Rebuild projection ``name``, printing its progress."""
    projection = next(p for p in PROJECTIONS if p.name == name)
    with open_store(url) as events, open_read_models(url) as store:
        rebuild(
            events,
            store,
            projection,
            batch_size=batch_size,
            on_progress=lambda _, at, head: print(at, head, flush=True),
        )
    print("done", flush=True)


if __name__ == "__main__":
    kind, url, *rest = sys.argv[1:]
    if kind == "project":
        project(url, int(rest[0]))
    elif kind == "rebuild":
        rebuild_one(url, rest[0], int(rest[1]))
    else:
        raise SystemExit(f"unknown worker {kind!r}")
