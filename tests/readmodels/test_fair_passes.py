"""Every pass of the projector moves every projection to the head it started from.

Before passes were bounded by the head, a projection that found nothing new once left
the pass, and the pass went on for as long as the others kept finding events: under a
steady writer, for good, and that projection stood still (issue 10, bug 1).
"""

from __future__ import annotations

from pathlib import Path

from eventstore.adapters.sqlite import SQLiteEventStore
from projections.adapters.sqlite import SQLiteReadModelStore
from projections.catalog import PROJECTIONS
from projections.rebuild import verify
from projections.worker import Projector
from tools.workload import TRICKY, Workload

PASSES = 3
WRITES_ALLOWED = 500
"""Far more appends than three passes over this log take (26 here)."""


class WriterOutran(Exception):
    """The pass went on while the writer kept appending."""


def test_a_projection_at_the_head_moves_on_every_pass_under_a_steady_writer(
    tmp_path: Path,
) -> None:
    path = tmp_path / "log.sqlite3"
    with SQLiteEventStore(path) as events, SQLiteReadModelStore(path) as read_models:
        appends = iter(Workload(7, TRICKY).appends(100_000))
        while events.head() < 1_000:
            append = next(appends)
            events.append(append.stream_id, append.events, append.expected)
        ahead, *others = PROJECTIONS
        Projector(events, read_models, [ahead], batch_size=100).catch_up()
        writes = 0

        def writer(name: str, _position: int) -> None:
            # A writer as fast as the projector: one append whenever a projection that is
            # behind folds a batch. The one at the head never folds in a starved pass.
            nonlocal writes
            if name == ahead.name:
                return
            writes += 1
            if writes > WRITES_ALLOWED:
                raise WriterOutran(f"{writes} appends in {PASSES} passes")
            append = next(appends)
            events.append(append.stream_id, append.events, append.expected)

        projector = Projector(events, read_models, PROJECTIONS, batch_size=100)
        for _ in range(PASSES):
            head = events.head()
            projector.catch_up(writer)
            for projection in PROJECTIONS:
                checkpoint = read_models.checkpoint(
                    projection, read_models.active_version(projection)
                )
                assert checkpoint >= head, f"{projection.name} at {checkpoint}, head was {head}"
        assert events.head() > head, "the writer never wrote during the last pass"
        print(f"{writes} appends in {PASSES} passes")
        Projector(events, read_models, PROJECTIONS).catch_up()
        for projection in [ahead, *others]:
            assert verify(events, read_models, projection) == []
