"""A writer SIGKILLed mid-append never leaves part of an append visible."""

from __future__ import annotations

import random
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from cirec.config import open_store
from tests.test_concurrency import assert_gap_free_and_versioned

ROOT = Path(__file__).resolve().parents[1]
KILLS = 20

pytestmark = pytest.mark.slow


def test_a_killed_writer_leaves_only_whole_appends(store_url: str) -> None:
    rng = random.Random(20261128)
    heads = []
    for kill in range(KILLS):
        writer = subprocess.Popen(
            [sys.executable, "-m", "tests.workers", "batches", store_url, str(kill)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert writer.stdout is not None
        assert writer.stdout.readline().strip() == "ready"
        # Let it append for a random while, then kill it wherever it is.
        with pytest.raises(subprocess.TimeoutExpired):
            writer.wait(timeout=rng.uniform(0.05, 0.4))
        writer.kill()
        assert writer.wait(timeout=30) == -9, "the writer was alive when killed"
        writer.communicate()
        with open_store(store_url) as store:
            heads.append(store.head())

    with open_store(store_url) as store:
        log = list(store.read_all())
    assert_gap_free_and_versioned(log)
    batches: dict[str, list[int]] = defaultdict(list)
    for event in log:
        batches[event.data["batch"]].append(event.position)
        assert event.data["index"] == len(batches[event.data["batch"]]) - 1
    for positions in batches.values():
        size = len(positions)
        assert positions == list(range(positions[0], positions[0] + size))
    for event in log:
        assert len(batches[event.data["batch"]]) == event.data["size"], "a partial append"
    # The kills landed while appends were going on: the log grew across them.
    assert len(batches) >= KILLS
    assert heads == sorted(heads)
    assert heads[-1] == len(log)
    print(f"{KILLS} kills, {len(batches)} whole batches, {len(log)} events, heads {heads}")
