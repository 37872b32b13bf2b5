"""``verify`` compares like with like: a document ahead of its checkpoint is not corrupt.

A projector writes a batch's documents and only then finishes the batch, which moves
the checkpoint. So while it runs, or after it died in between, documents hold events
past the checkpoint. Before, verify replayed the log up to the checkpoint only and
reported each of them as a difference (issue 10, bug 3); a tampered document must still
be reported, ahead of the checkpoint or not.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import attrs
import pytest

from cirec.config import open_read_models, open_store
from eventstore.store import EventStore
from projections.catalog import PROJECTIONS
from projections.rebuild import Difference, verify
from projections.sessions import SESSIONS
from projections.store import Change, ReadModelStore
from projections.worker import Projector
from tools.workload import TRICKY, Append, Workload

VERIFY_ROUNDS = 5


class Died(Exception):
    """The projector stopped between writing a batch and finishing it."""


def append_until(events: EventStore, appends: Iterator[Append], head: int) -> None:
    while events.head() < head:
        append = next(appends)
        events.append(append.stream_id, append.events, append.expected)


def ahead_of_checkpoint(read_models: ReadModelStore) -> dict[str, list[str]]:
    """Return, by projection, the keys whose documents hold events past the checkpoint."""
    found = {}
    for projection in PROJECTIONS:
        version = read_models.active_version(projection)
        checkpoint = read_models.checkpoint(projection, version)
        found[projection.name] = [
            key
            for key, doc in read_models.documents(projection, version)
            if doc.position > checkpoint
        ]
    return found


def test_a_batch_written_but_not_finished_is_no_difference_and_tampering_still_is(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with open_store(store_url) as events, open_read_models(store_url) as read_models:
        appends = iter(Workload(7, TRICKY).appends(100_000))
        append_until(events, appends, 150)
        Projector(events, read_models, PROJECTIONS, batch_size=100).catch_up()
        append_until(events, appends, events.head() + 80)

        def die(*_args: object) -> None:
            raise Died

        with monkeypatch.context() as patched:
            patched.setattr(read_models, "finish_batch", die)
            # The embedded store commits a batch's writes together, so a death there
            # leaves nothing; MongoDB writes each as it comes. Have every store write as
            # MongoDB does, to leave the half-done batch verify must understand.
            ungrouped = ReadModelStore.batch_writes.__get__(read_models)
            patched.setattr(read_models, "batch_writes", ungrouped)
            for projection in PROJECTIONS:
                with pytest.raises(Died):
                    Projector(events, read_models, [projection]).step(projection)
        ahead = ahead_of_checkpoint(read_models)
        assert all(ahead.values()), f"every projection should hold a half-done batch: {ahead}"
        for projection in PROJECTIONS:
            assert verify(events, read_models, projection) == [], projection.name

        version = read_models.active_version(SESSIONS)
        key = ahead[SESSIONS.name][0]
        (stored,) = read_models.load(SESSIONS, version, [key]).values()
        forged = attrs.evolve(stored.document, branch="forged")
        read_models.save(SESSIONS, version, [Change(key, forged, stored.position, stored.position)])
        (found,) = verify(events, read_models, SESSIONS)
        assert found.key == key
        assert found.stored is not None
        assert found.stored["branch"] == "forged"
        assert found.replayed is not None
        assert found.replayed["branch"] == stored.document.branch


def test_verify_finds_nothing_wrong_while_a_projector_follows_a_writer(store_url: str) -> None:
    with open_store(store_url) as events:
        appends = iter(Workload(7, TRICKY).appends(100_000))
        append_until(events, appends, 100)
    stop = threading.Event()
    failures: list[BaseException] = []

    def follow() -> None:
        try:
            with open_store(store_url) as events, open_read_models(store_url) as read_models:
                Projector(events, read_models, PROJECTIONS, batch_size=10).follow(
                    stop.is_set, stop.wait
                )
        except BaseException as exc:  # reported by the test thread below
            failures.append(exc)

    worker = threading.Thread(target=follow)
    worker.start()
    try:
        with open_store(store_url) as events, open_read_models(store_url) as read_models:
            for _ in range(VERIFY_ROUNDS):
                append_until(events, appends, events.head() + 30)
                for projection in PROJECTIONS:
                    assert verify(events, read_models, projection) == [], projection.name
    finally:
        stop.set()
        worker.join(timeout=60)
    assert not worker.is_alive()
    assert not failures, failures


def test_a_difference_names_the_fields_that_differ_and_none_when_a_side_is_missing() -> None:
    stored = {"status": "failed", "branch": "main", "extra": 1, "_position": 7}
    replayed = {"status": "success", "branch": "main", "_position": 7}
    assert Difference("k", stored, replayed).fields == ["extra", "status"]
    assert Difference("k", None, replayed).fields == []
    assert Difference("k", stored, None).fields == []
