"""What a progress report shows of a task, and how: its reading, and the reading as text.

Shared by the plain lines of :mod:`cirec.cli.progress` and the bars of
:mod:`cirec.cli.progress_bars`, so both show the same numbers the same way.
"""

from __future__ import annotations

import attrs

REDRAW_SECONDS = 0.1
"""How long a task must run before bars are drawn, and how often they are redrawn."""


@attrs.frozen
class Reading:
    """How far one task is at one instant: ``done`` of ``total`` (if known), and how fast."""

    name: str
    done: int
    total: int | None
    rate: float | None
    """Units per second from the task's start to its latest position; ``None`` before it moves."""

    @property
    def seconds_left(self) -> float | None:
        """Return the time left at the current rate; ``None`` if there is no rate or total."""
        if self.total is None or not self.rate:
            return None
        return max(self.total - self.done, 0) / self.rate

    @property
    def finished(self) -> bool:
        """Tell whether the task has reached its (known) total."""
        return self.total is not None and self.done >= self.total


def describe(reading: Reading, unit: str, rate_unit: str) -> str:
    """Return a reading as one line: ``jobs_history: 400/1000 events (40%), 80 ev/s, ETA 8 s``."""
    return f"{reading.name}: " + ", ".join(
        part(reading, unit, rate_unit) for part in (counted, per_second, time_left)
    )


def counted(reading: Reading, unit: str, _rate_unit: str = "") -> str:
    """Return ``done/total unit (share)``, or ``done unit`` when the total is unknown."""
    if reading.total is None:
        return f"{reading.done} {unit}"
    share = reading.done / reading.total if reading.total else 1.0
    return f"{reading.done}/{reading.total} {unit} ({share:.0%})"


def per_second(reading: Reading, _unit: str, rate_unit: str) -> str:
    """Return the rate, e.g. ``1,250 ev/s`` (``? ev/s`` before it is known)."""
    if reading.rate is None:
        return f"? {rate_unit}"
    shown = f"{reading.rate:.1f}" if reading.rate < 10 else f"{reading.rate:,.0f}"
    return f"{shown} {rate_unit}"


def time_left(reading: Reading, _unit: str = "", _rate_unit: str = "") -> str:
    """Return ``ETA`` and the time left (``12 s``, ``3:05``, ``1:02:03``), ``ETA ?`` if unknown."""
    seconds = reading.seconds_left
    if reading.finished:
        return "ETA 0 s"
    if seconds is None:
        return "ETA ?"
    whole = round(seconds)
    if whole < 60:
        return f"ETA {whole} s"
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"ETA {hours}:{minutes:02}:{secs:02}" if hours else f"ETA {minutes}:{secs:02}"
