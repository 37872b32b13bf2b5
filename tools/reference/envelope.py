"""The envelope every event travels in: what each of its fields means, and its section."""

from __future__ import annotations

import typing
from collections.abc import Mapping

import attrs

from eventstore.catalog import EVENT_TYPES
from eventstore.codec import recorded_to_json
from eventstore.records import Metadata, NewEvent, RecordedEvent
from tools.reference.examples import example_event, example_stored
from tools.reference.fields import fields_table, json_type
from tools.reference.markdown import json_block, table

ENVELOPE_DOCS: Mapping[str, str] = {
    "event_id": (
        "Chosen by the emitter; unique in the whole log. It is the idempotency key: sending "
        "an event again with a stored `event_id` (to the same stream) stores nothing and "
        "returns the position it was first stored at. The stored event wins; the content of "
        "the repeat is not compared, except a `RunStarted`'s: its id is its run's, and a "
        "start with other content is refused (see [A run's lifecycle](#a-runs-lifecycle))."
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
        "run's previous event as the store holds it (the last of the run's stream, or "
        "its `RunStarted`), whichever process recorded that one."
    ),
    "actor": "Who emitted the event: a user, a runner, the engine.",
    "stream_id": "The stream the event belongs to (see [Streams](#streams)).",
    "stream_version": "1, 2, 3 … within its stream, without gaps.",
    "position": "1, 2, 3 … over the whole log, without gaps: the global order.",
    "recorded_at": "When the store appended it, by the store's clock.",
}
"""What each field of the envelope means, by field name (checked against the records)."""


def envelope_section() -> str:
    """Return the section on the envelope, with a stored example of the first event type.

    Raises ``LookupError`` unless :data:`ENVELOPE_DOCS` describes exactly the fields of
    ``NewEvent``, ``Metadata`` and ``RecordedEvent``.
    """
    record_fields = {
        field.name for cls in (NewEvent, Metadata, RecordedEvent) for field in attrs.fields(cls)
    }
    if record_fields != set(ENVELOPE_DOCS):
        raise LookupError(
            "ENVELOPE_DOCS in tools/reference/envelope.py does not match the record "
            f"fields: {sorted(record_fields ^ set(ENVELOPE_DOCS))}"
        )
    sent = {field.name for field in attrs.fields(NewEvent)}
    stored_hints = typing.get_type_hints(RecordedEvent)
    stored_rows = [
        [f"`{field.name}`", json_type(stored_hints[field.name]), ENVELOPE_DOCS[field.name]]
        for field in attrs.fields(RecordedEvent)
        if field.name not in sent
    ]
    first_name, first_type = next(iter(EVENT_TYPES.items()))
    stored = example_stored(example_event(first_type))
    return f"""
## The envelope

Every event travels in the same envelope. The emitter sends these fields:

{fields_table(NewEvent, ENVELOPE_DOCS)}

`metadata` holds:

{fields_table(Metadata, ENVELOPE_DOCS)}

The store adds, when it appends the event:

{table(["field", "JSON", "meaning"], stored_rows)}

Fields not listed are refused (`unknown field`), and no value is coerced: `"1"` is not an
integer and `1` is not a boolean. A rejected event gets an error naming the field at fault
(`data.status`, `occurred_at`, …, see [Errors and field paths](#errors-and-field-paths)),
and nothing of it is stored.

The `{first_name}` example below, as `read_all` / `read_stream` give it back once stored
(`eventstore.codec.recorded_to_json`):

{json_block(recorded_to_json(stored))}
"""
