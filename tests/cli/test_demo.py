"""``cirec demo``: a CI day recorded, projected and shown, on each store."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from uuid import uuid4

import pymongo

from cirec.config import open_store
from cirec.demo import play_day
from cirec.demo.ids import DAY_DRAWS, day_event_ids
from eventstore.codec import recorded_to_json
from eventstore.records import RecordedEvent
from tests.cli.helpers import cirec, clean_env, day_lines, json_lines

# The first run succeeded while its allowed-to-fail job failed: a success with warnings.
DAY_STATUSES = ["warning", "failed", "success", "success", "canceled", "failed", "success"]


def stored_events(url: str) -> list[RecordedEvent]:
    with open_store(url) as store:
        return list(store.read_all())


def foreign_event() -> str:
    """Return one event in its JSON form that is not the demo's (a fresh id, another user)."""
    return json.dumps(
        {
            "event_id": str(uuid4()),
            "type": "SessionOpened",
            "schema_version": 1,
            "occurred_at": "2026-02-01T10:00:00.000Z",
            "data": {
                "user_id": "dev-7",
                "repo_name": "billing",
                "repo_url": "https://git.example.com/acme/billing.git",
                "branch": "main",
                "commit_hash": "4e5d6c7b",
                "is_remote": True,
            },
        }
    )


def test_demo_records_a_day_and_shows_its_read_models(store_url: str, backend: str) -> None:
    result = cirec("--db", store_url, "demo")

    assert result.returncode == 0, result.stderr
    titles = [line for line in result.stdout.splitlines() if line and " " not in line]
    assert titles == ["sessions", "repo_configs", "jobs_history"]
    runs = result.stdout.split("jobs_history\n")[1].splitlines()[1:]
    assert [row.split()[4] for row in runs] == DAY_STATUSES
    events = stored_events(store_url)
    assert result.stderr == (
        f"{len(events)} events recorded (0 already stored) and projected"
        f" in the {backend} store at {store_url}\n"
    )
    types = Counter(event.type for event in events)
    assert types["RunStarted"] == len(DAY_STATUSES)
    assert types["PipelineValidationFailed"] == 1
    assert types["RunCanceled"] == 1
    repos = {(e.data["repo_name"], e.data["branch"]) for e in events if e.type == "RunStarted"}
    assert repos == {("api", "main"), ("api", "feature/login"), ("web", "main")}
    allowed = [e.data for e in events if e.type == "JobStarted" and e.data["allows_failure"]]
    assert allowed
    assert {event.metadata.actor for event in events} == {"cirec-demo"}
    assert cirec("--db", store_url, "verify").returncode == 0


def test_demo_json_prints_one_document_per_line(store_url: str) -> None:
    result = cirec("--db", store_url, "demo", "--json")

    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    printed = json_lines(result.stdout)
    kinds = Counter(line["read_model"] for line in printed)
    assert kinds == {"sessions": 3, "repo_configs": 3, "jobs_history": len(DAY_STATUSES)}
    runs = [line["document"] for line in printed if line["read_model"] == "jobs_history"]
    # The documents keep the schema's status: "warning" is the table's word for it.
    assert [run["status"] for run in runs] == ["success", *DAY_STATUSES[1:]]
    lint = runs[0]["logs"]["test"]["jobs"]["lint"]
    assert (lint["job_status"], lint["allows_failure"]) == ("failed", True)
    assert runs[0]["logs"]["test"]["stage_status"] == "success"


def test_demo_again_stores_nothing_new_and_prints_the_same(store_url: str, backend: str) -> None:
    first = cirec("--db", store_url, "demo")
    assert first.returncode == 0, first.stderr
    stored = [recorded_to_json(event) for event in stored_events(store_url)]

    again = cirec("--db", store_url, "demo")

    assert again.returncode == 0, again.stderr
    assert again.stdout == first.stdout
    assert again.stderr == (
        f"0 events recorded ({len(stored)} already stored) and projected"
        f" in the {backend} store at {store_url}\n"
    )
    assert [recorded_to_json(event) for event in stored_events(store_url)] == stored
    starts = [event["data"] for event in stored if event["type"] == "RunStarted"]
    numbers = [s["run_number"] for s in starts if s["pipeline_name"] == "build-and-test"]
    assert sorted(numbers) == [1, 2, 3, 4]


def test_every_play_of_the_day_makes_the_same_events(tmp_path: Path) -> None:
    plays = []
    for name in ("one", "two"):
        with open_store(f"sqlite://{tmp_path / name}.sqlite3") as store:
            played = play_day(store)
            plays.append(
                [
                    {k: v for k, v in recorded_to_json(e).items() if k != "recorded_at"}
                    for e in store.read_all()
                ]
            )
        assert len(played.receipts) == DAY_DRAWS
    assert plays[0] == plays[1]
    assert {event["event_id"] for event in plays[0]} <= {str(i) for i in day_event_ids()}


