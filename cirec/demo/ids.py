"""The demo's ids: drawn in order under a namespace of its own, so every play makes the same.

The day draws one id per event (a run's id stands for its ``RunStarted``, whose event id is
derived from the run's), so playing it again offers the store the very events it holds
already, and the store's idempotent append by ``event_id`` stores nothing new. The same
ids tell the demo's events from anyone else's (:mod:`cirec.demo.guard`).
"""

from __future__ import annotations

from functools import cache
from itertools import count
from typing import Final
from uuid import UUID, uuid5

from eventstore.run_recording import run_started_event_id

DEMO_NAMESPACE: Final = UUID("57bdaa12-5ddb-4af3-8cb3-238410b0e8eb")
"""The namespace of every id the demo makes. Change it whenever the day changes, so that
a store holding an older day reads as foreign rather than as this day."""

DAY_DRAWS: Final = 142
"""How many ids one play of the day draws: as many as it records events (a test checks it)."""


def drawn_id(n: int) -> UUID:
    """Return the ``n``-th id the day draws (from 1): the same in every play."""
    return uuid5(DEMO_NAMESPACE, f"cirec-demo/{n}")


class DayIds:
    """The recorder's ``new_id`` for one play: the n-th call returns :func:`drawn_id` (n)."""

    def __init__(self) -> None:
        self._numbers = count(1)

    def __call__(self) -> UUID:
        """Return the next id of the day."""
        return drawn_id(next(self._numbers))


@cache
def day_event_ids() -> frozenset[UUID]:
    """Return every event id a play of the day can store, and no other.

    Each drawn id is either an event's or a run's; a run's ``RunStarted`` has the id
    derived from the run's, so both forms of every drawn id are in the set.
    """
    drawn = [drawn_id(n) for n in range(1, DAY_DRAWS + 1)]
    return frozenset(drawn) | frozenset(run_started_event_id(each) for each in drawn)
