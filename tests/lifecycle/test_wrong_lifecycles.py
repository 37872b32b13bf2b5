"""Wrong lifecycles, sent as an engine would, judged against an independent model of the rules.

A valid run (stages, jobs that may fail or be allowed to, retried attempts, log chunks,
then a finish, a cancel or no end yet) is mutated: events dropped, sent twice (as a new
event, or retried with their ``event_id``), swapped, moved, contradicted (another stage,
status, attempt, chunk index, text, branch …), sent for a run that never started, or
appended after the end. Each event is then sent in order through one path of the write
side (``Recorder.record``, the importer one line at a time, or the importer in one go as
``cirec emit`` reads a file: one test each), on each store, and:

1. each verdict is :class:`tests.lifecycle.model.Acceptance`'s: accepted (appending or a
   retry) or refused, naming a field of a rule the event breaks;
2. a refused event (or a retry) leaves the log as it was: the log holds exactly the events
   the model says are appended, in order;
3. the ``jobs_history`` documents projected from the log are those
   :class:`tests.readmodels.model.ReadModels` folds from those events alone;
4. no accepted sequence hides a failure: a run that has ended with a job whose latest
   attempt failed without allowing it reads ``failed``, and so does that job's stage.
"""

from __future__ import annotations

import itertools
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import attrs
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from cirec.config import open_store
from eventstore.catalog import (
    DomainEvent,
    JobFinished,
    JobLogChunkAppended,
    JobStarted,
    RunCanceled,
    RunFinished,
    RunStarted,
    StageFinished,
    StageStarted,
    Status,
)
from eventstore.store import EventStore
from tests.backends import BACKENDS, cleanup, fresh_url
from tests.lifecycle.engine import (
    MOMENT,
    REPO,
    Accepted,
    Refused,
    Verdict,
    import_all,
    json_line,
    projected_runs,
    run_started,
    send,
)
from tests.lifecycle.model import (
    ENDING_FIELDS,
    FAILED,
    RUNNING,
    Accept,
    Acceptance,
    Prediction,
    run_status,
    stage_status,
    started_event_id,
)
from tests.readmodels.model import JOBS_HISTORY, ReadModels

IN_CI = os.environ.get("HYPOTHESIS_PROFILE", "dev") == "ci"
# FerretDB answers each of the write side's reads by a scan, and a run is a few dozen
# events, each checked against the run as stored: about 0.5 s an example there, 25 a path.
EXAMPLES = {"sqlite": 200 if IN_CI else 40, "mongodb": 25 if IN_CI else 8}

WritePath = Literal["record", "import", "import-all"]
WRITE_PATHS: tuple[WritePath, ...] = ("record", "import", "import-all")

STAGES = ["build", "test", "deploy.prod"]
JOBS = ["unit", "lint", "$where"]
CONTENTS = ["ok\n", "━━ 50%\n", "a\x00b", "$ make test\n"]
statuses = st.sampled_from([Status.SUCCESS, Status.SUCCESS, Status.FAILED, Status.CANCELED])


@attrs.frozen
class Sent:
    """One event as the engine sends it, with the ``event_id`` it chose."""

    event_id: uuid.UUID
    event: DomainEvent


# -- valid runs ---------------------------------------------------------------------------------


@st.composite
def valid_runs(draw: st.DrawFn) -> list[Sent]:
    """A run as an engine records it: in order, each status the one its parts give."""
    run_id = draw(st.uuids(version=4))
    ids = (uuid.uuid5(run_id, str(n)) for n in itertools.count())
    scratch = Acceptance()
    sent: list[Sent] = []

    def add(event: DomainEvent, event_id: uuid.UUID | None = None) -> None:
        each = Sent(event_id or next(ids), event)
        assert scratch.offer(each.event_id, each.event) == Accept(appended=True)
        sent.append(each)

    add(run_started(run_id), started_event_id(run_id))
    for stage_name in draw(st.lists(st.sampled_from(STAGES), unique=True, max_size=3)):
        add(StageStarted(run_id=run_id, stage_name=stage_name))
        for job_name in draw(st.lists(st.sampled_from(JOBS), unique=True, max_size=2)):
            job: dict[str, Any] = {"run_id": run_id, "stage_name": stage_name, "job_name": job_name}
            for attempt in range(1, draw(st.integers(1, 2)) + 1):
                allows = draw(st.booleans())
                add(JobStarted(**job, allows_failure=allows, attempt=attempt))
                chunks = draw(st.lists(st.sampled_from(CONTENTS), max_size=2))
                for index, content in enumerate(chunks):
                    add(
                        JobLogChunkAppended(
                            **job, chunk_index=index, content=content, attempt=attempt
                        )
                    )
                add(JobFinished(**job, status=draw(statuses)))
        stage = scratch.runs[run_id].stages[stage_name]
        given_status = stage_status(stage, draw(statuses).value)
        add(StageFinished(run_id=run_id, stage_name=stage_name, status=Status(given_status)))
    ending = draw(st.sampled_from(["finish", "cancel", "open"]))
    if ending == "cancel":  # at any point after the start: what ran is left running
        cut = draw(st.integers(1, len(sent)))
        del sent[cut:]
        sent.append(Sent(next(ids), RunCanceled(run_id=run_id, **REPO, reason="superseded")))
    elif ending == "finish":
        given_status = run_status(scratch.runs[run_id], draw(statuses).value)
        sent.append(
            Sent(next(ids), RunFinished(run_id=run_id, **REPO, status=Status(given_status)))
        )
    return sent


