"""How the read-model stores name their tables and collections, and the rules names keep.

Both stores name things alike, and refuse the same names up front, before they touch
anything:

* a projection's name is an identifier (:data:`IDENTIFIER`: lowercase ASCII letters,
  digits and ``_``, starting with a letter), holds no ``__`` (it separates the version),
  is none of the names the stores use themselves (:data:`RESERVED`), and does not start
  with ``sqlite_`` (SQLite keeps those names for its own tables);
* a version is named ``v1``, ``v2``, … (:data:`VERSION`), and its table or collection
  ``{projection}__{version}`` (:func:`storage_name`);
* the top-level fields a projection is queried by, and its indexes, are identifiers too,
  and no field is named like a column the embedded store keeps beside each document
  (:data:`RESERVED_FIELDS`).

A name that breaks a rule raises :class:`~projections.errors.UnusableNameError`; one that
is not even a string raises :class:`~projections.errors.QueryArgumentError`.
"""

from __future__ import annotations

import re
from typing import Final

from eventstore.adapters import EVENT_STORE_NAMES
from projections.arguments import text
from projections.errors import UnusableNameError

IDENTIFIER: Final = re.compile(r"[a-z][a-z0-9_]*\Z")
"""What every name of a projection, field or index is: safe unquoted in SQL and MongoDB."""
VERSION: Final = re.compile(r"v([1-9][0-9]*)\Z")
"""What a version's name is: ``v`` and its number (from 1, no leading zero)."""
SEPARATOR: Final = "__"
"""Between a projection's name and its version's, in a table or collection name."""
RESERVED: Final = EVENT_STORE_NAMES | {
    "read_model_versions",  # the read-model stores' own bookkeeping
    "read_model_batches",
    "read_model_sequences",
    "read_model_unwritable",
}
"""Names of tables and collections the stores use themselves: no projection may take one."""
SQLITE_PREFIX: Final = "sqlite_"
"""SQLite refuses to create tables whose names start with this."""
RESERVED_FIELDS: Final = frozenset({"key", "position", "body"})
"""The columns the embedded store keeps beside every document (MongoDB's ``_id`` and
``_position`` start with ``_``, which no identifier does)."""


def _identifier(kind: str, name: object) -> str:
    checked = text(name, f"{kind} name")
    if not IDENTIFIER.match(checked):
        raise UnusableNameError(
            kind, checked, "use lowercase ASCII letters, digits and _, starting with a letter"
        )
    if SEPARATOR in checked:
        raise UnusableNameError(kind, checked, f"{SEPARATOR!r} separates a version's name")
    return checked


def projection_name(name: object) -> str:
    """Return ``name`` if it may name a projection's tables and collections, else raise."""
    checked = _identifier("projection", name)
    if checked in RESERVED:
        raise UnusableNameError("projection", checked, "the stores use this name themselves")
    if checked.startswith(SQLITE_PREFIX):
        raise UnusableNameError("projection", checked, f"SQLite keeps {SQLITE_PREFIX}* names")
    return checked


def field_name(kind: str, name: object) -> str:
    """Return ``name`` if it may name a queried field or an index (``kind`` says which)."""
    checked = _identifier(kind, name)
    if checked in RESERVED_FIELDS:
        raise UnusableNameError(kind, checked, "the embedded store keeps a column of this name")
    return checked


def version_number(version: object) -> int:
    """Return n of a version named ``vn``; any other name is no version of any store."""
    match = VERSION.match(text(version, "version"))
    if match is None:
        raise UnusableNameError("version", version, "versions are named v1, v2, …")
    return int(match.group(1))


def version_name(number: int) -> str:
    """Return the name of version ``number``."""
    return f"v{number}"


def storage_name(projection: str, version: str) -> str:
    """Return the name of the table or collection holding ``version`` of ``projection``.

    Both names are checked first, so the result is safe as an SQL identifier.
    """
    version_number(version)
    return f"{projection_name(projection)}{SEPARATOR}{version}"
