"""Fixtures of the read-model store suite: a fresh store of each backend, and more of it.

``read_store`` is parametrised like the event-store fixtures (it reuses ``backend`` and
``store_url`` from ``tests/conftest.py``), so ``-k sqlite`` or ``-k mongodb`` picks one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from cirec.config import open_read_models
from projections.adapters.sqlite import SQLiteReadModelStore
from projections.store import ReadModelStore


@pytest.fixture
def read_store(store_url: str) -> Iterator[ReadModelStore]:
    """An open, empty read-model store of ``backend``."""
    with open_read_models(store_url) as opened:
        yield opened


@pytest.fixture
def open_again(store_url: str) -> Iterator[Callable[[], ReadModelStore]]:
    """Opens more connections to the same store as ``read_store`` (other workers, readers)."""
    opened: list[ReadModelStore] = []

    def make() -> ReadModelStore:
        opened.append(open_read_models(store_url))
        return opened[-1]

    yield make
    for each in opened:
        each.close()


@pytest.fixture
def sqlite_file(tmp_path: Path) -> Path:
    """The path of a fresh SQLite file, for tests of what only the embedded store promises."""
    return tmp_path / "sqlite-read-models.sqlite3"


@pytest.fixture
def sqlite_store(sqlite_file: Path) -> Iterator[SQLiteReadModelStore]:
    """An open, empty embedded read-model store on ``sqlite_file``."""
    with SQLiteReadModelStore(sqlite_file) as opened:
        yield opened
