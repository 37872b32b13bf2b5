"""Waiting for the log to grow: a follower's wake-up, woken by writers' commit notices.

A follower asks :meth:`Wakeup.wait` to return once the log *may* hold an event past the
position it has read to. A writer, after its append commits, sends a notice (how is the
adapter's: a datagram on SQLite, a document in a capped collection on MongoDB) that
ends the wait at once. A notice is only a hint: correctness never depends on one. Every
:attr:`Wakeup.look_every` seconds the wake-up reads the log's head itself (the *fallback
look*), so a writer that cannot notify (another machine on a shared disk, an older
version of cirec, a full socket queue) delays a follower by at most that long, never
for ever. A notice wakes the follower only if the head it names, or the head read then,
is past the follower's position, so stale notices cost one cheap read, not a pass.

:meth:`Wakeup.interrupt` ends the wait in hand, and every later one, at once: it is safe
to call from a signal handler or from another thread.
"""

from __future__ import annotations

import contextlib
import os
import select
import time
from collections.abc import Callable
from typing import Final, Protocol

from eventstore.closing import Closing

LOOK_EVERY_SECONDS: Final = 1.0
"""How often a follower reads the head itself, for writers that cannot notify it."""


class NoticeSource(Protocol):
    """Where an adapter's commit notices arrive: a descriptor that becomes readable."""

    def fileno(self) -> int:
        """Return the descriptor that is readable while notices are waiting."""

    def drain(self) -> int | None:
        """Consume the notices waiting; return the highest head they name (None if none).

        A notice that names no head counts as 0: it wakes the follower to read the head.
        """

    def close(self) -> None:
        """Stop receiving notices and release what receiving them holds."""


class Wakeup(Closing):
    """A follower's wait for the log to grow past a position, woken by notices if any.

    Without a ``source`` it only looks at the head every ``look_every`` seconds: the
    fallback every store has.
    """

    def __init__(
        self,
        head: Callable[[], int],
        look_every: float = LOOK_EVERY_SECONDS,
        source: NoticeSource | None = None,
    ) -> None:
        self._head = head
        self.look_every = look_every
        """Seconds between two looks at the head when no notice comes."""
        self.source = source
        """Where notices arrive (None: this follower is woken by the fallback look only)."""
        self._interrupted = False
        self._closed = False
        self._next_look = time.monotonic() + look_every
        self._bell_in, self._bell_out = os.pipe()
        os.set_blocking(self._bell_in, False)
        os.set_blocking(self._bell_out, False)

    def wait(self, after: int, timeout: float) -> bool:
        """Return True once the log may hold a position past ``after``; False after ``timeout``.

        True means a notice named a head past ``after``, or a head read (on a notice that
        named none past it, or at a fallback look) was past it. False if ``timeout``
        seconds passed without that, or at once once :meth:`interrupt` was called. A head
        read that fails raises the store's error (a transient one is the caller's to wait
        out). Nothing is read while no notice comes and no look is due.
        """
        deadline = time.monotonic() + timeout
        watched = [self._bell_in] + ([self.source.fileno()] if self.source else [])
        while not self.interrupted():
            now = time.monotonic()
            if now >= self._next_look:
                self._next_look = now + self.look_every
                if self._head() > after:
                    return True
            if now >= deadline:
                return False
            pause = min(deadline, self._next_look) - now
            ready, _, _ = select.select(watched, [], [], pause)
            if self.interrupted():
                break
            if self.source is not None and self.source.fileno() in ready:
                named = self.source.drain()
                if named is not None and (named > after or self._head() > after):
                    self._next_look = time.monotonic() + self.look_every
                    return True
        return False

    def interrupted(self) -> bool:
        """Tell whether :meth:`interrupt` was called."""
        return self._interrupted

    def interrupt(self) -> None:
        """End the wait in hand and every later one at once (from a signal handler too)."""
        self._interrupted = True
        if self._closed:
            return  # its descriptors may belong to something else by now
        with contextlib.suppress(BlockingIOError):  # the bell already rings
            os.write(self._bell_out, b"!")

    def close(self) -> None:
        """Stop receiving notices; the wake-up must not be used afterwards."""
        if self._closed:
            return
        self._closed = True
        if self.source is not None:
            self.source.close()
        os.close(self._bell_in)
        os.close(self._bell_out)
