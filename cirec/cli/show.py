"""``cirec show``: the read models, as tables for people or JSON lines for machines."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import TypeVar

from cirec.cli import views
from cirec.cli.context import Command, Context, NotFoundError, shared_options
from cirec.cli.numbers import positive
from eventstore.errors import ConfigError
from eventstore.wakeup import Wakeup
from projections.documents import RepoConfigDocument, RunDocument
from projections.logs import AttemptLog, follow_job_log, read_job_log
from projections.repo_configs import REPO_CONFIGS
from projections.run_queries import RunFilter
from projections.sessions import SESSIONS

Show = Callable[[Context], None]
URL_SEARCH_RUNS = 20
"""How many of a pipeline's latest runs are read to learn its repository's URL."""
D = TypeVar("D")
LOG_LOOK_SECONDS = 0.25
"""How often ``show log --follow`` reads the log's head for appends no writer announced."""
WAKEUP_SLICE_SECONDS = 3600.0
"""The longest one wait of ``show log --follow`` on the store's wake-up."""


def show_session(context: Context) -> None:
    """Show the session of a user: the repository state of their latest command."""
    session = context.read_models.get(SESSIONS, context.args.user_id)
    if session is None:
        raise NotFoundError(f"session for user {context.args.user_id!r}")
    if context.json:
        context.print_json(session)
    else:
        views.show_fields(context, session)


def show_repos(context: Context) -> None:
    """Show the repo configs: every pipeline of every repository branch (or of one repository)."""
    configs = [c for c in _repo_configs(context) if context.args.repo in (None, c.repo_name)]
    _print_all(context, configs, views.show_repo_configs)


def show_runs(context: Context) -> None:
    """Show the runs of a pipeline, newest first."""
    args = context.args
    runs = context.run_queries.runs(args.repo, _repo_url(context), args.pipeline, limit=args.limit)
    _print_all(context, runs, views.show_runs)


def _url_of_runs(context: Context) -> str:
    """Return the one URL the latest runs of the pipeline name for a repository no config has.

    A repository with no validated pipeline is in ``jobs_history`` only. No run found is
    "no runs", not a missing URL; runs of two repositories of that name need ``--url``.
    """
    args = context.args
    where = RunFilter(repo_name=args.repo, pipeline_name=args.pipeline)
    latest = context.run_queries.search(where, limit=getattr(args, "limit", URL_SEARCH_RUNS))
    urls = sorted({run.repo_url for run in latest})
    if not urls:
        raise NotFoundError(f"runs of pipeline {args.pipeline!r} of repository {args.repo!r}")
    if len(urls) > 1:
        raise ConfigError("--url", "", f"{args.repo!r} names several repositories: {urls}")
    return urls[0]


def show_run(context: Context) -> None:
    """Show one run of a pipeline with its stages and jobs."""
    run = _run(context)
    if context.json:
        context.print_json(run)
    else:
        views.show_run(context, run)


def show_log(context: Context) -> None:
    """Print the full log of one job of a run, read back from the event log.

    The log of the job's latest attempt, or of --attempt N. With --follow, print it as
    it is written, until that attempt (or its run) ends.
    """
    args = context.args
    run = _run(context)
    if args.follow:
        _follow_log(context, run)
        return
    stage = run.logs.get(args.stage)
    if stage is None or args.job not in stage.jobs:
        raise NotFoundError(f"job {args.job!r} in stage {args.stage!r} of run #{run.run_number}")
    read = read_job_log(context.events, run.run_id, args.stage, args.job, args.attempt)
    if not read.ran:
        raise _no_attempt(context, run, read.attempts)
    if context.json:
        context.print_json(
            {
                "run_id": run.run_id,
                "stage": args.stage,
                "job": args.job,
                "attempt": read.attempt,
                "log": read.text,
            }
        )
    else:
        context.stdout.write(read.text)


def _follow_log(context: Context, run: RunDocument) -> None:
    """Stream a job's log from the run's stream: it needs no projector once the run is found.

    An attempt that has not started yet is waited for; one the run ended without is an error.
    Appends on this machine (or MongoDB server) show at once; the log's head is also read
    every :data:`LOG_LOOK_SECONDS` for writers that cannot announce theirs.
    """
    with context.events.wakeup(LOG_LOOK_SECONDS) as wakeup:
        _print_followed(context, run, wakeup)


def _print_followed(context: Context, run: RunDocument, wakeup: Wakeup) -> None:
    """Print the pieces of the log :func:`follow_job_log` yields, woken by ``wakeup``."""
    args = context.args
    pieces = follow_job_log(
        context.events,
        run.run_id,
        args.stage,
        args.job,
        time.sleep,
        interval=WAKEUP_SLICE_SECONDS,
        attempt=args.attempt,
        wakeup=wakeup,
    )
    index = 0
    while True:
        try:
            piece = next(pieces)
        except StopIteration as ended:
            read: AttemptLog = ended.value
            break
        if context.json:
            context.print_json(
                {
                    "run_id": run.run_id,
                    "stage": args.stage,
                    "job": args.job,
                    "piece": index,
                    "text": piece,
                }
            )
        else:
            context.stdout.write(piece)
        context.stdout.flush()
        index += 1
    if not read.ran:
        raise _no_attempt(context, run, read.attempts)


