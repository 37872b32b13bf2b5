"""The shell queries of docs/operations.md, run against FerretDB, give their documented answers.

Each query is read from the page (its ``js`` block, with ``ISODate("…")`` read as a BSON
date) and run through pymongo on the log the answers describe; the ``json`` block after
it is the answer, one document per line, compared exactly (dates as the codec writes
them). A query or answer edited on the page alone fails here.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pymongo
from bson import json_util

from cirec.config import open_store
from eventstore.catalog import (
    DomainEvent,
    JobFinished,
    JobStarted,
    PipelineValidated,
    RunStarted,
    SessionOpened,
    StageStarted,
    Status,
    Trigger,
)
from eventstore.codec import Codec
from eventstore.records import Metadata

PAGE = Path(__file__).resolve().parents[1] / "docs" / "operations.md"
RUN = UUID("7f9c2b1e-0000-4000-8000-000000000001")
LATER_RUN = UUID("7f9c2b1e-0000-4000-8000-000000000002")
REPO = {"repo_name": "shop", "repo_url": "https://git.example.com/shop.git", "branch": "main"}
DAY = datetime(2026, 11, 2, 9, 0, 0, tzinfo=UTC)
Raw = dict[str, Any]


def documented_queries() -> list[tuple[str, list[Raw]]]:
    """Return each ``js`` query of the shell section with the ``json`` answer after it."""
    section = PAGE.read_text(encoding="utf-8").split("## Querying the log from the shell")[1]
    section = section.split("\n## ")[0]
    blocks = re.findall(r"```(js|json)\n(.*?)```", section, flags=re.DOTALL)
    pairs = []
    for (kind, query), (answer_kind, answer) in zip(blocks[::2], blocks[1::2], strict=True):
        assert (kind, answer_kind) == ("js", "json")
        pairs.append((query.strip(), [json.loads(line) for line in answer.splitlines() if line]))
    return pairs


def run_shell_query(database: Any, query: str) -> list[Raw]:
    """Run one ``db.events.find(…)[.sort(…)]`` or ``db.events.aggregate(…)`` line."""
    extended = re.sub(r'ISODate\("([^"]+)"\)', r'{"$date": "\1"}', query)
    if extended.startswith("db.events.aggregate("):
        pipeline = json_util.loads(extended.removeprefix("db.events.aggregate(").removesuffix(")"))
        return list(database.events.aggregate(pipeline))
    found = re.fullmatch(r"db\.events\.find\((.*)\)\.sort\((.*)\)", extended, flags=re.DOTALL)
    assert found, f"not a query this test runs: {query}"
    arguments = json_util.loads(f"[{found.group(1)}]")
    sort = json_util.loads(found.group(2))
    return list(database.events.find(*arguments, sort=list(sort.items())))


def as_answer(value: Any) -> Any:
    """Return ``value`` as the page writes it: dates in the codec's text form."""
    if isinstance(value, dict):
        return {key: as_answer(item) for key, item in value.items()}
    if isinstance(value, list):
        return [as_answer(item) for item in value]
    if isinstance(value, datetime):
        return (
            value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.")
            + f"{value.microsecond // 1000:03d}Z"
        )
    return value


def record_the_documented_log(url: str) -> None:
    """Append the log the page's answers describe, one append per event, at fixed times."""
    codec, at = Codec(), DAY
    run = {"run_id": RUN}

    def started(run_id: UUID, number: int) -> RunStarted:
        return RunStarted(
            run_id=run_id,
            run_number=number,
            pipeline_name="ci",
            commit_hash=str(number) * 40,
            pipeline_config={"stages": ["test"]},
            trigger=Trigger.PUSH,
            actor="alice",
            **REPO,
        )

    def job(run_id: UUID, name: str, **more: Any) -> Raw:
        return {"run_id": run_id, "stage_name": "test", "job_name": name, **more}

    events: list[DomainEvent] = [
        SessionOpened(user_id="alice", commit_hash="a" * 40, is_remote=True, **REPO),
        PipelineValidated(
            pipeline_name="ci",
            pipeline_file_name=".ci.yml",
            pipeline_config={"stages": ["test"]},
            commit_hash="a" * 40,
            **REPO,
        ),
        started(RUN, 1),
        StageStarted(stage_name="test", **run),
        JobStarted(allows_failure=False, **job(RUN, "unit")),
        JobStarted(allows_failure=False, **job(RUN, "deploy.prod")),
        JobFinished(status=Status.FAILED, **job(RUN, "unit")),
        JobFinished(status=Status.SUCCESS, **job(RUN, "deploy.prod")),
    ]
    later: list[DomainEvent] = [
        started(LATER_RUN, 2),
        StageStarted(stage_name="test", run_id=LATER_RUN),
        JobStarted(allows_failure=False, **job(LATER_RUN, "unit")),
        JobFinished(status=Status.FAILED, **job(LATER_RUN, "unit")),
    ]
    with open_store(url) as store:
        for index, (event, when) in enumerate(
            [(e, at + timedelta(seconds=i)) for i, e in enumerate(events)]
            + [(e, at + timedelta(days=1, seconds=i)) for i, e in enumerate(later)]
        ):
            record = codec.to_new_event(
                event,
                event_id=UUID(int=index + 1),
                occurred_at=when,
                metadata=Metadata(actor="ci-engine"),
            )
            store.append(event.stream_id, [record])


def test_each_documented_shell_query_gives_its_documented_answer(mongo_url: str) -> None:
    record_the_documented_log(mongo_url)
    queries = documented_queries()
    assert len(queries) == 3
    client: pymongo.MongoClient[Raw] = pymongo.MongoClient(mongo_url, tz_aware=True)
    with client:
        database = client.get_default_database()
        for query, answer in queries:
            assert as_answer(run_shell_query(database, query)) == answer, query
