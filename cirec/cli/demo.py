"""``cirec demo``: play a CI day through the recorder, project it, show the read models."""

from __future__ import annotations

import argparse

from attrs import evolve

from cirec import demo
from cirec.cli import views
from cirec.cli.context import Command, Context
from cirec.config import Stores, demo_store
from cirec.demo.guard import refuse_foreign_events
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

    Where it plays: into a SQLite file of its own, $XDG_DATA_HOME/cirec/demo.sqlite3
    (~/.local/share/cirec/demo.sqlite3), never into the store cirec is configured to
    use: MONGO_DB_URL and CIREC_SQLITE_PATH are ignored (a line on stderr says so when
    either is set). To look around in it afterwards, give other commands its URL, which
    the demo prints last: cirec show repos --db sqlite:///…/demo.sqlite3.
    --db URL plays the day into the store you name instead.

    It only plays into a store that is empty or holds nothing but the demo's own events;
    into any other it records nothing and exits 1, unless --force is given.

    The day is always the same: fixed times (from 2026-01-15 08:00 UTC) and fixed event
    ids, so playing it again stores nothing new (the run numbers stay as they were) and
    prints the same read models.
    """
    where = demo_store(context.args.db)
    if where.ignored:
        verb = "is" if len(where.ignored) == 1 else "are"
        context.diagnose(
            f"cirec demo: {' and '.join(where.ignored)} {verb} set but not used: the demo"
            f" plays into its own store, {where.url}; --db URL plays it into a store you name"
        )
    if context.args.db:
        return _play(context)
    with Stores(where.url) as own:
        return _play(evolve(context, stores=own))


def _play(context: Context) -> int:
    if not context.args.force:
        refuse_foreign_events(context.events, context.location)
    played = demo.play_day(context.events)
    Projector(context.events, context.read_models, PROJECTIONS).catch_up()
    store = context.read_models
    sessions = [s for user, *_ in demo.SESSIONS if (s := store.get(SESSIONS, user)) is not None]
    branches = dict.fromkeys((run.repo, run.branch) for run in demo.RUNS)
    configs = [
        config
        for repo, branch in branches
        if (config := store.get(REPO_CONFIGS, streams.repo_stream(repo.name, repo.url, branch)))
    ]
    runs = [
        found
        for handle in played.runs
        if (
            found := context.run_queries.run(
                handle.repo_name, handle.repo_url, handle.pipeline_name, handle.run_number
            )
        )
    ]
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
        already = len(played.receipts) - played.appended
        context.diagnose(
            f"{played.appended} events recorded ({already} already stored) and projected"
            f" in the {context.events.backend} store at {context.location}"
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


DB_HELP = (
    "the store to play the day into: mongodb://…, mongodb+srv://… or sqlite:///path"
    " (default: the demo's own file; MONGO_DB_URL is not used)"
)


def _configure(parser: argparse.ArgumentParser) -> None:
    # The shared --db help names the configured store, which is not the demo's default;
    # argparse offers no public way to reword an option a parent parser added.
    for action in parser._actions:
        if "--db" in action.option_strings:
            action.help = DB_HELP
    parser.add_argument(
        "--force",
        action="store_true",
        help="play the day even into a store that holds events other than the demo's",
    )


COMMAND = Command("demo", run, configure=_configure)
