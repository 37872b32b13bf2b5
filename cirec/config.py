"""The composition root: the one place that reads the environment and opens stores.

* ``MONGO_DB_URL`` (or an explicit ``mongodb://`` / ``mongodb+srv://`` URL): MongoDB.
* Otherwise the embedded SQLite store, at ``CIREC_SQLITE_PATH`` or, by default,
  ``$XDG_DATA_HOME/cirec/events.sqlite3`` (``~/.local/share/cirec/events.sqlite3``).
  A ``sqlite:///absolute/path`` URL picks a file explicitly.
* ``cirec demo`` alone: its own SQLite file, ``$XDG_DATA_HOME/cirec/demo.sqlite3``
  (``~/.local/share/cirec/demo.sqlite3``), whatever ``MONGO_DB_URL`` and
  ``CIREC_SQLITE_PATH`` say: invented events never land in a store someone configured.
  ``--db URL`` names any store explicitly, the demo's included.

The read models live beside the log they are folded from: in the same MongoDB database,
or in the same SQLite file. Nothing connects at import time; the openers connect when
called, and :class:`Stores` opens each store only when a command first asks for it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Final

from attrs import frozen

import eventstore
from eventstore.closing import Closing
from eventstore.errors import ConfigError
from eventstore.opening import open_parsed_store
from eventstore.store import EventStore
from eventstore.urls import StoreUrl, parse_store_url, redact_url
from projections.run_queries import RunQueries
from projections.store import ReadModelStore

MONGO_URL_VARIABLE: Final = "MONGO_DB_URL"
SQLITE_PATH_VARIABLE: Final = "CIREC_SQLITE_PATH"
DEMO_FILE_NAME: Final = "demo.sqlite3"


def _environment(environ: Mapping[str, str] | None) -> Mapping[str, str]:
    return os.environ if environ is None else environ


def default_sqlite_path(environ: Mapping[str, str] | None = None) -> Path:
    """Return where the embedded store lives when no path is configured."""
    env = _environment(environ)
    configured = env.get(SQLITE_PATH_VARIABLE)
    if configured:
        return Path(configured).expanduser()
    return _data_dir(env) / "events.sqlite3"


def default_demo_path(environ: Mapping[str, str] | None = None) -> Path:
    """Return the demo's own SQLite file, beside the default embedded store.

    ``CIREC_SQLITE_PATH`` does not move it: that variable names the user's store.
    """
    return _data_dir(_environment(environ)) / DEMO_FILE_NAME


def _data_dir(env: Mapping[str, str]) -> Path:
    data_home = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home) / "cirec"


def configured_url(explicit: str | None = None, environ: Mapping[str, str] | None = None) -> str:
    """Return the store URL in force: ``explicit``, else ``MONGO_DB_URL``, else the SQLite file."""
    url = explicit or _environment(environ).get(MONGO_URL_VARIABLE) or ""
    if url:
        return url
    return f"sqlite://{default_sqlite_path(environ).resolve()}"


@frozen
class DemoStore:
    """Where ``cirec demo`` plays, and which store settings it leaves alone to do so."""

    url: str
    ignored: tuple[str, ...]
    """The environment variables set that name the user's store (and that the demo ignores)."""


def demo_store(explicit: str | None = None, environ: Mapping[str, str] | None = None) -> DemoStore:
    """Return the store the demo plays into: ``explicit``, else the demo's own file.

    Without ``explicit``, ``MONGO_DB_URL`` and ``CIREC_SQLITE_PATH`` are not used: they
    are listed in :attr:`DemoStore.ignored` (when set) for the demo to say so.
    """
    if explicit:
        return DemoStore(explicit, ())
    env = _environment(environ)
    ignored = tuple(name for name in (MONGO_URL_VARIABLE, SQLITE_PATH_VARIABLE) if env.get(name))
    return DemoStore(f"sqlite://{default_demo_path(env).resolve()}", ignored)


