"""Events of a developer's session: which repository, branch and commit they work on."""

from __future__ import annotations

from typing import ClassVar

from attrs import frozen

from eventstore import streams
from eventstore import validation as v
from eventstore.catalog.fields import commit_hash, documented, key


@frozen(kw_only=True)
class SessionEvent:
    """Fields shared by the session events: the developer and the repository state they see."""

    EMITTED_BY: ClassVar[str] = "the CI client, when a developer runs a command in a repository"
    CHANGES: ClassVar[tuple[str, ...]] = ("sessions",)
    SCHEMA_VERSION: ClassVar[int] = 1

    user_id: str = key("The developer's unique identifier (the key of their session).")
    repo_name: str = key("Name of the repository.")
    repo_url: str = key("URL (or local path) of the repository.")
    branch: str = key("The branch being worked on.")
    commit_hash: str = commit_hash("Commit hash of the current work.")
    is_remote: bool = documented("True for a remote repository, false for a local one.", v.boolean)

    @property
    def stream_id(self) -> str:
        """The developer's session stream."""
        return streams.session_stream(self.user_id)


@frozen(kw_only=True)
class SessionOpened(SessionEvent):
    """A developer started a session on a repository (the first command there, or a new one)."""


@frozen(kw_only=True)
class SessionAccessed(SessionEvent):
    """A developer used their session again; the repository state may have moved on."""
