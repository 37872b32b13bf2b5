"""Generates ``docs/events.md``, the reference of every event, from the code itself.

Everything on the page that can drift is read from the code: the catalog's classes, their
docstrings, fields, field docs, ``EMITTED_BY``, ``CHANGES`` and ``SCHEMA_VERSION``; the stream
kinds and their docstrings (:mod:`eventstore.streams`); the :class:`~eventstore.recorder.Recorder`
method that builds each event (found in its source); and the JSON examples, which are real
events serialised by the codec. Only the example values and the envelope's descriptions are
written here, and both are checked against the code: a new field without an example or a
description raises instead of rendering a page with a hole.

Regenerate the page with ``python -m eventstore.reference > docs/events.md``;
``tests/test_reference.py`` fails when the page and the code disagree.
"""

from __future__ import annotations

import ast
import copy
import enum
import inspect
import itertools
import json
import re
import sys
import types
import typing
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import attrs

from eventstore import recorder as recorder_module
from eventstore import streams
from eventstore.catalog import EVENT_TYPES, DomainEvent, Status, Trigger
from eventstore.codec import UPCASTERS, Codec, json_converter, recorded_to_json
from eventstore.records import Metadata, NewEvent, RecordedEvent

REGENERATE = "python -m eventstore.reference > docs/events.md"
"""The command that rewrites ``docs/events.md`` from the code."""

EXAMPLE_EVENT_ID = UUID("00000000-0000-4000-8000-000000000001")
EXAMPLE_RUN_ID = UUID("00000000-0000-4000-8000-000000000002")
EXAMPLE_CAUSATION_ID = UUID("00000000-0000-4000-8000-000000000003")
EXAMPLE_TIME = datetime(2026, 1, 15, 9, 30, tzinfo=UTC)
EXAMPLE_ACTOR = "ci-engine"
EXAMPLE_STORE_DELAY = timedelta(milliseconds=42)

EXAMPLE_VALUES: Mapping[str, object] = {
    "user_id": "dev-42",
    "repo_name": "acme-api",
    "repo_url": "https://git.example.com/acme/api.git",
    "branch": "main",
    "commit_hash": "9f2c1e7",
    "is_remote": True,
    "pipeline_name": "build-and-test",
    "pipeline_file_name": ".cicd/build-and-test.yaml",
    "pipeline_config": {
        "stages": [
            {"name": "build", "jobs": [{"name": "compile", "script": ["make build"]}]},
            {
                "name": "test",
                "jobs": [
                    {"name": "unit", "script": ["make test"]},
                    {"name": "lint", "script": ["make lint"], "allow_failure": True},
                ],
            },
        ]
    },
    "errors": ("stages[1].jobs[0]: 'script' is required",),
    "run_id": EXAMPLE_RUN_ID,
    "run_number": 7,
    "trigger": Trigger.PUSH,
    "actor": "dev-42",
    "stage_name": "test",
    "job_name": "unit",
    "allows_failure": False,
    "attempt": 1,
    "chunk_index": 0,
    "content": "$ make test\ncollected 128 items\n128 passed in 4.21s\n",
    "status": Status.SUCCESS,
    "reason": "superseded by a newer push to main",
}
"""The value every catalog field takes in the page's examples, by field name."""

