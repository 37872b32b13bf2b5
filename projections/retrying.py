"""Waiting out a store that is away for a while: capped, jittered backoff, and outages.

A worker that meets a fault that can pass (``StoreError.transient``: the server is down
or not answering, the disk is full, a lock is held too long) waits and tries again,
longer each time up to a cap, and tells its caller when the outage begins and when it
ends. Pure apart from the random jitter, which a caller may seed.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

from attrs import frozen

from eventstore.errors import StoreError

T = TypeVar("T")

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
    """How long the worker waits before its next try."""

    def lasted(self, now: float) -> float:
        """Return how many seconds the outage has lasted at ``now`` (``time.monotonic()``)."""
        return now - self.began


class Retrier:
    """Makes a call again after each fault that can pass, waiting longer each time.

    ``wait(seconds)`` idles (``threading.Event().wait`` ends early on a stop request);
    ``should_stop()`` ends the retries; ``on_outage`` is told of every failed try and
    ``on_recovery(outage, now)`` once a call succeeds after failing.
    """

    def __init__(
        self,
        wait: Callable[[float], object],
        should_stop: Callable[[], bool],
        *,
        backoff: Backoff | None = None,
        on_outage: Callable[[Outage], None] | None = None,
        on_recovery: Callable[[Outage, float], None] | None = None,
    ) -> None:
        self._wait = wait
        self._should_stop = should_stop
        self._backoff = backoff or Backoff()
        self._on_outage = on_outage
        self._on_recovery = on_recovery

    def call(self, attempt: Callable[[], T]) -> T | None:
        """Return ``attempt()`` once it succeeds, or None if a stop came first.

        A :class:`StoreError` that is ``transient`` is waited out; any other error is
        raised at once.
        """
        outage: Outage | None = None
        while not self._should_stop():
            try:
                result = attempt()
            except StoreError as error:
                if not error.transient:
                    raise
                began = time.monotonic() if outage is None else outage.began
                failures = 1 if outage is None else outage.failures + 1
                outage = Outage(began, failures, error, self._backoff.delay(failures))
                if self._on_outage is not None:
                    self._on_outage(outage)
                self._wait(outage.delay)
                continue
            if outage is not None and self._on_recovery is not None:
                self._on_recovery(outage, time.monotonic())
            return result
        return None
