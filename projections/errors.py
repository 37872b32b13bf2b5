"""The errors of the read side: one base under :class:`~eventstore.errors.CirecError`.

Every error a read-model store or a query raises is one of these, or a
:class:`~eventstore.errors.StoreError` (the backend failed for a reason outside the
caller's input). No driver exception, and no bare ``TypeError`` or ``ValueError``, leaves
a port. Each error carries its data as attributes and builds its message from them.

``StaleWriteError`` and ``VersionGoneError`` are siblings, and a worker treats them
differently: a stale write means another worker wrote the same document first (reload and
fold again); a version gone means a rebuild replaced the version, or it was discarded (look
the active version up again, or stop if the version was the caller's choice).
"""

from __future__ import annotations

from eventstore.errors import CirecError, InvalidArgumentError

_REPR_CHARS = 80
"""How much of a refused value's ``repr`` an error message shows."""


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= _REPR_CHARS else f"{text[: _REPR_CHARS - 1]}…"


class ReadModelError(CirecError):
    """Raised for every failure the read side itself reports; catch this to catch them all."""


class StaleWriteError(ReadModelError):
    """Raised when a conditional write finds the document moved on since it was loaded."""

    def __init__(self, projection: str, key: str, loaded_at: int | None) -> None:
        self.projection = projection
        self.key = key
        self.loaded_at = loaded_at
        super().__init__(
            f"{projection}: document {key!r} changed since it was loaded at position {loaded_at}"
        )


class VersionGoneError(ReadModelError):
    """Raised when a version does not exist (any more): a rebuild replaced it, or it was discarded.

    A worker that meets it was writing to a version that is not the active one any more:
    it looks the active version up again and folds into that one.
    """

    def __init__(self, projection: str, version: str) -> None:
        self.projection = projection
        self.version = version
        super().__init__(f"{projection}: version {version!r} no longer exists")


class UnusableNameError(ReadModelError):
    """Raised when a name cannot name a table, a collection or a column; nothing is touched.

    ``kind`` says what the name was for (``projection``, ``version``, ``field``,
    ``index``), ``name`` is the name refused and ``reason`` the rule it breaks.
    """

    def __init__(self, kind: str, name: object, reason: str) -> None:
        self.kind = kind
        self.name = name
        self.reason = reason
        super().__init__(f"unusable {kind} name {_shown(name)}: {reason}")


class QueryArgumentError(ReadModelError, InvalidArgumentError):
    """Raised when an argument of a store or query call has the wrong type; nothing is read.

    An :class:`~eventstore.errors.InvalidArgumentError` like the write side's, so one
    ``except`` catches a wrong argument to either: ``field`` names the argument, ``value``
    is what was given and ``expected`` what it must be. A store never converts such a
    value (``"1"`` is no run number, ``True`` is no integer), so every backend refuses the
    same calls.
    """

    def __init__(self, field: str, value: object, expected: str) -> None:
        self.expected = expected
        reason = f"must be {expected}, got {type(value).__name__} {_shown(value)}"
        InvalidArgumentError.__init__(self, field, reason, value)


class InvalidProjectionError(ReadModelError):
    """Raised when a projection is declared wrongly: a bug in its definition, found at import.

    ``what`` names the projection (or the part of it) at fault, ``reason`` the rule broken.
    """

    def __init__(self, what: str, reason: str) -> None:
        self.what = what
        self.reason = reason
        super().__init__(f"{what}: {reason}")


class DocumentTooLargeError(ReadModelError):
    """Raised when a store refuses a document as too large to write; nothing of it is written.

    ``size`` is the document's size in bytes as the store counted it and ``limit`` the
    most it takes. The projector records such a key as unwritable
    (:class:`projections.unwritable.Unwritable`) and keeps folding every other key.
    """

    def __init__(self, projection: str, key: str, size: int, limit: int) -> None:
        self.projection = projection
        self.key = key
        self.size = size
        self.limit = limit
        super().__init__(
            f"{projection}: document {_shown(key)} is {size} bytes; the store holds at most {limit}"
        )
