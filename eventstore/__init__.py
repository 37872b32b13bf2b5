"""cirec's write side: the event catalog, the store port and adapters, and the recorder.

Typical use by a CI engine (:func:`cirec.open_store` reads ``MONGO_DB_URL``)::

    from cirec import open_store
    from eventstore import Recorder

    with open_store() as store:          # MONGO_DB_URL, else the embedded SQLite file
        recorder = Recorder(store, actor="ci-engine")
        run = recorder.start_run(...)

This package imports nothing of :mod:`projections` or :mod:`cirec`, reads no environment
variable and connects nothing at import time.
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
