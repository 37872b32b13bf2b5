"""``cirec demo``: play a CI day through the recorder, project it, show the read models."""

from __future__ import annotations

from cirec import demo
from cirec.cli import views
from cirec.cli.context import Command, Context
from eventstore import streams
from projections.catalog import PROJECTIONS
from projections.documents import RepoConfigDocument, RunDocument, SessionDocument
from projections.repo_configs import REPO_CONFIGS
from projections.sessions import SESSIONS
from projections.worker import Projector


def run(context: Context) -> int:
    """Play a CI day (repos, branches, pipelines, runs, logs), project it and show it.

    The day is recorded through the recorder like a CI engine would; the projector then
    catches up and the sessions, repo configs and runs of the day are printed.
    """
    receipts = demo.play_day(context.events)
    Projector(context.events, context.read_models, PROJECTIONS).catch_up()
    store = context.read_models
    sessions = [s for user, *_ in demo.SESSIONS if (s := store.get(SESSIONS, user)) is not None]
    branches = dict.fromkeys((run.repo, run.branch) for run in demo.RUNS)
    configs = [
        config
        for repo, branch in branches
        if (config := store.get(REPO_CONFIGS, streams.repo_stream(repo.name, repo.url, branch)))
    ]
    runs = _runs_of_the_day(context)
    if context.json:
        for name, documents in (
            ("sessions", sessions),
            ("repo_configs", configs),
            ("jobs_history", runs),
        ):
            for document in documents:
                context.print_json({"read_model": name, "document": document})
    else:
        _show(context, sessions, configs, runs)
        context.diagnose(
            f"{len(receipts)} events recorded and projected "
            f"in the {context.events.backend} store at {context.location}"
        )
    return 0


def _show(
    context: Context,
    sessions: list[SessionDocument],
    configs: list[RepoConfigDocument],
    runs: list[RunDocument],
) -> None:
    context.out("sessions")
    views.show_sessions(context, sessions)
    context.out("\nrepo_configs")
    views.show_repo_configs(context, configs)
    context.out("\njobs_history")
    views.show_runs(context, runs)


def _runs_of_the_day(context: Context) -> list[RunDocument]:
    """Return the runs the day recorded (the newest of each of its pipelines), oldest first."""
    counts: dict[tuple[demo.Repo, str], int] = {}
    for day_run in demo.RUNS:
        pipeline = (day_run.repo, day_run.pipeline.name)
        counts[pipeline] = counts.get(pipeline, 0) + 1
    runs = [
        run
        for (repo, pipeline), count in counts.items()
        for run in context.run_queries.runs(repo.name, repo.url, pipeline, limit=count)
    ]
    return sorted(runs, key=lambda run: run.start_time)


COMMAND = Command("demo", run)
