"""An independent model of the three read models, to compare the projections against.

Written from the user's schema (``seed/datastore-schema.md``) and the read-side rules of
the design brief, without looking at the projections' folds: it is a second
implementation, deliberately plain. Documents are nested dicts in the exact shape
``json_converter.unstructure`` gives the projections' documents (times as ISO strings
with milliseconds and a ``Z``, UUIDs as strings, tuples as lists), so a stored document
and the model's can be compared with ``==``.

Feed :meth:`ReadModels.apply` every domain event of the log, in log order, with the time
it occurred and its position. Each document remembers the position of the last event
addressed to it that its read model listens to (what the read store keeps beside it).
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from eventstore.catalog import (
    DomainEvent,
    JobFinished,
    JobLogChunkAppended,
    JobStarted,
    PipelineActivated,
    PipelineDeactivated,
    PipelineValidated,
    RunCanceled,
    RunFinished,
    RunStarted,
    SessionAccessed,
    SessionOpened,
    StageFinished,
    StageStarted,
)
from eventstore.streams import repo_stream

SESSIONS: Final = "sessions"
"""The name of the sessions read model."""
REPO_CONFIGS: Final = "repo_configs"
"""The name of the repo_configs read model."""
JOBS_HISTORY: Final = "jobs_history"
"""The name of the jobs_history read model."""
READ_MODELS: Final = (SESSIONS, REPO_CONFIGS, JOBS_HISTORY)
"""Every read model the model keeps, by name."""

MAX_TAIL_BYTES: Final = 65_536
"""What one job's ``job_logs`` may cost at most, in bytes of its JSON string."""
RUN_TAILS_BYTES: Final = 6 * 1_048_576
"""What the tails of one run may cost in all, shared equally by power-of-two job counts."""
SHORT_ESCAPES: Final = frozenset('"\\\b\f\n\r\t')

RUNNING: Final = "running"
SUCCESS: Final = "success"
FAILED: Final = "failed"
CANCELED: Final = "canceled"

Document = dict[str, Any]
"""One document, as plain JSON-like values."""


def iso(moment: datetime) -> str:
    """Return ``moment`` as the read models show a time: UTC, milliseconds, a trailing Z."""
    utc = moment.astimezone(UTC)
    return (
        f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}"
        f"T{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d}"
        f".{utc.microsecond // 1000:03d}Z"
    )


def millis_between(start: str, end: datetime) -> int:
    """Return the whole milliseconds from the ISO time ``start`` to ``end``."""
    begun = datetime.fromisoformat(start.replace("Z", "+00:00"))
    return (end - begun) // timedelta(milliseconds=1)


def char_cost(char: str) -> int:
    """Return the bytes one character takes inside a JSON string."""
    if char in SHORT_ESCAPES:
        return 2
    if ord(char) < 0x20:
        return 6
    return len(char.encode("utf-8", "surrogatepass"))


