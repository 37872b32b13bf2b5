"""Any JSON-like value as a BSON-safe one, and back: a reversible encoding.

The event log (each event's ``data``) and the read models (their documents) both store
values users chose. :func:`encode` makes every such value storable on MongoDB and on
FerretDB v1, whatever it holds:

* **Keys.** Every mapping key, at every depth, is escaped: ``%`` → ``%25``, ``.`` →
  ``%2E``, ``$`` → ``%24``, NUL → ``%00``, and the empty key becomes a lone ``%``. So
  no key starts with ``$`` or holds a ``.`` or NUL, and none is empty. Our own field
  names hold none of these characters and read unchanged; users' names (pipeline, stage
  and job names used as keys, keys inside a pipeline's configuration) are escaped. In an
  escaped key a ``%`` is always followed by ``25``, ``2E``, ``24`` or ``00``, or stands
  alone as the whole key.
* **Nested arrays.** An array directly inside an array is stored as ``{"%a": [...]}``
  (FerretDB v1 refuses nested arrays). Arrays elsewhere are stored as they are.
* **Big integers.** An integer outside BSON's 64 bits is stored as ``{"%i": "<decimal>"}``.
* **Negative zero.** ``-0.0`` is stored as ``{"%z": true}``: FerretDB v1 turns ``-0`` into
  ``0`` on every write, and a configuration must read back as it was validated.

``%a``, ``%i`` and ``%z`` are never escaped keys (in one, ``%`` is followed by ``25``, ``2E``,
``24`` or ``00``, or is the whole key), so a mapping whose only key is one of them is
always a wrapper, and :func:`decode` undoes all of it exactly. Strings, numbers, booleans
and null are stored as they are (BSON strings may hold NUL).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any, Final

ARRAY: Final = "%a"
"""The key of the wrapper that holds an array nested directly in an array."""
BIG_INT: Final = "%i"
"""The key of the wrapper that holds an integer BSON cannot (as decimal text)."""
NEGATIVE_ZERO: Final = "%z"
"""The key of the wrapper that stands for ``-0.0``."""
EMPTY_KEY: Final = "%"
"""How the empty key is stored."""

_INT64_MIN: Final = -(2**63)
_INT64_MAX: Final = 2**63 - 1
_ESCAPES: Final = {"%": "%25", ".": "%2E", "$": "%24", "\x00": "%00"}
_UNESCAPES: Final = {escaped: char for char, escaped in _ESCAPES.items()}
_TO_ESCAPE: Final = re.compile(r"[%.$\x00]")
_ESCAPED: Final = re.compile(r"%(25|2E|24|00)")
_ESCAPED_KEY: Final = re.compile(r"(?:[^%.$\x00]|%25|%2E|%24|%00)+\Z")


def encode_key(key: str) -> str:
    """Return ``key`` escaped as the module docs say (never empty, no ``$``, ``.`` or NUL)."""
    if not key:
        return EMPTY_KEY
    return _TO_ESCAPE.sub(lambda match: _ESCAPES[match.group()], key)


def decode_key(stored: str) -> str:
    """Return the key :func:`encode_key` turned into ``stored``.

    Raises ``ValueError`` for a string :func:`encode_key` never returns.
    """
    if stored == EMPTY_KEY:
        return ""
    if not _ESCAPED_KEY.match(stored):
        raise ValueError(f"not an escaped key: {stored!r}")
    return _ESCAPED.sub(lambda match: _UNESCAPES[match.group()], stored)


def encode(value: Any) -> Any:
    """Return ``value`` (an unstructured document or any part of one) BSON-safe."""
    if isinstance(value, Mapping):
        return {encode_key(key): encode(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_encode_item(item) for item in value]
    if _is_big_int(value):
        return {BIG_INT: str(value)}
    if isinstance(value, float) and value == 0.0 and math.copysign(1.0, value) < 0:
        return {NEGATIVE_ZERO: True}
    return value


def _is_big_int(value: Any) -> bool:
    """Tell whether ``value`` is an integer outside what BSON holds (64 bits, signed)."""
    return (
        isinstance(value, int)
        and not isinstance(value, bool)
        and not (_INT64_MIN <= value <= _INT64_MAX)
    )


def _encode_item(item: Any) -> Any:
    """Encode one element of an array: an array in it is wrapped."""
    if isinstance(item, list | tuple):
        return {ARRAY: [_encode_item(inner) for inner in item]}
    return encode(item)


def decode(stored: Any) -> Any:
    """Return the value :func:`encode` turned into ``stored``."""
    if isinstance(stored, Mapping):
        if len(stored) == 1:
            if ARRAY in stored:
                return [decode(item) for item in stored[ARRAY]]
            if BIG_INT in stored:
                return int(stored[BIG_INT])
            if NEGATIVE_ZERO in stored:
                return -0.0
        return {decode_key(key): decode(item) for key, item in stored.items()}
    if isinstance(stored, list):
        return [decode(item) for item in stored]
    return stored