ENVELOPE_DOCS: Mapping[str, str] = {
    "event_id": (
        "Chosen by the emitter; unique in the whole log. It is the idempotency key: sending "
        "an event again with a stored `event_id` (to the same stream) stores nothing and "
        "returns the position it was first stored at. The stored event wins; the content of "
        "the repeat is not compared."
    ),
    "type": "The event's type: one of the section names under [Events](#events).",
    "schema_version": (
        "Version of the `data` layout the emitter wrote: the type's schema version when it "
        "was emitted."
    ),
    "occurred_at": "When it happened, by the emitter's clock.",
    "data": "The event's own fields, listed in its section.",
    "metadata": "Who and what caused the event (below). May be left out.",
    "correlation_id": (
        "Ties together every event of one piece of work: the recorder sets it to the "
        "`run_id` on every event of a run (and on its `RunStarted`)."
    ),
    "causation_id": (
        "The `event_id` of the event that caused this one: the recorder sets it to the "
        "previous event it recorded for the same run."
    ),
    "actor": "Who emitted the event: a user, a runner, the engine.",
    "stream_id": "The stream the event belongs to (see [Streams](#streams)).",
    "stream_version": "1, 2, 3 … within its stream, without gaps.",
    "position": "1, 2, 3 … over the whole log, without gaps: the global order.",
    "recorded_at": "When the store appended it, by the store's clock.",
}
"""What each field of the envelope means, by field name (checked against the records)."""


def render_events_reference() -> str:
    """Return the Markdown text of ``docs/events.md``, generated from the code."""
    examples = {name: _example_record(cls) for name, cls in EVENT_TYPES.items()}
    events = {name: _example_event(cls) for name, cls in EVENT_TYPES.items()}
    makers = _recorder_methods()
    parts = [
        _header(),
        _envelope_section(examples),
        _times_section(),
        _emitting_section(),
        _versions_section(),
        _streams_section(events),
        _events_index(),
    ]
    parts.extend(
        _event_section(name, cls, events[name], examples[name], makers.get(name, []))
        for name, cls in EVENT_TYPES.items()
    )
    return "\n\n".join(part.strip("\n") for part in parts) + "\n"


def main() -> None:
    """Write the page to standard output (as UTF-8): ``python -m eventstore.reference``."""
    sys.stdout.buffer.write(render_events_reference().encode("utf-8"))
    sys.stdout.flush()


# -- examples ---------------------------------------------------------------------------


def _example_event(cls: type[DomainEvent]) -> DomainEvent:
    """Build the example instance of ``cls`` from :data:`EXAMPLE_VALUES`."""
    values: dict[str, Any] = {}
    for field in attrs.fields(cls):
        if field.name not in EXAMPLE_VALUES:
            raise LookupError(
                f"{cls.__name__}.{field.name} has no example value: add one to "
                "EXAMPLE_VALUES in eventstore/reference.py"
            )
        values[field.alias or field.name] = copy.deepcopy(EXAMPLE_VALUES[field.name])
    return cls(**values)


def _example_record(cls: type[DomainEvent]) -> NewEvent:
    """Return the example event of ``cls`` as the codec records it, with example metadata."""
    event = _example_event(cls)
    run_id = getattr(event, "run_id", None)
    in_run_stream = streams.parse_stream_id(event.stream_id)[0] == streams.RUN
    metadata = Metadata(
        correlation_id=run_id,
        causation_id=EXAMPLE_CAUSATION_ID if in_run_stream else None,
        actor=EXAMPLE_ACTOR,
    )
    return Codec().to_new_event(
        event, event_id=EXAMPLE_EVENT_ID, occurred_at=EXAMPLE_TIME, metadata=metadata
    )


def _json_block(value: object) -> str:
    text = json.dumps(value, indent=2, ensure_ascii=False, allow_nan=False)
    return f"```json\n{text}\n```"


# -- reading the code -------------------------------------------------------------------


def _docstrings_after_assignments(body: Iterable[ast.stmt]) -> dict[str, str]:
    """Map each name assigned in ``body`` to the string literal right after it, if any."""
    found: dict[str, str] = {}
    statements = list(body)
    for statement, following in itertools.pairwise(statements):
        target: ast.expr | None = None
        if isinstance(statement, ast.AnnAssign):
            target = statement.target
        elif isinstance(statement, ast.Assign) and len(statement.targets) == 1:
            target = statement.targets[0]
        if (
            isinstance(target, ast.Name)
            and isinstance(following, ast.Expr)
            and isinstance(following.value, ast.Constant)
            and isinstance(following.value.value, str)
        ):
            found[target.id] = inspect.cleandoc(following.value.value)
    return found


