"""The document budget, pure: the measure bounds both stored forms; folds keep within it.

No store here: the measure is checked against the real encodings (``bson.encode`` of
the MongoDB form, :func:`eventstore.codec.dump_json` of the SQLite body), and the
``jobs_history`` fold is driven with events built in memory, up to 2,000 jobs whose
logs are 100 KiB of 1- to 4-byte characters (and of characters JSON escapes).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import bson
from hypothesis import given, settings
from hypothesis import strategies as st

from eventstore.catalog import (
    DomainEvent,
    JobFinished,
    JobLogChunkAppended,
    JobStarted,
    RunStarted,
    StageStarted,
    Status,
    Trigger,
)
from eventstore.codec import dump_json, json_converter
from projections.adapters.bson_documents import to_bson
from projections.documents import RunDocument
from projections.folding import fold, touched_keys
from projections.jobs_history import JOBS_HISTORY
from projections.log_tails import LOG_TAILS_BUDGET_BYTES, job_tail_budget, kept_tail
from projections.projection import Envelope
from projections.sizes import DOCUMENT_BUDGET_BYTES, measured_size, text_cost
from projections.store import Versioned
from projections.unwritable import check
from projections.worker import fold_batch
from tests.readmodels.document_strategies import repo_configs, runs, sessions
from tests.readmodels.model import cut_tail, tail_share
from tests.strategies import json_objects, names

KIB = 1024
WHEN = datetime(2026, 1, 15, 9, 30, tzinfo=UTC)
# Units a log is made of: 1-, 2-, 3- and 4-byte characters, and ones JSON escapes.
UNITS = ["a", "é", "━", "😀", "\x00", "\n", '"', "\\", "━━━━ 42%\r\n", "ok ✓ 🚀\t"]

documents = runs | repo_configs | sessions


def stored_sizes(key: str, position: int, document: object) -> tuple[int, int]:
    """Return the BSON size of the MongoDB form and the UTF-8 size of the SQLite body."""
    mongo = {"_id": key, "_position": position, **to_bson(document)}
    sqlite = dump_json(json_converter.unstructure(document)).encode()
    return len(bson.encode(mongo)), len(sqlite)


@given(document=documents, key=names, position=st.integers(min_value=0, max_value=2**62))
def test_the_measure_is_never_below_either_stored_form(
    document: object, key: str, position: int
) -> None:
    measured = measured_size(key, position, json_converter.unstructure(document)).size
    assert measured >= max(stored_sizes(key, position, document))


@given(
    config=json_objects,
    name=names,
    width=st.integers(min_value=1, max_value=2000),
)
def test_the_measure_covers_escaped_keys_and_bson_framing(
    config: dict[str, Any], name: str, width: int
) -> None:
    # What costs BSON most against JSON: escaped keys (x3), tiny array items (x4.5).
    document = {
        "." * width: [0] * width,
        "$" + name: [[[]]] * (width // 10),
        "%\x00": [None, True, -0.0, 2**70] * (width // 50),
        "config": config,
    }
    mongo = {"_id": name, "_position": 1, **to_bson(document)}
    measured = measured_size(name, 1, json_converter.unstructure(document)).size
    assert measured >= len(bson.encode(mongo))
    assert measured >= len(dump_json(document).encode())


@given(text=st.text(alphabet=st.characters(exclude_categories=()), max_size=300))
def test_a_text_costs_what_its_json_string_takes(text: str) -> None:
    # Counted, not encoded (projections.sizes): the count must be the encoder's own.
    assert text_cost(text) == len(dump_json(text).encode("utf-8", "surrogatepass")) - 2


@given(text=st.text(max_size=300), unit=st.sampled_from(UNITS), budget=st.integers(0, 400))
def test_a_kept_tail_is_the_longest_suffix_within_its_budget(
    text: str, unit: str, budget: int
) -> None:
    whole = text + unit * 50
    tail = kept_tail(whole, budget)
    assert whole.endswith(tail)
    assert text_cost(tail) <= budget
    assert tail == cut_tail(whole, budget)  # the model's own, character by character
    assert len(tail.encode("utf-8", "surrogatepass")) <= budget


@given(
    head=st.text(max_size=300),
    units=st.lists(st.sampled_from(UNITS), min_size=1, max_size=4),
    repeats=st.integers(0, 1500),
    budget=st.integers(0, 8000),
)
def test_a_long_tail_is_cut_in_the_same_place(
    head: str, units: list[str], repeats: int, budget: int
) -> None:
    # Long enough that the tail is measured in several pieces, and its cut may fall
    # in any of them.
    whole = head + "".join(units) * repeats
    tail = kept_tail(whole, budget)
    assert tail == cut_tail(whole, budget)
    assert text_cost(tail) <= budget


def test_the_tail_budget_falls_in_steps_and_tails_together_stay_within_theirs() -> None:
    assert job_tail_budget(1) == job_tail_budget(64) == 64 * KIB
    assert job_tail_budget(65) == 48 * KIB
    assert job_tail_budget(2000) == 3 * KIB
    for jobs in range(1, 5000, 7):
        assert jobs * job_tail_budget(jobs) <= LOG_TAILS_BUDGET_BYTES
        assert job_tail_budget(jobs) == tail_share(jobs)


def run_events(jobs: int, log_units: list[str], log_bytes: int, chunks: int) -> Iterator[Envelope]:
    """Yield a run of ``jobs`` jobs in two stages, each logging about ``log_bytes`` bytes."""
    run_id = uuid.UUID(int=jobs)
    position = 0

    def envelope(event: DomainEvent) -> Envelope:
        nonlocal position
        position += 1
        return Envelope(position, WHEN + timedelta(milliseconds=position), event)

    yield envelope(
        RunStarted(
            run_id=run_id,
            run_number=1,
            repo_name="api",
            repo_url="https://git.example/api.git",
            branch="main",
            pipeline_name="build",
            commit_hash="9f2c1e7",
            pipeline_config={"stages": ["build", "test"]},
            trigger=Trigger.PUSH,
            actor="ci",
        )
    )
    logs = {}
    for unit in set(log_units):
        piece = unit * (log_bytes // chunks // len(unit.encode()) + 1)
        logs[unit] = piece
    for stage in ("build", "test"):
        yield envelope(StageStarted(run_id=run_id, stage_name=stage))
    for index in range(jobs):
        stage = ("build", "test")[index % 2]
        name = f"job-{index:04d}"
        yield envelope(
            JobStarted(run_id=run_id, stage_name=stage, job_name=name, allows_failure=False)
        )
        piece = logs[log_units[index % len(log_units)]]
        for chunk in range(chunks):
            yield envelope(
                JobLogChunkAppended(
                    run_id=run_id, stage_name=stage, job_name=name, chunk_index=chunk, content=piece
                )
            )
        yield envelope(
            JobFinished(run_id=run_id, stage_name=stage, job_name=name, status=Status.SUCCESS)
        )


def in_batches(log: list[Envelope], size: int) -> dict[str, Versioned[RunDocument]]:
    """Fold ``log`` as the worker does, ``size`` events a batch, without a store."""
    state: dict[str, Versioned[RunDocument]] = {}
    for start in range(0, len(log), size):
        batch = log[start : start + size]
        loaded = {key: state[key] for key in touched_keys(JOBS_HISTORY, batch) if key in state}
        for change in fold_batch(JOBS_HISTORY, loaded, batch):
            state[change.key] = Versioned(change.document, change.position)
    return state


@settings(max_examples=12)
@given(
    jobs=st.integers(min_value=1, max_value=300) | st.sampled_from([1000, 2000]),
    log_units=st.lists(st.sampled_from(UNITS), min_size=1, max_size=3),
    log_kib=st.sampled_from([1, 20, 100]),
    chunks=st.integers(min_value=1, max_value=3),
    batch=st.sampled_from([1, 7, 500]),
)
def test_a_run_of_any_size_fits_its_budget_and_keeps_suffixes_of_its_logs(
    jobs: int, log_units: list[str], log_kib: int, chunks: int, batch: int
) -> None:
    log = list(run_events(jobs, log_units, log_kib * KIB, chunks))
    whole = fold(JOBS_HISTORY, {}, log)
    (key, final), *_ = whole.items()
    plain = json_converter.unstructure(final.document)
    assert measured_size(key, final.position, plain).size <= DOCUMENT_BUDGET_BYTES
    assert check(key, final.position, final.document) is None
    share = job_tail_budget(jobs)
    for stage in final.document.logs.values():
        for job in stage.jobs.values():
            unit = log_units[int(job.job_name[4:]) % len(log_units)]
            piece = unit * (log_kib * KIB // chunks // len(unit.encode()) + 1)
            full = piece * chunks
            assert full.endswith(job.job_logs)
            assert job.log_chars == len(full)
            assert job.log_truncated_chars == len(full) - len(job.job_logs)
            assert text_cost(job.job_logs) <= share
            if job.job_name in ("job-0000", f"job-{jobs - 1:04d}"):
                assert job.job_logs == cut_tail(full, share)
    assert in_batches(log, batch) == whole
