"""Which stores the tests run against, and how to reach a fresh, empty one of each.

The embedded store gets a new SQLite file per test. MongoDB tests need ``MONGO_DB_URL``
(a real MongoDB or FerretDB, over TCP on this machine); each test gets its own database,
dropped afterwards. Without a URL they skip, saying how to run them, unless
``CIREC_REQUIRE_MONGO=1`` (as ``.ci/run`` sets), where a missing server is a failure.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pymongo
import pytest

from eventstore.adapters import mongo_connection

BACKENDS = ("sqlite", "mongodb")
HOW_TO_RUN_MONGO = (
    "MongoDB tests need MONGO_DB_URL=mongodb://127.0.0.1:PORT/ "
    "(start FerretDB with `bash .ci/ferretdb.sh start DIR PORT`)"
)


def mongo_base_url() -> str:
    """Return ``MONGO_DB_URL`` if the server answers; otherwise skip (or fail when required)."""
    url = os.environ.get("MONGO_DB_URL", "")
    required = os.environ.get("CIREC_REQUIRE_MONGO") == "1"
    if not url:
        if required:
            pytest.fail("CIREC_REQUIRE_MONGO=1 but MONGO_DB_URL is not set")
        pytest.skip(HOW_TO_RUN_MONGO)
    host = urlsplit(url).hostname or ""
    if host not in {"127.0.0.1", "localhost", "::1"} and not os.environ.get("CIREC_ALLOW_REMOTE"):
        pytest.fail(f"tests only talk to this machine; MONGO_DB_URL names host {host!r}")
    return url


def with_database(url: str, database: str) -> str:
    """Return ``url`` naming ``database`` in its path (its query string is kept)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{database}"))


def fresh_mongo_url() -> str:
    """Return the URL of a new, empty database on the test server."""
    return with_database(mongo_base_url(), f"cirec_test_{uuid.uuid4().hex[:16]}")


def drop_mongo_database(url: str) -> None:
    """Drop the database ``url`` names."""
    client: pymongo.MongoClient[dict[str, object]] = pymongo.MongoClient(
        url, serverSelectionTimeoutMS=5000
    )
    with client:
        client.drop_database(client.get_default_database().name)


def fresh_url(backend: str, folder: Path) -> str:
    """Return the URL of a new, empty store of ``backend``."""
    if backend == "sqlite":
        return f"sqlite://{folder / f'events-{uuid.uuid4().hex[:8]}.sqlite3'}"
    return fresh_mongo_url()


def cleanup(url: str) -> None:
    """Remove what :func:`fresh_url` made (SQLite files go with the test's tmp folder)."""
    if url.startswith("mongodb"):
        drop_mongo_database(url)


def is_ferretdb(url: str) -> bool:
    """Tell whether ``url`` names a FerretDB server (False for SQLite and for MongoDB)."""
    if not url.startswith("mongodb"):
        return False
    client: pymongo.MongoClient[dict[str, object]] = pymongo.MongoClient(
        url, serverSelectionTimeoutMS=5000
    )
    with client:
        return mongo_connection.is_ferretdb(client.admin.command("buildInfo"))
