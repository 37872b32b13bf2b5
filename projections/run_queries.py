"""The queries of ``jobs_history``: a pipeline's runs, one run by number, and a search.

A port of its own, beside the generic :class:`~projections.store.ReadModelStore`: each
adapter answers it over its read-model store (``projections/adapters/*_runs.py``), from
the fields ``jobs_history`` declares it is queried by. The arguments are checked here,
once for every backend, before any adapter sees them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import UTC, datetime, timedelta

from attrs import evolve, fields, frozen

from projections import arguments
from projections.documents import RunDocument
from projections.errors import QueryArgumentError


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


@frozen(kw_only=True)
class RunFilter:
    """What a search of runs asks for: every field given must hold, None means any.

    Names, the branch, the status and the actor match exactly. ``commit`` is a prefix of
    ``git_commit_hash`` (a full hash or its first characters, as ``git`` abbreviates it;
    the empty string matches every run). ``since`` keeps the runs whose ``start_time`` is
    at or after it.
    """

    repo_name: str | None = None
    repo_url: str | None = None
    pipeline_name: str | None = None
    branch: str | None = None
    status: str | None = None
    commit: str | None = None
    actor: str | None = None
    since: datetime | None = None

    def checked(self) -> RunFilter:
        """Return this filter with ``since`` in UTC, rounded up to a whole millisecond.

        Stored times are whole milliseconds, so rounding up keeps exactly the runs at or
        after ``since`` on every store (BSON would cut the microseconds instead). Raises
        :class:`~projections.errors.QueryArgumentError` naming the first field of the
        wrong type: a text field that is no string, or a ``since`` that is no aware datetime.
        """
        for field in fields(RunFilter):
            value = getattr(self, field.name)
            if field.name != "since" and value is not None:
                arguments.text(value, field.name)
        since = self.since
        if since is None:
            return self
        if not isinstance(since, datetime) or since.utcoffset() is None:
            raise QueryArgumentError("since", since, "a timezone-aware datetime")
        since = since.astimezone(UTC)
        if since.microsecond % 1000:
            since += timedelta(microseconds=1000 - since.microsecond % 1000)
        return evolve(self, since=since)

    def exact(self) -> dict[str, str]:
        """Return the top-level fields to match exactly, with their values (the given ones)."""
        given = {
            "repo_name": self.repo_name,
            "repo_url": self.repo_url,
            "pipeline_name": self.pipeline_name,
            "branch": self.branch,
            "status": self.status,
            "actor": self.actor,
        }
        return {name: value for name, value in given.items() if value is not None}


def prefix_end(prefix: str) -> str | None:
    """Return the least string above every string that starts with ``prefix``.

    None if there is none (``prefix`` is empty or only U+10FFFF). Strings compare by code
    point in Python, by UTF-8 bytes in SQLite and MongoDB: the same order, so
    ``prefix <= s < prefix_end(prefix)`` selects the strings starting with ``prefix``
    as a range an index can serve, with no pattern built from a user's text.
    """
    kept = prefix.rstrip(chr(0x10FFFF))
    if not kept:
        return None
    last = ord(kept[-1]) + 1
    if 0xD800 <= last <= 0xDFFF:  # surrogates: not characters, never stored
        last = 0xE000
    return kept[:-1] + chr(last)


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

    def search(self, where: RunFilter, *, skip: int = 0, limit: int = 20) -> list[RunDocument]:
        """Return one page of the runs ``where`` selects, across pipelines and repositories.

        Newest first: by ``start_time`` from the latest, runs that started at the same
        millisecond by ``run_id`` (as text) from the lowest, so pages never overlap. A
        ``limit`` of 0 or less gives an empty page; a negative ``skip`` counts as 0. A
        ``where`` that is no :class:`RunFilter` raises
        :class:`~projections.errors.QueryArgumentError` (``field`` ``"where"``).
        """
        if not isinstance(where, RunFilter):
            raise QueryArgumentError("where", where, "a RunFilter")
        checked = where.checked()
        skip = arguments.whole_number(skip, "skip")
        limit = arguments.whole_number(limit, "limit")
        if limit <= 0:
            return []
        return self._search(checked, max(skip, 0), limit)

    @abstractmethod
    def _search(self, where: RunFilter, skip: int, limit: int) -> list[RunDocument]:
        """Return at most ``limit`` (≥ 1) runs ``where`` (checked) selects, newest first."""

    @abstractmethod
    def _page(self, pipeline: Pipeline, skip: int, limit: int) -> list[RunDocument]:
        """Return at most ``limit`` (≥ 1) runs, highest number first, after the first ``skip``."""

    @abstractmethod
    def _numbered(self, pipeline: Pipeline, run_number: int) -> RunDocument | None:
        """Return the run of ``pipeline`` numbered ``run_number``, if there is one."""
