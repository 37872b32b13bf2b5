"""Markdown building blocks: tables, links to sections, JSON blocks, docstring markup."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence


def table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """Return a Markdown table; each cell is put on one line and its ``|`` escaped."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines.extend("| " + " | ".join(_cell(text) for text in row) + " |" for row in rows)
    return "\n".join(lines)


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def anchor(name: str) -> str:
    """Return a link, shown as code, to the page's section headed ``name``."""
    return f"[`{name}`](#{name.lower()})"


def json_block(value: object) -> str:
    """Return ``value`` as an indented JSON code block (non-ASCII kept, NaN refused)."""
    text = json.dumps(value, indent=2, ensure_ascii=False, allow_nan=False)
    return f"```json\n{text}\n```"


def from_docstring(doc: str) -> str:
    """Return ``doc`` with its reStructuredText roles and literals turned into code spans."""
    return re.sub(r":\w+:`~?([^`]+)`", r"`\1`", doc).replace("``", "`")
