"""Fixtures shared by every test: hypothesis profiles and a fresh store of each backend."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from cirec.config import open_store
from eventstore.store import EventStore
from tests.backends import BACKENDS, cleanup, drop_mongo_database, fresh_mongo_url, fresh_url

settings.register_profile("dev", max_examples=50, deadline=None)
settings.register_profile(
    "ci",
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Each backend in turn: the embedded SQLite store, then MongoDB over TCP."""
    name: str = request.param
    return name


@pytest.fixture
def store_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """The URL of a fresh, empty store of ``backend``, removed after the test."""
    url = fresh_url(backend, tmp_path)
    yield url
    cleanup(url)


@pytest.fixture
def mongo_url() -> Iterator[str]:
    """The URL of a new, empty database on the MongoDB test server, dropped afterwards."""
    url = fresh_mongo_url()
    yield url
    drop_mongo_database(url)


@pytest.fixture
def store(store_url: str) -> Iterator[EventStore]:
    """An open, empty store of ``backend``."""
    with open_store(store_url) as opened:
        yield opened


@pytest.fixture
def store_per_example(
    backend: str, tmp_path: Path
) -> Callable[[], AbstractContextManager[EventStore]]:
    """Opens a fresh, empty store of ``backend`` for one hypothesis example, removed after it.

    A store shared by every example grows with them, and on FerretDB each query scans all
    of it: 200 examples of one append each took 64 s on one store, against about 20 ms per
    example to open and drop a database of its own.
    """

    @contextmanager
    def make() -> Iterator[EventStore]:
        url = fresh_url(backend, tmp_path)
        try:
            with open_store(url) as opened:
                yield opened
        finally:
            cleanup(url)

    return make


@pytest.fixture
def store_factory(backend: str, tmp_path: Path) -> Iterator[Callable[[], EventStore]]:
    """Opens any number of fresh stores of ``backend`` (for tests that need many)."""
    urls: list[str] = []
    opened: list[EventStore] = []

    def make() -> EventStore:
        url = fresh_url(backend, tmp_path)
        urls.append(url)
        opened.append(open_store(url))
        return opened[-1]

    yield make
    for each in opened:
        each.close()
    for url in urls:
        cleanup(url)
