"""The progress report: a bar per task on a terminal, occasional plain lines elsewhere, each
with its rate and time left, and never going back."""

from __future__ import annotations

import io
import re

import pytest

from cirec.cli.progress import PLAIN_LINE_SECONDS, Progress
from cirec.cli.progress_readings import REDRAW_SECONDS, Reading, time_left

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
COLOUR = re.compile(r"\x1b\[[0-9;]*m")


class AnyBar:
    def __eq__(self, other: object) -> bool:
        return isinstance(other, str) and set(other) <= set("━╺╸ ")


ANY_BAR = AnyBar()


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_off_a_terminal_a_short_task_prints_nothing() -> None:
    stream, clock = io.StringIO(), Clock()
    progress = Progress(stream, unit="lines", rate_unit="lines/s", clock=clock)
    task = progress.task("emit")
    for done in range(1, 1000):
        clock.now = done * 0.001
        task.advance_to(done)
    progress.finish()

    assert stream.getvalue() == ""


def test_off_a_terminal_a_long_task_prints_a_plain_line_with_rate_and_eta_now_and_then() -> None:
    stream, clock = io.StringIO(), Clock()
    progress = Progress(stream, clock=clock)
    task = progress.task("sessions", 100)
    for done in range(1, 101):
        clock.now = done * PLAIN_LINE_SECONDS / 10
        task.advance_to(done)
    progress.finish()

    lines = stream.getvalue().splitlines()
    assert len(lines) == 10  # one per interval; the last is the final state, not repeated
    assert lines[0] == "sessions: 10/100 events (10%), 2.0 ev/s, ETA 45 s"
    assert lines[1] == "sessions: 20/100 events (20%), 2.0 ev/s, ETA 40 s"
    assert lines[-1] == "sessions: 100/100 events (100%), 2.0 ev/s, ETA 0 s"
    assert not ANSI.search(stream.getvalue())


def test_a_task_counts_its_rate_from_where_it_started() -> None:
    stream, clock = io.StringIO(), Clock()
    progress = Progress(stream, clock=clock)
    task = progress.task("jobs_history", 10_000, start=4_000)
    clock.now = PLAIN_LINE_SECONDS
    task.advance_to(6_000)

    assert stream.getvalue() == "jobs_history: 6000/10000 events (60%), 400 ev/s, ETA 10 s\n"


def test_a_task_never_goes_back() -> None:
    stream, clock = io.StringIO(), Clock()
    progress = Progress(stream, clock=clock)
    task = progress.task("sessions", 1000)
    for position in (100, 50, 300, 200, 0, 400):
        clock.now += PLAIN_LINE_SECONDS
        task.advance_to(position)
    progress.finish()

    shown = [int(line.split(": ")[1].split("/")[0]) for line in stream.getvalue().splitlines()]
    assert shown == [100, 300, 400]  # a line that did not change is not printed again


def test_projections_taking_turns_each_get_their_own_lines_moving_forward() -> None:
    # Issue 11: one bar over projections that take turns jumped 67% → 35% → 2% → 68%.
    stream, clock = io.StringIO(), Clock()
    progress = Progress(stream, clock=clock)
    names = ("sessions", "repo_configs", "jobs_history")
    tasks = {name: progress.task(name, 3000) for name in names}
    for batch in range(1, 7):
        for name in names:
            clock.now += PLAIN_LINE_SECONDS / 2
            tasks[name].advance_to(batch * 500)
    progress.finish()

    lines = stream.getvalue().splitlines()
    for name in names:
        own = [line for line in lines if line.startswith(f"{name}: ")]
        done = [int(line.split(": ")[1].split("/")[0]) for line in own]
        assert len(own) >= 3
        assert done == sorted(done)
        assert own[-1].startswith(f"{name}: 3000/3000 events (100%), ")
        assert all(" ev/s, ETA " in line for line in own)


