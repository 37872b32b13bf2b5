r"""The size of a read-model document, measured once for every store. Pure.

:func:`measured_size` takes a document in its JSON-values form (what
:data:`eventstore.codec.json_converter` unstructures it to) with its key and position,
and returns a number of bytes that is never below either stored form of it:

* the embedded store's row body, the compact JSON of :func:`eventstore.codec.dump_json`
  (UTF-8; a control character costs up to 6 bytes, as ``\u0000``);
* MongoDB's BSON document ``{_id, _position, ...}``, after
  :mod:`eventstore.adapters.bson_values` escaped its keys (``.``, ``$``, ``%`` and NUL
  become 3 bytes each, the empty key 1) and wrapped nested arrays (``{"%a": [...]}``),
  big integers and ``-0.0``.

Each part is charged the larger of its two encodings, plus every byte of framing either
adds: a string ``escaped + 5`` (JSON quotes it, BSON adds a length and a NUL), a key
``escaped + 2 x (its escapable characters) + 5`` (type byte, NUL, quotes, colon,
comma), an array element its index as a BSON key, an integer 8 (or its digits, or 14
more when it is wrapped), a time 29 (its JSON text; BSON takes 8). So a document whose
measure is within :data:`DOCUMENT_BUDGET_BYTES` (8 MiB) is at most 8 MiB on either
store, half of MongoDB's 16 MiB; ``tests/readmodels/test_document_budget.py`` checks
the bound against real BSON and JSON encodings.

The walk also counts nesting as BSON sees it (each mapping or array, and each wrapper
of a nested array, is a level): MongoDB refuses documents nested deeper than
:data:`MAX_NESTING`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

from attrs import frozen

DOCUMENT_BUDGET_BYTES: Final = 8 * 1024 * 1024
"""The most any read-model document may measure: half of MongoDB's 16 MiB."""
MAX_NESTING: Final = 100
"""The deepest nesting MongoDB stores (a document and each mapping or array in it)."""

_ENCODER: Final = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
_INT64: Final = 2**63
_KEY_ESCAPED: Final = "%.$\x00"
_STRING_FRAME: Final = 5
_KEY_FRAME: Final = 5
_CONTAINER_FRAME: Final = 5
_NUMBER: Final = 8
_WRAPPER: Final = 14
"""A wrapper mapping (``{"%i": ...}``, ``{"%a": ...}``): its frame and its one key."""


@frozen
class Measure:
    """A document's measured size in bytes and how deep it nests."""

    size: int
    nesting: int


_ESCAPED: Final = bytes(range(0x20)) + b'"\\'
"""The bytes :func:`eventstore.codec.dump_json` escapes: control characters, quote, backslash."""
_NOT_ESCAPED: Final = bytes(byte for byte in range(256) if byte not in _ESCAPED)
_SHORT_ESCAPES: Final = tuple(bytes([byte]) for byte in b'"\\\b\f\n\r\t')
"""Escaped as two characters (``\\n``); every other control character takes six (``\\u001f``)."""


def text_cost(text: str) -> int:
    """Return the bytes ``text`` takes inside a JSON string: its UTF-8, escapes included.

    Never below its UTF-8 length, so it also bounds the text in a BSON string; and it
    adds up: the cost of ``a + b`` is the cost of ``a`` plus the cost of ``b``.

    Counted, not encoded: the UTF-8 length (lone surrogates 3 bytes each), plus 1 for
    each character JSON escapes in two and 5 for each it escapes in six, exactly what
    ``json`` writes with ``ensure_ascii=False``. In UTF-8 those characters are single
    bytes below 0x80 that no other character's encoding contains, so deleting every
    other byte (one C pass) leaves just them. A log chunk's tail is measured once per
    chunk; encoding it as JSON in pieces was most of a catch-up's time.
    """
    if text.isascii():
        if text.isprintable() and '"' not in text and "\\" not in text:
            return len(text)
        return encoded_cost(text.encode("ascii"))
    return encoded_cost(text.encode("utf-8", "surrogatepass"))


def encoded_cost(encoded: bytes) -> int:
    """Return :func:`text_cost` of the text whose UTF-8 (``surrogatepass``) is ``encoded``.

    It adds up over any split of the bytes, even inside a character.
    """
    escaped = encoded.translate(None, _NOT_ESCAPED)
    if not escaped:
        return len(encoded)
    short = sum(escaped.count(each) for each in _SHORT_ESCAPES)
    return len(encoded) + short + 5 * (len(escaped) - short)


def key_cost(key: str) -> int:
    """Return the bytes a mapping key takes, framing included, in JSON or escaped BSON."""
    specials = sum(key.count(char) for char in _KEY_ESCAPED) if not key.isalnum() else 0
    return text_cost(key) + 2 * specials + _KEY_FRAME + (0 if key else 1)


def measured_size(key: str, position: int, document: Mapping[str, Any]) -> Measure:
    """Return the measure of the stored document ``key`` at ``position`` (see the module)."""
    size, nesting = _mapping(document, 1)
    size += key_cost("_id") + text_cost(key) + _STRING_FRAME
    size += key_cost("_position") + _number(position)
    return Measure(size, nesting)


def _mapping(value: Mapping[str, Any], depth: int) -> tuple[int, int]:
    size, deepest = _CONTAINER_FRAME, depth
    for name, item in value.items():
        cost, nesting = _value(item, depth)
        size += key_cost(name) + cost
        deepest = max(deepest, nesting)
    return size, deepest


def _array(value: list[Any] | tuple[Any, ...], depth: int) -> tuple[int, int]:
    size, deepest = _CONTAINER_FRAME, depth
    for index, item in enumerate(value):
        if isinstance(item, list | tuple):  # stored wrapped: {"%a": [...]}
            cost, nesting = _array(item, depth + 2)
            cost += _WRAPPER
        else:
            cost, nesting = _value(item, depth)
        size += len(str(index)) + 2 + cost
        deepest = max(deepest, nesting)
    return size, deepest


def _value(value: object, depth: int) -> tuple[int, int]:
    """Return the cost and nesting of ``value`` found in a container at ``depth``."""
    if isinstance(value, str):
        return text_cost(value) + _STRING_FRAME, depth
    if isinstance(value, Mapping):
        return _mapping(value, depth + 1)
    if isinstance(value, list | tuple):
        return _array(value, depth + 1)
    if isinstance(value, bool) or value is None:
        return 5, depth
    if isinstance(value, int):
        return _number(value), depth + (0 if -_INT64 <= value < _INT64 else 1)
    if isinstance(value, float):
        return 24 + _WRAPPER, depth + 1  # the longest repr; -0.0 is wrapped
    return text_cost(_ENCODER.encode(value)) + _STRING_FRAME, depth


def _number(value: int) -> int:
    digits = len(str(value))
    if -_INT64 <= value < _INT64:
        return max(_NUMBER, digits)
    return digits + _STRING_FRAME + _WRAPPER
