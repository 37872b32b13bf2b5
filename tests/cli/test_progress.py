"""The progress report: a bar redrawn on a terminal, occasional plain lines elsewhere."""

from __future__ import annotations

import io

from cirec.cli.progress import PLAIN_LINE_SECONDS, Progress


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
    progress = Progress(stream, "emit", unit=" lines", clock=clock)
    for done in range(1, 1000):
        progress.update(done)
    progress.finish()

    assert stream.getvalue() == ""


def test_off_a_terminal_a_long_task_prints_a_plain_line_now_and_then() -> None:
    stream, clock = io.StringIO(), Clock()
    progress = Progress(stream, "rebuild", unit=" events", clock=clock)
    for done in range(1, 101):
        clock.now = done * PLAIN_LINE_SECONDS / 10
        progress.update(done, 100)
    progress.finish()

    lines = stream.getvalue().splitlines()
    assert len(lines) == 11  # one per interval, and the final state
    assert lines[0] == "rebuild [" + "#" * 3 + "." * 27 + "]  10% 10/100 events"
    assert lines[-1] == "rebuild [" + "#" * 30 + "] 100% 100/100 events"


def test_on_a_terminal_the_bar_is_redrawn_in_place_and_ended_by_a_newline() -> None:
    stream, clock = Terminal(), Clock()
    progress = Progress(stream, "emit", unit=" bytes", clock=clock)
    clock.now = 1.0
    progress.update(50, 200)
    progress.finish()

    drawn = stream.getvalue()
    assert drawn.count("\r\x1b[K") == 2
    assert drawn.endswith("emit [" + "#" * 8 + "." * 22 + "]  25% 50/200 bytes\n")


def test_clearing_a_drawn_bar_wipes_its_line_and_the_next_update_redraws_it() -> None:
    stream, clock = Terminal(), Clock()
    progress = Progress(stream, "emit", clock=clock)
    clock.now = 1.0
    progress.update(1)
    progress.clear()
    stream.write("line 2: json: not valid JSON\n")
    clock.now = 1.01
    progress.update(2)

    assert stream.getvalue() == (
        "\r\x1b[Kemit: 1\r\x1b[Kline 2: json: not valid JSON\n\r\x1b[Kemit: 2"
    )
