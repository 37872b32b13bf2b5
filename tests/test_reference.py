"""docs/events.md is generated from the code, and its JSON examples are what emit accepts."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from eventstore.catalog import EVENT_TYPES
from eventstore.codec import Codec, json_converter
from eventstore.records import RecordedEvent
from tools.reference import REGENERATE, render_events_reference

PAGE = Path(__file__).resolve().parents[1] / "docs" / "events.md"
SECTION = re.compile(r"^### (\w+)$", re.MULTILINE)
JSON_BLOCK = re.compile(r"^```json\n(.*?)\n```$", re.MULTILINE | re.DOTALL)


def page() -> str:
    return PAGE.read_text(encoding="utf-8")


def event_sections(text: str) -> dict[str, str]:
    """Map each ``### Type`` heading of the page to the text under it."""
    starts = list(SECTION.finditer(text))
    sections: dict[str, str] = {}
    for here, after in zip(starts, [*starts[1:], None], strict=True):
        end = after.start() if after is not None else len(text)
        sections[here.group(1)] = text[here.end() : end]
    return sections


def json_examples(text: str) -> list[Any]:
    return [json.loads(block) for block in JSON_BLOCK.findall(text)]


def test_the_page_is_generated_from_the_code() -> None:
    assert page() == render_events_reference(), (
        f"docs/events.md is out of date with the code: regenerate it with `{REGENERATE}`"
    )


def test_rendering_is_deterministic() -> None:
    assert render_events_reference() == render_events_reference()


def test_every_event_type_has_a_section_in_catalog_order() -> None:
    assert list(event_sections(page())) == list(EVENT_TYPES)


@pytest.mark.parametrize("type_name", list(EVENT_TYPES))
def test_the_json_example_is_the_form_emit_accepts(type_name: str) -> None:
    section = event_sections(page())[type_name]
    examples = json_examples(section)
    assert len(examples) == 1, f"{type_name}: expected one JSON example, found {len(examples)}"
    (example,) = examples

    record, event = Codec().parse_new_event(example)

    assert record.type == type_name
    assert type(event) is EVENT_TYPES[type_name]
    assert json_converter.unstructure(record) == example
    assert json_converter.unstructure(event) == example["data"]


def test_the_stored_example_is_a_recorded_event() -> None:
    intro = page().split("\n## Events\n", 1)[0]
    (stored,) = json_examples(intro)

    recorded = json_converter.structure(stored, RecordedEvent)

    assert (recorded.stream_version, recorded.position) == (1, 1)
    assert json_converter.unstructure(recorded) == stored
