"""Store URLs: which backend a URL names, and the forms of it that are safe to show.

The one place a store URL is parsed. ``mongodb://`` and ``mongodb+srv://`` name MongoDB
(a ``mongodb`` URL's options are the driver's); ``sqlite:///absolute/path`` names an
embedded file. Anything else is a :class:`~eventstore.errors.UsageError` that names the
setting, with the closest scheme as a suggestion and the password masked.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Final, Literal
from urllib.parse import urlsplit, urlunsplit

from attrs import frozen

from eventstore.errors import UsageError

MONGO_SCHEMES: Final = ("mongodb", "mongodb+srv")
SQLITE_SCHEME: Final = "sqlite"
KNOWN_SCHEMES: Final = (*MONGO_SCHEMES, SQLITE_SCHEME)

Backend = Literal["mongodb", "sqlite"]


@frozen
class StoreUrl:
    """A parsed store URL: the backend it names and, for SQLite, the file."""

    url: str
    backend: Backend
    sqlite_path: Path | None = None
    """The embedded store's file, for a ``sqlite://`` URL; None for MongoDB."""

    @property
    def shown(self) -> str:
        """The URL as a message may show it (password masked)."""
        return redact_url(self.url)


def parse_store_url(url: str, setting: str = "url") -> StoreUrl:
    """Return what ``url`` names; raise :class:`UsageError` naming ``setting`` if nothing."""
    scheme, separator, rest = url.partition("://")
    scheme = scheme.lower() if separator else ""
    if scheme in MONGO_SCHEMES:
        return StoreUrl(url=url, backend="mongodb")
    if scheme == SQLITE_SCHEME:
        if not rest:
            raise UsageError(setting, url, "a sqlite URL needs a path: sqlite:///path/to/file")
        return StoreUrl(url=url, backend="sqlite", sqlite_path=Path(rest).expanduser())
    guess = difflib.get_close_matches(scheme, KNOWN_SCHEMES, n=1)
    hint = f"; did you mean {guess[0]}://?" if guess else ""
    raise UsageError(
        setting,
        redact_url(url),
        f"unknown scheme {scheme!r}, expected one of {list(KNOWN_SCHEMES)}{hint}",
    )


def redact_url(url: str) -> str:
    """Return ``url`` with any password replaced by ``***`` (safe to print or log)."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return "<unparseable URL>"
    if password is None:
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


def scrub(text: str, url: str) -> str:
    """Return ``text`` with the password of ``url`` masked wherever it appears."""
    secret = url_password(url)
    return text.replace(secret, "***") if secret else text
