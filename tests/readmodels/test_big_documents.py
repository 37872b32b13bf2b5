"""Big runs on both stores: they fit the budget, never stop a projection, and both agree.

Each test appends the same events (same ids and times) to a fresh SQLite store and to
a fresh MongoDB database (FerretDB over TCP in CI), projects both, and compares every
document of every read model in canonical JSON, and every unwritable mark. Events are
built with the codec and appended in big batches, not one recorder call each.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from bson.codec_options import CodecOptions
from bson.raw_bson import RawBSONDocument

from cirec.config import open_read_side, open_store
from eventstore import streams
from eventstore.catalog import (
    DomainEvent,
    JobFinished,
    JobLogChunkAppended,
    JobStarted,
    PipelineValidated,
    RunFinished,
    RunStarted,
    StageFinished,
    StageStarted,
    Status,
    Trigger,
)
from eventstore.codec import Codec, dump_json, json_converter
from eventstore.records import Metadata, NewEvent
from eventstore.store import EventStore
from projections.catalog import PROJECTIONS
from projections.jobs_history import JOBS_HISTORY
from projections.log_tails import job_tail_budget
from projections.rebuild import unwritable_keys, verify
from projections.repo_configs import REPO_CONFIGS
from projections.run_queries import RunQueries
from projections.sizes import DOCUMENT_BUDGET_BYTES, measured_size, text_cost
from projections.store import ReadModelStore
from projections.unwritable import OVER_BUDGET, Unwritable
from projections.worker import Projector
from tests.backends import cleanup, fresh_mongo_url
from tests.cli.helpers import cirec, clean_env

KIB = 1024
MIB = 1024 * KIB
WHEN = datetime(2026, 1, 15, 9, 30, tzinfo=UTC)
REPO = {"repo_name": "api", "repo_url": "https://git.example/api.git", "branch": "main"}
APPEND_BYTES = 4 * MIB
"""About how much one append carries (MongoDB takes at most 16 MiB per append)."""
LOG_KIB = int(os.environ.get("CIREC_BIG_RUN_LOG_KIB", "4"))
"""The log of most jobs of the 2,000-job run; every 100th job logs 100 KiB whatever this is.

Every log is over a job's 3 KiB share, so the document is as big as with 100 KiB logs
everywhere (the property tests of ``test_document_budget.py`` fold those, without a
store). With ``CIREC_BIG_RUN_LOG_KIB=100`` (211 MB of events) the test passes on
FerretDB v1 too, in 1,059 s here (two other heavy runs shared the 2 cores): too long for
CI, because each append's id query there decodes the whole log."""

Side = tuple[str, EventStore, ReadModelStore, RunQueries]


@pytest.fixture
def both(tmp_path: Path) -> Iterator[tuple[Side, Side]]:
    """A fresh SQLite store and a fresh MongoDB database, each with its read side."""
    urls = [f"sqlite://{tmp_path / 'big.sqlite3'}", fresh_mongo_url()]
    opened = []
    try:
        for url in urls:
            read_models, runs = open_read_side(url)
            opened.append((url, open_store(url), read_models, runs))
        yield opened[0], opened[1]
    finally:
        for _, events, read_models, _ in opened:
            events.close()
            read_models.close()
        cleanup(urls[1])


class Log:
    """Events to append, the same to every store: ids and times are fixed here."""

    def __init__(self) -> None:
        self.batches: list[tuple[str, list[NewEvent]]] = []
        self._codec = Codec()
        self._count = 0
        self._last_bytes = 0

    def add(self, *events: DomainEvent) -> None:
        """Queue ``events``, in order; events of one stream share appends of ~8 MiB."""
        for event in events:
            self._count += 1
            record = self._codec.to_new_event(
                event,
                event_id=uuid.UUID(int=self._count),
                occurred_at=WHEN + timedelta(milliseconds=self._count),
                metadata=Metadata(actor="ci"),
            )
            size = len(dump_json(record.data).encode())
            same_stream = bool(self.batches) and self.batches[-1][0] == event.stream_id
            if same_stream and self._last_bytes + size <= APPEND_BYTES:
                self.batches[-1][1].append(record)
                self._last_bytes += size
                continue
            self.batches.append((event.stream_id, [record]))
            self._last_bytes = size

    def append_to(self, events: EventStore) -> None:
        """Append everything queued, a batch an append."""
        for stream_id, batch in self.batches:
            events.append(stream_id, batch)
        self.batches = []


def started(run_id: uuid.UUID, pipeline: str, number: int, config: dict[str, Any]) -> RunStarted:
    return RunStarted(
        run_id=run_id,
        run_number=number,
        pipeline_name=pipeline,
        commit_hash="9f2c1e7",
        pipeline_config=config,
        trigger=Trigger.PUSH,
        actor="ci",
        **REPO,
    )


