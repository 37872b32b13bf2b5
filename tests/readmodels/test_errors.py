"""The read side's errors: one tree under ``CirecError``, each carrying its data."""

from __future__ import annotations

import inspect

from eventstore.errors import CirecError, InvalidArgumentError
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


def test_an_argument_error_names_the_field_and_the_value() -> None:
    error = errors.QueryArgumentError("run_number", "1", "an integer")
    assert (error.field, error.value, error.expected) == ("run_number", "1", "an integer")
    assert str(error) == "run_number: must be an integer, got str '1'"
    assert isinstance(error, InvalidArgumentError)  # the write side's argument error too
    long = errors.QueryArgumentError("key", "x" * 500, "a string")
    assert len(str(long)) < 120  # a huge value is cut in the message, kept whole in .value


def test_a_name_error_says_what_the_name_was_for() -> None:
    error = errors.UnusableNameError("projection", "read_model_batches", "reserved")
    assert (error.kind, error.name, error.reason) == (
        "projection",
        "read_model_batches",
        "reserved",
    )
    assert str(error) == "unusable projection name 'read_model_batches': reserved"
