"""How much work each figure does, per store and size.

FerretDB v1 scans its collection for every query (see ``docs/performance.md``), so its sizes
are smaller; the smoke sizes finish in under a minute each.
"""

from __future__ import annotations

from attrs import frozen


@frozen
class Size:
    """The workload of one benchmark run."""

    append_events: int
    """Events of whole runs appended batched (a stage's worth per append)."""
    single_events: int
    """Events appended one per append."""
    catchup_events: int
    """Events of the backlog the projector catches up on."""
    rebuild_small: int
    rebuild_large: int
    """The two log sizes whose rebuilds' peak RSS are compared."""
    lag_seconds: float
    """How long the writer appends at :data:`LAG_RATE`."""
    peer_events: int
    """Events given to both ``eventsourcing`` and our embedded store (SQLite only)."""
    concurrent_jobs: int
    """Jobs of 50 events per round of ``concurrent_append`` (SQLite only, beside the peer)."""
    idle_seconds: float = 3.0
    """The window over which a following worker's idle CPU is read."""


LAG_RATE = 500.0
"""Events per second the lag writer appends."""

SIZES: dict[tuple[str, str], Size] = {
    ("sqlite", "smoke"): Size(3_000, 500, 3_000, 2_000, 20_000, 5.0, 3_000, 10),
    ("sqlite", "full"): Size(
        30_000, 5_000, 30_000, 100_000, 1_000_000, 60.0, 30_000, 100, idle_seconds=10.0
    ),
    ("mongo", "smoke"): Size(600, 100, 600, 200, 1_000, 0.5, 0, 0),
    ("mongo", "full"): Size(6_000, 1_000, 6_000, 1_500, 15_000, 20.0, 0, 0, idle_seconds=10.0),
}
