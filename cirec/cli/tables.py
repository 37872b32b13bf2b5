"""Output for people: aligned tables.

Piped, a table is plain aligned text with each long cell clipped at its column's limit.
On a terminal it is drawn with ``rich`` (imported only then), fitted to the terminal's
width: only the columns of names and text (a limit of :data:`FLEXIBLE_FROM` or more, and
not ``fixed``) are cut to fit, never a status, number, time or short hash, unless the
terminal is too narrow even for those. Status cells get their icon and colour, and
nothing is coloured when ``NO_COLOR`` is set.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TextIO

from attrs import frozen

FLEXIBLE_FROM = 20
"""The limit from which a column holds free text that a narrow terminal may cut."""


@frozen
class Column:
    """A column of a table: its title, widest plain cell, alignment, and whether it holds statuses.

    Status cells get their icon and colour on a terminal.
    """

    title: str
    limit: int
    numeric: bool = False
    status: bool = False
    fixed: bool = False
    """Never cut on a terminal, whatever its limit (a time: cut, it would mislead)."""


def render_table(columns: Sequence[Column], rows: Iterable[Sequence[str]]) -> list[str]:
    """Return the lines of an aligned table; a cell over its column's limit ends in "…"."""
    cells = [
        [clip(cell, column.limit) for cell, column in zip(row, columns, strict=True)]
        for row in [[column.title for column in columns], *rows]
    ]
    widths = [max(len(row[index]) for row in cells) for index in range(len(columns))]
    return [_table_line(row, columns, widths) for row in cells]


def fixed_line(columns: Sequence[Column], row: Sequence[str]) -> str:
    """Return one line of a table whose columns are as wide as their limits, whatever the rows.

    For a table printed a row at a time (a follower's): every line lines up with the
    header and with each other without knowing the rows to come. Cells are clipped as in
    :func:`render_table`; the last column is not padded.
    """
    cells = [clip(cell, column.limit) for cell, column in zip(row, columns, strict=True)]
    return _table_line(cells, columns, [column.limit for column in columns])


def _table_line(row: Sequence[str], columns: Sequence[Column], widths: Sequence[int]) -> str:
    padded = [
        cell.rjust(width) if column.numeric else cell.ljust(width)
        for cell, column, width in zip(row, columns, widths, strict=True)
    ]
    return "  ".join(padded).rstrip()


def clip(text: str, limit: int) -> str:
    """Return ``text`` on one line, cut to ``limit`` characters with a final "…" if longer."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def print_table(stream: TextIO, columns: Sequence[Column], rows: Iterable[Sequence[str]]) -> None:
    """Print a table on ``stream``: drawn with ``rich`` on a terminal, plain text elsewhere."""
    if not stream.isatty():
        for line in render_table(columns, rows):
            print(line, file=stream)
        return
    from rich.console import Console  # the terminal's path only: piped output never loads it
    from rich.table import Table
    from rich.text import Text

    from cirec.cli.outcomes import look

    console = Console(file=stream)
    table = Table(
        box=None, pad_edge=False, show_edge=False, header_style="bold", padding=(0, 1, 0, 0)
    )
    body = [[" ".join(cell.split()) for cell in row] for row in rows]
    widths = _fitted_widths(columns, body, console.width)
    for column, width in zip(columns, widths, strict=True):
        table.add_column(
            column.title,
            justify="right" if column.numeric else "left",
            overflow="ellipsis",
            no_wrap=True,
            width=width,
        )
    for row in body:
        cells: list[Text | str] = []
        for cell, column in zip(row, columns, strict=True):
            if column.status and cell:
                shown = look(cell)
                cells.append(Text(f"{shown.icon} {cell}", style=shown.style))
            else:
                cells.append(Text(cell))
        table.add_row(*cells)
    console.print(table)


def _fitted_widths(columns: Sequence[Column], body: list[list[str]], room: int) -> list[int]:
    """Return each column's width on a terminal ``room`` wide (see the module).

    Fixed columns get their widest cell; the flexible ones share what is left, the
    narrow ones whole and the rest an equal part each, never below 1.
    """
    widest = [
        max([len(column.title), *(len(row[index]) for row in body)]) + (2 if column.status else 0)
        for index, column in enumerate(columns)
    ]
    flexible = [
        index
        for index, column in enumerate(columns)
        if column.limit >= FLEXIBLE_FROM and not (column.fixed or column.numeric or column.status)
    ]
    widths = list(widest)
    left = room - (len(columns) - 1) - sum(w for i, w in enumerate(widest) if i not in flexible)
    for place, index in enumerate(sorted(flexible, key=lambda i: widest[i])):
        share = max(left // (len(flexible) - place), 1)
        widths[index] = min(widest[index], share)
        left -= widths[index]
    return widths
