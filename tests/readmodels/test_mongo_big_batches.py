"""Projector batches that change many documents at once, on MongoDB (FerretDB here).

FerretDB v1 stalls for good on an ``update`` command of 100 statements or more, and the
whole database with it; the store sends its writes in sub-batches small enough for it. The
projector runs in a process of its own with a deadline, so a regression fails, not hangs.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pymongo
import pytest
from pymongo.errors import PyMongoError

from eventstore.adapters.sqlite import SQLiteEventStore
from eventstore.recorder import Recorder
from projections.adapters.mongo import MongoReadModelStore
from projections.sessions import SESSIONS
from tests.backends import fresh_mongo_url

ROOT = Path(__file__).resolve().parents[2]
USERS = 1000
STEP_DEADLINE_SECONDS = 300
"""Far above what one step takes here (about 10 s on a loaded 2-core machine); a stalled
server never answers at all."""


@pytest.fixture
def mongo_url() -> Iterator[str]:
    url = fresh_mongo_url()
    yield url
    # A stalled FerretDB database never answers: give up on it rather than hang the suite.
    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(
        url, serverSelectionTimeoutMS=5000, socketTimeoutMS=30_000
    )
    with client, contextlib.suppress(PyMongoError):
        client.drop_database(client.get_default_database().name)


def project_one_batch(log: Path, url: str) -> int:
    """Run one projector step of up to USERS events in a child; return what it folded."""
    try:
        child = subprocess.run(
            [sys.executable, "-m", "tests.readmodels.big_batch", str(log), url, str(USERS)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=STEP_DEADLINE_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"one batch of {USERS} events did not finish in {STEP_DEADLINE_SECONDS} s")
    assert child.returncode == 0, child.stderr
    return int(child.stdout.split()[-1])


def record(recorder: Recorder, kind: str) -> None:
    for n in range(USERS):
        method = recorder.open_session if kind == "opened" else recorder.access_session
        method(
            f"user-{n:04d}",
            repo_name="cirec",
            repo_url="https://git.example/cirec.git",
            branch=kind,
            commit_hash=f"{kind}-{n}",
            is_remote=True,
        )


def test_one_batch_that_changes_a_thousand_documents_completes(
    mongo_url: str, tmp_path: Path
) -> None:
    log = tmp_path / "log.sqlite3"
    with SQLiteEventStore(log) as events:
        recorder = Recorder(events, actor="ci")
        record(recorder, "opened")
        assert project_one_batch(log, mongo_url) == USERS  # 1,000 inserts
        record(recorder, "accessed")
        assert project_one_batch(log, mongo_url) == USERS  # 1,000 replaces

    with MongoReadModelStore.from_url(mongo_url) as store:
        version = store.active_version(SESSIONS)
        assert store.checkpoint(SESSIONS, version) == 2 * USERS
        documents = dict(store.documents(SESSIONS, version))
    assert len(documents) == USERS
    for n in range(USERS):
        stored = documents[f"user-{n:04d}"]
        assert stored.position == USERS + n + 1
        assert (stored.document.branch, stored.document.commit_hash) == (
            "accessed",
            f"accessed-{n}",
        )
