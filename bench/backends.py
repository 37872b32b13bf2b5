"""Where a measurement's data lives: a fresh SQLite file or a fresh MongoDB database.

Each measurement gets its own place, so no figure reads another's data; the raw
baselines write to a plain table or collection on the same file or server, opened with
the same durability settings as the store.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pymongo
from attrs import frozen
from pymongo.write_concern import WriteConcern

from cirec.config import MONGO_URL_VARIABLE
from eventstore.adapters.sqlite_file import LOCK_TIMEOUT_SECONDS
from eventstore.errors import ConfigError

STORES = ("sqlite", "mongo")


@frozen
class Place:
    """A fresh home for one measurement: its store URL, and its file for SQLite."""

    store: str
    url: str
    path: Path | None

    @property
    def database(self) -> str:
        """The MongoDB database name (empty for SQLite)."""
        return urlsplit(self.url).path.lstrip("/") if self.store == "mongo" else ""


def new_place(store: str, workdir: Path, name: str) -> Place:
    """Return an empty place named ``name``: a file under ``workdir`` or a new database."""
    if store == "sqlite":
        path = workdir / f"{name}.sqlite3"
        return Place(store, f"sqlite://{path}", path)
    server = os.environ.get(MONGO_URL_VARIABLE, "")
    if not server:
        raise ConfigError(MONGO_URL_VARIABLE, "", "--store mongo needs a MongoDB URL")
    parts = urlsplit(server)
    database = f"bench_{name}_{uuid.uuid4().hex[:8]}"
    return Place(store, urlunsplit(parts._replace(path=f"/{database}")), None)


def drop(place: Place) -> None:
    """Remove a place's data (the file and its WAL, or the database)."""
    if place.path is not None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{place.path}{suffix}").unlink(missing_ok=True)
        return
    with mongo_client(place) as client:
        client.drop_database(place.database)


def remove_tree(path: Path) -> None:
    """Remove a work directory and everything in it."""
    shutil.rmtree(path, ignore_errors=True)


def mongo_client(place: Place) -> pymongo.MongoClient[dict[str, Any]]:
    """Return a plain client of the place's server, as the store's own is configured."""
    return pymongo.MongoClient(place.url, tz_aware=True, serverSelectionTimeoutMS=10_000)


def raw_collection(client: pymongo.MongoClient[dict[str, Any]], place: Place, name: str) -> Any:
    """Return a plain collection with the event store's write concern (majority, journaled)."""
    return client[place.database].get_collection(
        name, write_concern=WriteConcern(w="majority", j=True)
    )


def raw_sqlite(place: Place) -> sqlite3.Connection:
    """Open the place's file as the embedded store does: WAL, synchronous=FULL, autocommit."""
    assert place.path is not None  # noqa: S101 -- only called for SQLite places
    db = sqlite3.connect(place.path, timeout=LOCK_TIMEOUT_SECONDS, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    return db
