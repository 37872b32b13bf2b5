"""The ``repo_configs`` projection: each repository branch's pipelines, past and present.

Rules: a validated pipeline's configuration replaces the stored one (with its file name
and ``last_commit_hash``); a failed validation is not handled (it stays in the log); a
pipeline is active from its first validation until deactivated; ``running`` is true
while any of its runs on the branch is in progress. Events about a pipeline never
validated on the branch (activation, runs) leave the document as it is: without a valid
configuration there is no entry.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from uuid import UUID

from attrs import evolve

from eventstore import streams
from eventstore.catalog import (
    PipelineActivated,
    PipelineDeactivated,
    PipelineValidated,
    RunCanceled,
    RunFinished,
    RunStarted,
)
from eventstore.catalog.pipelines import RepoBranchEvent
from eventstore.catalog.runs import RunEnded
from projections.documents import PipelineEntry, RepoConfigDocument
from projections.projection import Projection, on

Document = RepoConfigDocument | None


def pipeline_validated(
    document: Document, event: PipelineValidated, at: datetime
) -> RepoConfigDocument:
    """Store the new configuration; a new pipeline starts active, with no runs."""
    current = document or RepoConfigDocument(
        repo_name=event.repo_name, repo_url=event.repo_url, branch=event.branch, pipelines={}
    )
    old = current.pipelines.get(event.pipeline_name)
    entry = PipelineEntry(
        pipeline_name=event.pipeline_name,
        pipeline_file_name=event.pipeline_file_name,
        pipeline_config=event.pipeline_config,
        job_run_history=old.job_run_history if old else (),
        active=old.active if old else True,
        running=old.running if old else False,
        last_commit_hash=event.commit_hash,
        validated_at=at,
        running_runs=old.running_runs if old else (),
    )
    return _with_entry(current, entry)


def pipeline_activated(document: Document, event: PipelineActivated, at: datetime) -> Document:
    """Switch the pipeline on."""
    return _update(document, event.pipeline_name, lambda entry: evolve(entry, active=True))


def pipeline_deactivated(document: Document, event: PipelineDeactivated, at: datetime) -> Document:
    """Switch the pipeline off; its history stays."""
    return _update(document, event.pipeline_name, lambda entry: evolve(entry, active=False))


def run_started(document: Document, event: RunStarted, at: datetime) -> Document:
    """Add the run to the pipeline's history and to its runs in progress."""

    def start(entry: PipelineEntry) -> PipelineEntry:
        running = (*entry.running_runs, event.run_id)
        history = (*entry.job_run_history, event.run_id)
        return evolve(entry, job_run_history=history, running_runs=running, running=True)

    return _update(document, event.pipeline_name, start)


def run_ended(document: Document, event: RunFinished | RunCanceled, at: datetime) -> Document:
    """Take the run out of the runs in progress (a cancel and a finish both end it)."""
    return _update(document, event.pipeline_name, lambda entry: _without_run(entry, event.run_id))


def _without_run(entry: PipelineEntry, run_id: UUID) -> PipelineEntry:
    running = tuple(run for run in entry.running_runs if run != run_id)
    return evolve(entry, running_runs=running, running=bool(running))


def _update(
    document: Document, name: str, change: Callable[[PipelineEntry], PipelineEntry]
) -> Document:
    if document is None or name not in document.pipelines:
        return document
    return _with_entry(document, change(document.pipelines[name]))


def _with_entry(document: RepoConfigDocument, entry: PipelineEntry) -> RepoConfigDocument:
    return evolve(document, pipelines={**document.pipelines, entry.pipeline_name: entry})


def repo_key(event: RepoBranchEvent | RunStarted | RunEnded) -> str:
    """Return the id of the document an event touches: its repository branch's stream id."""
    return streams.repo_stream(event.repo_name, event.repo_url, event.branch)


REPO_CONFIGS: Projection[RepoConfigDocument] = Projection(
    name="repo_configs",
    document_type=RepoConfigDocument,
    handlers=(
        on(PipelineValidated, pipeline_validated, repo_key),
        on(PipelineActivated, pipeline_activated, repo_key),
        on(PipelineDeactivated, pipeline_deactivated, repo_key),
        on(RunStarted, run_started, repo_key),
        on(RunFinished, run_ended, repo_key),
        on(RunCanceled, run_ended, repo_key),
    ),
)
"""One document per repository branch, keyed by its stream id."""
