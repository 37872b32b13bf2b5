"""No writer starves: a large append completes while small ones stream as fast as they can.

A CI engine appends a run's start or a stage's batch while log chunks of other jobs
stream in. Real processes append one event at a time to their own streams, as fast as
they can, while this test appends 10, 100 and 1,000 events at once; each large append
must be stored (an append that cannot win a place gives up with ``StoreError`` after
its deadline). The times are printed: ``docs/architecture.md`` gives the bound.
"""

from __future__ import annotations

import time

import pytest

from cirec.config import open_store
from tests.test_concurrency import start_worker
from tests.workers import new_event

LARGE = (10, 100, 1_000)

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("small_writers", [1, 4])
def test_large_appends_complete_while_small_ones_stream(store_url: str, small_writers: int) -> None:
    writers = [start_worker("singles", store_url, w) for w in range(small_writers)]
    taken: dict[int, float] = {}
    try:
        for writer in writers:
            assert writer.stdout is not None
            assert writer.stdout.readline().strip() == "ready"
        with open_store(store_url) as store:
            for size in LARGE:
                began = time.monotonic()
                result = store.append(f"large-{size}", [new_event(i=i) for i in range(size)])
                taken[size] = time.monotonic() - began
                assert len(result.positions) == size
                assert result.positions == tuple(
                    range(result.positions[0], result.positions[-1] + 1)
                )
            last_large = result.positions[-1]
            # The small writers were still appending after the last large append landed.
            while store.head() <= last_large:
                assert all(w.poll() is None for w in writers), "a small writer died"
                next(iter(store.read_all(last_large)), None)
    finally:
        for writer in writers:
            writer.terminate()
            writer.communicate(timeout=30)
    with open_store(store_url) as store:
        log = list(store.read_all())
    assert [e.position for e in log] == list(range(1, len(log) + 1))
    large = [e for e in log if e.stream_id.startswith("large-")]
    assert len(large) == sum(LARGE)
    small = [e for e in log if e.stream_id.startswith("small-")]
    assert max(e.position for e in small) > last_large
    assert {e.stream_id for e in small} == {f"small-{w}" for w in range(small_writers)}
    print(
        f"{small_writers} small writer(s), {len(small)} small appends; seconds per large "
        f"append: " + ", ".join(f"{size}: {seconds:.3f}" for size, seconds in taken.items())
    )
