"""Importing JSON lines: each line judged alone, good lines batched, in line order."""

from __future__ import annotations

import json
from pathlib import Path

from eventstore.importer import Appended, Rejected, import_lines
from eventstore.store import EventStore
from tests.cli.helpers import day_lines


def test_a_bad_line_between_good_lines_of_one_stream_leaves_them_stored(
    store: EventStore, tmp_path: Path
) -> None:
    lines = day_lines(tmp_path)
    run_stream = [line for line in lines if json.loads(line)["type"] == "JobLogChunkAppended"][:4]
    bad = json.loads(run_stream[1])
    del bad["data"]["content"]
    numbered = list(enumerate([run_stream[0], json.dumps(bad), *run_stream[2:]], start=1))

    outcomes = list(import_lines(store, numbered))

    missing = Rejected(line=2, field="data.content", problem="required field is missing")
    assert outcomes[0] == missing
    appended = [o for o in outcomes if isinstance(o, Appended)]
    assert [o.line for o in appended] == [1, 3, 4]
    assert [o.position for o in appended] == [1, 2, 3]
    assert [str(e.event_id) for e in store.read_all()] == [
        json.loads(run_stream[i])["event_id"] for i in (0, 2, 3)
    ]


def test_blank_lines_are_skipped_and_a_retry_reports_the_stored_positions(
    store: EventStore, tmp_path: Path
) -> None:
    lines = day_lines(tmp_path)[:10]
    numbered = list(enumerate([lines[0], "   ", *lines[1:]], start=1))

    first = list(import_lines(store, numbered))
    again = list(import_lines(store, numbered))

    assert [o.line for o in first] == [1, *range(3, 12)]
    assert all(isinstance(o, Appended) and not o.already_stored for o in first)
    assert again == [
        Appended(
            line=o.line,
            event_id=o.event_id,
            stream_id=o.stream_id,
            position=o.position,
            already_stored=True,
        )
        for o in first
        if isinstance(o, Appended)
    ]
