"""The page: its sections, in order, joined into one Markdown text."""

from __future__ import annotations

from eventstore.catalog import EVENT_TYPES
from tools.reference.envelope import envelope_section
from tools.reference.events import event_section, events_index, streams_section
from tools.reference.examples import example_event
from tools.reference.lifecycle import lifecycle_section
from tools.reference.prose import (
    emitting_section,
    errors_section,
    header,
    times_section,
    versions_section,
)
from tools.reference.sources import recorder_methods


def render_events_reference() -> str:
    """Return the Markdown text of ``docs/events.md``; the same code always gives the same text."""
    events = {name: example_event(cls) for name, cls in EVENT_TYPES.items()}
    makers = recorder_methods()
    parts = [
        header(),
        envelope_section(),
        times_section(),
        emitting_section(),
        lifecycle_section(),
        errors_section(),
        versions_section(),
        streams_section(events),
        events_index(),
        *(event_section(name, event, makers.get(name, [])) for name, event in events.items()),
    ]
    return "\n\n".join(part.strip("\n") for part in parts) + "\n"