def _stream_kinds() -> dict[str, str]:
    """Return each stream kind of :mod:`eventstore.streams` with its docstring, in order."""
    tree = ast.parse(inspect.getsource(streams))
    kinds: dict[str, str] = {}
    for name, doc in _docstrings_after_assignments(tree.body).items():
        value = getattr(streams, name, None)
        if name.isupper() and isinstance(value, str):
            kinds[value] = _markdown(doc)
    if not kinds:
        raise LookupError("no documented stream kind found in eventstore/streams.py")
    return kinds


def _recorder_methods() -> dict[str, list[str]]:
    """Map each event type to the public ``Recorder`` methods whose code constructs it."""
    tree = ast.parse(inspect.getsource(recorder_module))
    name = recorder_module.Recorder.__name__
    found: dict[str, list[str]] = {}
    for node in tree.body:
        if not (isinstance(node, ast.ClassDef) and node.name == name):
            continue
        for method in node.body:
            if not isinstance(method, ast.FunctionDef) or method.name.startswith("_"):
                continue
            for call in ast.walk(method):
                if not isinstance(call, ast.Call):
                    continue
                func = call.func
                called = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
                if called in EVENT_TYPES and method.name not in found.get(called, []):
                    found.setdefault(called, []).append(method.name)
    return found


def _json_type(annotation: Any) -> str:
    """Describe the JSON value a resolved annotation is written as; raise if unknown."""
    if annotation is bool:
        return "boolean"
    if annotation is int:
        return "integer"
    if annotation is str:
        return "string"
    if annotation is UUID:
        return "string (UUID)"
    if annotation is datetime:
        return "string (time)"
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return "string: " + ", ".join(f"`{member.value}`" for member in annotation)
    if isinstance(annotation, type) and attrs.has(annotation):
        return "object"
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is dict:
        return "object"
    if origin in (tuple, list) and args and (len(args) == 1 or args[1:] == (Ellipsis,)):
        return f"array of {_json_type(args[0])}"
    if origin in (typing.Union, types.UnionType) and type(None) in args:
        rest = [arg for arg in args if arg is not type(None)]
        if len(rest) == 1:
            return f"{_json_type(rest[0])} or null"
    raise TypeError(f"no JSON form known for {annotation!r}: teach eventstore/reference.py")


def _annotation_text(cls: type[Any], name: str) -> str:
    """Return the type of field ``name`` as written in its annotation in the source.

    Read from ``__annotations__``, not from the attrs field: cattrs resolves the latter in
    place the first time it handles a class, which would make the page depend on call order.
    """
    for owner in cls.__mro__:
        written = vars(owner).get("__annotations__", {}).get(name)
        if isinstance(written, str):
            return written
        if written is not None:
            return getattr(written, "__name__", None) or repr(written).replace("typing.", "")
    raise LookupError(f"{cls.__name__}.{name} has no annotation")


def _markdown(doc: str) -> str:
    """Turn the reStructuredText markup of a docstring into Markdown code spans."""
    return re.sub(r":\w+:`~?([^`]+)`", r"`\1`", doc).replace("``", "`")


def _requirement(field: attrs.Attribute[Any]) -> str:
    default: Any = field.default
    if default is attrs.NOTHING:
        return "required"
    if isinstance(default, attrs.Factory):  # type: ignore[arg-type]  # a class at runtime
        if default.takes_self:
            return "optional"
        default = default.factory()
    shown = json.dumps(json_converter.unstructure(default), ensure_ascii=False)
    return f"optional, default `{shown}`"


# -- Markdown ---------------------------------------------------------------------------


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _table(header: Iterable[str], rows: Iterable[Iterable[str]]) -> str:
    head = list(header)
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines.extend("| " + " | ".join(_cell(cell) for cell in row) + " |" for row in rows)
    return "\n".join(lines)


