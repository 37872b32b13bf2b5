"""A following worker waits out faults that can pass and stops on those that cannot."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eventstore.adapters.sqlite import SQLiteEventStore
from eventstore.errors import StoreError
from eventstore.records import RecordedEvent
from eventstore.store import DEFAULT_BATCH_SIZE
from projections.adapters.sqlite import SQLiteReadModelStore
from projections.catalog import PROJECTIONS
from projections.rebuild import verify
from projections.retrying import Backoff, Outage
from projections.worker import Projector
from tools.workload import TRICKY, Workload


@given(
    first=st.floats(0.001, 10),
    cap=st.floats(0.001, 100),
    failures=st.integers(1, 10_000),
    seed=st.integers(0, 2**32),
)
def test_a_delay_never_exceeds_the_cap_nor_falls_below_half_the_first(
    first: float, cap: float, failures: int, seed: int
) -> None:
    delay = Backoff(first, cap, random.Random(seed)).delay(failures)
    assert min(first, cap) / 2 <= delay <= cap


@given(first=st.floats(0.001, 1), seed=st.integers(0, 2**32))
def test_delays_start_at_the_first_and_reach_the_cap(first: float, seed: int) -> None:
    backoff = Backoff(first, 100 * first, random.Random(seed))
    assert first / 2 <= backoff.delay(1) <= first
    assert first <= backoff.delay(2) <= 2 * first
    assert 50 * first <= backoff.delay(20) <= 100 * first


class FlakyStore(SQLiteEventStore):
    """The embedded store, whose reads of the log fail while ``faults`` lasts."""

    def __init__(self, path: Path, faults: list[StoreError]) -> None:
        super().__init__(path)
        self.faults = faults

    def read_all(
        self, after: int = 0, *, batch_size: int = DEFAULT_BATCH_SIZE
    ) -> Iterator[RecordedEvent]:
        if self.faults:
            raise self.faults.pop(0)
        return super().read_all(after, batch_size=batch_size)


def busy() -> StoreError:
    return StoreError("sqlite", "read", "SQLITE_BUSY: the file is locked", transient=True)


def test_follow_waits_out_transient_faults_and_reports_the_outage_once_over(
    tmp_path: Path,
) -> None:
    path = tmp_path / "log.sqlite3"
    with FlakyStore(path, []) as events, SQLiteReadModelStore(path) as read_models:
        head = Workload(7, TRICKY).write(events, 200)
        events.faults.extend(busy() for _ in range(3))
        outages: list[Outage] = []
        recoveries: list[Outage] = []
        waits: list[float] = []

        def caught_up() -> bool:
            return all(
                read_models.checkpoint(p, read_models.active_version(p)) == head
                for p in PROJECTIONS
            )

        Projector(events, read_models, PROJECTIONS).follow(
            caught_up,
            waits.append,
            on_outage=outages.append,
            on_recovery=lambda outage, _now: recoveries.append(outage),
            backoff=Backoff(first=0.1, cap=0.3, rng=random.Random(1)),
        )
        assert [o.failures for o in outages] == [1, 2, 3]
        assert all(o.error.transient for o in outages)
        assert waits[:3] == [o.delay for o in outages]
        assert 0.05 <= waits[0] <= 0.1
        assert 0.15 <= waits[2] <= 0.3
        assert recoveries == [outages[-1]]
        for projection in PROJECTIONS:
            assert verify(events, read_models, projection) == []


def test_follow_stops_on_a_fault_that_cannot_pass(tmp_path: Path) -> None:
    path = tmp_path / "log.sqlite3"
    refused = StoreError("sqlite", "read", "SQLITE_CORRUPT: the file is damaged")
    with FlakyStore(path, [refused]) as events, SQLiteReadModelStore(path) as read_models:
        Workload(7, TRICKY).write(events, 20)
        with pytest.raises(StoreError) as caught:
            Projector(events, read_models, PROJECTIONS).follow(lambda: False, lambda _s: None)
    assert caught.value is refused
