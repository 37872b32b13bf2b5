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
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import TextIO

SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextmanager
def stop_on_signals(stderr: TextIO, doing: str) -> Iterator[threading.Event]:
    """Yield an event the first SIGINT or SIGTERM sets; a second one interrupts at once.

    ``doing`` completes the notice printed on the first signal ("stopping after
    {doing}; send the signal again to stop at once"). The former handlers are back
    after the block.
    """
    stop = threading.Event()
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
