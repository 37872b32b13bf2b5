"""Waiting out a store that is away for a while: capped, jittered backoff, and outages.

A worker that meets a fault that can pass (``StoreError.transient``: the server is down
or not answering, the disk is full, a lock is held too long) waits and tries again,
longer each time up to a cap, and tells its caller when the outage begins and when it
ends. Pure apart from the random jitter, which a caller may seed.
"""

from __future__ import annotations

import random

from attrs import frozen

from eventstore.errors import StoreError

FIRST_DELAY_SECONDS = 0.1
MAX_DELAY_SECONDS = 30.0


class Backoff:
    """Delays before each retry: doubling from ``first`` up to ``cap``, with jitter.

    The delay before try ``n + 1`` is drawn uniformly from the upper half of
    ``min(cap, first * 2 ** (n - 1))``, so workers that lost the same server do not all
    come back at the same instant, and none waits more than ``cap``.
    """

    def __init__(
        self,
        first: float = FIRST_DELAY_SECONDS,
        cap: float = MAX_DELAY_SECONDS,
        rng: random.Random | None = None,
    ) -> None:
        self.first = first
        self.cap = cap
        self._rng = rng or random.Random()  # noqa: S311 -- jitter, not security

    def delay(self, failures: int) -> float:
        """Return how long to wait after ``failures`` failed tries in a row (1 or more)."""
        ceiling = min(self.cap, self.first * 2.0 ** min(max(failures, 1) - 1, 64))
        return self._rng.uniform(ceiling / 2, ceiling)


@frozen
class Outage:
    """A fault being waited out: when it began, how many tries failed, the last error."""

    began: float
    """``time.monotonic()`` at the first failed try."""
    failures: int
    error: StoreError
    delay: float
    """How long the worker waits before its next try (0 once the outage has ended)."""

    def lasted(self, now: float) -> float:
        """Return how many seconds the outage has lasted at ``now`` (``time.monotonic()``)."""
        return now - self.began
