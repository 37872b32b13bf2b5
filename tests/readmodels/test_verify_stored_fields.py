"""``verify`` checks every stored value a query uses, not only the document (issue 12).

The bug: on SQLite, the ``run_number`` column of run 1's ``jobs_history`` row set to 3,
its JSON intact. Every document still matched the replay, so ``verify`` passed, while
``show run … 1`` found no run and ``show run … 3`` returned run 1. The embedded store
keeps each queried field as a column beside the JSON, so they can disagree; on MongoDB
the document's fields are what queries match, and what can still disagree is where
reading a document is more lenient than matching it (a time kept as text, a
``_position`` that is no integer). Each store is tampered with its own client.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from cirec.config import open_read_side, open_store
from eventstore.catalog import Trigger
from eventstore.clock import to_epoch_millis
from eventstore.codec import json_converter
from eventstore.recorder import Recorder, RunHandle
from eventstore.store import EventStore
from projections.catalog import PROJECTIONS
from projections.jobs_history import JOBS_HISTORY
from projections.rebuild import Difference, verify
from projections.run_queries import RunFilter, RunQueries
from projections.store import ReadModelStore
from projections.stored_fields import FieldMismatch, Place
from projections.worker import Projector
from tests.stored_copies import overwrite, tampering

REPO_NAME, REPO_URL = "api", "https://git.example.com/acme/api.git"
SQLITE_ONLY = pytest.mark.parametrize("backend", ["sqlite"])
"""Runs a test on the embedded store only (overriding the ``backend`` fixture)."""
MONGODB_ONLY = pytest.mark.parametrize("backend", ["mongodb"])
"""Runs a test on MongoDB only."""

Stores = tuple[EventStore, ReadModelStore, RunQueries]


@pytest.fixture
def stores(store_url: str) -> Iterator[Stores]:
    read_models, runs = open_read_side(store_url)
    with open_store(store_url) as events, read_models:
        yield events, read_models, runs


def two_runs(events: EventStore, read_models: ReadModelStore) -> list[RunHandle]:
    """Start runs 1 and 2 of one pipeline and project them."""
    recorder = Recorder(events, actor="dev")
    started = [
        recorder.start_run(
            repo_name=REPO_NAME,
            repo_url=REPO_URL,
            branch="main",
            pipeline_name="build",
            commit_hash=commit,
            pipeline_config={},
            trigger=Trigger.PUSH,
        )
        for commit in ("9f2c1e7", "4b8d0a3")
    ]
    Projector(events, read_models, PROJECTIONS).catch_up()
    assert [run.run_number for run in started] == [1, 2]
    return started


def differences(events: EventStore, read_models: ReadModelStore) -> list[Difference]:
    return verify(events, read_models, JOBS_HISTORY)


def test_a_clean_store_has_no_stored_value_that_differs(stores: Stores) -> None:
    events, read_models, _ = stores
    two_runs(events, read_models)
    for projection in PROJECTIONS:
        version = read_models.active_version(projection)
        assert list(read_models.query_field_mismatches(projection, version)) == []
        assert verify(events, read_models, projection) == []


def test_a_stored_query_value_its_document_does_not_give_is_a_difference(
    store_url: str, stores: Stores, backend: str
) -> None:
    events, read_models, _ = stores
    first, _ = two_runs(events, read_models)
    key, version = str(first.run_id), read_models.active_version(JOBS_HISTORY)
    document = read_models.get(JOBS_HISTORY, key)
    assert document is not None
    name, value, expected = tampering(backend, document)

    overwrite(store_url, JOBS_HISTORY, version, key, name, value)

    (difference,) = differences(events, read_models)
    place: Place = "column" if backend == "sqlite" else "field"
    mismatch = FieldMismatch(key, name, place, value, expected)
    assert (difference.key, difference.mismatches, difference.fields) == (key, (mismatch,), [])
    assert difference.stored == difference.replayed  # the document as read is right
    assert list(read_models.query_field_mismatches(JOBS_HISTORY, version)) == [mismatch]


@SQLITE_ONLY
def test_sqlite_a_run_number_column_that_disagrees_with_its_document_is_reported(
    store_url: str, stores: Stores
) -> None:
    events, read_models, runs = stores
    first, _ = two_runs(events, read_models)
    key, version = str(first.run_id), read_models.active_version(JOBS_HISTORY)

    overwrite(store_url, JOBS_HISTORY, version, key, "run_number", 3)

    # What the issue saw: the queries follow the column, the document says 1.
    assert runs.run(REPO_NAME, REPO_URL, "build", 1) is None
    found = runs.run(REPO_NAME, REPO_URL, "build", 3)
    assert found is not None
    assert (found.run_id, found.run_number) == (first.run_id, 1)
    # Before issue 12 verify saw nothing here: every document matched the replay.
    (difference,) = differences(events, read_models)
    mismatch = FieldMismatch(key, "run_number", "column", 3, 1)
    assert (difference.key, difference.mismatches, difference.fields) == (key, (mismatch,), [])
    assert difference.stored == difference.replayed  # the document itself is right
    assert list(read_models.query_field_mismatches(JOBS_HISTORY, version)) == [mismatch]
    assert mismatch.describe() == "column run_number holds 3, its document 1"


@SQLITE_ONLY
def test_sqlite_every_kind_of_column_is_checked_kind_included(
    store_url: str, stores: Stores
) -> None:
    events, read_models, _ = stores
    first, second = two_runs(events, read_models)
    version = read_models.active_version(JOBS_HISTORY)
    document = read_models.get(JOBS_HISTORY, str(first.run_id))
    assert document is not None
    millis = to_epoch_millis(document.start_time)

    overwrite(store_url, JOBS_HISTORY, version, str(first.run_id), "start_time", millis + 1)
    overwrite(store_url, JOBS_HISTORY, version, str(first.run_id), "status", "success")
    overwrite(store_url, JOBS_HISTORY, version, str(second.run_id), "run_number", "two")

    found = list(read_models.query_field_mismatches(JOBS_HISTORY, version))
    assert sorted(found, key=lambda m: (m.key, m.field)) == sorted(
        [
            FieldMismatch(str(first.run_id), "status", "column", "success", "running"),
            FieldMismatch(str(first.run_id), "start_time", "column", millis + 1, millis),
            FieldMismatch(str(second.run_id), "run_number", "column", "two", 2),
        ],
        key=lambda m: (m.key, m.field),
    )
    assert [d.key for d in differences(events, read_models)] == sorted(
        [str(first.run_id), str(second.run_id)]
    )


@MONGODB_ONLY
def test_mongodb_a_queried_time_kept_as_text_is_reported(store_url: str, stores: Stores) -> None:
    events, read_models, runs = stores
    first, _ = two_runs(events, read_models)
    key, version = str(first.run_id), read_models.active_version(JOBS_HISTORY)
    document = read_models.get(JOBS_HISTORY, key)
    assert document is not None
    as_text = json_converter.unstructure(document.start_time)

    overwrite(store_url, JOBS_HISTORY, version, key, "start_time", as_text)

    # The document still reads as it was, but no search by time finds it any more.
    assert read_models.get(JOBS_HISTORY, key) == document
    since = runs.search(RunFilter(since=document.start_time))
    assert first.run_id not in [run.run_id for run in since]
    mismatch = FieldMismatch(key, "start_time", "field", as_text, document.start_time)
    assert list(read_models.query_field_mismatches(JOBS_HISTORY, version)) == [mismatch]
    (difference,) = differences(events, read_models)
    assert (difference.key, difference.mismatches) == (key, (mismatch,))
    assert mismatch.describe() == f"field start_time holds {as_text!r}, its document {as_text}"


@MONGODB_ONLY
def test_mongodb_a_position_that_is_no_integer_is_reported(store_url: str, stores: Stores) -> None:
    events, read_models, _ = stores
    first, _ = two_runs(events, read_models)
    key, version = str(first.run_id), read_models.active_version(JOBS_HISTORY)
    (stored,) = read_models.load(JOBS_HISTORY, version, [key]).values()

    overwrite(store_url, JOBS_HISTORY, version, key, "_position", str(stored.position))

    mismatch = FieldMismatch(key, "_position", "field", str(stored.position), stored.position)
    assert list(read_models.query_field_mismatches(JOBS_HISTORY, version)) == [mismatch]
    assert [d.mismatches for d in differences(events, read_models)] == [(mismatch,)]


@MONGODB_ONLY
def test_mongodb_a_queried_field_set_by_hand_is_the_document_and_is_reported_as_such(
    store_url: str, stores: Stores
) -> None:
    events, read_models, runs = stores
    first, _ = two_runs(events, read_models)
    key, version = str(first.run_id), read_models.active_version(JOBS_HISTORY)

    overwrite(store_url, JOBS_HISTORY, version, key, "run_number", 3)

    found = runs.run(REPO_NAME, REPO_URL, "build", 3)
    assert found is not None
    assert found.run_number == 3  # what the query matched is what it returns
    assert list(read_models.query_field_mismatches(JOBS_HISTORY, version)) == []
    (difference,) = differences(events, read_models)
    assert (difference.key, difference.fields, difference.mismatches) == (key, ["run_number"], ())


@MONGODB_ONLY
def test_mongodb_a_document_of_another_version_is_missing_to_verify_as_to_queries(
    store_url: str, stores: Stores
) -> None:
    events, read_models, _ = stores
    first, _ = two_runs(events, read_models)
    key, version = str(first.run_id), read_models.active_version(JOBS_HISTORY)

    overwrite(store_url, JOBS_HISTORY, version, key, "_version", "v99")

    assert read_models.get(JOBS_HISTORY, key) is None
    (difference,) = differences(events, read_models)
    assert (difference.key, difference.stored) == (key, None)


def test_a_mismatch_holding_what_json_cannot_say_is_kept_as_its_repr() -> None:
    moment = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    mismatch = FieldMismatch("k", "start_time", "column", b"\x00", float("nan"))
    assert (mismatch.stored, mismatch.document) == ("b'\\x00'", "nan")
    shown = FieldMismatch("k", "start_time", "field", "2024-05-01T12:00:00.000Z", moment)
    assert shown.describe() == (
        "field start_time holds '2024-05-01T12:00:00.000Z', its document 2024-05-01T12:00:00.000Z"
    )
