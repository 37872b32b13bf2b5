"""Opening a MongoDB client from a URL, and its errors as cirec's, for every MongoDB store.

The event store and the read-model store connect the same way (same database, same
timeouts) and report driver errors the same way: as :class:`StoreError` or, when the
server cannot be reached, :class:`StoreUnavailableError`, never with the URL's password.
What a store learns of its server once, at open, is read here too: whether it is
FerretDB, and how far its clock is from ours.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, Final, TypeVar
from urllib.parse import urlsplit

import pymongo
from bson.errors import BSONError
from pymongo.database import Database
from pymongo.errors import ConnectionFailure, PyMongoError

from eventstore.errors import StoreError, StoreUnavailableError
from eventstore.stored import StoredFormError
from eventstore.urls import redact_url, url_password

T = TypeVar("T")

BACKEND: Final = "mongodb"
DEFAULT_DATABASE: Final = "cirec"
SERVER_SELECTION_TIMEOUT_MS: Final = 10_000
DUPLICATE_KEY: Final = 11000
"""The server's error code for a write refused by a unique index."""
MAX_DOCUMENT_BYTES: Final = 16 * 1024 * 1024
"""The largest document MongoDB stores (FerretDB would take more; we never write more)."""


def is_ferretdb(build_info: Mapping[str, Any]) -> bool:
    """Tell whether the server whose ``buildInfo`` reply this is runs FerretDB."""
    return "ferretdbVersion" in build_info


def server_clock_offset(database: Database[dict[str, Any]]) -> timedelta:
    """Return how far the server's clock is ahead of ours, measured once by ``hello``.

    A store's clock is ours plus this offset: exact to within half a round trip and the
    server's millisecond. Zero if the server does not say its time.
    """
    before = datetime.now(UTC)
    reply = database.command("hello")
    after = datetime.now(UTC)
    server = reply.get("localTime")
    if not isinstance(server, datetime):
        return timedelta(0)
    if server.tzinfo is None:  # command replies ignore the client's tz_aware setting
        server = server.replace(tzinfo=UTC)
    return server - (before + (after - before) / 2)


class MongoErrors:
    """Translates the driver's errors for the store at one URL, its password masked."""

    def __init__(self, url: str) -> None:
        self.location = redact_url(url)
        """The URL as a message may show it."""
        self._secret = url_password(url)

    def scrub(self, text: str) -> str:
        """Return ``text`` with the URL's password masked."""
        return text.replace(self._secret, "***") if self._secret else text

    @contextmanager
    def translated(self, operation: str, *, connecting: bool = False) -> Iterator[None]:
        """Raise a driver or BSON error inside as a :class:`StoreError` naming ``operation``.

        One that says the server cannot be reached (or any, while ``connecting``) is
        raised as :class:`StoreUnavailableError` naming the redacted URL. A stored
        document the mapper cannot read is a :class:`StoreError` too.
        """
        try:
            yield
        except (PyMongoError, BSONError, StoredFormError) as exc:
            detail = self.scrub(f"{type(exc).__name__}: {exc}")
            if connecting or isinstance(exc, ConnectionFailure):
                raise StoreUnavailableError(BACKEND, self.location, detail) from None
            raise StoreError(BACKEND, operation, detail) from None


def connected(
    url: str, appname: str, build: Callable[[pymongo.MongoClient[dict[str, Any]], str], T]
) -> T:
    """Return ``build(client, database)`` for a new client of ``url``; close it if that fails."""
    client, database = open_client(url, appname)
    try:
        return build(client, database)
    except BaseException:
        client.close()
        raise


def open_client(url: str, appname: str) -> tuple[pymongo.MongoClient[dict[str, Any]], str]:
    """Return a client for ``url`` and the database its path names (``cirec`` if none).

    Options in the URL's query string (``serverSelectionTimeoutMS``, ``w`` …) are honoured;
    server selection gives up after 10 s unless the URL says otherwise.
    """
    defaults: dict[str, Any] = {"serverSelectionTimeoutMS": SERVER_SELECTION_TIMEOUT_MS}
    query = urlsplit(url).query.lower()
    defaults = {k: v for k, v in defaults.items() if f"{k.lower()}=" not in query}
    with MongoErrors(url).translated("connecting", connecting=True):
        client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(
            url, tz_aware=True, tzinfo=UTC, appname=appname, **defaults
        )
    try:
        return client, client.get_default_database(DEFAULT_DATABASE).name
    except BaseException:
        client.close()
        raise