def _anchor(name: str) -> str:
    return f"[`{name}`](#{name.lower()})"


def _field_rows(cls: type[Any], docs: Mapping[str, str] | None = None) -> list[list[str]]:
    """One table row per attrs field of ``cls``: name, type, JSON, required, meaning."""
    hints = typing.get_type_hints(cls)
    rows = []
    for field in attrs.fields(cls):
        doc = docs.get(field.name) if docs is not None else field.metadata.get("doc")
        if not doc:
            raise LookupError(f"{cls.__name__}.{field.name} has no documentation")
        rows.append(
            [
                f"`{field.name}`",
                f"`{_annotation_text(cls, field.name)}`",
                _json_type(hints[field.name]),
                _requirement(field),
                _markdown(doc),
            ]
        )
    return rows


def _header() -> str:
    return f"""
# Events reference

> Generated from the code by `{REGENERATE}`
> (`eventstore/reference.py`) — do not edit by hand. `tests/test_reference.py` fails
> when this page and the code disagree.

An event is an immutable fact about the CI lifecycle ("a job started", "a run finished").
The CI engine appends events to one log; nothing ever updates or deletes one. Projector
workers fold the log into the `sessions`, `repo_configs` and `jobs_history` read models.
This page lists every event type the recorder accepts: its fields, what emits it, which read
model it changes, and its exact JSON form.
"""


def _envelope_section(examples: Mapping[str, NewEvent]) -> str:
    sent_names = {field.name for cls in (NewEvent, Metadata) for field in attrs.fields(cls)}
    added = [field for field in attrs.fields(RecordedEvent) if field.name not in sent_names]
    documented_names = sent_names | {field.name for field in added}
    if documented_names != set(ENVELOPE_DOCS):
        raise LookupError(
            "ENVELOPE_DOCS in eventstore/reference.py does not match the record fields: "
            f"{sorted(documented_names ^ set(ENVELOPE_DOCS))}"
        )
    stored_hints = typing.get_type_hints(RecordedEvent)
    stored_rows = [
        [f"`{field.name}`", _json_type(stored_hints[field.name]), ENVELOPE_DOCS[field.name]]
        for field in added
    ]
    first_name, first = next(iter(examples.items()))
    first_stream = _example_event(EVENT_TYPES[first_name]).stream_id
    recorded = RecordedEvent(
        event_id=first.event_id,
        type=first.type,
        schema_version=first.schema_version,
        occurred_at=first.occurred_at,
        data=first.data,
        metadata=first.metadata,
        stream_id=first_stream,
        stream_version=1,
        position=1,
        recorded_at=first.occurred_at + EXAMPLE_STORE_DELAY,
    )
    return f"""
## The envelope

Every event travels in the same envelope. The emitter sends these fields:

{_table(["field", "type", "JSON", "required", "meaning"], _field_rows(NewEvent, ENVELOPE_DOCS))}

`metadata` holds:

{_table(["field", "type", "JSON", "required", "meaning"], _field_rows(Metadata, ENVELOPE_DOCS))}

The store adds, when it appends the event:

{_table(["field", "JSON", "meaning"], stored_rows)}

Fields not listed are refused (`unknown field`), and no value is coerced: `"1"` is not an
integer and `1` is not a boolean. A rejected event gets an error naming the field at fault
(`data.status`, `occurred_at`, …) and nothing of it is stored.

The `{first_name}` example below, as `read_all` / `read_stream` give it back once stored
(`eventstore.codec.recorded_to_json`):

{_json_block(recorded_to_json(recorded))}
"""