def _no_attempt(context: Context, run: RunDocument, ran: tuple[int, ...]) -> NotFoundError:
    """Return the error of a job's attempt that never ran, naming those that did."""
    args = context.args
    which = "attempt" if args.attempt is None else f"attempt {args.attempt}"
    did = ", ".join(map(str, ran)) or "none"
    return NotFoundError(
        f"{which} of job {args.job!r} in stage {args.stage!r} of run #{run.run_number}"
        f" (attempts that ran: {did})"
    )


def _print_all(
    context: Context, documents: list[D], table: Callable[[Context, list[D]], None]
) -> None:
    """Print ``documents`` as JSON lines, or as the ``table`` for people."""
    if context.json:
        for document in documents:
            context.print_json(document)
    else:
        table(context, documents)


def _repo_configs(context: Context) -> list[RepoConfigDocument]:
    version = context.read_models.active_version(REPO_CONFIGS)
    return [doc.document for _, doc in context.read_models.documents(REPO_CONFIGS, version)]


def _repo_url(context: Context) -> str:
    """Return ``--url``, else the one URL known for the repository name.

    Known from ``repo_configs``, else from the pipeline's latest runs (a repository
    whose pipelines were never validated is in ``jobs_history`` only).
    """
    args = context.args
    return str(args.url or _configured_url(context) or _url_of_runs(context))


def _configured_url(context: Context) -> str | None:
    """Return the one URL ``repo_configs`` knows for the repository name, None if it knows none.

    Raises :class:`ConfigError` (``--url``) if it knows several.
    """
    args = context.args
    urls = sorted({c.repo_url for c in _repo_configs(context) if c.repo_name == args.repo})
    if len(urls) > 1:
        raise ConfigError("--url", "", f"{args.repo!r} names several repositories: {urls}")
    return urls[0] if urls else None


def _run(context: Context) -> RunDocument:
    return find_run(context, context.args.number)


def find_run(context: Context, number: int | None) -> RunDocument:
    """Return run ``number`` of the pipeline the arguments name (None: its latest run).

    Raises :class:`NotFoundError` naming the run or the pipeline when there is none.
    """
    args = context.args
    url = _repo_url(context)
    if number is None:
        latest = context.run_queries.runs(args.repo, url, args.pipeline, limit=1)
        if not latest:
            raise NotFoundError(f"run of pipeline {args.pipeline!r} of {args.repo!r} yet")
        return latest[0]
    run = context.run_queries.run(args.repo, url, args.pipeline, number)
    if run is None:
        raise NotFoundError(f"run #{number} of pipeline {args.pipeline!r} of {args.repo!r}")
    return run


def run_arguments(parser: argparse.ArgumentParser, *, number: bool, latest: bool = False) -> None:
    """Add REPO, PIPELINE, RUN (optional, the latest, if ``latest``) and ``--url``."""
    parser.add_argument("repo", metavar="REPO", help="repository name")
    parser.add_argument("pipeline", metavar="PIPELINE", help="pipeline name")
    if number and latest:
        parser.add_argument(
            "number", metavar="RUN", type=positive, nargs="?", help="run number (default: latest)"
        )
    elif number:
        parser.add_argument("number", metavar="RUN", type=positive, help="run number")
    parser.add_argument(
        "--url", help="repository URL (needed only when several repositories share REPO)"
    )


def configure(parser: argparse.ArgumentParser) -> None:
    """Add one sub-subcommand per view of the read models."""
    views_parser = parser.add_subparsers(dest="view", metavar="VIEW", required=True)

    def add(name: str, show: Show) -> argparse.ArgumentParser:
        summary = (show.__doc__ or "").strip()
        sub = views_parser.add_parser(
            name, help=summary, description=summary, parents=[shared_options(top_level=False)]
        )
        sub.set_defaults(show=show)
        return sub

    add("session", show_session).add_argument("user_id", metavar="USER", help="user id")
    add("repos", show_repos).add_argument(
        "repo", metavar="REPO", nargs="?", help="only this repository name"
    )
    runs = add("runs", show_runs)
    run_arguments(runs, number=False)
    runs.add_argument("--limit", type=positive, default=20, help="at most this many (default 20)")
    run_arguments(add("run", show_run), number=True)
    log = add("log", show_log)
    run_arguments(log, number=True)
    log.add_argument("stage", metavar="STAGE", help="stage name")
    log.add_argument("job", metavar="JOB", help="job name")
    log.add_argument(
        "--attempt",
        metavar="N",
        type=positive,
        help="the log of attempt N of the job: 1 its first try, 2 its first retry … "
        "(default: its latest attempt)",
    )
    log.add_argument(
        "--follow",
        action="store_true",
        help="print the log as it is written, until the attempt ends (Ctrl-C stops)",
    )


def run(context: Context) -> int:
    """Show the read models: a session, repo configs, runs, one run, or one job's log."""
    show: Show = context.args.show
    show(context)
    return 0


COMMAND = Command("show", run, configure, creates_store=False)
