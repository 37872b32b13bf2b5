"""The queries of ``jobs_history``: a pipeline's runs, newest first, and one run by number.

A port of its own, beside the generic :class:`~projections.store.ReadModelStore`: each
adapter answers it over its read-model store (``projections/adapters/*_runs.py``), from
the fields ``jobs_history`` declares it is queried by. The arguments are checked here,
once for every backend, before any adapter sees them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from attrs import frozen

from projections import arguments
from projections.documents import RunDocument


@frozen
class Pipeline:
    """A pipeline of a repository: what a query of runs names, every part a checked string."""

    repo_name: str
    repo_url: str
    pipeline_name: str

    @classmethod
    def checked(cls, repo_name: object, repo_url: object, pipeline_name: object) -> Pipeline:
        """Return the pipeline, or raise :class:`~projections.errors.QueryArgumentError`."""
        return cls(
            arguments.text(repo_name, "repo_name"),
            arguments.text(repo_url, "repo_url"),
            arguments.text(pipeline_name, "pipeline_name"),
        )


class RunQueries(ABC):
    """The runs of ``jobs_history``, read from its active version.

    Names match exactly, whatever they hold (``$where``, ``a.b``, NUL, the empty
    string): no name is ever read as an operator, a pattern or a path. An argument of
    the wrong type (a name that is no string, a number that is no ``int`` or is a
    ``bool``) raises :class:`~projections.errors.QueryArgumentError` before anything is
    read. Like every read of the store, a query creates the first active version if there
    is none yet.
    """

    def runs(
        self, repo_name: str, repo_url: str, pipeline_name: str, *, skip: int = 0, limit: int = 20
    ) -> list[RunDocument]:
        """Return one page of a pipeline's runs, highest run number first.

        A ``limit`` of 0 or less gives an empty page; a negative ``skip`` counts as 0.
        """
        pipeline = Pipeline.checked(repo_name, repo_url, pipeline_name)
        skip = arguments.whole_number(skip, "skip")
        limit = arguments.whole_number(limit, "limit")
        if limit <= 0:
            return []
        return self._page(pipeline, max(skip, 0), limit)

    def run(
        self, repo_name: str, repo_url: str, pipeline_name: str, run_number: int
    ) -> RunDocument | None:
        """Return run ``run_number`` of a pipeline, or None if it has no such run."""
        pipeline = Pipeline.checked(repo_name, repo_url, pipeline_name)
        return self._numbered(pipeline, arguments.whole_number(run_number, "run_number"))

    @abstractmethod
    def _page(self, pipeline: Pipeline, skip: int, limit: int) -> list[RunDocument]:
        """Return at most ``limit`` (≥ 1) runs, highest number first, after the first ``skip``."""

    @abstractmethod
    def _numbered(self, pipeline: Pipeline, run_number: int) -> RunDocument | None:
        """Return the run of ``pipeline`` numbered ``run_number``, if there is one."""
