"""The table of a class's fields: name, type, JSON form, whether required, and meaning."""

from __future__ import annotations

import enum
import json
import types
import typing
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

import attrs

from eventstore.codec import json_converter
from tools.reference.markdown import from_docstring, table


def fields_table(cls: type[Any], docs: Mapping[str, str] | None = None) -> str:
    """Return the Markdown table of the attrs fields of ``cls``, one row per field.

    A field's meaning is ``docs[name]`` when ``docs`` is given, else the ``doc`` of its
    metadata; raises ``LookupError`` for a field without one.
    """
    hints = typing.get_type_hints(cls)
    rows = []
    for field in attrs.fields(cls):
        doc = docs.get(field.name) if docs is not None else field.metadata.get("doc")
        if not doc:
            raise LookupError(f"{cls.__name__}.{field.name} has no documentation")
        rows.append(
            [
                f"`{field.name}`",
                f"`{_annotation_text(cls, field.name)}`",
                json_type(hints[field.name]),
                _requirement(field),
                from_docstring(doc),
            ]
        )
    return table(["field", "type", "JSON", "required", "meaning"], rows)


def json_type(annotation: Any) -> str:
    """Describe the JSON value a resolved annotation is written as.

    Raises ``TypeError`` for an annotation with no known JSON form.
    """
    if annotation is bool:
        return "boolean"
    if annotation is int:
        return "integer"
    if annotation is str:
        return "string"
    if annotation is UUID:
        return "string (UUID)"
    if annotation is datetime:
        return "string (time)"
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return "string: " + ", ".join(f"`{member.value}`" for member in annotation)
    if isinstance(annotation, type) and attrs.has(annotation):
        return "object"
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is dict:
        return "object"
    if origin in (tuple, list) and args and (len(args) == 1 or args[1:] == (Ellipsis,)):
        return f"array of {json_type(args[0])}"
    if origin in (typing.Union, types.UnionType) and type(None) in args:
        rest = [arg for arg in args if arg is not type(None)]
        if len(rest) == 1:
            return f"{json_type(rest[0])} or null"
    raise TypeError(f"no JSON form known for {annotation!r}: teach tools/reference/fields.py")


def _annotation_text(cls: type[Any], name: str) -> str:
    """Return the type of field ``name`` as written in its annotation in the source.

    Read from ``__annotations__``, not from the attrs field: cattrs resolves the latter in
    place the first time it handles a class, which would make the page depend on call order.
    """
    for owner in cls.__mro__:
        written = vars(owner).get("__annotations__", {}).get(name)
        if isinstance(written, str):
            return written
        if written is not None:
            return getattr(written, "__name__", None) or repr(written).replace("typing.", "")
    raise LookupError(f"{cls.__name__}.{name} has no annotation")


def _requirement(field: attrs.Attribute[Any]) -> str:
    """Say whether ``field`` is required, or optional with which default (as JSON)."""
    default: Any = field.default
    if default is attrs.NOTHING:
        return "required"
    if isinstance(default, attrs.Factory):  # type: ignore[arg-type]  # a class at runtime
        if default.takes_self:
            return "optional"
        default = default.factory()
    shown = json.dumps(json_converter.unstructure(default), ensure_ascii=False)
    return f"optional, default `{shown}`"
