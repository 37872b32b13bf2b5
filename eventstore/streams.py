"""Stream ids: one readable, reversible string per consistency boundary.

A stream id is a kind and the JSON array of its key parts, e.g.
``repo:["cirec","https://git.example/cirec.git","main"]``. JSON escaping keeps any user
string (dots, dollars, quotes, NUL) unambiguous, and :func:`parse_stream_id` reverses it.
"""

from __future__ import annotations

import json
from typing import Final
from uuid import UUID

SESSION: Final = "session"
"""A developer's session: one stream per ``user_id``."""
REPO: Final = "repo"
"""A repository branch's pipelines: validations, activation."""
PIPELINE: Final = "pipeline"
"""A pipeline's run-number sequence: only ``RunStarted``, so run N is version N."""
RUN: Final = "run"
"""One run's stages, jobs and logs, keyed by ``run_id``."""


def stream_id(kind: str, *parts: str) -> str:
    """Return the stream id of ``kind`` keyed by ``parts``."""
    return kind + ":" + json.dumps(list(parts), ensure_ascii=False, separators=(",", ":"))


def parse_stream_id(value: str) -> tuple[str, tuple[str, ...]]:
    """Return the kind and key parts a :func:`stream_id` was built from."""
    kind, _, key = value.partition(":")
    parts = json.loads(key)
    return kind, tuple(str(part) for part in parts)


def session_stream(user_id: str) -> str:
    """Return the stream of ``user_id``'s session."""
    return stream_id(SESSION, user_id)


def repo_stream(repo_name: str, repo_url: str, branch: str) -> str:
    """Return the stream of one repository branch (the key of a ``repo_configs`` document)."""
    return stream_id(REPO, repo_name, repo_url, branch)


def pipeline_stream(repo_name: str, repo_url: str, pipeline_name: str) -> str:
    """Return the run-number sequence of one pipeline of a repository (across branches)."""
    return stream_id(PIPELINE, repo_name, repo_url, pipeline_name)


def run_stream(run_id: UUID) -> str:
    """Return the stream of one run."""
    return stream_id(RUN, str(run_id))
