"""The sections of the page that explain rather than list: header, times, emitting, errors."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import attrs

from eventstore.catalog import PipelineValidated
from eventstore.clock import NAIVE_TIME
from eventstore.codec import UPCASTERS, Codec, json_converter
from eventstore.errors import InvalidEventError
from tools.reference.examples import EXAMPLE_TIME, example_event, example_record

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
is stored as `{kept}`.

One function does this for every time an event takes from outside
(`eventstore.clock.normalise_time`): the JSON form's `occurred_at` (`Recorder.emit`,
`cirec emit`), the recorder's clock (`Recorder(clock=…)`, which may give any aware
`datetime`) and a `NewEvent` built by hand. So one instant is stored as one value whichever
way it came, and a time without a zone is refused the same way on each of them, with nothing
stored: `occurred_at: {NAIVE_TIME}`.
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


BAD_CONFIG: dict[str, Any] = {"stages": [{"deploy.prod": {"timeout": 2**64}}]}
"""A ``pipeline_config`` with one fault (an integer no store holds) under a user's key."""


def _refusal(make: Any) -> str:
    """Return ``FIELD: REASON`` of the error ``make()`` raises, as a message shows it."""
    try:
        make()
    except InvalidEventError as exc:
        return str(exc)
    raise RuntimeError(f"the page's bad pipeline_config {BAD_CONFIG} was accepted")


def errors_section() -> str:
    """Return the section on refused events and the one form of their field paths.

    Its examples are what the codec and an event class raise for :data:`BAD_CONFIG` now.
    """
    valid = example_event(PipelineValidated)
    if not isinstance(valid, PipelineValidated):
        raise TypeError(f"example_event(PipelineValidated) gave a {type(valid).__name__}")
    raw = json_converter.unstructure(example_record(valid))
    raw["data"]["pipeline_config"] = BAD_CONFIG
    emitted = _refusal(lambda: Codec().parse_new_event(raw))
    built = _refusal(lambda: attrs.evolve(valid, pipeline_config=BAD_CONFIG))
    return f"""
## Errors and field paths

A refused event raises `eventstore.errors.InvalidEventError` and nothing of it is stored.
The error names the part at fault as a path (`field`), says what is wrong (`reason`) and
keeps what was given (`value`); its message is `FIELD: REASON`. Paths have one form
everywhere (`eventstore.field_paths.field_path` writes them all):

- the fields of an event are joined by `.`: `data.content`, `metadata.actor`;
- an item of a list is `[index]`: `data.errors[0]`;
- a key inside a user's JSON value (`pipeline_config`) is `.key` when it is a plain
  identifier (ASCII letters, digits and `_`, not starting with a digit), and otherwise its
  JSON string in brackets, a lone surrogate written as its `\\u` escape: `["deploy.prod"]`,
  `[""]`. An unknown field of any spelling is named the same way.

A path starts at what the call was given. `Recorder.emit`, `cirec emit` and
`Codec.parse_new_event` are given the event's JSON form, so their paths start at the
envelope; a pipeline configuration with an integer no store holds is refused as

```
{emitted}
```

An event class is given the event's own fields, and so is each of the recorder's step
methods (its keyword arguments are those fields): their paths start at the field, and the
same fault in `Recorder.pipeline_validated(pipeline_config=…)` is refused as

```
{built}
```

`cirec emit` reports a bad line as `line N: FIELD: PROBLEM` with the same path, `json` for a
line that is not JSON and `event` for one that is not a JSON object.
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
