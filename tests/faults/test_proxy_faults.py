"""Faults on the wire, through Toxiproxy: silence, lost replies, latency, a thin pipe.

The proxy sits between a client and the MongoDB test server. Each test ends as every
fault test does (:mod:`tests.faults.checks`): every acknowledged event stored once, no
gap, the follower still running, lag back to 0, verify exit 0, documents a rebuild's.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from cirec.config import open_store
from eventstore.adapters import mongo
from eventstore.errors import StoreUnavailableError
from eventstore.records import NewEvent
from eventstore.store import EventStore
from tests.backends import cleanup, fresh_mongo_url
from tests.faults.checks import (
    acknowledged,
    assert_log_whole,
    assert_read_models_sound,
    seconds_to_lag_zero,
)
from tests.faults.processes import (
    PROCESS_SECONDS,
    assert_recovered,
    follower,
    wait_for_acks,
    writer,
)
from tests.faults.proxy import Proxy
from tests.workers import new_event

APPEND_LIMIT_MS = 2000
"""The writer's URL sets ``timeoutMS``: each append, retries included, ends by then."""
SLACK_SECONDS = 5.0
EVENTS = 200


@pytest.fixture
def direct() -> Iterator[str]:
    """A fresh database on the test server, reached directly (for setup and checks)."""
    url = fresh_mongo_url()
    yield url
    cleanup(url)


@pytest.fixture
def proxy() -> Iterator[Proxy]:
    """A Toxiproxy proxy to the test server, removed afterwards."""
    made = Proxy()
    yield made
    made.close()


def wait_until(condition: Callable[[], bool], failure: str) -> None:
    """Return once ``condition()`` holds; fail with ``failure`` after a few minutes."""
    deadline = time.monotonic() + PROCESS_SECONDS
    while not condition():
        assert time.monotonic() < deadline, failure
        time.sleep(0.05)  # polling another process's progress


def append_in_thread(
    store: EventStore, events: list[NewEvent]
) -> tuple[threading.Thread, list[object]]:
    """Start one append in a thread of its own; its result or error lands in the list."""
    outcome: list[object] = []

    def run() -> None:
        try:
            outcome.append(store.append("black-hole", events))
        except BaseException as exc:  # reported by the test
            outcome.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome


@pytest.mark.parametrize("bound", ["store_default", "url_timeoutMS"])
def test_an_append_into_a_black_hole_fails_within_its_deadline_and_retries_safely(
    direct: str, proxy: Proxy, bound: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The store's own deadline (60 s; shortened here) without any option in the URL, or
    # the URL's timeoutMS. Before, the first blocked for good: nothing bounded a wait.
    if bound == "store_default":
        monkeypatch.setattr(mongo, "APPEND_DEADLINE_SECONDS", APPEND_LIMIT_MS / 1000)
        url = proxy.url(direct)
    else:
        url = proxy.url(direct, timeoutMS=APPEND_LIMIT_MS)
    store = open_store(url)  # opened while the link still works
    events = [new_event(i=i) for i in range(3)]
    silence = proxy.add("timeout", "upstream", timeout=0)  # nothing reaches the server
    began = time.monotonic()
    thread, outcome = append_in_thread(store, events)
    thread.join(timeout=APPEND_LIMIT_MS / 1000 + 60)
    took = time.monotonic() - began
    store.close()
    assert not thread.is_alive(), "the append is still blocked after a minute"
    (error,) = outcome
    assert isinstance(error, StoreUnavailableError), error
    assert error.transient
    assert took < APPEND_LIMIT_MS / 1000 + SLACK_SECONDS, f"{took:.1f} s"
    assert error.operation == "append"
    assert f"within the append's {APPEND_LIMIT_MS / 1000:g} s" in str(error), error
    proxy.remove(silence)

    with open_store(url) as store:  # the engine retries the same events
        stored = store.append("black-hole", events)
    with open_store(direct) as store:
        log = list(store.read_all())
    assert [e.event_id for e in log] == [e.event_id for e in events]
    assert [e.position for e in log] == list(stored.positions)
    print(f"black hole ({bound}): the append gave up after {took:.1f} s")


@pytest.mark.parametrize(
    ("kind", "attributes"),
    [
        ("reset_peer", {"timeout": 300}),
        ("limit_data", {"bytes": 2_000}),
        ("timeout", {"timeout": 500}),
    ],
    ids=["reset_peer", "limit_data", "timeout"],
)
def test_replies_lost_after_the_server_applied_an_append_store_nothing_twice(
    direct: str, proxy: Proxy, tmp_path: Path, kind: str, attributes: dict[str, int]
) -> None:
    acks = tmp_path / "acks"
    with open_store(direct):
        pass
    writing = writer(proxy.url(direct, timeoutMS=APPEND_LIMIT_MS), EVENTS, acks)
    following = follower(proxy.url(direct, serverSelectionTimeoutMS=1000, timeoutMS=5000))
    try:
        wait_for_acks(acks, EVENTS // 4, writing)
        toxic = proxy.add(kind, "downstream", **attributes)  # replies cut or dropped
        following.stderr.wait_for("store unavailable")
        # The writer sees the fault too: it retries an append, or (limit_data) the store
        # absorbs the lost replies itself, and the writer goes on through the fault.
        during = len(acknowledged(acks))
        wait_until(
            lambda: (
                any("retrying after" in line for line in writing.stderr.lines)
                or len(acknowledged(acks)) >= min(during + 10, EVENTS)
            ),
            f"the writer neither retried nor went on: {writing.stderr.lines}",
        )
        proxy.remove(toxic)
        writing.finish(stop=False)
        head, lag_zero = assert_recovered(direct, acks, following)
        retries = sum("retrying after" in line for line in writing.stderr.lines)
        print(f"{kind}: head {head}, {retries} appends retried, lag 0 {lag_zero:.1f} s after")
    finally:
        writing.kill()
        following.kill()


@pytest.mark.parametrize(
    ("kind", "attributes"),
    [("latency", {"latency": 200, "jitter": 50}), ("bandwidth", {"rate": 32})],
    ids=["latency_200ms", "bandwidth_32KBps"],
)
def test_a_follower_behind_a_slow_link_keeps_up(
    direct: str, proxy: Proxy, tmp_path: Path, kind: str, attributes: dict[str, int]
) -> None:
    acks = tmp_path / "acks"
    with open_store(direct):
        pass
    toxic = proxy.add(kind, "downstream", **attributes)
    following = follower(proxy.url(direct))
    writing = writer(direct, EVENTS, acks)
    try:
        writing.finish(stop=False)
        head = assert_log_whole(direct, acks)
        lag_zero = seconds_to_lag_zero(direct, head)
        proxy.remove(toxic)
        following.finish(stop=True)
        assert_read_models_sound(direct)
        print(f"{kind}: {head} events, lag 0 {lag_zero:.1f} s after the writer ended")
    finally:
        writing.kill()
        following.kill()
