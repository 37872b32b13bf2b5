r"""Field paths: how an error names the part of its input at fault, in one form everywhere.

A path is the list of steps from the top of what the caller handed in (the JSON form of an
event, or an event's fields) down to the value at fault, and :func:`field_path` is the one
place that writes it as text:

* a name that is a plain identifier (ASCII letters, digits and ``_``, not starting with a
  digit) is joined with ``.``: ``data.content``, ``metadata.actor``;
* a list index is ``[index]``: ``data.errors[1]``;
* any other key (a user's key inside a JSON value, an unknown field of any spelling) is its
  JSON string in brackets, a lone surrogate written as its ``\u`` escape: ``["deploy.prod"]``,
  ``[""]``, ``["\ud800"]``.

So ``data.pipeline_config.stages[0]["deploy.prod"]`` is read back without ambiguity, and a
path is always printable, whatever the user's keys hold.
"""

from __future__ import annotations

import json
import re
from typing import TypeAlias

Step: TypeAlias = str | int
"""One step of a path: a field name or a key (``str``), or a list index (``int``)."""

_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SURROGATE = re.compile("[\ud800-\udfff]")


def field_path(*steps: Step) -> str:
    """Return the path through ``steps`` in the documented form (``""`` for no step)."""
    parts: list[str] = []
    for step in steps:
        if isinstance(step, int):
            parts.append(f"[{step}]")
        elif _PLAIN.fullmatch(step):
            parts.append(f".{step}" if parts else step)
        else:
            parts.append(f"[{_quoted(step)}]")
    return "".join(parts)


def _quoted(key: str) -> str:
    text = json.dumps(key, ensure_ascii=False)
    return _SURROGATE.sub(lambda found: f"\\u{ord(found.group()):04x}", text)
