"""Output for people: aligned tables of events, with long cells clipped."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from attrs import frozen

from eventstore.records import RecordedEvent


@frozen
class Column:
    """A column of a table: its title, the widest a cell may be, and its alignment."""

    title: str
    limit: int
    numeric: bool = False


EVENT_COLUMNS = (
    Column("position", 10, numeric=True),
    Column("version", 7, numeric=True),
    Column("type", 24),
    Column("stream", 44),
    Column("summary", 60),
)


def event_row(event: RecordedEvent) -> tuple[str, ...]:
    """Return the cells of ``event`` under :data:`EVENT_COLUMNS`."""
    return (
        str(event.position),
        str(event.stream_version),
        event.type,
        event.stream_id,
        summarize(event.data),
    )


def summarize(data: dict[str, Any]) -> str:
    """Return the few fields of an event's data that tell its story, on one line."""
    where = "/".join(str(data[key]) for key in ("stage_name", "job_name") if key in data)
    parts = [
        data.get("user_id"),
        data.get("pipeline_name"),
        _present(data, "run_number", "#{}"),
        where or None,
        _present(data, "chunk_index", "chunk {}"),
        "allowed to fail" if data.get("allows_failure") else None,
        data.get("status"),
        data.get("trigger"),
        data.get("branch"),
        _present(data, "commit_hash", "@{:.8}"),
        f"{len(data['errors'])} errors" if data.get("errors") else None,
        _present(data, "reason", "({})"),
    ]
    return " ".join(str(part) for part in parts if part is not None)


def _present(data: dict[str, Any], key: str, template: str) -> str | None:
    value = data.get(key)
    return None if value is None else template.format(value)


def render_table(columns: Sequence[Column], rows: Iterable[Sequence[str]]) -> list[str]:
    """Return the lines of an aligned table; a cell over its column's limit ends in "…"."""
    cells = [
        [clip(cell, column.limit) for cell, column in zip(row, columns, strict=True)]
        for row in [[column.title for column in columns], *rows]
    ]
    widths = [max(len(row[index]) for row in cells) for index in range(len(columns))]
    return [_table_line(row, columns, widths) for row in cells]


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
