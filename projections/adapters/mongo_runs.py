"""The run queries of ``jobs_history`` on MongoDB, over the collection of the live version.

Both filter on the top-level fields ``jobs_history`` declares it is queried by and are
served on MongoDB by its ``by_pipeline`` index, which the store declares as ``_version``,
repository, URL, pipeline, run number descending, ``_id``: the fence on the live version,
the filter and the order all come from the index (``tests/test_index_use.py``); FerretDB
v1 scans. Every name is a string, checked by
:class:`~projections.run_queries.RunQueries`, so none can be read as an operator.
"""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.collection import Collection

from projections.adapters.mongo import MongoReadModelStore
from projections.adapters.mongo_documents import versioned
from projections.documents import RunDocument
from projections.jobs_history import JOBS_HISTORY
from projections.run_queries import Pipeline, RunQueries

Raw = dict[str, Any]


class MongoRunQueries(RunQueries):
    """:class:`RunQueries` on an open :class:`MongoReadModelStore` (sharing its client)."""

    def __init__(self, store: MongoReadModelStore) -> None:
        self._store = store

    def _page(self, pipeline: Pipeline, skip: int, limit: int) -> list[RunDocument]:
        condition = _condition(pipeline)
        order = [("run_number", DESCENDING), ("_id", ASCENDING)]
        page_size = self._store.traits.page_size

        def query(documents: Collection[Raw], fence: Raw) -> tuple[list[Raw], bool]:
            found = documents.find(
                {**condition, **fence}, sort=order, skip=skip, limit=limit, batch_size=page_size
            )
            page = list(found)
            return page, bool(page)

        found = self._store.read_live(JOBS_HISTORY, "runs", query)
        return [versioned(JOBS_HISTORY, raw).document for raw in found]

    def _numbered(self, pipeline: Pipeline, run_number: int) -> RunDocument | None:
        condition = {**_condition(pipeline), "run_number": run_number}

        def query(documents: Collection[Raw], fence: Raw) -> tuple[Raw | None, bool]:
            raw = documents.find_one({**condition, **fence}, sort=[("_id", ASCENDING)])
            return raw, raw is not None

        raw = self._store.read_live(JOBS_HISTORY, "run", query)
        return None if raw is None else versioned(JOBS_HISTORY, raw).document


def _condition(pipeline: Pipeline) -> Raw:
    return {
        "repo_name": pipeline.repo_name,
        "repo_url": pipeline.repo_url,
        "pipeline_name": pipeline.pipeline_name,
    }
