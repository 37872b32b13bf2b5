"""How a long command stops: after the batch in hand on a first signal, at once on a second.

The first SIGINT or SIGTERM sets a stop request and says so on stderr at once; the worker
looks at it between batches, so it ends after at most the batch it holds. A second signal
raises :class:`KeyboardInterrupt` where the program is: a batch cut short that way is
claimed but unfinished, which the next worker folds again (see :mod:`projections.worker`).
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import TextIO

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopRequest(threading.Event):
    """An event set by a stop request, that also tells what :meth:`also` registered.

    A wait that cannot watch an event (a ``select`` on a socket, say) registers what
    ends it at once, such as :meth:`eventstore.wakeup.Wakeup.interrupt`.
    """

    def __init__(self) -> None:
        super().__init__()
        self._callbacks: list[Callable[[], None]] = []

    def also(self, callback: Callable[[], None]) -> None:
        """Call ``callback()`` when the request is set (at once if it is already)."""
        self._callbacks.append(callback)
        if self.is_set():
            callback()

    def set(self) -> None:
        """Set the request, then call every registered callback."""
        super().set()
        for callback in self._callbacks:
            callback()


@contextmanager
def stop_on_signals(stderr: TextIO, doing: str) -> Iterator[StopRequest]:
    """Yield a request the first SIGINT or SIGTERM sets; a second one interrupts at once.

    ``doing`` completes the notice printed on the first signal ("stopping after
    {doing}; send the signal again to stop at once"). The former handlers are back
    after the block.
    """
    stop = StopRequest()
    try:
        descriptor: int | None = stderr.fileno()
    except (OSError, ValueError):  # a stream in memory (a test's capture) has none
        descriptor = None

    def handle(signum: int, _frame: FrameType | None) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        name = signal.Signals(signum).name
        notice = f"cirec: {name}: stopping after {doing}; {name} again stops at once\n"
        if descriptor is None:
            stderr.write(notice)
        else:  # not print: the handler may run while the main thread is writing to stderr
            os.write(descriptor, notice.encode())

    previous = {number: signal.signal(number, handle) for number in SIGNALS}
    try:
        yield stop
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
