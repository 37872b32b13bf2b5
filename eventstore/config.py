"""Configuration, read in one place, and the composition root that opens a store.

* ``MONGO_DB_URL`` (or an explicit ``mongodb://`` / ``mongodb+srv://`` URL): MongoDB.
* Otherwise the embedded SQLite store, at ``CIREC_SQLITE_PATH`` or, by default,
  ``$XDG_DATA_HOME/cirec/events.sqlite3`` (``~/.local/share/cirec/events.sqlite3``).
  A ``sqlite:///absolute/path`` URL picks a file explicitly.

Nothing connects at import time: :func:`open_store` does, when called.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from eventstore.errors import ConfigError
from eventstore.store import EventStore

MONGO_URL_VARIABLE = "MONGO_DB_URL"
SQLITE_PATH_VARIABLE = "CIREC_SQLITE_PATH"
MONGO_SCHEMES = ("mongodb", "mongodb+srv")
SQLITE_SCHEME = "sqlite"


def default_sqlite_path(environ: Mapping[str, str] = os.environ) -> Path:
    """Return where the embedded store lives when no path is configured."""
    configured = environ.get(SQLITE_PATH_VARIABLE)
    if configured:
        return Path(configured).expanduser()
    data_home = environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home) / "cirec" / "events.sqlite3"


def configured_url(explicit: str | None = None, environ: Mapping[str, str] = os.environ) -> str:
    """Return the store URL in force: ``explicit``, else ``MONGO_DB_URL``, else the SQLite file."""
    url = explicit or environ.get(MONGO_URL_VARIABLE) or ""
    if url:
        return url
    return f"{SQLITE_SCHEME}://{default_sqlite_path(environ).resolve()}"


def redact_url(url: str) -> str:
    """Return ``url`` with any password replaced by ``***`` (safe to print or log)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable URL>"
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


def url_password(url: str) -> str | None:
    """Return the password a URL carries, so messages can be scrubbed of it."""
    try:
        return urlsplit(url).password
    except ValueError:
        return None


def open_store(url: str | None = None, environ: Mapping[str, str] = os.environ) -> EventStore:
    """Open the store ``url`` names (see the module docs for the defaults) and return it."""
    resolved = configured_url(url, environ)
    scheme = resolved.partition("://")[0].lower() if "://" in resolved else ""
    if scheme in MONGO_SCHEMES:
        from eventstore.adapters.mongo import MongoEventStore

        return MongoEventStore.from_url(resolved)
    if scheme == SQLITE_SCHEME:
        from eventstore.adapters.sqlite import SQLiteEventStore

        path = resolved.partition("://")[2]
        if not path:
            raise ConfigError("url", resolved, "a sqlite URL needs a path: sqlite:///path/to/file")
        return SQLiteEventStore(Path(path).expanduser())
    known = [*MONGO_SCHEMES, SQLITE_SCHEME]
    guess = difflib.get_close_matches(scheme, known, n=1)
    hint = f"; did you mean {guess[0]}://?" if guess else ""
    raise ConfigError(
        "url", redact_url(resolved), f"unknown scheme {scheme!r}, expected one of {known}{hint}"
    )
