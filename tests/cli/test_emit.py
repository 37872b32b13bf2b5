"""``cirec emit``: JSON lines in, each judged on its own, idempotent by ``event_id``."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from cirec.config import open_store
from eventstore.run_ledger import run_started_event_id
from tests.cli.helpers import cirec, day_lines, json_lines


def stored_ids(url: str) -> list[str]:
    with open_store(url) as store:
        return [str(event.event_id) for event in store.read_all()]


def test_a_bad_line_is_named_with_its_field_and_only_it_is_left_out(
    store_url: str, tmp_path: Path
) -> None:
    lines = day_lines(tmp_path)[:6]
    bad = json.loads(lines[2])
    bad["data"]["is_remote"] = "yes"  # line 3: a string where a boolean belongs
    lines[2] = json.dumps(bad)

    result = cirec("--db", store_url, "emit", stdin="\n".join(lines) + "\n")

    assert result.returncode == 1
    assert result.stderr.splitlines() == ["line 3: data.is_remote: expected a boolean, got str"]
    assert result.stdout.strip() == "5 appended, 0 already stored, 1 rejected"
    assert stored_ids(store_url) == [
        json.loads(line)["event_id"] for index, line in enumerate(lines) if index != 2
    ]


def test_a_fault_inside_a_users_config_is_named_by_its_printable_path(
    store_url: str, tmp_path: Path
) -> None:
    event = next(json.loads(line) for line in day_lines(tmp_path) if '"PipelineValidated"' in line)
    event["data"]["pipeline_config"] = {"stages": [{"deploy.prod": "\ud800"}]}

    result = cirec("--db", store_url, "emit", stdin=json.dumps(event) + "\n")

    assert result.returncode == 1
    path = 'data.pipeline_config.stages[0]["deploy.prod"]'
    assert result.stderr == f"line 1: {path}: holds a lone surrogate, which no store can encode\n"
    assert stored_ids(store_url) == []


def test_a_line_that_is_not_json_is_rejected_and_the_rest_stored(
    store_url: str, tmp_path: Path
) -> None:
    good = day_lines(tmp_path)[:2]
    result = cirec("--db", store_url, "emit", stdin=f"{good[0]}\n{{not json\n\n{good[1]}\n")

    assert result.returncode == 1
    assert result.stderr.startswith("line 2: json: not valid JSON: ")
    assert len(result.stderr.splitlines()) == 1
    assert stored_ids(store_url) == [json.loads(line)["event_id"] for line in good]


def test_with_json_a_rejected_line_is_an_object_in_its_place(
    store_url: str, tmp_path: Path
) -> None:
    good = day_lines(tmp_path)[:2]
    result = cirec("--db", store_url, "emit", "--json", stdin=f"{good[0]}\n[1]\n{good[1]}\n")

    assert result.returncode == 1
    first, rejected, last = sorted(json_lines(result.stdout), key=lambda p: int(p["line"]))
    assert (first["line"], first["already_stored"], last["line"]) == (1, False, 3)
    assert rejected == {"line": 2, "field": "event", "problem": "expected a JSON object, got list"}
    assert result.stderr == "line 2: event: expected a JSON object, got list\n"


def test_emitting_again_stores_nothing_new_and_says_so(store_url: str, tmp_path: Path) -> None:
    lines = day_lines(tmp_path)
    half = len(lines) // 2
    first = cirec("--db", store_url, "emit", stdin="\n".join(lines[:half]))
    assert first.returncode == 0, first.stderr

    # The first half is stored: the batches that hold it are retried line by line.
    again = cirec("--db", store_url, "emit", "--json", stdin="\n".join(lines))

    assert again.returncode == 0, again.stderr
    printed = json_lines(again.stdout)
    assert [p["line"] for p in printed] == list(range(1, len(lines) + 1))
    assert [p["already_stored"] for p in printed] == [True] * half + [False] * (len(lines) - half)
    assert [p["position"] for p in printed] == list(range(1, len(lines) + 1))
    assert stored_ids(store_url) == [p["event_id"] for p in printed]
    assert set(printed[0]) == {"line", "event_id", "stream_id", "position", "already_stored"}


def test_one_event_as_an_argument_and_lines_from_a_file(store_url: str, tmp_path: Path) -> None:
    lines = day_lines(tmp_path)[:3]
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(lines[1:]) + "\n")

    one = cirec("--db", store_url, "emit", lines[0])
    from_file = cirec("--db", store_url, "emit", "--file", str(path))

    assert (one.returncode, from_file.returncode) == (0, 0), one.stderr + from_file.stderr
    assert one.stdout.strip() == "1 appended, 0 already stored, 0 rejected"
    assert from_file.stdout.strip() == "2 appended, 0 already stored, 0 rejected"
    assert stored_ids(store_url) == [json.loads(line)["event_id"] for line in lines]


def test_a_run_number_already_taken_is_rejected_naming_it(store_url: str, tmp_path: Path) -> None:
    lines = day_lines(tmp_path)
    run_started = next(line for line in lines if json.loads(line)["type"] == "RunStarted")
    assert cirec("--db", store_url, "emit", run_started).returncode == 0
    taken = json.loads(run_started)
    other_run = uuid.UUID("00000000-0000-4000-8000-0000000000aa")
    taken["data"]["run_id"] = str(other_run)
    taken["event_id"] = str(run_started_event_id(other_run))

    result = cirec("--db", store_url, "emit", json.dumps(taken))

    assert result.returncode == 1
    assert result.stderr.startswith("line 1: data.run_number: stream ")
    assert len(stored_ids(store_url)) == 1


def test_a_missing_file_is_one_error_line(tmp_path: Path) -> None:
    url = f"sqlite://{tmp_path / 'events.sqlite3'}"
    result = cirec("--db", url, "emit", "--file", str(tmp_path / "nope.jsonl"))

    assert result.returncode == 1
    assert result.stderr.startswith("cirec: error: --file=")
    assert "No such file or directory" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_event_and_a_file_together_are_a_usage_error_and_store_nothing(tmp_path: Path) -> None:
    url = f"sqlite://{tmp_path / 'events.sqlite3'}"
    lines = tmp_path / "events.jsonl"
    lines.write_text("")
    result = cirec("--db", url, "emit", "{}", "--file", str(lines))

    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.splitlines() == [
        f"cirec: error: --file={str(lines)!r}: give either one JSON event or --file, not both"
    ]
    assert stored_ids(url) == []