def test_a_total_only_grows_and_never_stays_below_the_position() -> None:
    stream, clock = io.StringIO(), Clock()
    progress = Progress(stream, clock=clock)
    task = progress.task("repo_configs")
    clock.now = PLAIN_LINE_SECONDS
    task.advance_to(50, 200)
    clock.now *= 2
    task.advance_to(100, 150)
    clock.now *= 2
    task.advance_to(300)

    assert [line.split(", ")[0] for line in stream.getvalue().splitlines()] == [
        "repo_configs: 50/200 events (25%)",
        "repo_configs: 100/200 events (50%)",
        "repo_configs: 300/300 events (100%)",
    ]


def test_without_a_total_a_line_gives_the_count_and_rate_and_no_eta() -> None:
    stream, clock = io.StringIO(), Clock()
    progress = Progress(stream, unit="lines", rate_unit="lines/s", clock=clock)
    task = progress.task("emit")
    clock.now = PLAIN_LINE_SECONDS
    task.advance_to(12_500)

    assert stream.getvalue() == "emit: 12500 lines, 2,500 lines/s, ETA ?\n"


def test_a_diagnostic_line_is_printed_as_it_is() -> None:
    stream = io.StringIO()
    Progress(stream).say("line 2: json: not valid [JSON] :x:")

    assert stream.getvalue() == "line 2: json: not valid [JSON] :x:\n"


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (None, "ETA ?"),
        (0.4, "ETA 0 s"),
        (59.4, "ETA 59 s"),
        (185, "ETA 3:05"),
        (3723, "ETA 1:02:03"),
    ],
)
def test_the_time_left_is_shown_in_seconds_minutes_or_hours(
    seconds: float | None, shown: str
) -> None:
    rate = None if seconds is None else 1000 / seconds
    assert time_left(Reading("sessions", 0, 1000, rate)) == shown


def test_on_a_terminal_each_task_gets_a_bar_with_its_rate_and_eta() -> None:
    stream, clock = Terminal(), Clock()
    progress = Progress(stream, clock=clock)
    names = ("sessions", "repo_configs", "jobs_history")
    tasks = {name: progress.task(name, 1000) for name in names}
    for batch in range(1, 3):
        for name in names:
            clock.now += 0.5
            tasks[name].advance_to(batch * 500)
    progress.finish()

    last = ANSI.sub("", stream.getvalue()).splitlines()[-3:]  # the final state, left on screen
    assert [line.split()[0] for line in last] == list(names)
    assert all("1000/1000 events (100%)" in line and "ev/s" in line for line in last)
    assert "ETA 0 s" in last[0]


def test_on_a_terminal_a_short_task_draws_nothing() -> None:
    stream, clock = Terminal(), Clock()
    progress = Progress(stream, clock=clock)
    task = progress.task("sessions", 10)
    clock.now = REDRAW_SECONDS / 2
    task.advance_to(10)
    progress.finish()

    assert stream.getvalue() == ""


def test_on_a_terminal_no_color_is_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    stream, clock = Terminal(), Clock()
    progress = Progress(stream, clock=clock)
    task = progress.task("sessions", 100)
    clock.now = 1.0
    task.advance_to(50)
    progress.finish()

    assert "sessions" in stream.getvalue()
    assert not COLOUR.search(stream.getvalue().replace("\x1b[0m", "").replace("\x1b[m", ""))


def test_on_a_terminal_a_task_added_while_bars_are_drawn_gets_its_own_bar() -> None:
    # cirec rebuild adds each projection's task as it comes to it.
    stream, clock = Terminal(), Clock()
    progress = Progress(stream, clock=clock)
    first = progress.task("sessions")
    clock.now = 1.0
    first.advance_to(700, 700)
    second = progress.task("repo_configs")
    clock.now = 2.0
    second.advance_to(350, 700)
    progress.finish()

    last = ANSI.sub("", stream.getvalue()).splitlines()[-2:]
    assert [line.split() for line in last] == [
        ["sessions", ANY_BAR, "700/700", "events", "(100%)", "700", "ev/s", "ETA", "0", "s"],
        ["repo_configs", ANY_BAR, "350/700", "events", "(50%)", "350", "ev/s", "ETA", "1", "s"],
    ]
