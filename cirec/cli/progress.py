"""Progress reports on stderr: one line per task, each with its rate and time left.

On a terminal every task gets a bar of its own, redrawn in place (drawn with ``rich``, which
is imported only then); anywhere else (a pipe, a CI log) each task prints a plain line now
and then, so logs stay readable, and short tasks stay silent in both.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Protocol, TextIO

from cirec.cli.progress_readings import Reading, describe

PLAIN_LINE_SECONDS = 5.0
"""How often a task prints a plain line off a terminal."""


class Renderer(Protocol):
    """Shows readings: the plain lines of :class:`PlainLines`, or bars on a terminal."""

    def show(self, reading: Reading, now: float) -> None:
        """Take the latest reading of one task; draw it if the renderer's timing says so."""

    def say(self, line: str) -> None:
        """Print a diagnostic line, above any bars."""

    def finish(self, readings: Sequence[Reading]) -> None:
        """Show the final state of what was shown; end the display."""


class Task:
    """The handle of one task of a :class:`Progress`: it only ever moves forward."""

    def __init__(self, progress: Progress, name: str, total: int | None, start: int) -> None:
        self._progress = progress
        self._name = name
        self._total = total
        self._start = start
        self._position = start
        self._began = self._moved = progress.now()

    def advance_to(self, position: int, total: int | None = None) -> None:
        """Record that the task has reached ``position`` (of a new ``total``, if given).

        A position behind one already reached is ignored, so the task never goes back; a
        total only grows (the head of a log appended to meanwhile), and never stays below
        the position.
        """
        if position > self._position:
            self._position = position
            self._moved = self._progress.now()
        if total is not None:
            self._total = max(total, self._total or 0)
        if self._total is not None:
            self._total = max(self._total, self._position)
        self._progress.shown(self)

    def reading(self) -> Reading:
        """Return where the task is, with its rate from its start to its latest position."""
        elapsed = self._moved - self._began
        rate = (self._position - self._start) / elapsed if elapsed > 0 else None
        return Reading(self._name, self._position, self._total, rate)


class Progress:
    """Reports the tasks made by :meth:`task` on ``stream`` until :meth:`finish`.

    ``unit`` names what is counted and ``rate_unit`` its rate ("events", "ev/s"). The
    renderer is chosen by the stream: bars if it is a terminal, plain lines otherwise.
    """

    def __init__(
        self,
        stream: TextIO,
        *,
        unit: str = "events",
        rate_unit: str = "ev/s",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._clock = clock
        self._tasks: list[Task] = []
        self._renderer: Renderer
        if stream.isatty():
            from cirec.cli.progress_bars import Bars  # imports rich: only to draw

            self._renderer = Bars(stream, unit, rate_unit)
        else:
            self._renderer = PlainLines(stream, unit, rate_unit)

    def now(self) -> float:
        """Return the time on this report's clock."""
        return self._clock()

    def task(self, name: str, total: int | None = None, *, start: int = 0) -> Task:
        """Add a task at position ``start`` of ``total`` (``None``: unknown); return its handle.

        Its rate counts what it does from ``start`` on, from now.
        """
        added = Task(self, name, total, start)
        self._tasks.append(added)
        self.shown(added)
        return added

    def shown(self, task: Task) -> None:
        """Pass a task's latest reading to the renderer (its handle calls this)."""
        now = self.now()
        self._renderer.show(task.reading(), now)

    def say(self, line: str) -> None:
        """Print a diagnostic line on the stream, above the bars if any are drawn."""
        self._renderer.say(line)

    def finish(self) -> None:
        """Show the final state of every task shown so far, and end the display."""
        self._renderer.finish([task.reading() for task in self._tasks])


class PlainLines:
    """Off a terminal: a line per task every :data:`PLAIN_LINE_SECONDS`, no escape codes.

    A task that ends before its first line stays silent; one that has printed a line prints
    its final state once when it reaches its total, or at the end.
    """

    def __init__(self, stream: TextIO, unit: str, rate_unit: str) -> None:
        self._stream = stream
        self._unit = unit
        self._rate_unit = rate_unit
        self._first: dict[str, float] = {}
        self._last_shown: dict[str, float] = {}
        self._last_line: dict[str, str] = {}

    def show(self, reading: Reading, now: float) -> None:
        """Print the reading if its task's interval has passed, or it is newly finished."""
        since = self._last_shown.get(reading.name, self._first.setdefault(reading.name, now))
        due = now - since >= PLAIN_LINE_SECONDS
        if due or (reading.finished and reading.name in self._last_shown):
            self._print(reading)
            self._last_shown[reading.name] = now

    def say(self, line: str) -> None:
        """Print the line as it is."""
        self._stream.write(line + "\n")
        self._stream.flush()

    def finish(self, readings: Sequence[Reading]) -> None:
        """Print the final state of each task that has printed a line before, if it moved."""
        for reading in readings:
            if reading.name in self._last_shown:
                self._print(reading)

    def _print(self, reading: Reading) -> None:
        line = describe(reading, self._unit, self._rate_unit)
        if self._last_line.get(reading.name) != line:
            self.say(line)
            self._last_line[reading.name] = line
