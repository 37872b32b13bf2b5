"""The read side's errors: one tree under ``CirecError``, each carrying its data."""

from __future__ import annotations

import inspect

from eventstore.errors import CirecError
from projections import errors
from projections.errors import ReadModelError, StaleWriteError, VersionGoneError


def test_every_read_side_error_is_a_cirec_error() -> None:
    classes = inspect.getmembers(errors, inspect.isclass)
    found = [cls for _, cls in classes if cls.__module__ == errors.__name__]
    assert found
    for cls in found:
        assert issubclass(cls, ReadModelError), cls
        assert issubclass(cls, CirecError), cls


def test_a_version_gone_is_no_stale_write() -> None:
    """The worker reloads after a stale write but looks the version up again when it is gone."""
    assert not issubclass(VersionGoneError, StaleWriteError)
    assert not issubclass(StaleWriteError, VersionGoneError)
    gone = VersionGoneError("sessions", "v3")
    assert (gone.projection, gone.version) == ("sessions", "v3")
    assert str(gone) == "sessions: version 'v3' no longer exists"
    stale = StaleWriteError("sessions", "ada", 4)
    assert (stale.projection, stale.key, stale.loaded_at) == ("sessions", "ada", 4)
