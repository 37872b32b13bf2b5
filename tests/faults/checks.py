"""What every fault test ends with: nothing lost or doubled, the read models caught up.

After the fault has passed: every acknowledged event stored exactly once, at the position
its writer was told; positions 1, 2, 3 … without a gap; every projection's checkpoint at
the head; ``cirec verify`` exit 0; the documents equal to a rebuild's.
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

from cirec.config import open_read_models, open_store
from projections.catalog import PROJECTIONS
from tests.cli.helpers import cirec, clean_env
from tests.snapshots import rebuilt, snapshot

CATCH_UP_SECONDS = 180.0


def acknowledged(acks: Path) -> dict[str, int]:
    """Return the writer's acknowledged events: event id to position."""
    found: dict[str, int] = {}
    for line in acks.read_text(encoding="utf-8").splitlines():
        event_id, position = line.split()
        found[event_id] = int(position)
    return found


def assert_log_whole(url: str, acks: Path) -> int:
    """Check the log against the acknowledgements; return its head."""
    with open_store(url) as events:
        log = list(events.read_all())
        head = events.head()
    assert [e.position for e in log] == list(range(1, head + 1)), "the log has a gap"
    copies = Counter(str(e.event_id) for e in log)
    doubled = sorted(event_id for event_id, n in copies.items() if n > 1)
    assert not doubled, f"stored more than once: {doubled[:5]}"
    stored = {str(e.event_id): e.position for e in log}
    acked = acknowledged(acks)
    lost = sorted(set(acked) - set(stored))
    assert not lost, f"acknowledged, then lost: {lost[:5]}"
    moved = {i: (p, stored[i]) for i, p in acked.items() if stored[i] != p}
    assert not moved, f"stored elsewhere than acknowledged: {list(moved.items())[:5]}"
    return head


def seconds_to_lag_zero(url: str, head: int) -> float:
    """Wait (bounded) until every projection's checkpoint is at ``head``; return how long."""
    began = time.monotonic()
    with open_read_models(url) as store:
        while True:
            behind = {
                p.name: checkpoint
                for p in PROJECTIONS
                if (checkpoint := store.checkpoint(p, store.active_version(p))) < head
            }
            if not behind:
                return time.monotonic() - began
            waited = time.monotonic() - began
            assert waited < CATCH_UP_SECONDS, f"still behind {head} after {waited:.0f} s: {behind}"
            time.sleep(0.1)  # polling the checkpoints, which a worker of its own moves


def assert_read_models_sound(url: str) -> None:
    """``cirec verify`` passes, and the documents are a rebuild's, byte for byte."""
    checked = cirec("verify", "--db", url, env=clean_env())
    assert checked.returncode == 0, checked.stdout + checked.stderr
    with open_read_models(url) as store:
        projected = snapshot(store)
    assert projected == rebuilt(url)
