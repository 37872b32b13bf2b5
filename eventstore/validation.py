"""attrs validators that raise :class:`InvalidEventError` naming the attribute at fault.

They check types strictly (a ``bool`` is not an ``int``), so an event that constructs is
an event every backend can store and give back unchanged. Times are not checked here but
normalised, on every input path, by :func:`eventstore.clock.normalise_time`.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable, Mapping
from typing import Any, TypeVar
from uuid import UUID

import attrs

from eventstore.errors import InvalidEventError
from eventstore.field_paths import Step

Validator = Callable[[Any, "attrs.Attribute[Any]", Any], None]

# What BSON and SQLite's INTEGER both hold exactly.
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
# MongoDB refuses documents nested deeper than 100 levels; events sit a few levels down.
MAX_JSON_DEPTH = 64

LONE_SURROGATE = "holds a lone surrogate, which no store can encode"
"""Why a string no store can encode is refused, in the same words wherever it is."""


def _fail(attribute: attrs.Attribute[Any], reason: str, value: Any) -> None:
    raise InvalidEventError(attribute.name, reason, value)


def text(*, non_empty: bool = False, max_length: int | None = None) -> Validator:
    """Accept a ``str`` (optionally non-empty, optionally at most ``max_length`` long)."""

    def check(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if not isinstance(value, str):
            _fail(attribute, f"expected a string, got {type(value).__name__}", value)
        if non_empty and not value:
            _fail(attribute, "must not be empty", value)
        if not is_unicode(value):
            _fail(attribute, LONE_SURROGATE, value)
        if max_length is not None and len(value) > max_length:
            _fail(attribute, f"longer than {max_length} characters", len(value))

    return check


def optional_text(*, max_length: int | None = None) -> Validator:
    """Accept ``None`` or a ``str`` of at most ``max_length`` characters."""
    inner = text(max_length=max_length)

    def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if value is not None:
            inner(instance, attribute, value)

    return check


def integer(*, minimum: int = INT64_MIN, maximum: int = INT64_MAX) -> Validator:
    """Accept an ``int`` (never a ``bool``) between ``minimum`` and ``maximum`` inclusive."""

    def check(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if isinstance(value, bool) or not isinstance(value, int):
            _fail(attribute, f"expected an integer, got {type(value).__name__}", value)
        if not minimum <= value <= maximum:
            _fail(attribute, f"must be between {minimum} and {maximum}", value)

    return check


def boolean(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """Accept exactly ``True`` or ``False``."""
    if not isinstance(value, bool):
        _fail(attribute, f"expected a boolean, got {type(value).__name__}", value)


def uuid(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """Accept a :class:`uuid.UUID`."""
    if not isinstance(value, UUID):
        _fail(attribute, f"expected a UUID, got {type(value).__name__}", value)


def optional_uuid(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """Accept ``None`` or a :class:`uuid.UUID`."""
    if value is not None:
        uuid(instance, attribute, value)


def member_of(enum_type: type[enum.Enum]) -> Validator:
    """Accept a member of ``enum_type``; the error lists the allowed values.

    Pair it with :func:`to_member` as the field's converter to accept the values too.
    """

    def check(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if not isinstance(value, enum_type):
            allowed = ", ".join(repr(member.value) for member in enum_type)
            _fail(attribute, f"must be one of {allowed}", value)

    return check


EnumT = TypeVar("EnumT", bound=enum.Enum)


def to_member(enum_type: type[EnumT], value: object) -> EnumT | object:
    """Return the member of ``enum_type`` whose value is ``value`` (a member is returned as is).

    Anything else is returned unchanged, for :func:`member_of` to refuse naming the field:
    a converter is not told which field it converts. ``True`` is never a value, even of
    an enum of ints.
    """
    if isinstance(value, enum_type | bool):
        return value
    try:
        return enum_type(value)
    except (ValueError, TypeError):
        return value


def json_object(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """Accept a JSON object: string keys; strings, finite numbers, int64s, bools, None, nesting."""
    problem = _json_problem(value, depth=0, expect_object=True)
    if problem is not None:
        where, reason = problem
        raise InvalidEventError((attribute.name, *where), reason, value)


_Problem = tuple[tuple[Step, ...], str]
"""The steps from a JSON value down to its first fault, and what the fault is."""


def _json_problem(value: Any, depth: int, *, expect_object: bool = False) -> _Problem | None:
    """Return (steps, reason) of the first thing in ``value`` that is not JSON, or None.

    A key that is no string is reported at its object; a string key no store can encode
    is reported as its own step (a path writes it escaped).
    """
    if depth > MAX_JSON_DEPTH:
        return (), f"nested deeper than {MAX_JSON_DEPTH} levels"
    if expect_object and not isinstance(value, Mapping):
        return (), f"expected a JSON object, got {type(value).__name__}"
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                return (), f"object keys must be strings, got {type(key).__name__} {key!r}"
            if not is_unicode(key):
                return (key,), f"the key {LONE_SURROGATE}"
            problem = _json_problem(item, depth + 1)
            if problem is not None:
                return (key, *problem[0]), problem[1]
        return None
    if isinstance(value, list):
        for index, item in enumerate(value):
            problem = _json_problem(item, depth + 1)
            if problem is not None:
                return (index, *problem[0]), problem[1]
        return None
    if isinstance(value, str):
        return None if is_unicode(value) else ((), LONE_SURROGATE)
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return None if INT64_MIN <= value <= INT64_MAX else ((), "integer outside int64")
    if isinstance(value, float):
        return None if math.isfinite(value) else ((), "numbers must be finite")
    return (), f"{type(value).__name__} is not a JSON value"


def is_unicode(value: str) -> bool:
    """Tell whether ``value`` encodes to UTF-8 (it holds no lone surrogate)."""
    if value.isascii():
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
