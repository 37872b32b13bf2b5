"""Field builders shared by the catalog: each attaches a validator and its documentation."""

from __future__ import annotations

from typing import Any

import attrs

from eventstore import validation as v

# Generous, but below anything a document or a terminal would choke on.
MAX_NAME = 10_000
MAX_COMMIT = 256
MAX_LOG_CHUNK = 1024 * 1024


def documented(doc: str, validator: v.Validator, **kwargs: Any) -> Any:
    """Return an attrs field with ``validator`` and ``doc`` kept for ``docs/events.md``."""
    return attrs.field(validator=validator, metadata={"doc": doc}, **kwargs)


def key(doc: str) -> Any:
    """Build a non-empty identifying string field (a user id, a repository name, a branch)."""
    return documented(doc, v.text(non_empty=True, max_length=MAX_NAME))


def user_name(doc: str) -> Any:
    """Build a field for a name a user chose: any string, even empty, kept exactly."""
    return documented(doc, v.text(max_length=MAX_NAME))


def commit_hash(doc: str = "The Git commit hash.") -> Any:
    """Build a field for a commit hash as Git prints it."""
    return documented(doc, v.text(non_empty=True, max_length=MAX_COMMIT))


def run_id_field() -> Any:
    """Build the ``run_id`` field: the UUID a run is given when it starts."""
    return documented("The run's id, chosen when the run starts.", v.uuid)
