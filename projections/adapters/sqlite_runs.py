"""The run queries of ``jobs_history`` on the embedded store, over its view of the live version.

Both queries filter on the columns ``jobs_history`` declares it is queried by and are
served by its ``by_pipeline`` index (repository, URL, pipeline, run number).
"""

from __future__ import annotations

from typing import Final

from projections.adapters.sqlite import SQLiteReadModelStore
from projections.documents import RunDocument
from projections.jobs_history import JOBS_HISTORY
from projections.run_queries import Pipeline, RunQueries

_PIPELINE: Final = "WHERE repo_name = ? AND repo_url = ? AND pipeline_name = ?"


class SQLiteRunQueries(RunQueries):
    """:class:`RunQueries` on an open :class:`SQLiteReadModelStore` (sharing its connection)."""

    def __init__(self, store: SQLiteReadModelStore) -> None:
        self._store = store

    def _page(self, pipeline: Pipeline, skip: int, limit: int) -> list[RunDocument]:
        clause = f"{_PIPELINE} ORDER BY run_number DESC LIMIT ? OFFSET ?"
        params = (*_values(pipeline), limit, skip)
        return self._store.select(JOBS_HISTORY, "runs", clause, params)

    def _numbered(self, pipeline: Pipeline, run_number: int) -> RunDocument | None:
        clause = f"{_PIPELINE} AND run_number = ? LIMIT 1"
        found = self._store.select(JOBS_HISTORY, "run", clause, (*_values(pipeline), run_number))
        return found[0] if found else None


def _values(pipeline: Pipeline) -> tuple[str, str, str]:
    return pipeline.repo_name, pipeline.repo_url, pipeline.pipeline_name