# -- what goes wrong ----------------------------------------------------------------------------


def altered(event: DomainEvent, **changes: Any) -> DomainEvent:
    """Return ``event`` with ``changes``, validated as any new event is."""
    original: Any = event
    result: DomainEvent = attrs.evolve(original, **changes)
    return result


def contradictions(event: DomainEvent) -> list[DomainEvent]:
    """Return ways of saying something else than ``event`` about the same run."""
    other_stage = {"stage_name": "other-stage"}
    if isinstance(event, RunStarted):
        return [altered(event, commit_hash="0123456789abcdef", actor="someone-else")]
    if isinstance(event, StageStarted):
        return [altered(event, **other_stage)]
    if isinstance(event, StageFinished | JobFinished | RunFinished):
        changed: list[DomainEvent] = [
            altered(event, status=status) for status in Status if status != event.status
        ]
        if isinstance(event, StageFinished):
            return [*changed, altered(event, **other_stage)]
        if isinstance(event, JobFinished):
            return [*changed, altered(event, job_name="other-job")]
        return [*changed, *(altered(event, **{f: "other"}) for f in ENDING_FIELDS)]
    if isinstance(event, RunCanceled):
        return [altered(event, **{f: "other"}) for f in ENDING_FIELDS]
    if isinstance(event, JobStarted):
        return [
            altered(event, attempt=event.attempt + 1),
            altered(event, allows_failure=not event.allows_failure),
            altered(event, **other_stage),
        ]
    assert isinstance(event, JobLogChunkAppended)
    return [
        altered(event, chunk_index=event.chunk_index + 1),
        altered(event, content=event.content + "changed"),
        altered(event, attempt=event.attempt + 1),
    ]


MUTATIONS = [
    "drop",
    "duplicate",
    "retry",
    "swap",
    "move",
    "contradict",
    "after_end",
    "late_chunk",
    "stranger",
]


@st.composite
def wrong_runs(draw: st.DrawFn) -> list[Sent]:
    """A valid run with one to three things gone wrong in it."""
    sent = draw(valid_runs())
    fresh = (uuid.uuid5(sent[0].event_id, f"mutation {n}") for n in itertools.count())
    for _ in range(draw(st.integers(1, 3))):
        if not sent:
            break
        kind = draw(st.sampled_from(MUTATIONS), label="mutation")
        at = draw(st.integers(0, len(sent) - 1), label="at")
        to = draw(st.integers(0, len(sent)), label="to")
        picked = sent[at]
        if kind == "drop":
            del sent[at]
        elif kind == "duplicate":
            sent.insert(to, Sent(next(fresh), picked.event))
        elif kind == "retry":
            sent.insert(max(to, at + 1), picked)
        elif kind == "swap" and at + 1 < len(sent):
            sent[at], sent[at + 1] = sent[at + 1], picked
        elif kind == "move":
            sent.insert(to, sent.pop(at))
        elif kind == "contradict":
            changed = draw(st.sampled_from(contradictions(picked.event)))
            if isinstance(changed, RunStarted):  # a second start under the run's id
                sent.insert(max(to, at + 1), Sent(picked.event_id, changed))
            elif draw(st.booleans(), label="instead"):
                sent[at] = Sent(next(fresh), changed)
            else:  # said after the event it contradicts
                sent.insert(max(to, at + 1), Sent(next(fresh), changed))
        elif kind == "after_end":
            sent.append(Sent(next(fresh), picked.event))
        elif kind == "late_chunk" and isinstance(picked.event, JobStarted | JobLogChunkAppended):
            chunk = JobLogChunkAppended(
                run_id=picked.event.run_id,
                stage_name=picked.event.stage_name,
                job_name=picked.event.job_name,
                attempt=picked.event.attempt,
                chunk_index=draw(st.integers(0, 3)),
                content=draw(st.sampled_from(CONTENTS)),
            )
            sent.append(Sent(next(fresh), chunk))
        elif kind == "stranger" and not isinstance(picked.event, RunStarted):
            stranger = altered(picked.event, run_id=uuid.uuid5(picked.event_id, "stranger"))
            sent.insert(to, Sent(next(fresh), stranger))
    return sent