def test_demo_refuses_a_store_with_events_not_its_own_and_writes_nothing(
    store_url: str,
) -> None:
    assert cirec("--db", store_url, "emit", foreign_event()).returncode == 0
    before = [recorded_to_json(event) for event in stored_events(store_url)]

    result = cirec("--db", store_url, "demo")

    assert (result.returncode, result.stdout) == (1, "")
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"cirec: error: {store_url} holds 1 events that are not all the demo's")
    assert "--force" in line
    assert [recorded_to_json(event) for event in stored_events(store_url)] == before


def test_demo_refuses_a_store_with_the_day_and_more(store_url: str) -> None:
    assert cirec("--db", store_url, "demo").returncode == 0
    assert cirec("--db", store_url, "emit", foreign_event()).returncode == 0

    result = cirec("--db", store_url, "demo", "--json")

    assert result.returncode == 1
    [printed] = json_lines(result.stdout)
    assert printed["error"]["type"] == "ForeignEventsError"
    assert f"{store_url} holds {DAY_DRAWS + 1} events" in result.stderr
    assert printed["error"]["message"] in result.stderr
    assert len(stored_events(store_url)) == DAY_DRAWS + 1


def test_demo_force_plays_into_a_store_with_other_events_once(store_url: str) -> None:
    assert cirec("--db", store_url, "emit", foreign_event()).returncode == 0

    forced = cirec("--db", store_url, "demo", "--force")
    again = cirec("--db", store_url, "demo", "--force")

    assert forced.returncode == 0, forced.stderr
    assert [
        row.split()[4] for row in forced.stdout.split("jobs_history\n")[1].splitlines()[1:]
    ] == (DAY_STATUSES)
    assert again.returncode == 0, again.stderr
    assert again.stdout == forced.stdout
    assert len(stored_events(store_url)) == 1 + DAY_DRAWS


def test_demo_completes_a_day_it_played_in_part(store_url: str, tmp_path: Path) -> None:
    start = "\n".join(day_lines(tmp_path)[:10])
    assert cirec("--db", store_url, "emit", stdin=start).returncode == 0

    result = cirec("--db", store_url, "demo")

    assert result.returncode == 0, result.stderr
    assert result.stderr.startswith(f"{DAY_DRAWS - 10} events recorded (10 already stored)")
    assert len(stored_events(store_url)) == DAY_DRAWS


def test_demo_without_a_url_plays_into_its_own_file_not_the_configured_one(
    tmp_path: Path,
) -> None:
    configured = tmp_path / "mine" / "events.sqlite3"
    own = tmp_path / "data" / "cirec" / "demo.sqlite3"
    env = clean_env(CIREC_SQLITE_PATH=str(configured), XDG_DATA_HOME=str(tmp_path / "data"))

    result = cirec("demo", env=env)

    assert result.returncode == 0, result.stderr
    assert not configured.parent.exists()
    assert result.stderr.splitlines() == [
        f"cirec demo: CIREC_SQLITE_PATH is set but not used: the demo plays into its own store,"
        f" sqlite://{own}; --db URL plays it into a store you name",
        f"{DAY_DRAWS} events recorded (0 already stored) and projected"
        f" in the sqlite store at sqlite://{own}",
    ]
    assert len(stored_events(f"sqlite://{own}")) == DAY_DRAWS


def test_demo_leaves_the_database_of_mongo_db_url_untouched(mongo_url: str, tmp_path: Path) -> None:
    own = tmp_path / "cirec" / "demo.sqlite3"

    result = cirec("demo", env=clean_env(MONGO_DB_URL=mongo_url, XDG_DATA_HOME=str(tmp_path)))

    assert result.returncode == 0, result.stderr
    client: pymongo.MongoClient[dict[str, object]] = pymongo.MongoClient(
        mongo_url, serverSelectionTimeoutMS=5000
    )
    with client:
        database = client.get_default_database()
        assert database.name not in client.list_database_names()
        assert database.list_collection_names() == []
    assert result.stderr.splitlines()[0].startswith(
        f"cirec demo: MONGO_DB_URL is set but not used: the demo plays into its own store,"
        f" sqlite://{own};"
    )
    assert len(stored_events(f"sqlite://{own}")) == DAY_DRAWS


def test_demo_with_db_plays_into_the_named_store_even_with_mongo_db_url(
    mongo_url: str, tmp_path: Path
) -> None:
    named = f"sqlite://{tmp_path / 'named.sqlite3'}"

    result = cirec("--db", named, "demo", env=clean_env(MONGO_DB_URL=mongo_url))

    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == [
        f"{DAY_DRAWS} events recorded (0 already stored) and projected"
        f" in the sqlite store at {named}"
    ]
    assert len(stored_events(named)) == DAY_DRAWS
