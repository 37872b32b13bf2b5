"""A projector running several projections reads each full batch of the log once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from eventstore.adapters.sqlite import SQLiteEventStore
from eventstore.records import RecordedEvent
from eventstore.store import DEFAULT_BATCH_SIZE
from projections.adapters.sqlite import SQLiteReadModelStore
from projections.catalog import PROJECTIONS
from projections.rebuild import verify
from projections.worker import Projector
from tools.workload import TRICKY, Workload


class CountingStore(SQLiteEventStore):
    """The embedded store, noting the position each read of the log starts after."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.reads: list[int] = []

    def read_all(
        self, after: int = 0, *, batch_size: int = DEFAULT_BATCH_SIZE
    ) -> Iterator[RecordedEvent]:
        self.reads.append(after)
        return super().read_all(after, batch_size=batch_size)


def test_level_projections_share_each_full_batch(tmp_path: Path) -> None:
    path = tmp_path / "log.sqlite3"
    with CountingStore(path) as events, SQLiteReadModelStore(path) as read_models:
        head = Workload(7, TRICKY).write(events, 1_000)
        full_batches = head // 100
        assert Projector(events, read_models, PROJECTIONS, batch_size=100).catch_up() == 3 * head
        for start in range(0, full_batches * 100, 100):
            assert events.reads.count(start) == 1, start
        for projection in PROJECTIONS:
            assert verify(events, read_models, projection) == []
