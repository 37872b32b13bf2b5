"""A dependency-free progress report on stderr.

On a terminal it redraws one bar in place; anywhere else (a log file, a CI job) it prints
a plain line now and then, so logs stay readable and short tasks stay silent.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TextIO

BAR_WIDTH = 30
REDRAW_SECONDS = 0.1
PLAIN_LINE_SECONDS = 5.0


class Progress:
    """Reports ``done`` out of ``total`` (when known) units of one task under ``label``."""

    def __init__(
        self,
        stream: TextIO,
        label: str,
        *,
        unit: str = "",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._stream = stream
        self._label = label
        self._unit = unit
        self._clock = clock
        self._tty = stream.isatty()
        self._started = clock()
        self._last_shown: float | None = None
        self._line = ""

    def update(self, done: int, total: int | None = None) -> None:
        """Record how far the task is; draw it if enough time has passed since last time."""
        self._line = self._describe(done, total)
        now = self._clock()
        interval = REDRAW_SECONDS if self._tty else PLAIN_LINE_SECONDS
        if now - (self._last_shown if self._last_shown is not None else self._started) >= interval:
            self._show()
            self._last_shown = now

    def clear(self) -> None:
        """Wipe a bar drawn on the terminal, so a diagnostic line can take its place."""
        if self._tty and self._last_shown is not None:
            self._stream.write("\r\x1b[K")
            self._last_shown = self._started  # redraw at the next update

    def finish(self) -> None:
        """Show the final state, if anything was shown before, and end the bar's line."""
        if self._last_shown is not None and self._line:
            self._show()
            if self._tty:
                self._stream.write("\n")
            self._stream.flush()

    def _show(self) -> None:
        if self._tty:
            self._stream.write("\r\x1b[K" + self._line)
        else:
            self._stream.write(self._line + "\n")
        self._stream.flush()

    def _describe(self, done: int, total: int | None) -> str:
        counted = f"{done}{self._unit}" if total is None else f"{done}/{total}{self._unit}"
        if not total:
            return f"{self._label}: {counted}"
        share = min(done / total, 1.0)
        filled = round(share * BAR_WIDTH)
        bar = "#" * filled + "." * (BAR_WIDTH - filled)
        return f"{self._label} [{bar}] {share:4.0%} {counted}"