def small_run(log: Log, pipeline: str) -> uuid.UUID:
    """Queue a whole one-job run of ``pipeline`` (validated first); return its id."""
    run_id = uuid.uuid5(uuid.NAMESPACE_URL, pipeline)
    log.add(
        PipelineValidated(
            pipeline_name=pipeline,
            pipeline_file_name=f"{pipeline}.yml",
            pipeline_config={"stages": ["test"]},
            commit_hash="9f2c1e7",
            **REPO,
        ),
        started(run_id, pipeline, 1, {"stages": ["test"]}),
        StageStarted(run_id=run_id, stage_name="test"),
        JobStarted(run_id=run_id, stage_name="test", job_name="unit", allows_failure=False),
        JobLogChunkAppended(
            run_id=run_id, stage_name="test", job_name="unit", chunk_index=0, content="ok\n"
        ),
        JobFinished(run_id=run_id, stage_name="test", job_name="unit", status=Status.SUCCESS),
        StageFinished(run_id=run_id, stage_name="test", status=Status.SUCCESS),
        RunFinished(run_id=run_id, status=Status.SUCCESS, **REPO, pipeline_name=pipeline),
    )
    return run_id


def project(
    side: Side, reports: list[tuple[str, Unwritable]] | None = None, *, batch_size: int = 500
) -> None:
    _, events, read_models, _ = side

    def report(name: str, mark: Unwritable) -> None:
        if reports is not None:
            reports.append((name, mark))

    projector = Projector(
        events, read_models, PROJECTIONS, batch_size=batch_size, on_unwritable=report
    )
    projector.catch_up()


def contents(read_models: ReadModelStore) -> dict[str, Any]:
    """Return every document (canonical JSON, with its position) and mark of every read model."""
    found: dict[str, Any] = {}
    for projection in PROJECTIONS:
        version = read_models.active_version(projection)
        found[projection.name] = {
            "documents": [
                (key, stored.position, dump_json(json_converter.unstructure(stored.document)))
                for key, stored in read_models.documents(projection, version)
            ],
            "unwritable": read_models.unwritable(projection, version),
            "checkpoint": read_models.checkpoint(projection, version),
        }
    return found


def stored_bytes(side: Side, run_id: uuid.UUID) -> int:
    """Return the size of the run's document as the store holds it (BSON, or JSON text)."""
    url, _, read_models, _ = side
    version = read_models.active_version(JOBS_HISTORY)
    if url.startswith("sqlite"):
        (_, stored), *_ = read_models.documents(JOBS_HISTORY, version)
        return len(dump_json(json_converter.unstructure(stored.document)).encode())
    db = read_models._db  # type: ignore[attr-defined]  # the raw bytes
    options = CodecOptions(document_class=RawBSONDocument)
    collection = db.get_collection("jobs_history", codec_options=options)  # the user's name
    raw = collection.find_one({"_id": str(run_id), "_version": version})
    assert raw is not None
    return len(raw.raw)


