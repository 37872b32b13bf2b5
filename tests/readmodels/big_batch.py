"""One projector step of ``sessions`` in a process of its own, for tests that bound it in time.

``python -m tests.readmodels.big_batch LOG URL BATCH``: fold the next batch of up to BATCH
events of the SQLite log at LOG into the read models at URL, and print how many it folded.
"""

from __future__ import annotations

import sys

from eventstore.adapters.sqlite import SQLiteEventStore
from projections.adapters.mongo import MongoReadModelStore
from projections.sessions import SESSIONS
from projections.worker import Projector


def step(log: str, url: str, batch_size: int) -> int:
    """Fold one batch of ``sessions``; return how many events it folded."""
    with SQLiteEventStore(log) as events, MongoReadModelStore.from_url(url) as store:
        return Projector(events, store, [SESSIONS], batch_size=batch_size).step(SESSIONS).events


if __name__ == "__main__":
    print(step(sys.argv[1], sys.argv[2], int(sys.argv[3])), flush=True)
