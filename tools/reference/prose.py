"""The sections of the page that explain rather than list: its header, times, emitting, versions."""

from __future__ import annotations

from datetime import datetime

from eventstore.codec import UPCASTERS, json_converter
from tools.reference.examples import EXAMPLE_TIME

REGENERATE = "python -m tools.reference > docs/events.md"
"""The command that rewrites ``docs/events.md`` from the code."""


def header() -> str:
    """Return the page's title, how it is generated, and what it covers."""
    return f"""
# Events reference

> Generated from the code by `{REGENERATE}`
> (`tools/reference/`) — do not edit by hand. `tests/test_reference.py` fails
> when this page and the code disagree.

An event is an immutable fact about the CI lifecycle ("a job started", "a run finished").
The CI engine appends events to one log; nothing ever updates or deletes one. Projector
workers fold the log into the `sessions`, `repo_configs` and `jobs_history` read models.
This page lists every event type the recorder accepts: its fields, what emits it, which read
model it changes, and its exact JSON form.
"""


def times_section() -> str:
    """Return the section on how times are written, with examples the codec produced."""
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


def emitting_section() -> str:
    """Return the section on how the CI engine emits events through the recorder."""
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

From a shell or another language, `cirec emit` takes the same JSON form: one event as an
argument, or one event per line from a file or stdin (`eventstore.importer` in Python).
Each line is validated on its own; a bad line is reported as `line N: FIELD: PROBLEM` and
nothing from it is stored, while the good lines around it are.
"""


def versions_section() -> str:
    """Return the section on schema versions and upcasting, naming the registered upcasters."""
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
