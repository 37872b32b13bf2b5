"""The ``sessions`` projection: each developer's latest repository state."""

from __future__ import annotations

from datetime import datetime

from eventstore.catalog import SessionAccessed, SessionOpened
from eventstore.catalog.sessions import SessionEvent
from projections.documents import SessionDocument
from projections.projection import Projection


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


SESSIONS: Projection[SessionDocument] = Projection(
    name="sessions",
    document_type=SessionDocument,
    key=lambda event: event.user_id,
    handlers={SessionOpened: session_opened, SessionAccessed: session_accessed},
)
"""One document per ``user_id``."""
