"""The sections drawn from the catalog: the streams, the index of events, one section per event."""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence

from eventstore import streams
from eventstore.catalog import EVENT_TYPES, DomainEvent
from eventstore.codec import json_converter
from tools.reference.examples import example_record
from tools.reference.fields import fields_table
from tools.reference.markdown import anchor, from_docstring, json_block, table
from tools.reference.sources import stream_kinds


def streams_section(events: Mapping[str, DomainEvent]) -> str:
    """Return the section on streams: each kind, an example id, and the events it holds.

    ``events`` maps each event type to its example; raises ``LookupError`` for an event
    whose stream kind is not documented in :mod:`eventstore.streams`.
    """
    kinds = stream_kinds()
    members: dict[str, list[str]] = {kind: [] for kind in kinds}
    for name, event in events.items():
        kind = streams.parse_stream_id(event.stream_id)[0]
        if kind not in members:
            raise LookupError(f"{name} goes to stream kind {kind!r}, not one of {list(kinds)}")
        members[kind].append(name)
    rows = [
        [
            f"`{kind}`",
            doc,
            f"`{events[members[kind][0]].stream_id}`" if members[kind] else "—",
            ", ".join(anchor(name) for name in members[kind]) or "—",
        ]
        for kind, doc in kinds.items()
    ]
    return f"""
## Streams

A stream is the unit of consistency: its events are numbered 1, 2, 3 … (`stream_version`),
and an append can require the stream to be at an exact version. A stream id is the kind,
a colon, and the JSON array of the key parts, so any user string (dots, dollars, quotes)
stays unambiguous. The stream of an event follows from its fields (`stream_id` of each
catalog class).

{table(["kind", "what it holds", "example id", "events"], rows)}
"""


def events_index() -> str:
    """Return the index of event types, in catalog order, each with its docstring's summary."""
    rows = [
        [anchor(name), from_docstring((inspect.getdoc(cls) or "").splitlines()[0])]
        for name, cls in EVENT_TYPES.items()
    ]
    return f"""
## Events

In lifecycle order (the order of `EVENT_TYPES` in `eventstore/catalog/__init__.py`):

{table(["type", "summary"], rows)}
"""


def event_section(name: str, event: DomainEvent, makers: Sequence[str]) -> str:
    """Return the section of event type ``name``, with ``event`` as its JSON example.

    ``makers`` are the ``Recorder`` methods that build it; raises ``LookupError`` if its
    class has no docstring.
    """
    cls = type(event)
    doc = from_docstring(inspect.getdoc(cls) or "")
    if not doc:
        raise LookupError(f"{name} has no docstring")
    changes = (
        ", ".join(f"`{model}`" for model in cls.CHANGES)
        if cls.CHANGES
        else "no read model (kept in the log only)"
    )
    method = (
        ", ".join(f"`Recorder.{maker}()`" for maker in makers)
        if makers
        else "none: use `Recorder.record()` or `Recorder.emit()`"
    )
    kind = streams.parse_stream_id(event.stream_id)[0]
    facts = [
        ["Emitted by", cls.EMITTED_BY],
        ["Changes", changes],
        ["Recorder method", method],
        ["Schema version", str(cls.SCHEMA_VERSION)],
        ["Stream", f"`{kind}`, e.g. `{event.stream_id}`"],
    ]
    return f"""
### {name}

{doc}

{table(["", ""], facts)}

Fields of `data`:

{fields_table(cls)}

JSON form (what `Recorder.emit` accepts):

{json_block(json_converter.unstructure(example_record(event)))}
"""
