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
    first_chunk = next(
        i for i, line in enumerate(lines) if json.loads(line)["type"] == "JobLogChunkAppended"
    )
    # A run's start, its stage and job, then two chunks of its log, one line broken between.
    start = next(i for i, line in enumerate(lines) if json.loads(line)["type"] == "RunStarted")
    good = lines[start : first_chunk + 2]
    bad = json.loads(good[-1])
    del bad["data"]["content"]
    numbered = list(enumerate([*good[:-1], json.dumps(bad), good[-1]], start=1))
    broken = len(good)

    outcomes = list(import_lines(store, numbered))

    missing = Rejected(line=broken, field="data.content", problem="required field is missing")
    assert missing in outcomes
    appended = [o for o in outcomes if isinstance(o, Appended)]
    assert [o.line for o in appended] == [n for n, _ in numbered if n != broken]
    assert [o.position for o in appended] == list(range(1, len(good) + 1))
    assert [str(e.event_id) for e in store.read_all()] == [
        json.loads(line)["event_id"] for line in good
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


def test_a_line_sent_twice_in_one_batch_is_stored_once(store: EventStore, tmp_path: Path) -> None:
    lines = day_lines(tmp_path)
    types = [json.loads(line)["type"] for line in lines]
    # A run's start, its stage and its first job: the job's start is sent twice, in a row.
    start = types.index("RunStarted")
    job = types.index("JobStarted", start)
    sent = [*lines[start : job + 1], lines[job]]
    numbered = list(enumerate(sent, start=1))

    outcomes = list(import_lines(store, numbered))

    assert all(isinstance(o, Appended) for o in outcomes), outcomes
    *firsts, twice = [o for o in outcomes if isinstance(o, Appended)]
    assert [o.already_stored for o in firsts] == [False] * len(firsts)
    assert (twice.already_stored, twice.position) == (True, firsts[-1].position)
    assert [str(e.event_id) for e in store.read_all()] == [
        json.loads(line)["event_id"] for line in sent[:-1]
    ]
