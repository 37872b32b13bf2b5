"""cirec's write side: the event catalog, the store port and adapters, and the recorder.

Typical use by a CI engine that embeds only this package::

    from eventstore import Recorder
    from eventstore.adapters.sqlite import SQLiteEventStore

    with SQLiteEventStore("events.sqlite3") as store:   # or MongoEventStore.from_url(url)
        recorder = Recorder(store, actor="ci-engine")
        run = recorder.start_run(...)

The application's ``cirec.open_store()`` opens the store the environment names
(``MONGO_DB_URL``, else the embedded file). This package imports nothing of the read
side or of the application, reads no environment variable and connects nothing at
import time.
"""

from eventstore.codec import Codec
from eventstore.errors import (
    AppendTooLargeError,
    CirecError,
    ConfigError,
    DuplicateEventError,
    InvalidArgumentError,
    InvalidEventError,
    StoreError,
    StoreUnavailableError,
    WrongExpectedVersionError,
)
from eventstore.recorder import Recorder
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
from eventstore.urls import redact_url

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
    "InvalidArgumentError",
    "InvalidEventError",
    "Metadata",
    "NewEvent",
    "RecordedEvent",
    "Recorder",
    "StoreError",
    "StoreUnavailableError",
    "WrongExpectedVersionError",
    "redact_url",
]
