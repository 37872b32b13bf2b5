"""What a projection declares, and what its construction refuses (a definition bug)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from eventstore.catalog import RunStarted, SessionAccessed, SessionOpened, Trigger
from projections.documents import RunDocument, SessionDocument
from projections.errors import InvalidProjectionError, UnusableNameError
from projections.jobs_history import JOBS_HISTORY
from projections.projection import Envelope, Index, Projection, QuerySpec, on
from projections.sessions import SESSIONS, session_accessed, session_opened, user_key

WHEN = datetime(2026, 1, 15, 9, 30, tzinfo=UTC)


def opened(user: str) -> SessionOpened:
    return SessionOpened(
        user_id=user,
        repo_name="cirec",
        repo_url="https://git.example/cirec.git",
        branch="main",
        commit_hash="9f2c1e7",
        is_remote=True,
    )


def test_an_event_reaches_its_handler_and_no_other() -> None:
    started = RunStarted(
        run_id=uuid.uuid4(),
        run_number=1,
        repo_name="cirec",
        repo_url="https://git.example/cirec.git",
        branch="main",
        pipeline_name="build",
        commit_hash="9f2c1e7",
        pipeline_config={},
        trigger=Trigger.PUSH,
        actor="ada",
    )
    assert SESSIONS.key_of(opened("ada")) == "ada"
    assert SESSIONS.key_of(started) is None
    assert JOBS_HISTORY.key_of(started) == str(started.run_id)
    document = SESSIONS.fold(None, Envelope(1, WHEN, opened("ada")))
    assert isinstance(document, SessionDocument)
    assert SESSIONS.fold(document, Envelope(2, WHEN, started)) is document


def test_two_handlers_of_one_event_type_are_refused() -> None:
    with pytest.raises(InvalidProjectionError, match="SessionOpened has two handlers"):
        Projection(
            name="sessions",
            document_type=SessionDocument,
            handlers=(
                on(SessionOpened, session_opened, user_key),
                on(SessionOpened, session_opened, user_key),
                on(SessionAccessed, session_accessed, user_key),
            ),
        )


@pytest.mark.parametrize("field", ["nothing_like_it", "completion_time", "logs"])
def test_a_queried_field_must_be_a_str_or_int_field_of_the_documents(field: str) -> None:
    with pytest.raises(InvalidProjectionError, match=repr(field)):
        Projection(
            name="runs",
            document_type=RunDocument,
            handlers=(),
            queried_by=QuerySpec(fields=(field,)),
        )


def test_an_index_covers_queried_fields_only() -> None:
    with pytest.raises(InvalidProjectionError, match="by_branch"):
        QuerySpec(fields=("repo_name",), indexes=(Index("by_branch", ("repo_name", "branch")),))
    with pytest.raises(InvalidProjectionError, match="by_repo"):
        QuerySpec(
            fields=("repo_name",),
            indexes=(Index("by_repo", ("repo_name",), descending=frozenset({"branch"})),),
        )


def test_a_field_or_index_declared_twice_is_refused() -> None:
    with pytest.raises(InvalidProjectionError, match="given twice"):
        QuerySpec(fields=("repo_name", "repo_name"))
    with pytest.raises(InvalidProjectionError, match="given twice"):
        QuerySpec(fields=("repo_name",), indexes=(Index("a", ("repo_name",)),) * 2)


@pytest.mark.parametrize("name", ["key", "position", "body", "Repo", "_id", "a__b", ""])
def test_a_queried_field_or_index_name_must_be_usable_in_every_store(name: str) -> None:
    with pytest.raises(UnusableNameError) as raised:
        QuerySpec(fields=(name,))
    assert (raised.value.kind, raised.value.name) == ("field", name)
    with pytest.raises(UnusableNameError) as raised:
        Index(name, ("repo_name",))
    assert (raised.value.kind, raised.value.name) == ("index", name)
