"""The search of runs (:meth:`RunQueries.search`), run against every backend.

The contract: whatever the runs and the filter, a search returns what a plain Python
filter and sort of the documents gives, one page at a time. The tests named
``test_sqlite_*`` state what only the embedded store promises beyond it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eventstore.clock import to_epoch_millis
from projections.adapters.sqlite import SQLiteReadModelStore
from projections.adapters.sqlite_runs import SQLiteRunQueries
from projections.documents import RunDocument
from projections.errors import QueryArgumentError
from projections.jobs_history import BY_PIPELINE, JOBS_HISTORY
from projections.projection import QuerySpec
from projections.run_queries import RunFilter, RunQueries, prefix_end
from projections.store import Change, ReadModelStore
from tests.readmodels.conftest import ReadSide
from tests.readmodels.document_strategies import runs

fixture_per_test = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])

BASE = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
REPOS = ["api", "web", "$where", "a.b"]
URLS = ["https://git.example/one.git", "https://git.example/two.git"]
PIPELINES = ["build", "deploy.prod"]
BRANCHES = ["main", "dev"]
STATUSES = ["running", "success", "failed", "canceled"]
ACTORS = ["ada", "bob", ""]
COMMIT_ALPHABET = "ab\U0010ffff"

# Few distinct start times, so that runs tie and the tie-break is exercised.
start_times = st.integers(min_value=0, max_value=6).map(lambda m: BASE + timedelta(minutes=m))
searched_runs = st.builds(
    lambda run, repo, url, pipeline, branch, status, actor, commit, start: attrs.evolve(
        run,
        repo_name=repo,
        repo_url=url,
        pipeline_name=pipeline,
        branch=branch,
        status=status,
        actor=actor,
        git_commit_hash=commit,
        start_time=start,
    ),
    runs,
    st.sampled_from(REPOS),
    st.sampled_from(URLS),
    st.sampled_from(PIPELINES),
    st.sampled_from(BRANCHES),
    st.sampled_from(STATUSES),
    st.sampled_from(ACTORS),
    st.text(alphabet=COMMIT_ALPHABET, max_size=4),
    start_times,
)


def maybe(values: list[str]) -> st.SearchStrategy[str | None]:
    return st.none() | st.sampled_from(values)


filters = st.builds(
    RunFilter,
    repo_name=maybe(REPOS),
    repo_url=maybe(URLS),
    pipeline_name=maybe(PIPELINES),
    branch=maybe(BRANCHES),
    status=maybe(STATUSES),
    commit=st.none() | st.text(alphabet=COMMIT_ALPHABET, max_size=3),
    actor=maybe(ACTORS),
    # Microseconds too: a since between two milliseconds must round the same everywhere.
    since=st.none()
    | st.integers(min_value=-1, max_value=7 * 60 * 10**6).map(
        lambda us: BASE + timedelta(microseconds=us)
    ),
)


def plain_search(documents: list[RunDocument], where: RunFilter) -> list[RunDocument]:
    """The meaning of a search, in plain Python: filter, then newest first, ties by id."""

    def kept(run: RunDocument) -> bool:
        exact = [
            (where.repo_name, run.repo_name),
            (where.repo_url, run.repo_url),
            (where.pipeline_name, run.pipeline_name),
            (where.branch, run.branch),
            (where.status, run.status),
            (where.actor, run.actor),
        ]
        return (
            all(wanted is None or wanted == value for wanted, value in exact)
            and (where.commit is None or run.git_commit_hash.startswith(where.commit))
            and (where.since is None or run.start_time >= where.since)
        )

    found = [run for run in documents if kept(run)]
    return sorted(found, key=lambda run: (-to_epoch_millis(run.start_time), str(run.run_id)))


def insert_runs(store: ReadModelStore, documents: list[RunDocument]) -> None:
    version = store.active_version(JOBS_HISTORY)
    changes = [Change(str(run.run_id), run, 1, None) for run in documents]
    store.save(JOBS_HISTORY, version, changes)


def unique_ids(documents: list[RunDocument]) -> bool:
    return len({run.run_id for run in documents}) == len(documents)


@fixture_per_test
@given(
    documents=st.lists(searched_runs, max_size=12).filter(unique_ids),
    where=filters,
    skip=st.integers(min_value=-2, max_value=8),
    limit=st.integers(min_value=-1, max_value=8),
)
def test_a_search_gives_what_filtering_and_sorting_the_documents_gives(
    read_side_per_example: Callable[[], AbstractContextManager[ReadSide]],
    documents: list[RunDocument],
    where: RunFilter,
    skip: int,
    limit: int,
) -> None:
    with read_side_per_example() as (read_store, run_queries):
        insert_runs(read_store, documents)
        expected = plain_search(documents, where)
        page = run_queries.search(where, skip=skip, limit=limit)
        assert page == (expected[max(skip, 0) : max(skip, 0) + limit] if limit > 0 else [])
        everything = run_queries.search(where, limit=len(documents) + 1)
        assert everything == expected


def test_pages_of_a_search_follow_one_another_without_overlap(
    read_store: ReadModelStore, run_queries: RunQueries
) -> None:
    assert run_queries.search(RunFilter()) == []
    tied = [_run(start=BASE + timedelta(minutes=i // 3), repo=REPOS[i % 2]) for i in range(9)]
    insert_runs(read_store, tied)
    pages = [run_queries.search(RunFilter(), skip=skip, limit=4) for skip in (0, 4, 8)]
    assert [len(page) for page in pages] == [4, 4, 1]
    assert [run for page in pages for run in page] == plain_search(tied, RunFilter())
    mine = run_queries.search(RunFilter(repo_name="web"), limit=10)
    assert mine == plain_search(tied, RunFilter(repo_name="web"))
    assert {run.repo_name for run in mine} == {"web"}


def test_since_may_be_in_any_zone_and_between_two_milliseconds(
    read_store: ReadModelStore, run_queries: RunQueries
) -> None:
    at = BASE + timedelta(milliseconds=5)
    early, late = _run(start=at - timedelta(milliseconds=1)), _run(start=at)
    insert_runs(read_store, [early, late])
    paris = timezone(timedelta(hours=1))
    assert run_queries.search(RunFilter(since=at.astimezone(paris))) == [late]
    between = at - timedelta(microseconds=500)  # after early, before late
    assert run_queries.search(RunFilter(since=between)) == [late]
    assert run_queries.search(RunFilter(since=at + timedelta(microseconds=1))) == []


def test_a_commit_prefix_is_no_pattern_and_names_match_exactly(
    read_store: ReadModelStore, run_queries: RunQueries
) -> None:
    dotted = attrs.evolve(_run(start=BASE), git_commit_hash="a.c", repo_name="a.b")
    plain = attrs.evolve(_run(start=BASE), git_commit_hash="abc", repo_name="axb")
    insert_runs(read_store, [dotted, plain])
    assert run_queries.search(RunFilter(commit="a.")) == [dotted]
    assert run_queries.search(RunFilter(commit="^a")) == []
    assert run_queries.search(RunFilter(repo_name="a.b")) == [dotted]
    assert run_queries.search(RunFilter(repo_name=".*")) == []


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda q: q.search({"repo_name": "api"}), "where"),
        (lambda q: q.search(RunFilter(repo_name=1)), "repo_name"),  # type: ignore[arg-type]
        (lambda q: q.search(RunFilter(status={"$ne": 1})), "status"),  # type: ignore[arg-type]
        (lambda q: q.search(RunFilter(since=datetime(2026, 1, 1))), "since"),  # naive on purpose
        (lambda q: q.search(RunFilter(since="2026-01-01")), "since"),  # type: ignore[arg-type]
        (lambda q: q.search(RunFilter(), limit=True), "limit"),
        (lambda q: q.search(RunFilter(), skip="1"), "skip"),
    ],
)
def test_a_search_with_an_argument_of_the_wrong_type_is_refused_naming_it(
    run_queries: RunQueries, call: Callable[[RunQueries], object], field: str
) -> None:
    with pytest.raises(QueryArgumentError) as raised:
        call(run_queries)
    assert raised.value.field == field


@pytest.mark.parametrize(
    ("prefix", "end"),
    [
        ("", None),
        ("ab", "ac"),
        ("a\U0010ffff", "b"),
        ("\U0010ffff", None),
        ("\ud7ff", "\ue000"),
        ("z\x00", "z\x01"),
    ],
)
def test_the_end_of_a_prefix_is_the_least_string_above_all_it_starts(
    prefix: str, end: str | None
) -> None:
    assert prefix_end(prefix) == end


def test_sqlite_a_table_made_before_the_search_gets_its_columns_and_indexes(
    sqlite_file: Path,
) -> None:
    earlier = attrs.evolve(
        JOBS_HISTORY,
        queried_by=QuerySpec(
            fields=("repo_name", "repo_url", "pipeline_name", "branch", "run_number"),
            indexes=(BY_PIPELINE,),
        ),
    )
    stored = [_run(start=BASE + timedelta(minutes=i), status=STATUSES[i % 4]) for i in range(5)]
    with SQLiteReadModelStore(sqlite_file) as old:
        version = old.active_version(earlier)
        old.save(earlier, version, [Change(str(r.run_id), r, 1, None) for r in stored])
    with SQLiteReadModelStore(sqlite_file) as store:
        queries = SQLiteRunQueries(store)
        assert queries.search(RunFilter(status="failed")) == plain_search(
            stored, RunFilter(status="failed")
        )
        assert queries.search(RunFilter(since=BASE + timedelta(minutes=3))) == plain_search(
            stored, RunFilter(since=BASE + timedelta(minutes=3))
        )
        indexes = {
            row[0]
            for row in store._db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")
        }
        assert {
            f"jobs_history__{version}__by_start",
            f"jobs_history__{version}__by_repo_start",
        } <= indexes
        late = _run(start=BASE + timedelta(hours=1))
        store.save(JOBS_HISTORY, version, [Change(str(late.run_id), late, 2, None)])
        assert queries.search(RunFilter(), limit=1) == [late]


def _run(*, start: datetime, repo: str = "api", status: str = "success") -> RunDocument:
    return RunDocument(
        run_id=uuid.uuid4(),
        repo_name=repo,
        repo_url=URLS[0],
        branch="main",
        pipeline_name="build",
        run_number=1,
        git_commit_hash="0123abcd",
        pipeline_config_used={},
        status=status,
        start_time=start,
        completion_time=None,
        logs={},
        trigger="push",
        actor="ada",
        duration_ms=None,
        cancel_reason=None,
    )