def tail_share(jobs: int) -> int:
    """Return what each job's tail may cost in a run with ``jobs`` jobs."""
    bucket = 1
    while bucket < jobs:
        bucket *= 2
    return min(MAX_TAIL_BYTES, RUN_TAILS_BYTES // bucket)


def cut_tail(text: str, budget: int) -> str:
    """Return the longest end of ``text`` that costs at most ``budget``."""
    spent, start = 0, len(text)
    while start > 0 and spent + char_cost(text[start - 1]) <= budget:
        start -= 1
        spent += char_cost(text[start])
    return text[start:]


def stage_outcome(stage: Document, reported: str) -> str:
    """Return a finishing stage's status: derived from its jobs, else what was reported."""
    jobs = list(stage["jobs"].values())
    if not jobs:
        return reported
    for job in jobs:
        if job["job_status"] == FAILED and not job["allows_failure"]:
            return FAILED
    for job in jobs:
        tolerated = job["job_status"] == FAILED and job["allows_failure"]
        if job["job_status"] != SUCCESS and not tolerated:
            return CANCELED
    return SUCCESS


def run_outcome(run: Document, reported: str) -> str:
    """Return a finishing run's status: derived from its stages, else what was reported."""
    if run["status"] == CANCELED or reported == CANCELED:
        return CANCELED
    stages = list(run["logs"].values())
    if not stages:
        return reported
    for stage in stages:
        if stage["stage_status"] == FAILED:
            return FAILED
    for stage in stages:
        if stage["stage_status"] != SUCCESS:
            return CANCELED
    return SUCCESS


class ReadModels:
    """The three read models, folded by hand from the events :meth:`apply` is given."""

    def __init__(self) -> None:
        self._documents: dict[str, dict[str, Document]] = {name: {} for name in READ_MODELS}
        self._positions: dict[str, dict[str, int]] = {name: {} for name in READ_MODELS}

    # -- reading the model ----------------------------------------------------------------

    def documents(self, read_model: str) -> dict[str, Document]:
        """Return a copy of every document of ``read_model``, by key."""
        return copy.deepcopy(self._documents[read_model])

    def positions(self, read_model: str) -> dict[str, int]:
        """Return the position of the last event folded into each document, by key."""
        return dict(self._positions[read_model])

    def snapshot(self, read_model: str) -> dict[str, tuple[Document, int]]:
        """Return every document of ``read_model`` with its position, by key."""
        documents = self.documents(read_model)
        positions = self._positions[read_model]
        return {key: (document, positions[key]) for key, document in documents.items()}

    # -- feeding the model ----------------------------------------------------------------

    def apply(self, event: DomainEvent, occurred_at: datetime, position: int) -> None:
        """Fold one event of the log into every read model it concerns."""
        when = iso(occurred_at)
        if isinstance(event, SessionOpened | SessionAccessed):
            self._session(event, when)
            self._touch(SESSIONS, event.user_id, position)
        if isinstance(event, PipelineValidated):
            self._pipeline_validated(event, when)
        if isinstance(event, PipelineActivated):
            self._set_active(
                event.repo_name, event.repo_url, event.branch, event.pipeline_name, True
            )
        if isinstance(event, PipelineDeactivated):
            self._set_active(
                event.repo_name, event.repo_url, event.branch, event.pipeline_name, False
            )
        if isinstance(
            event,
            PipelineValidated | PipelineActivated | PipelineDeactivated,
        ):
            self._touch(
                REPO_CONFIGS, repo_stream(event.repo_name, event.repo_url, event.branch), position
            )
        if isinstance(event, RunStarted):
            self._run_started_in_repo(event)
            self._touch(
                REPO_CONFIGS, repo_stream(event.repo_name, event.repo_url, event.branch), position
            )
            self._run_started(event, when)
        if isinstance(event, RunFinished | RunCanceled):
            self._run_ended_in_repo(event)
            self._touch(
                REPO_CONFIGS, repo_stream(event.repo_name, event.repo_url, event.branch), position
            )
        if isinstance(event, StageStarted):
            self._stage_started(event, when)
        if isinstance(event, JobStarted):
            self._job_started(event, when)
        if isinstance(event, JobLogChunkAppended):
            self._log_chunk(event)
        if isinstance(event, JobFinished):
            self._job_finished(event, when)
        if isinstance(event, StageFinished):
            self._stage_finished(event, when)
        if isinstance(event, RunCanceled):
            self._run_canceled(event, occurred_at)
        if isinstance(event, RunFinished):
            self._run_finished(event, occurred_at)
        if isinstance(
            event,
            RunStarted
            | StageStarted
            | StageFinished
            | JobStarted
            | JobLogChunkAppended
            | JobFinished
            | RunFinished
            | RunCanceled,
        ):
            self._touch(JOBS_HISTORY, str(event.run_id), position)

    def _touch(self, read_model: str, key: str, position: int) -> None:
        # An event addressed to a document that exists (now) is folded into it, even
        # when it changes nothing there.
        if key in self._documents[read_model]:
            self._positions[read_model][key] = position

    # -- sessions -------------------------------------------------------------------------

    def _session(self, event: SessionOpened | SessionAccessed, when: str) -> None:
        sessions = self._documents[SESSIONS]
        opened_at = when
        if isinstance(event, SessionAccessed) and event.user_id in sessions:
            opened_at = sessions[event.user_id]["opened_at"]
        sessions[event.user_id] = {
            "user_id": event.user_id,
            "repo_name": event.repo_name,
            "repo_url": event.repo_url,
            "branch": event.branch,
            "commit_hash": event.commit_hash,
            "is_remote": event.is_remote,
            "time": when,
            "opened_at": opened_at,
        }

    # -- repo_configs ---------------------------------------------------------------------

    def _pipeline_validated(self, event: PipelineValidated, when: str) -> None:
        repos = self._documents[REPO_CONFIGS]
        key = repo_stream(event.repo_name, event.repo_url, event.branch)
        if key not in repos:
            repos[key] = {
                "repo_name": event.repo_name,
                "repo_url": event.repo_url,
                "branch": event.branch,
                "pipelines": {},
            }
        pipelines = repos[key]["pipelines"]
        old = pipelines.get(event.pipeline_name)
        pipelines[event.pipeline_name] = {
            "pipeline_name": event.pipeline_name,
            "pipeline_file_name": event.pipeline_file_name,
            "pipeline_config": copy.deepcopy(event.pipeline_config),
            "job_run_history": list(old["job_run_history"]) if old else [],
            "active": old["active"] if old else True,
            "running": old["running"] if old else False,
            "last_commit_hash": event.commit_hash,
            "validated_at": when,
            "running_runs": list(old["running_runs"]) if old else [],
        }

    def _entry(
        self, repo_name: str, repo_url: str, branch: str, pipeline_name: str
    ) -> Document | None:
        repo = self._documents[REPO_CONFIGS].get(repo_stream(repo_name, repo_url, branch))
        if repo is None:
            return None
        entry: Document | None = repo["pipelines"].get(pipeline_name)
        return entry

    def _set_active(
        self, repo_name: str, repo_url: str, branch: str, pipeline_name: str, active: bool
    ) -> None:
        entry = self._entry(repo_name, repo_url, branch, pipeline_name)
        if entry is not None:
            entry["active"] = active

    def _run_started_in_repo(self, event: RunStarted) -> None:
        entry = self._entry(event.repo_name, event.repo_url, event.branch, event.pipeline_name)
        if entry is not None:
            entry["job_run_history"].append(str(event.run_id))
            entry["running_runs"].append(str(event.run_id))
            entry["running"] = True

    def _run_ended_in_repo(self, event: RunFinished | RunCanceled) -> None:
        entry = self._entry(event.repo_name, event.repo_url, event.branch, event.pipeline_name)
        if entry is not None:
            run_id = str(event.run_id)
            entry["running_runs"] = [run for run in entry["running_runs"] if run != run_id]
            entry["running"] = len(entry["running_runs"]) > 0

    # -- jobs_history ---------------------------------------------------------------------

    def _run(self, run_id: Any) -> Document | None:
        run: Document | None = self._documents[JOBS_HISTORY].get(str(run_id))
        return run

    def _run_started(self, event: RunStarted, when: str) -> None:
        self._documents[JOBS_HISTORY][str(event.run_id)] = {
            "run_id": str(event.run_id),
            "repo_name": event.repo_name,
            "repo_url": event.repo_url,
            "branch": event.branch,
            "pipeline_name": event.pipeline_name,
            "run_number": event.run_number,
            "git_commit_hash": event.commit_hash,
            "pipeline_config_used": copy.deepcopy(event.pipeline_config),
            "status": RUNNING,
            "start_time": when,
            "completion_time": None,
            "logs": {},
            "trigger": event.trigger.value,
            "actor": event.actor,
            "duration_ms": None,
            "cancel_reason": None,
        }

    @staticmethod
    def _new_stage(stage_name: str, when: str, jobs: dict[str, Document]) -> Document:
        return {
            "stage_name": stage_name,
            "stage_status": RUNNING,
            "start_time": when,
            "completion_time": None,
            "jobs": jobs,
        }

    def _stage_started(self, event: StageStarted, when: str) -> None:
        run = self._run(event.run_id)
        if run is None:
            return
        old = run["logs"].get(event.stage_name)
        jobs = old["jobs"] if old is not None else {}
        run["logs"][event.stage_name] = self._new_stage(event.stage_name, when, jobs)

    def _job_started(self, event: JobStarted, when: str) -> None:
        run = self._run(event.run_id)
        if run is None:
            return
        if event.stage_name not in run["logs"]:
            run["logs"][event.stage_name] = self._new_stage(event.stage_name, when, {})
        jobs = run["logs"][event.stage_name]["jobs"]
        old = jobs.get(event.job_name)
        # A job's log is its latest attempt's: the highest attempt started so far. A retry
        # (a higher attempt) starts an empty log; a start at or below it keeps the log.
        same_attempt = old is not None and event.attempt <= old["attempt"]
        log = old if same_attempt else None
        jobs[event.job_name] = {
            "job_name": event.job_name,
            "job_status": RUNNING,
            "allows_failure": event.allows_failure,
            "start_time": when,
            "completion_time": None,
            "job_logs": log["job_logs"] if log else "",
            "attempt": log["attempt"] if log else event.attempt,
            "log_chars": log["log_chars"] if log else 0,
            "log_truncated_chars": log["log_truncated_chars"] if log else 0,
            "log_chunks": log["log_chunks"] if log else 0,
        }
        share = tail_share(self._job_count(run))
        for stage in run["logs"].values():
            for each in stage["jobs"].values():
                each["job_logs"] = cut_tail(each["job_logs"], share)
                each["log_truncated_chars"] = each["log_chars"] - len(each["job_logs"])

    @staticmethod
    def _job_count(run: Document) -> int:
        return sum(len(stage["jobs"]) for stage in run["logs"].values())

    def _job(self, run_id: Any, stage_name: str, job_name: str) -> Document | None:
        run = self._run(run_id)
        if run is None or stage_name not in run["logs"]:
            return None
        job: Document | None = run["logs"][stage_name]["jobs"].get(job_name)
        return job

    def _log_chunk(self, event: JobLogChunkAppended) -> None:
        job = self._job(event.run_id, event.stage_name, event.job_name)
        if job is None:
            return
        # Only the latest attempt's next chunk counts: a duplicate, a gap, a chunk out of
        # order or of an older attempt adds nothing.
        if event.attempt != job["attempt"] or event.chunk_index != job["log_chunks"]:
            return
        run = self._run(event.run_id)
        assert run is not None
        whole = job["job_logs"] + event.content
        job["job_logs"] = cut_tail(whole, tail_share(self._job_count(run)))
        job["log_chars"] = job["log_chars"] + len(event.content)
        job["log_truncated_chars"] = job["log_chars"] - len(job["job_logs"])
        job["log_chunks"] = job["log_chunks"] + 1

    def _job_finished(self, event: JobFinished, when: str) -> None:
        job = self._job(event.run_id, event.stage_name, event.job_name)
        if job is None:
            return
        job["job_status"] = event.status.value
        job["completion_time"] = when

    def _stage_finished(self, event: StageFinished, when: str) -> None:
        run = self._run(event.run_id)
        if run is None:
            return
        if event.stage_name not in run["logs"]:
            run["logs"][event.stage_name] = self._new_stage(event.stage_name, when, {})
        stage = run["logs"][event.stage_name]
        stage["stage_status"] = stage_outcome(stage, event.status.value)
        stage["completion_time"] = when

    def _run_canceled(self, event: RunCanceled, occurred_at: datetime) -> None:
        run = self._run(event.run_id)
        if run is None:
            return
        when = iso(occurred_at)
        # A cancel never hides a failure: what a failure decides stays failed.
        for stage in run["logs"].values():
            if stage["stage_status"] != RUNNING:
                continue
            for job in stage["jobs"].values():
                if job["job_status"] == RUNNING:
                    job["job_status"] = CANCELED
                    job["completion_time"] = when
            decided = stage_outcome(stage, CANCELED) == FAILED
            stage["stage_status"] = FAILED if decided else CANCELED
            stage["completion_time"] = when
        if run["status"] == RUNNING:
            failed = any(stage["stage_status"] == FAILED for stage in run["logs"].values())
            run["status"] = FAILED if failed else CANCELED
            run["completion_time"] = when
            run["duration_ms"] = millis_between(run["start_time"], occurred_at)
        run["cancel_reason"] = event.reason

    def _run_finished(self, event: RunFinished, occurred_at: datetime) -> None:
        run = self._run(event.run_id)
        if run is None:
            return
        run["status"] = run_outcome(run, event.status.value)
        run["completion_time"] = iso(occurred_at)
        run["duration_ms"] = millis_between(run["start_time"], occurred_at)
