"""The run queries of ``jobs_history`` on MongoDB, over the collection of the live version.

All filter on the top-level fields ``jobs_history`` declares it is queried by. A
pipeline's runs and a run by number are served on MongoDB by its ``by_pipeline`` index,
which the store declares as ``_version``, repository, URL, pipeline, run number
descending, ``_id``: the fence on the live version, the filter and the order all come
from the index (``tests/test_index_use.py``). A search is served by ``by_repo_start``
(``_version``, repository, start descending, ``_id``) when it names a repository, else
by ``by_start`` (``_version``, start descending, ``_id``): the index gives the fence, the
repository, the ``since`` bound and the order, and the other conditions are checked on
the documents it leads to, until the page is full. No ``hint`` is sent: a database made
by an earlier cirec lacks those indexes until ``cirec rebuild`` (its searches scan
meanwhile), and MongoDB's planner may prefer ``by_pipeline`` when a search names a
whole pipeline. FerretDB v1 scans. Every name is a string, checked by
:class:`~projections.run_queries.RunQueries`, so none can be read as an operator; a
commit prefix is a range, never a pattern.
"""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.collection import Collection

from projections.adapters.mongo import MongoReadModelStore
from projections.adapters.mongo_documents import versioned
from projections.documents import RunDocument
from projections.jobs_history import JOBS_HISTORY
from projections.run_queries import Pipeline, RunFilter, RunQueries, prefix_end

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

    def _search(self, where: RunFilter, skip: int, limit: int) -> list[RunDocument]:
        condition = search_condition(where)
        order = [("start_time", DESCENDING), ("_id", ASCENDING)]
        page_size = self._store.traits.page_size

        def query(documents: Collection[Raw], fence: Raw) -> tuple[list[Raw], bool]:
            found = documents.find(
                {**fence, **condition},
                sort=order,
                skip=skip,
                limit=limit,
                batch_size=page_size,
            )
            page = list(found)
            return page, bool(page)

        found = self._store.read_live(JOBS_HISTORY, "search", query)
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


def search_condition(where: RunFilter) -> Raw:
    """Return the filter of a search (without the fence on the live version)."""
    condition: Raw = dict(where.exact())
    if where.commit is not None:
        span: Raw = {"$gte": where.commit}
        end = prefix_end(where.commit)
        if end is not None:
            span["$lt"] = end
        condition["git_commit_hash"] = span
    if where.since is not None:
        condition["start_time"] = {"$gte": where.since}
    return condition
