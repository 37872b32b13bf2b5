"""A follower's wake-up: woken by another process's append, stopped at once, never a drag.

No timing is asserted: each wait is bounded (:data:`BOUND_SECONDS`) only so that a broken
wake-up fails the test instead of hanging it, and the fallback look is set far beyond
that bound (:data:`NEVER_SECONDS`) wherever only a notice may wake the follower.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pymongo

from cirec.config import open_store
from eventstore.adapters.mongo_wakeup import NOTICES
from eventstore.adapters.sqlite_wakeup import notice_dir
from eventstore.recorder import Recorder
from eventstore.store import EventStore
from tests.cli.helpers import ROOT, clean_env

BOUND_SECONDS = 20.0
NEVER_SECONDS = 600.0
_APPEND = """
import sys
from cirec.config import open_store
from eventstore.recorder import Recorder
with open_store(sys.argv[1]) as events:
    Recorder(events, actor="dev").open_session(
        sys.argv[2], repo_name="api", repo_url="u", branch="main", commit_hash="c1",
        is_remote=True,
    )
"""


def append_elsewhere(url: str, user: str) -> None:
    """Append one event from a process of its own."""
    subprocess.run(
        [sys.executable, "-c", _APPEND, url, user],
        cwd=ROOT,
        env=clean_env(),
        check=True,
        timeout=BOUND_SECONDS * 3,
    )


def open_session(events: EventStore, user: str) -> None:
    Recorder(events, actor="dev").open_session(
        user, repo_name="api", repo_url="u", branch="main", commit_hash="c1", is_remote=True
    )


def meanwhile(action: Callable[[], object]) -> threading.Thread:
    """Start ``action()`` on a thread, while the test's thread (the store's) waits."""
    thread = threading.Thread(target=action)
    thread.start()
    return thread


def test_an_append_by_another_process_wakes_a_follower_whose_look_is_far_off(
    store_url: str,
) -> None:
    with open_store(store_url) as events, events.wakeup(NEVER_SECONDS) as wakeup:
        open_session(events, "before")
        head = events.head()
        other = meanwhile(lambda: append_elsewhere(store_url, "ada"))
        try:
            assert wakeup.wait(head, BOUND_SECONDS), "the append's notice did not wake it"
        finally:
            other.join()
        assert events.head() > head


def test_an_interrupt_ends_the_wait_in_hand_and_every_later_one(store_url: str) -> None:
    with open_store(store_url) as events, events.wakeup(NEVER_SECONDS) as wakeup:
        other = meanwhile(wakeup.interrupt)
        # Nothing is appended: only the interrupt can end this wait before its bound.
        assert wakeup.wait(events.head(), NEVER_SECONDS) is False
        other.join()
        assert wakeup.wait(0, NEVER_SECONDS) is False  # at once: it would block otherwise


def test_notices_the_follower_has_passed_do_not_end_its_wait(store_url: str) -> None:
    with open_store(store_url) as events, events.wakeup(NEVER_SECONDS) as wakeup:
        open_session(events, "ada")
        open_session(events, "bob")
        # Both notices name heads the follower has read to: the wait reads the head and
        # goes on, until the interrupt.
        other = meanwhile(wakeup.interrupt)
        assert wakeup.wait(events.head(), NEVER_SECONDS) is False
        other.join()


def test_a_follower_without_notices_follows_through_its_fallback_look(
    store_url: str, tmp_path: Path
) -> None:
    if store_url.startswith("sqlite://"):
        # A file where the notice directory should be: no socket can be bound there.
        notice_dir(Path(store_url.removeprefix("sqlite://"))).write_text("in the way")
    else:
        # An ordinary collection where the capped one should be: it cannot be tailed.
        client: pymongo.MongoClient[dict[str, object]] = pymongo.MongoClient(store_url)
        with client:
            client.get_default_database().create_collection(NOTICES)
    with open_store(store_url) as events, events.wakeup(0.05) as wakeup:
        if store_url.startswith("sqlite://"):
            assert wakeup.source is None
        head = events.head()
        # Its writer cannot notify either, and says nothing of it.
        other = meanwhile(lambda: append_elsewhere(store_url, "ada"))
        try:
            assert wakeup.wait(head, BOUND_SECONDS), "the fallback look did not see the append"
        finally:
            other.join()


def test_a_dead_followers_socket_is_removed_and_a_stuck_one_never_blocks_the_writer(
    tmp_path: Path,
) -> None:
    url = f"sqlite://{tmp_path / 'log.sqlite3'}"
    folder = notice_dir(tmp_path / "log.sqlite3")
    folder.mkdir()
    dead = folder / "1-dead.sock"
    gone = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    gone.bind(str(dead))
    gone.close()  # the path stays, with no one behind it: a follower killed with SIGKILL
    stuck = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    stuck.bind(str(folder / "2-stuck.sock"))  # bound, never read: its queue fills up
    done: list[int] = []

    def write() -> None:
        with open_store(url) as events:
            for n in range(200):
                open_session(events, f"dev-{n}")
            done.append(events.head())

    try:
        writer = threading.Thread(target=write)
        writer.start()
        writer.join(BOUND_SECONDS * 3)
        assert not writer.is_alive(), "a follower's socket held up the writer"
        assert done == [200]
        assert not dead.exists(), "the dead follower's socket was left for every append"
        assert (folder / "2-stuck.sock").exists()
    finally:
        stuck.close()