def open_store(url: str | None = None, environ: Mapping[str, str] | None = None) -> EventStore:
    """Open the event store ``url`` names (see the module docs for the defaults).

    The URL in force is chosen here; :func:`eventstore.open_store` opens it.
    """
    return eventstore.open_store(configured_url(url, environ))


def open_read_models(
    url: str | None = None, environ: Mapping[str, str] | None = None
) -> ReadModelStore:
    """Open the read-model store beside the event store that ``url`` names."""
    return open_parsed_read_models(parse_store_url(configured_url(url, environ)))


def open_read_side(
    url: str | None = None, environ: Mapping[str, str] | None = None
) -> tuple[ReadModelStore, RunQueries]:
    """Open the read-model store beside the event store ``url`` names, with its run queries.

    The queries share the store's connection: close the store to close both.
    """
    return open_parsed_read_side(parse_store_url(configured_url(url, environ)))


def open_parsed_read_models(where: StoreUrl) -> ReadModelStore:
    """Open the read-model store of an already parsed URL."""
    if where.sqlite_path is not None:
        from projections.adapters.sqlite import SQLiteReadModelStore

        return SQLiteReadModelStore(where.sqlite_path)
    from projections.adapters.mongo import MongoReadModelStore

    return MongoReadModelStore.from_url(where.url)


def open_parsed_read_side(where: StoreUrl) -> tuple[ReadModelStore, RunQueries]:
    """Open the read-model store of an already parsed URL, and the run queries over it."""
    if where.sqlite_path is not None:
        from projections.adapters.sqlite import SQLiteReadModelStore
        from projections.adapters.sqlite_runs import SQLiteRunQueries

        sqlite = SQLiteReadModelStore(where.sqlite_path)
        return sqlite, SQLiteRunQueries(sqlite)
    from projections.adapters.mongo import MongoReadModelStore
    from projections.adapters.mongo_runs import MongoRunQueries

    mongo = MongoReadModelStore.from_url(where.url)
    return mongo, MongoRunQueries(mongo)


class Stores(Closing):
    """The stores of one URL, each opened on first use and all closed together.

    A command that only appends never opens the read models, and one that only reads
    documents never opens the log: each costs its own client (and, on MongoDB, its own
    server handshake).

    With ``create=False`` (commands that only read) an embedded file that does not exist
    is a :class:`ConfigError` rather than a new, empty store: an empty answer from a
    mistyped path would look like lost data.
    """

    def __init__(self, url: str, *, create: bool = True) -> None:
        self.where = parse_store_url(url)
        path = self.where.sqlite_path
        if not create and path is not None and not path.exists():
            raise ConfigError(
                "url",
                redact_url(self.where.url),
                f"no store at {path}: nothing has been recorded there"
                " (cirec emit creates it; reading never does)",
            )
        self._events: EventStore | None = None
        self._read_side: tuple[ReadModelStore, RunQueries] | None = None

    @property
    def location(self) -> str:
        """The URL, redacted: the only form of it that may be printed."""
        return redact_url(self.where.url)

    @property
    def events(self) -> EventStore:
        """The event store, opened now if this is the first use."""
        if self._events is None:
            self._events = open_parsed_store(self.where)
        return self._events

    @property
    def read_models(self) -> ReadModelStore:
        """The read-model store, opened now if this is the first use."""
        return self._opened_read_side()[0]

    @property
    def run_queries(self) -> RunQueries:
        """The run queries of ``jobs_history``, over the read-model store (opened if need be)."""
        return self._opened_read_side()[1]

    def _opened_read_side(self) -> tuple[ReadModelStore, RunQueries]:
        if self._read_side is None:
            self._read_side = open_parsed_read_side(self.where)
        return self._read_side

    def close(self) -> None:
        """Close whichever stores were opened."""
        read_models = None if self._read_side is None else self._read_side[0]
        for store in (read_models, self._events):
            if store is not None:
                store.close()
        self._events = self._read_side = None
