"""The composition root of the read side: open the read-model store a URL names.

The read models live beside the log they are folded from: in the same MongoDB database,
or in the same SQLite file, chosen exactly as :func:`eventstore.config.open_store`
chooses (an explicit URL, else ``MONGO_DB_URL``, else the embedded file).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from eventstore.config import MONGO_SCHEMES, SQLITE_SCHEME, configured_url, redact_url
from eventstore.errors import ConfigError
from projections.store import ReadModelStore


def open_read_models(
    url: str | None = None, environ: Mapping[str, str] = os.environ
) -> ReadModelStore:
    """Open the read-model store beside the event store that ``url`` names."""
    resolved = configured_url(url, environ)
    scheme, _, rest = resolved.partition("://")
    if scheme.lower() in MONGO_SCHEMES:
        from projections.adapters.mongo import MongoReadModelStore

        return MongoReadModelStore.from_url(resolved)
    if scheme.lower() == SQLITE_SCHEME and rest:
        from projections.adapters.sqlite import SQLiteReadModelStore

        return SQLiteReadModelStore(Path(rest).expanduser())
    raise ConfigError("url", redact_url(resolved), "not a MongoDB or sqlite:/// URL")