def _times_section() -> str:
    shown = json_converter.unstructure(EXAMPLE_TIME)
    given = "2026-01-15T10:30:00.123456+01:00"
    kept = json_converter.unstructure(json_converter.structure(given, datetime))
    return f"""
## Times

`occurred_at` and `recorded_at` are ISO 8601 times in UTC with exactly three fractional
digits and a trailing `Z`, e.g. `{shown}`. Milliseconds are what BSON keeps, so both
stores give back the same values. On input, any UTC offset is accepted and converted to
UTC, and finer digits are cut (not rounded): `{given}`
is stored as `{kept}`. A time without a zone is refused.
"""


def _emitting_section() -> str:
    return """
## Emitting events

The CI engine calls `eventstore.recorder.Recorder`: one method per step of the lifecycle
(named in each event's section), `Recorder.record(event)` with an event object of the
catalog, or `Recorder.emit(json)` with the JSON form shown in each section. The recorder
fills in `event_id`, `occurred_at` and `metadata` for the first two; `emit` takes them
from the JSON. Every event is validated as it is built (`Codec.parse_new_event` for
`emit`), before anything is appended.

Each event goes to the stream its own fields name (see [Streams](#streams)). `emit`
appends with no version expectation, except for `RunStarted`: it is appended at the exact
version `run_number - 1` of its pipeline's run-number stream, so a run number that is
taken already is refused with `WrongExpectedVersionError`. `Recorder.start_run` picks
the next free number itself and tries again when another run took it first.
"""


def _versions_section() -> str:
    if UPCASTERS:
        registered = "Registered upcasters: " + ", ".join(
            f"`{type_name}` v{version} → v{version + 1}" for type_name, version in sorted(UPCASTERS)
        )
    else:
        registered = "No upcaster is registered yet."
    return f"""
## Schema versions and upcasting

Each event type has a schema version (in its section), written into the envelope as
`schema_version` when the event is emitted. Stored events are never rewritten. When the
layout of a type's `data` changes, its `SCHEMA_VERSION` grows and a function that turns
`data` of version N into version N + 1 is registered in `UPCASTERS`
(`eventstore/codec.py`), keyed by `(type, N)`. Reading an older event (`Codec.decode`)
applies the chain of upcasters from its stored version up to the current one. An event
written by a newer version than the code knows, or with a missing step in the chain, is
refused with an error naming `schema_version`. {registered}
"""


def _streams_section(events: Mapping[str, DomainEvent]) -> str:
    kinds = _stream_kinds()
    members: dict[str, list[str]] = {kind: [] for kind in kinds}
    example_ids: dict[str, str] = {}
    for name, event in events.items():
        kind = streams.parse_stream_id(event.stream_id)[0]
        if kind not in members:
            raise LookupError(f"{name} goes to stream kind {kind!r}, not one of {list(kinds)}")
        members[kind].append(name)
        example_ids.setdefault(kind, event.stream_id)
    rows = [
        [
            f"`{kind}`",
            doc,
            f"`{example_ids[kind]}`" if kind in example_ids else "—",
            ", ".join(_anchor(name) for name in members[kind]) or "—",
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

{_table(["kind", "what it holds", "example id", "events"], rows)}
"""


def _events_index() -> str:
    rows = [
        [_anchor(name), _markdown((inspect.getdoc(cls) or "").splitlines()[0])]
        for name, cls in EVENT_TYPES.items()
    ]
    return f"""
## Events

In lifecycle order (the order of `EVENT_TYPES` in `eventstore/catalog/__init__.py`):

{_table(["type", "summary"], rows)}
"""


def _event_section(
    name: str, cls: type[DomainEvent], event: DomainEvent, record: NewEvent, makers: list[str]
) -> str:
    doc = _markdown(inspect.getdoc(cls) or "")
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
    fields = _field_rows(cls)
    return f"""
### {name}

{doc}

{_table(["", ""], facts)}

Fields of `data`:

{_table(["field", "type", "JSON", "required", "meaning"], fields)}

JSON form (what `Recorder.emit` accepts):

{_json_block(json_converter.unstructure(record))}
"""


if __name__ == "__main__":
    main()