# -- the check ----------------------------------------------------------------------------------


def occurred(index: int) -> datetime:
    """Return when the ``index``-th event sent occurred (milliseconds apart)."""
    return MOMENT + timedelta(milliseconds=7 * index)


def agrees(verdict: Verdict, prediction: Prediction) -> bool:
    """Tell whether the write side's ``verdict`` is the model's ``prediction``."""
    if isinstance(prediction, Accept):
        return verdict == Accepted(already_stored=not prediction.appended)
    return isinstance(verdict, Refused) and verdict.field in prediction.fields


def describe(sent: list[Sent], predictions: list[Prediction]) -> str:
    """Return the events sent and the model's verdicts, one a line, for a failure message."""
    return "\n".join(
        f"  {i}: {each.event_id} {each.event!r} -> {p}"
        for i, (each, p) in enumerate(zip(sent, predictions, strict=True))
    )


@contextmanager
def fresh_store(backend: str, folder: Path) -> Iterator[tuple[EventStore, str]]:
    """Open a fresh, empty store of ``backend`` and its URL; remove it afterwards."""
    url = fresh_url(backend, folder)
    try:
        with open_store(url) as store:
            yield store, url
    finally:
        cleanup(url)


def send_each(store: EventStore, path: WritePath, sent: list[Sent]) -> list[Verdict]:
    """Send ``sent`` in order by ``path``; return the verdicts, checking the log after each."""
    if path == "import-all":
        lines = [json_line(each.event, each.event_id, occurred(i)) for i, each in enumerate(sent)]
        return import_all(store, lines)
    verdicts: list[Verdict] = []
    for index, each in enumerate(sent):
        head = store.head()
        one_path: Any = path
        verdict = send(store, one_path, each.event, each.event_id, occurred(index))
        grown = store.head() - head
        assert grown == (verdict == Accepted(already_stored=False)), (index, verdict, grown)
        verdicts.append(verdict)
    return verdicts


def check_wrong_lifecycle(store: EventStore, url: str, path: WritePath, sent: list[Sent]) -> None:
    """Send ``sent`` by ``path`` and check the four properties of the module docstring."""
    model = Acceptance()
    predictions = [model.offer(each.event_id, each.event) for each in sent]
    verdicts = send_each(store, path, sent)
    for verdict in set(verdicts):
        event(f"some event {verdict}")

    wrong = [
        f"event {i}: write side {v}, model {p}"
        for i, (v, p) in enumerate(zip(verdicts, predictions, strict=True))
        if not agrees(v, p)
    ]
    assert not wrong, "\n".join([*wrong, "sent by " + path + ":", describe(sent, predictions)])

    appended = [
        (index, each)
        for index, (each, p) in enumerate(zip(sent, predictions, strict=True))
        if p == Accept(appended=True)
    ]
    assert [e.event_id for e in store.read_all()] == [each.event_id for _, each in appended]

    read_models = ReadModels()
    for position, (index, each) in enumerate(appended, start=1):
        read_models.apply(each.event, occurred(index), position)
    projected = projected_runs(store, url)
    assert projected == read_models.snapshot(JOBS_HISTORY)

    for run_id in model.runs:
        document = projected[str(run_id)][0]
        failures = model.failed_jobs(run_id)
        if document["status"] != RUNNING and failures:
            assert document["status"] == FAILED, (failures, document["status"])
        for stage_name, _ in failures:
            assert document["logs"][stage_name]["stage_status"] in {RUNNING, FAILED}


@pytest.mark.parametrize("path", WRITE_PATHS)
@pytest.mark.parametrize("backend", BACKENDS)
def test_wrong_lifecycles_are_judged_as_the_rules_say(
    backend: str, path: WritePath, tmp_path: Path
) -> None:
    @settings(
        max_examples=EXAMPLES[backend],
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(sent=wrong_runs())
    def check(sent: list[Sent]) -> None:
        with fresh_store(backend, tmp_path) as (store, url):
            check_wrong_lifecycle(store, url, path, sent)

    check()
