"""Opening a MongoDB client from a URL, and its errors as cirec's, for every MongoDB store.

The event store and the read-model store connect the same way (same database, same
timeouts) and report driver errors the same way: as :class:`StoreError` or, when the
server cannot be reached, :class:`StoreUnavailableError`, never with the URL's password.
What a store learns of its server once, at open, is read here too: whether it is
FerretDB, and how far its clock is from ours.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, Final, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit

import pymongo
from bson.errors import BSONError
from pymongo.database import Database
from pymongo.errors import (
    ConnectionFailure,
    OperationFailure,
    PyMongoError,
    ServerSelectionTimeoutError,
)
from pymongo.uri_parser import parse_uri

from eventstore.errors import StoreError, StoreUnavailableError, UsageError
from eventstore.stored import StoredFormError
from eventstore.urls import redact_url, scrub, url_password

T = TypeVar("T")

BACKEND: Final = "mongodb"
DEFAULT_DATABASE: Final = "cirec"
WAIT_DEFAULTS: Final[Mapping[str, int]] = {
    "serverSelectionTimeoutMS": 10_000,
    "connectTimeoutMS": 10_000,
    "socketTimeoutMS": 60_000,
}
"""The client's waits when the URL does not set them (pymongo's own are 30 s, 20 s and
none at all: a server that stops answering would hold a call for ever)."""
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


_SELECTION = re.compile(r"^(?P<last>.*?), Timeout: (?P<seconds>[\d.]+)s, Topology Description: ")


def described(exc: Exception) -> str:
    """Return ``exc`` on one line for a person: its type, and what it says that helps.

    A server selection that timed out says how long it tried and the last error, not
    the driver's dump of the whole topology (hundreds of characters).
    """
    text = str(exc)
    if isinstance(exc, ServerSelectionTimeoutError):
        found = _SELECTION.match(text)
        if found is not None:
            text = (
                f"no server could be selected within {float(found['seconds']):g} s"
                f" (serverSelectionTimeoutMS); last error: {found['last']}"
            )
    return f"{type(exc).__name__}: {text}"


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

        While ``connecting``, any error is a :class:`StoreUnavailableError` naming the
        redacted URL. Later, one that says the server could not be reached or did not
        answer in time is a :class:`StoreUnavailableError` naming ``operation``. Either
        is ``transient`` when waiting may cure it (:func:`is_transient`). A stored
        document the mapper cannot read is a :class:`StoreError` too.
        """
        try:
            yield
        except (PyMongoError, BSONError, StoredFormError) as exc:
            detail = self.scrub(described(exc))
            transient = is_transient(exc)
            if connecting:
                raise StoreUnavailableError(
                    BACKEND, self.location, detail, transient=transient
                ) from None
            if transient:
                raise StoreUnavailableError(
                    BACKEND,
                    self.location,
                    f"{self.location} did not answer: {detail}",
                    operation=operation,
                ) from None
            raise StoreError(BACKEND, operation, detail) from None


TRANSIENT_CODES: Final = frozenset(
    {6, 7, 50, 89, 91, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436}
)
"""Server error codes that pass: host unreachable or not found, time limit exceeded,
network timeout, shutdown in progress, primary stepped down, socket error, not primary,
interrupted at shutdown or by a replica-set change, not primary or secondary."""
_CANCELLED: Final = "context canceled"
"""What FerretDB v1 says (as ``InternalError``, code 1) of the operations in hand that it
cancels as it shuts down: seen on SIGTERM in ``tests/faults/test_restarts.py``."""


def is_transient(exc: Exception) -> bool:
    """Tell whether the driver error ``exc`` may pass if the call is made again later.

    The server could not be reached or the connection dropped (``ConnectionFailure``,
    which covers timeouts and operations cancelled by a dropped pool), an operation ran
    out of time, or the server said it is shutting down or changing primaries (or, for
    FerretDB v1, cancelled the operation as it shut down).
    """
    if isinstance(exc, ConnectionFailure):
        return True
    if isinstance(exc, PyMongoError) and exc.timeout:
        return True
    if isinstance(exc, OperationFailure):
        return (
            exc.code in TRANSIENT_CODES
            or exc.has_error_label("RetryableWriteError")
            or (exc.code == 1 and _CANCELLED in str(exc))
        )
    return False


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


def _option_problem(query: str) -> str | None:
    """Return what is wrong with the first option of a URL's ``query`` the driver refuses.

    pymongo only warns of an unknown option or a value it cannot use (a ``UserWarning``
    that does not name the option) and goes on without it, so a mistyped
    ``serverSelectionTimeoutMS`` would silently leave the default. Each option is parsed
    alone, strictly, with a host that needs no DNS.
    """
    for name, value in parse_qsl(query, keep_blank_values=True):
        try:
            parse_uri(f"mongodb://localhost/?{urlencode({name: value})}")
        except ValueError as exc:  # a value the driver cannot use
            return f"option {name!r}: {exc}"
        except Exception as exc:  # anything else (a file, an srv-only option): the client judges
            if "Unknown option" in str(exc):
                return f"unknown option {name!r} (the URL's options are pymongo's MongoClient's)"
    return None


def open_client(url: str, appname: str) -> tuple[pymongo.MongoClient[dict[str, Any]], str]:
    """Return a client for ``url`` and the database its path names (``cirec`` if none).

    Options in the URL's query string (``serverSelectionTimeoutMS``, ``w`` …) are honoured.
    Unless the URL says otherwise, no wait is unbounded (:data:`WAIT_DEFAULTS`): finding
    the server gives up after 10 s, opening a connection after 10 s, and waiting for one
    reply after 60 s. ``timeoutMS`` (a limit on each whole operation, retries included)
    also bounds each append as a whole, in place of its 60 s default.
    """
    try:
        query = urlsplit(url).query.lower()
        problem = _option_problem(urlsplit(url).query)
        if problem is not None:
            raise UsageError("url", redact_url(url), scrub(problem, url))
        defaults: dict[str, Any] = {
            k: v for k, v in WAIT_DEFAULTS.items() if f"{k.lower()}=" not in query
        }
        with MongoErrors(url).translated("connecting", connecting=True):
            client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(
                url, tz_aware=True, tzinfo=UTC, appname=appname, **defaults
            )
    except ValueError as exc:  # the URL does not parse: a bracket, a port out of range …
        raise UsageError("url", redact_url(url), scrub(str(exc), url)) from None
    try:
        return client, client.get_default_database(DEFAULT_DATABASE).name
    except BaseException:
        client.close()
        raise
