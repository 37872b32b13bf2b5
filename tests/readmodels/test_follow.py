"""A following projector shows a new event in the read models shortly after it is appended."""

from __future__ import annotations

import threading
import time

from cirec.config import open_read_models, open_store
from eventstore.recorder import Recorder
from projections.sessions import SESSIONS
from projections.worker import Projector

DEADLINE_SECONDS = 30.0


def test_a_following_projector_picks_up_new_events_and_stops_when_asked(store_url: str) -> None:
    stop = threading.Event()
    failures: list[BaseException] = []

    def follow() -> None:
        try:
            with open_store(store_url) as events, open_read_models(store_url) as store:
                Projector(events, store, [SESSIONS]).follow(stop.is_set, stop.wait)
        except BaseException as exc:  # reported by the test thread below
            failures.append(exc)

    worker = threading.Thread(target=follow)
    worker.start()
    try:
        with open_store(store_url) as events, open_read_models(store_url) as store:
            for commit in ("c1", "c2", "c3"):
                Recorder(events, actor="dev").open_session(
                    "ada",
                    repo_name="api",
                    repo_url="u",
                    branch="main",
                    commit_hash=commit,
                    is_remote=True,
                )
                deadline = time.monotonic() + DEADLINE_SECONDS
                while (doc := store.get(SESSIONS, "ada")) is None or doc.commit_hash != commit:
                    assert time.monotonic() < deadline, f"{commit} not projected in time"
                    assert not failures, failures
                    stop.wait(0.01)  # poll the read model; the worker runs on its own
    finally:
        stop.set()
        worker.join(timeout=DEADLINE_SECONDS)
    assert not worker.is_alive(), "the projector did not stop when asked"
    assert not failures, failures
