r"""cirec's write side: the event catalog, the store port and adapters, and the recorder.

Typical use by a CI engine that embeds only this package (``tests/test_readme.py`` runs
this example as written)::

    from eventstore import Recorder, open_store

    # Or "sqlite:///var/lib/ci/events.sqlite3", "mongodb://db.example.com/cirec".
    with open_store("sqlite://ci/events.sqlite3") as store:  # under the working directory
        recorder = Recorder(store, actor="ci-engine")
        run = recorder.start_run(
            repo_name="api",
            repo_url="https://git.example.com/acme/api.git",
            branch="main",
            pipeline_name="build",
            commit_hash="9f2c1e7",
            pipeline_config={"stages": ["build"]},
            trigger="push",
        )
        recorder.start_stage(run, "build")
        recorder.start_job(run, "build", "compile")
        log = recorder.job_log(run, "build", "compile")  # numbers its chunks 0, 1, 2 …
        log.write("ok\n")
        # Another process, with a recorder of its own, goes on from the run's id:
        run = recorder.continue_run(run.run_id)
        recorder.finish_job(run, "build", "compile", "success")
        recorder.finish_stage(run, "build", "success")
        recorder.finish_run(run, "success")

:func:`open_store` opens the store a URL names and nothing else; the application's
``cirec.open_store()`` picks the URL from the environment (``MONGO_DB_URL``, else the
embedded file) and calls it. This package imports nothing of the read side or of the
application, reads no environment variable and connects nothing at import time.
"""

from eventstore.codec import Codec
from eventstore.errors import (
    AppendTooLargeError,
    CirecError,
    ConfigError,
    DuplicateEventError,
    InvalidArgumentError,
    InvalidEventError,
    LifecycleError,
    StoreError,
    StoreUnavailableError,
    UnknownRunError,
    WrongExpectedVersionError,
)
from eventstore.opening import open_store
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
    "LifecycleError",
    "Metadata",
    "NewEvent",
    "RecordedEvent",
    "Recorder",
    "StoreError",
    "StoreUnavailableError",
    "UnknownRunError",
    "WrongExpectedVersionError",
    "open_store",
    "redact_url",
]
