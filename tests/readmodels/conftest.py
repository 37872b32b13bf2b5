"""Fixtures of the read-model store suite: a fresh store of each backend, and more of it.

``read_store`` is parametrised like the event-store fixtures (it reuses ``backend`` and
``store_url`` from ``tests/conftest.py``), so ``-k sqlite`` or ``-k mongodb`` picks one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import pytest

from cirec.config import open_read_side
from projections.adapters.sqlite import SQLiteReadModelStore
from projections.run_queries import RunQueries
from projections.store import ReadModelStore
from tests.backends import cleanup, fresh_url

ReadSide = tuple[ReadModelStore, RunQueries]


@pytest.fixture
def read_side(store_url: str) -> Iterator[ReadSide]:
    """An open, empty read-model store of ``backend``, with the run queries over it."""
    store, runs = open_read_side(store_url)
    with store:
        yield store, runs


@pytest.fixture
def read_side_per_example(
    backend: str, tmp_path: Path
) -> Callable[[], AbstractContextManager[ReadSide]]:
    """Opens a fresh, empty read side of ``backend`` for one hypothesis example, removed after.

    See ``store_per_example`` in ``tests/conftest.py``: on FerretDB a store shared by every
    example makes each query scan what the earlier ones left.
    """

    @contextmanager
    def make() -> Iterator[ReadSide]:
        url = fresh_url(backend, tmp_path)
        try:
            store, runs = open_read_side(url)
            with store:
                yield store, runs
        finally:
            cleanup(url)

    return make


@pytest.fixture
def read_store(read_side: ReadSide) -> ReadModelStore:
    """The open, empty read-model store of ``read_side``."""
    return read_side[0]


@pytest.fixture
def run_queries(read_side: ReadSide) -> RunQueries:
    """The run queries over ``read_store``."""
    return read_side[1]


@pytest.fixture
def open_side_again(store_url: str) -> Iterator[Callable[[], ReadSide]]:
    """Opens more connections to the same store as ``read_side`` (other workers, readers)."""
    opened: list[ReadModelStore] = []

    def make() -> ReadSide:
        store, runs = open_read_side(store_url)
        opened.append(store)
        return store, runs

    yield make
    for each in opened:
        each.close()


@pytest.fixture
def open_again(open_side_again: Callable[[], ReadSide]) -> Callable[[], ReadModelStore]:
    """Opens more read-model stores on the same store as ``read_store``."""
    return lambda: open_side_again()[0]


@pytest.fixture
def sqlite_file(tmp_path: Path) -> Path:
    """The path of a fresh SQLite file, for tests of what only the embedded store promises."""
    return tmp_path / "sqlite-read-models.sqlite3"


@pytest.fixture
def sqlite_store(sqlite_file: Path) -> Iterator[SQLiteReadModelStore]:
    """An open, empty embedded read-model store on ``sqlite_file``."""
    with SQLiteReadModelStore(sqlite_file) as opened:
        yield opened