def test_a_2000_job_run_whose_logs_overflow_every_share_fits_both_stores_alike(
    both: tuple[Side, Side],
) -> None:
    jobs = 2000
    run_id = uuid.UUID(int=2000)
    log = Log()
    log.add(started(run_id, "monorepo", 1, {"stages": ["build", "test"]}))
    bar, emoji = "━" * 33 + "\n", "😀🚀✅ " * 8 + "\n"
    logs = [
        unit * (kib * KIB // len(unit.encode()) + 1)
        for kib in (LOG_KIB, 100)
        for unit in (bar, emoji)
    ]
    log.add(*(StageStarted(run_id=run_id, stage_name=stage) for stage in ("build", "test")))
    names = [(("build", "test")[i % 2], f"job {i:04d}") for i in range(jobs)]
    log.add(
        *(
            JobStarted(run_id=run_id, stage_name=stage, job_name=name, allows_failure=False)
            for stage, name in names
        )
    )
    log.add(
        *(
            JobLogChunkAppended(
                run_id=run_id,
                stage_name=stage,
                job_name=name,
                chunk_index=0,
                content=logs[i % 2 + (2 if i % 100 == 99 else 0)],
            )
            for i, (stage, name) in enumerate(names)
        )
    )
    # No JobFinished: on FerretDB v1 each event costs its append a scan of the whole log.
    later = small_run(log, "docs")
    batches = log.batches
    for side in both:
        log.batches = list(batches)
        log.append_to(side[1])
        project(side, batch_size=2500)  # 3 batches: each of FerretDB's reads scans the log

    sqlite, mongo = both
    assert contents(sqlite[2]) == contents(mongo[2])
    document = mongo[3].run("api", "https://git.example/api.git", "monorepo", 1)
    assert document is not None
    share = job_tail_budget(jobs)
    for stage in document.logs.values():
        for job in stage.jobs.values():
            index = int(job.job_name[4:])
            full = logs[index % 2 + (2 if index % 100 == 99 else 0)]
            assert full.endswith(job.job_logs)
            assert job.log_truncated_chars == len(full) - len(job.job_logs) > 0
            assert share - 4 < text_cost(job.job_logs) <= share
    plain = json_converter.unstructure(document)
    measured = measured_size(str(run_id), 1, plain).size
    assert measured <= DOCUMENT_BUDGET_BYTES
    for side in both:
        assert stored_bytes(side, run_id) <= measured
        assert side[3].run("api", "https://git.example/api.git", "docs", 1) is not None
        assert side[2].get(JOBS_HISTORY, str(later)) is not None
        assert verify(side[1], side[2], JOBS_HISTORY) == []


def test_a_document_over_the_budget_is_marked_and_every_other_key_goes_on(
    both: tuple[Side, Side],
) -> None:
    huge = {"blob": "x" * (DOCUMENT_BUDGET_BYTES + KIB)}
    run_id = uuid.UUID(int=9)
    log = Log()
    log.add(
        PipelineValidated(
            pipeline_name="huge",
            pipeline_file_name="huge.yml",
            pipeline_config=huge,
            commit_hash="9f2c1e7",
            **REPO,
        ),
        started(run_id, "huge", 1, huge),
        StageStarted(run_id=run_id, stage_name="build"),
    )
    first = small_run(log, "docs")
    batches = log.batches
    reports: dict[str, list[tuple[str, Unwritable]]] = {}
    for side in both:
        log.batches = list(batches)
        log.append_to(side[1])
        reports[side[0]] = []
        project(side, reports[side[0]])

    # The worker reported both documents, and went on: the small run is there.
    (sqlite_reports, mongo_reports) = reports.values()
    assert sqlite_reports == mongo_reports
    assert {(name, mark.key, mark.reason) for name, mark in mongo_reports} == {
        ("jobs_history", str(run_id), OVER_BUDGET),
        ("repo_configs", streams.repo_stream(*REPO.values()), OVER_BUDGET),
    }
    assert all(mark.size > mark.limit == DOCUMENT_BUDGET_BYTES for _, mark in mongo_reports)

    # Later events of the unwritable run, folded by a fresh worker (it replays the
    # document it cannot load), and a later run of another pipeline.
    log.add(
        JobStarted(run_id=run_id, stage_name="build", job_name="compile", allows_failure=False),
        JobFinished(run_id=run_id, stage_name="build", job_name="compile", status=Status.FAILED),
    )
    second = small_run(log, "lint")
    batches = log.batches
    for side in both:
        log.batches = list(batches)
        log.append_to(side[1])
        project(side)
        _, events, read_models, _ = side
        head = events.head()
        for projection in PROJECTIONS:
            version = read_models.active_version(projection)
            assert read_models.checkpoint(projection, version) == head
        assert read_models.get(JOBS_HISTORY, str(first)) is not None
        assert read_models.get(JOBS_HISTORY, str(second)) is not None
        assert read_models.get(JOBS_HISTORY, str(run_id)) is None  # never fitted
        version = read_models.active_version(JOBS_HISTORY)
        (mark,) = unwritable_keys(read_models, JOBS_HISTORY, version).values()
        assert (mark.key, mark.position) == (str(run_id), head - 8)
        differences = verify(events, read_models, JOBS_HISTORY)
        assert [(d.key, d.unwritable) for d in differences] == [(str(run_id), mark)]
        assert [d.key for d in verify(events, read_models, REPO_CONFIGS)] == [
            streams.repo_stream(*REPO.values())
        ]
    assert contents(both[0][2]) == contents(both[1][2])

    # The command line says so too: verify exits 1 naming the key, status counts it.
    for url, *_ in both:
        checked = cirec("--db", url, "verify", "--projection", "jobs_history", env=clean_env())
        assert checked.returncode == 1, checked.stderr
        assert str(run_id) in checked.stdout
        assert "over the document budget" in checked.stdout
        status = cirec("--db", url, "status", "--json", env=clean_env())
        assert status.returncode == 0, status.stderr
        counts = {
            p["projection"]: p["unwritable"] for p in json.loads(status.stdout)["projections"]
        }
        assert counts == {"sessions": 0, "repo_configs": 1, "jobs_history": 1}
