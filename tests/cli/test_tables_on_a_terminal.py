"""Tables for people: icons and colour on a terminal, fitted to its width; none of either
with ``NO_COLOR`` or in a pipe; and no known value cut short."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.cli.helpers import cirec, command
from tests.cli.terminal import WIDTH, Terminal

COLOUR = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture
def demo_url(tmp_path: Path) -> str:
    """A store holding the demo's day."""
    url = f"sqlite://{tmp_path / 'day.sqlite3'}"
    assert cirec("--db", url, "demo").returncode == 0
    return url


def shown(argv: list[str]) -> tuple[str, str]:
    """Run ``argv`` in a terminal; return its screen, plain and with colours."""
    window = Terminal(argv)
    try:
        assert window.exit_status() == 0, window.screen()
        return window.screen(), window.screen(styled=True)
    finally:
        window.close()


def test_a_terminal_gets_icons_colour_and_whole_values(demo_url: str) -> None:
    plain, styled = shown(command("--db", demo_url, "runs"))
    rows = plain.splitlines()
    assert rows[0].split()[:6] == ["run", "repo", "pipeline", "branch", "status", "commit"]
    assert any("✗ failed" in row for row in rows)
    assert any("! warning" in row for row in rows)  # passed with warnings
    data = [row for row in rows[1:8]]
    assert len(data) == 7
    for row in data:  # names may be cut to fit; statuses, hashes, triggers, times never
        assert len(row) <= WIDTH
        assert re.search(r" [✓✗⊘!] \w+ +[0-9a-f]{8} +(push|schedule|manual) ", row), row
        assert re.search(r"\d+ days ago +2026-01-15 \d\d:\d\d UTC +\d+m\d\ds$", row), row
    assert COLOUR.search(styled)


def test_no_color_keeps_the_icons_and_drops_the_colour(demo_url: str) -> None:
    plain, styled = shown(["env", "NO_COLOR=1", *command("--db", demo_url, "runs")])
    assert "✗ failed" in plain
    assert not re.search(r"\x1b\[[0-9;]*3[0-7]m", styled)  # no foreground colour


def test_a_pipe_gets_plain_aligned_text(demo_url: str) -> None:
    piped = cirec("--db", demo_url, "runs")
    assert piped.returncode == 0, piped.stderr
    assert "\x1b" not in piped.stdout
    assert "✗" not in piped.stdout
    assert " failed " in piped.stdout
