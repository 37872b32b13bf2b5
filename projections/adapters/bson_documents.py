"""Read-model documents as BSON-safe dicts, and back.

A document is first unstructured with :data:`bson_converter` (the JSON converter of
:mod:`eventstore.codec`, except that datetimes stay BSON dates: aware UTC, milliseconds;
UUIDs are strings). Then :func:`eventstore.bson_values.encode` makes every value
storable on MongoDB and on FerretDB v1, whatever users put in it: users' names in
``pipelines``, ``logs`` and ``jobs`` keys and the keys inside ``pipeline_config`` and
``pipeline_config_used`` are escaped (``deploy%2Eprod``, ``%24where``), reversibly.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, TypeVar

import cattrs

from eventstore.bson_values import decode, encode
from eventstore.clock import to_millis
from eventstore.codec import json_converter

D = TypeVar("D")


def _make_bson_converter() -> cattrs.Converter:
    converter = json_converter.copy()
    converter.register_unstructure_hook(datetime, to_millis)
    return converter


bson_converter = _make_bson_converter()
"""(Un)structures documents: as :data:`eventstore.codec.json_converter`, datetimes kept."""


def to_bson(document: object) -> dict[str, Any]:
    """Return the BSON-safe fields of a read-model document (an attrs instance)."""
    fields: dict[str, Any] = encode(bson_converter.unstructure(document))
    return fields


def from_bson(document_type: type[D], fields: Mapping[str, Any]) -> D:
    """Return the document of ``document_type`` that :func:`to_bson` turned into ``fields``.

    ``fields`` holds the document's fields only (no ``_id`` or other bookkeeping).
    """
    return bson_converter.structure(decode(fields), document_type)
