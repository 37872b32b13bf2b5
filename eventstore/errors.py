"""The errors the recorder raises: one base, each carrying its data as attributes.

No driver exception (pymongo, sqlite3) ever reaches a caller: adapters translate them into
these types at the boundary. Messages are derived from the attributes, and no message
ever holds a password from a database URL.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventstore.field_paths import Step, field_path


class CirecError(Exception):
    """Raised for every failure the recorder reports; catch this to catch them all."""


class InvalidArgumentError(CirecError):
    """Raised when a call's argument has the wrong type or is out of range; names it.

    ``path`` is the steps from the argument down to the part of it at fault (given as one
    name, or as the steps: names, keys and list indexes), ``field`` the same path as text
    (:func:`~eventstore.field_paths.field_path`: ``data.errors[0]``), ``reason`` what is
    wrong and ``value`` what was given. Nothing is read or stored.
    """

    def __init__(self, field: str | Sequence[Step], reason: str, value: Any = None) -> None:
        # One name, or none: "" is the whole input (an event that is no JSON object).
        self.path: tuple[Step, ...] = (
            tuple(field) if not isinstance(field, str) else (field,) if field else ()
        )
        self.field = field_path(*self.path)
        self.reason = reason
        self.value = value
        super().__init__(f"{self.field}: {reason}")


class InvalidEventError(InvalidArgumentError):
    """Raised when an event (or its JSON form, or an append) breaks the catalog; names the field."""

    def under(self, *steps: Step) -> InvalidEventError:
        """Return the same error with its path nested under ``steps`` (``under("data")``)."""
        return InvalidEventError((*steps, *self.path), self.reason, self.value)


class LifecycleError(InvalidEventError):
    """Raised when a run's history forbids an event: it names the event, the field and the run.

    ``event_type`` is the refused event's type, ``run_id`` its run, ``field`` the field at
    fault (``data.status``, ``data.chunk_index``, ``type`` when the event itself may not
    come now …), ``reason`` why, ``value`` what was given. Nothing of the event is stored.
    """

    def __init__(
        self, field: str, reason: str, value: Any = None, *, event_type: str, run_id: object
    ) -> None:
        # The fields a lifecycle names are event fields, never a user's keys: a dotted
        # name is its steps.
        steps = tuple(field.split("."))
        super().__init__(steps, f"{event_type} of run {run_id}: {reason}", value)
        self.event_type = event_type
        self.run_id = run_id


class UnknownRunError(InvalidArgumentError):
    """Raised when no run with the ``run_id`` given was started in the store; names it.

    Nothing is read beyond the lookup, and nothing is stored.
    """

    def __init__(self, run_id: object) -> None:
        super().__init__("run_id", f"no run {run_id} was started in this store", run_id)
        self.run_id = run_id


class WrongExpectedVersionError(CirecError):
    """Raised when an append's expected version does not match the stream; nothing is stored."""

    def __init__(self, stream_id: str, expected: object, actual: int) -> None:
        self.stream_id = stream_id
        self.expected = expected
        self.actual = actual
        super().__init__(
            f"stream {stream_id!r} is at version {actual}, the append expected {expected}"
        )


class DuplicateEventError(CirecError):
    """Raised when an append repeats only some stored event ids, or reuses one elsewhere.

    A retry of a whole append is not an error (it returns the stored positions); this is
    raised when the ids of one call are partly stored, stored in another stream, or
    repeated within the call itself.
    """

    def __init__(self, stream_id: str, event_ids: Sequence[object], reason: str) -> None:
        self.stream_id = stream_id
        self.event_ids = tuple(str(event_id) for event_id in event_ids)
        self.reason = reason
        super().__init__(f"stream {stream_id!r}: {reason}: {', '.join(self.event_ids)}")


class StoreError(CirecError):
    """Raised when a store operation fails for a reason outside the caller's input.

    ``transient`` says whether the same call may succeed later, unchanged: the server
    could not be reached or did not answer in time, a lock was held too long, the disk is
    full. Workers wait those out; anything else (a refused login, a damaged file, a log
    in a layout this code does not know) needs a person.
    """

    def __init__(
        self, backend: str, operation: str, detail: str, *, transient: bool = False
    ) -> None:
        self.backend = backend
        self.operation = operation
        self.detail = detail
        self.transient = transient
        super().__init__(f"{backend} store: {operation} failed: {detail}")


class StoreUnavailableError(StoreError):
    """Raised when the store cannot be reached or opened; ``location`` is redacted.

    ``operation`` is what was under way: by default opening the store (``connecting to
    …``); a store that loses its server later names the operation it was in.
    """

    def __init__(
        self,
        backend: str,
        location: str,
        detail: str,
        *,
        operation: str | None = None,
        transient: bool = True,
    ) -> None:
        self.location = location
        where = operation or f"connecting to {location}"
        super().__init__(backend, where, detail, transient=transient)


class AppendTooLargeError(CirecError):
    """Raised when one append would exceed what the store can hold atomically."""

    def __init__(self, stream_id: str, size: int, limit: int) -> None:
        self.stream_id = stream_id
        self.size = size
        self.limit = limit
        super().__init__(
            f"stream {stream_id!r}: one append of {size} bytes exceeds the limit of {limit}; "
            "split it into several appends"
        )


class ConfigError(CirecError):
    """Raised when configuration (a URL, a path, an option) is unusable; names the setting."""

    def __init__(self, setting: str, value: str, reason: str) -> None:
        self.setting = setting
        self.value = value
        self.reason = reason
        super().__init__(f"{setting}={value!r}: {reason}")


class UsageError(ConfigError):
    """Raised when a setting is given wrongly; the command line exits 2 on it.

    A store URL that does not parse or names no known scheme, options that exclude
    each other.
    """
