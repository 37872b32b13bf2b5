"""The run queries of ``jobs_history`` on the embedded store, over its view of the live version.

Every query filters on the columns ``jobs_history`` declares it is queried by. A
pipeline's runs and a run by number are served by its ``by_pipeline`` index (repository,
URL, pipeline, run number); a search by ``by_repo_start`` when it names a repository,
else by ``by_start`` (SQLite's planner picks; both give the order, ties by key, so it
never sorts). Every value is a bound parameter.
"""

from __future__ import annotations

from typing import Final

from projections.adapters.sqlite import SQLiteReadModelStore
from projections.adapters.sqlite_tables import column_value
from projections.documents import RunDocument
from projections.jobs_history import JOBS_HISTORY
from projections.run_queries import Pipeline, RunFilter, RunQueries, prefix_end

_PIPELINE: Final = "WHERE repo_name = ? AND repo_url = ? AND pipeline_name = ?"


class SQLiteRunQueries(RunQueries):
    """:class:`RunQueries` on an open :class:`SQLiteReadModelStore` (sharing its connection)."""

    def __init__(self, store: SQLiteReadModelStore) -> None:
        self._store = store

    def _page(self, pipeline: Pipeline, skip: int, limit: int) -> list[RunDocument]:
        clause = f"{_PIPELINE} ORDER BY run_number DESC LIMIT ? OFFSET ?"
        params = (*_values(pipeline), limit, skip)
        return self._store.select(JOBS_HISTORY, "runs", clause, params)

    def _search(self, where: RunFilter, skip: int, limit: int) -> list[RunDocument]:
        conditions = [f"{name} = ?" for name in where.exact()]
        params: list[object] = list(where.exact().values())
        if where.commit is not None:
            conditions.append("git_commit_hash >= ?")
            params.append(where.commit)
            end = prefix_end(where.commit)
            if end is not None:
                conditions.append("git_commit_hash < ?")
                params.append(end)
        if where.since is not None:
            conditions.append("start_time >= ?")
            params.append(column_value(where.since))
        clause = f"WHERE {' AND '.join(conditions)} " if conditions else ""
        clause += "ORDER BY start_time DESC, key LIMIT ? OFFSET ?"
        return self._store.select(JOBS_HISTORY, "search", clause, (*params, limit, skip))

    def _numbered(self, pipeline: Pipeline, run_number: int) -> RunDocument | None:
        clause = f"{_PIPELINE} AND run_number = ? LIMIT 1"
        found = self._store.select(JOBS_HISTORY, "run", clause, (*_values(pipeline), run_number))
        return found[0] if found else None


def _values(pipeline: Pipeline) -> tuple[str, str, str]:
    return pipeline.repo_name, pipeline.repo_url, pipeline.pipeline_name
