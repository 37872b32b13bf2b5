"""Opening the event store a URL names: the one way to open a store by URL.

``sqlite:///path/to/file`` opens the embedded store on that file (created if missing);
``mongodb://…`` and ``mongodb+srv://…`` connect to MongoDB (the URL's path names the
database, ``cirec`` if none). Nothing here reads the environment: the application's
composition root (``cirec.config``) decides which URL is in force and calls this.
"""

from __future__ import annotations

from eventstore.store import EventStore
from eventstore.urls import StoreUrl, parse_store_url


def open_store(url: str) -> EventStore:
    """Open the event store ``url`` names; close it (or use it as a context manager) when done.

    An unknown scheme, or a ``sqlite://`` URL without a path, raises
    :class:`~eventstore.errors.UsageError` naming ``url`` (password masked); a store that
    cannot be reached or opened raises :class:`~eventstore.errors.StoreUnavailableError`.
    """
    return open_parsed_store(parse_store_url(url))


def open_parsed_store(where: StoreUrl) -> EventStore:
    """Open the event store of an already parsed URL (adapters are imported only when used)."""
    if where.sqlite_path is not None:
        from eventstore.adapters.sqlite import SQLiteEventStore

        return SQLiteEventStore(where.sqlite_path)
    from eventstore.adapters.mongo import MongoEventStore

    return MongoEventStore.from_url(where.url)
