"""A projector running several projections reads the log once for all of them."""

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


def test_level_projections_share_one_read_of_the_log(tmp_path: Path) -> None:
    path = tmp_path / "log.sqlite3"
    with CountingStore(path) as events, SQLiteReadModelStore(path) as read_models:
        head = Workload(7, TRICKY).write(events, 1_000)
        assert head % 100 != 0  # so the last batch is short
        assert Projector(events, read_models, PROJECTIONS, batch_size=100).catch_up() == 3 * head
        # One read from the start, continued batch after batch; the last, short batch
        # reaches the head the pass started from, and closes it. The three projections
        # share every batch, the short one too.
        assert events.reads == [0]
        for projection in PROJECTIONS:
            assert verify(events, read_models, projection) == []


def test_the_next_pass_reads_on_from_a_short_batch(tmp_path: Path) -> None:
    path = tmp_path / "log.sqlite3"
    with CountingStore(path) as events, SQLiteReadModelStore(path) as read_models:
        head = Workload(7, TRICKY).write(events, 50)
        projector = Projector(events, read_models, PROJECTIONS, batch_size=100)
        assert projector.catch_up() == 3 * head
        grown = Workload(8, TRICKY).write(events, 50)
        assert projector.catch_up() == 3 * (grown - head)
        assert events.reads == [0, head]
