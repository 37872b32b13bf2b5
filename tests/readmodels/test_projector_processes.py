"""Projector processes killed, doubled and interrupted still converge to a rebuild.

Real processes on real stores: a SQLite file, and MongoDB (FerretDB) over TCP.
"""

from __future__ import annotations

import random
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pymongo
import pytest
from bson.raw_bson import RawBSONDocument

from cirec.config import open_read_models, open_store
from eventstore.adapters import EVENTS, PAYLOADS
from projections.catalog import PROJECTIONS
from tests.backends import cleanup, fresh_mongo_url
from tests.snapshots import rebuilt, snapshot
from tools.workload import TRICKY, Workload

ROOT = Path(__file__).resolve().parents[2]
KILLS = 20
# FerretDB v1 decodes every commit of the log to answer an append's id check, so writing a
# log costs it time quadratic in its length (3,000 events: 4 minutes, 1,500: 51 s): it gets
# a smaller log, written once per module (see ``logs``), and the killed projector a smaller
# batch so that it is still inside the catch-up at every kill. The embedded store gets the
# full size.
CRASH_LOG_EVENTS = {"sqlite": 20_000, "mongodb": 1_500}
KILLED_BATCH = {"sqlite": 50, "mongodb": 20}
SMALL_LOG_EVENTS = {"sqlite": 3_000, "mongodb": 1_000}

pytestmark = pytest.mark.slow

WriteLog = Callable[[str, str, int], int]


@pytest.fixture(scope="module")
def logs() -> Iterator[WriteLog]:
    """Writes the first events of one workload into a fresh store; returns its head.

    ``logs(backend, url, events)``. SQLite gets them appended. MongoDB gets a copy of the
    commits of a template database, into which the workload was appended once, through
    the store, on first use: the same documents a store writes, without paying FerretDB's
    quadratic appends again in every test (a shorter log is a prefix of a longer one).
    """
    template: list[str] = []

    def write(backend: str, url: str, events: int) -> int:
        if backend == "sqlite":
            with open_store(url) as store:
                return Workload(7, TRICKY).write(store, events)
        if not template:
            template.append(fresh_mongo_url())
            with open_store(template[0]) as store:
                Workload(7, TRICKY).write(store, max(CRASH_LOG_EVENTS["mongodb"], events))
        head = sum(len(a.events) for a in Workload(7, TRICKY).appends(events))
        open_store(url).close()  # the store's collections and indexes, empty
        with _client(template[0]) as source, _client(url) as target:
            log = source.get_default_database()[EVENTS]
            commits = list(log.find({"last": {"$lte": head}}, sort=[("_id", 1)]))
            assert source.get_default_database()[PAYLOADS].count_documents({}) == 0
            target.get_default_database()[EVENTS].insert_many(commits)
        assert commits
        assert int(commits[-1]["last"]) == head
        return head

    yield write
    for url in template:
        cleanup(url)


def _client(url: str) -> pymongo.MongoClient[RawBSONDocument]:
    return pymongo.MongoClient(url, document_class=RawBSONDocument)


def start(*args: object) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.readmodels.workers", *map(str, args)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_a_projector_killed_twenty_times_converges_to_a_rebuild(
    backend: str, store_url: str, logs: WriteLog
) -> None:
    head = logs(backend, store_url, CRASH_LOG_EVENTS[backend])
    rng = random.Random(42)
    for _ in range(KILLS):
        worker = start("project", store_url, KILLED_BATCH[backend])
        assert worker.stdout is not None
        for _ in range(rng.randint(1, 4)):  # some steps in, then anywhere inside the next
            assert worker.stdout.readline(), "the projector finished before it was killed"
        with pytest.raises(subprocess.TimeoutExpired):
            worker.wait(timeout=rng.uniform(0, 0.05))
        worker.kill()
        assert worker.wait(timeout=60) == -9
        worker.communicate(timeout=60)
    finisher = start("project", store_url, 500)
    out, err = finisher.communicate(timeout=900)
    assert finisher.returncode == 0, err
    assert out.endswith("done\n")
    with open_read_models(store_url) as store:
        for projection in PROJECTIONS:
            assert store.checkpoint(projection, store.active_version(projection)) == head
        projected = snapshot(store)
    assert projected == rebuilt(store_url)
    print(f"{head} events, {KILLS} kills mid-catch-up")


def test_two_projectors_at_once_end_equal_to_a_rebuild(
    backend: str, store_url: str, logs: WriteLog
) -> None:
    logs(backend, store_url, SMALL_LOG_EVENTS[backend])
    workers = [start("project", store_url, size) for size in (50, 77)]
    for worker in workers:
        _, err = worker.communicate(timeout=900)
        assert worker.returncode == 0, err
    with open_read_models(store_url) as store:
        projected = snapshot(store)
    assert projected == rebuilt(store_url)


def test_an_interrupted_rebuild_leaves_the_projection_as_it_was(
    backend: str, store_url: str, logs: WriteLog
) -> None:
    logs(backend, store_url, SMALL_LOG_EVENTS[backend])
    project = start("project", store_url, 500)
    assert project.communicate(timeout=900)[0].endswith("done\n")
    with open_read_models(store_url) as store:
        before = snapshot(store)
        active = store.active_version(PROJECTIONS[2])

    rebuilding = start("rebuild", store_url, "jobs_history", 100)
    assert rebuilding.stdout is not None
    for _ in range(5):  # let it get well into the log, then kill it
        assert rebuilding.stdout.readline()
    rebuilding.kill()
    rebuilding.communicate(timeout=60)

    with open_read_models(store_url) as store:
        assert store.active_version(PROJECTIONS[2]) == active
        assert snapshot(store) == before
        assert len(store.versions(PROJECTIONS[2])) == 2  # the abandoned one is still there
    assert rebuilt(store_url) == before
    with open_read_models(store_url) as store:
        assert len(store.versions(PROJECTIONS[2])) == 1
