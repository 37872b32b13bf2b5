"""Output for people: aligned tables, with long cells clipped."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from attrs import frozen


@frozen
class Column:
    """A column of a table: its title, the widest a cell may be, and its alignment."""

    title: str
    limit: int
    numeric: bool = False


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
