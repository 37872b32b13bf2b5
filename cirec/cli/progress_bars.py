"""The terminal renderer of :mod:`cirec.cli.progress`: a ``rich`` bar per task.

Imported only when the progress stream is a terminal, so nothing else pays for ``rich``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TextIO

from rich.console import Console
from rich.progress import BarColumn, TaskID, TextColumn
from rich.progress import Progress as RichProgress

from cirec.cli.progress_readings import REDRAW_SECONDS, Reading, counted, per_second, time_left


class Bars:
    """A bar per task, each with its name, count, rate and time left, redrawn in place.

    Nothing is drawn until some task has run for :data:`REDRAW_SECONDS`, so a short task
    stays silent; then at most one redraw per :data:`REDRAW_SECONDS`. The bars stay on
    the screen when the report ends, in their final state. Colour follows ``rich``, which
    honours ``NO_COLOR``.
    """

    def __init__(self, stream: TextIO, unit: str, rate_unit: str) -> None:
        self._unit = unit
        self._rate_unit = rate_unit
        self._console = Console(file=stream, markup=False, emoji=False, highlight=False)
        self._bars = RichProgress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[counted]}"),
            TextColumn("{task.fields[rate]}"),
            TextColumn("{task.fields[left]}"),
            console=self._console,
            auto_refresh=False,  # redrawn as tasks move, on the report's own clock
            transient=False,
            redirect_stdout=False,  # results go to stdout untouched
            redirect_stderr=False,
        )
        self._ids: dict[str, TaskID] = {}
        self._first: float | None = None
        self._drawn: float | None = None

    def show(self, reading: Reading, now: float) -> None:
        """Update the reading's bar; start drawing, or redraw, when it is time to."""
        self._update(reading)
        self._first = now if self._first is None else self._first
        since = self._drawn if self._drawn is not None else self._first
        if now - since >= REDRAW_SECONDS:
            if self._drawn is None:
                self._bars.start()
            self._bars.refresh()
            self._drawn = now

    def say(self, line: str) -> None:
        """Print the line above the bars."""
        self._console.print(line, soft_wrap=True)

    def finish(self, readings: Sequence[Reading]) -> None:
        """Draw the final state of every bar, if bars were drawn, and leave them on screen."""
        if self._drawn is None:
            return
        for reading in readings:
            self._update(reading)
        self._bars.refresh()
        self._bars.stop()

    def _update(self, reading: Reading) -> None:
        counts = counted(reading, self._unit)
        rate = per_second(reading, self._unit, self._rate_unit)
        left = time_left(reading)
        if reading.name in self._ids:
            self._bars.update(
                self._ids[reading.name],
                completed=reading.done,
                total=reading.total,
                counted=counts,
                rate=rate,
                left=left,
            )
        else:  # added with its fields: adding redraws at once when bars are drawn
            self._ids[reading.name] = self._bars.add_task(
                reading.name,
                total=reading.total,
                completed=reading.done,
                counted=counts,
                rate=rate,
                left=left,
            )
