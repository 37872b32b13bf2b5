"""The ``sessions`` projection: each developer's latest repository state."""

from __future__ import annotations

from datetime import datetime

from eventstore.catalog import SessionAccessed, SessionOpened
from eventstore.catalog.sessions import SessionEvent
from projections.documents import SessionDocument
from projections.projection import Projection, on


def session_opened(
    document: SessionDocument | None, event: SessionOpened, at: datetime
) -> SessionDocument:
    """Open a (new) session: every field from the event, opened and accessed now."""
    return _from_event(event, at, opened_at=at)


def session_accessed(
    document: SessionDocument | None, event: SessionAccessed, at: datetime
) -> SessionDocument:
    """Record the session used again: its repository state and ``time`` move on.

    An access with no session before it opens one: the developer plainly has a session.
    """
    opened_at = document.opened_at if document else at
    return _from_event(event, at, opened_at=opened_at)


def _from_event(event: SessionEvent, at: datetime, *, opened_at: datetime) -> SessionDocument:
    return SessionDocument(
        user_id=event.user_id,
        repo_name=event.repo_name,
        repo_url=event.repo_url,
        branch=event.branch,
        commit_hash=event.commit_hash,
        is_remote=event.is_remote,
        time=at,
        opened_at=opened_at,
    )


def user_key(event: SessionEvent) -> str:
    """Return the id of the session an event touches: its ``user_id``."""
    return event.user_id


SESSIONS: Projection[SessionDocument] = Projection(
    name="sessions",
    document_type=SessionDocument,
    handlers=(
        on(SessionOpened, session_opened, user_key),
        on(SessionAccessed, session_accessed, user_key),
    ),
)
"""One document per ``user_id``."""
