"""cirec's write side: the event catalog, the store port and adapters, and the recorder.

Typical use by a CI engine::

    from eventstore import Recorder, open_store

    with open_store() as store:          # MONGO_DB_URL, else the embedded SQLite file
        recorder = Recorder(store, actor="ci-engine")
        run = recorder.start_run(...)

Nothing here connects at import time.
"""

from eventstore.codec import Codec
from eventstore.config import open_store, redact_url
from eventstore.errors import (
    AppendTooLargeError,
    CirecError,
    ConfigError,
    DuplicateEventError,
    InvalidEventError,
    StoreError,
    StoreUnavailableError,
    WrongExpectedVersionError,
)
from eventstore.records import (
    ANY,
    NO_STREAM,
    AppendResult,
    ExpectedVersion,
    Metadata,
    NewEvent,
    RecordedEvent,
)
from eventstore.store import EventStore

__all__ = [
    "ANY",
    "NO_STREAM",
    "AppendResult",
    "AppendTooLargeError",
    "CirecError",
    "Codec",
    "ConfigError",
    "DuplicateEventError",
    "EventStore",
    "ExpectedVersion",
    "InvalidEventError",
    "Metadata",
    "NewEvent",
    "RecordedEvent",
    "StoreError",
    "StoreUnavailableError",
    "WrongExpectedVersionError",
    "open_store",
    "redact_url",
]
