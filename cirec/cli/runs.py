"""``cirec runs``: find runs across pipelines and repositories, newest first."""

from __future__ import annotations

import argparse
import re
from datetime import UTC, datetime, timedelta
from typing import Final

from attrs import frozen

from cirec.cli import views
from cirec.cli.context import Command, Context
from cirec.cli.numbers import positive
from eventstore.catalog import Status
from eventstore.clock import utc_now
from projections.documents import RUNNING
from projections.run_queries import RunFilter

STATUSES: Final = (RUNNING, *(status.value for status in Status))
"""What ``--status`` accepts: a run's stored status."""
_AGE = re.compile(r"(\d+)([mhdw])")
_UNITS: Final = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


@frozen
class Since:
    """A ``--since`` value: a moment, or an age counted back from when the command runs."""

    at: datetime | None = None
    ago: timedelta | None = None

    def moment(self, now: datetime) -> datetime:
        """Return the moment this names, ``ago`` counted back from ``now``."""
        if self.at is not None:
            return self.at
        return now - (self.ago or timedelta(0))


def since(text: str) -> Since:
    """Parse ``--since``: an age (``30m``, ``2h``, ``3d``, ``1w``) or an ISO 8601 time.

    A time without a zone is taken as UTC. Anything else raises a usage error that
    shows both forms.
    """
    age = _AGE.fullmatch(text.strip())
    if age:
        return Since(ago=timedelta(**{_UNITS[age.group(2)]: int(age.group(1))}))
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected an age (30m, 2h, 3d, 1w) or an ISO time (2026-12-03T12:00Z), got {text!r}"
        ) from None
    return Since(at=moment if moment.tzinfo else moment.replace(tzinfo=UTC))


def run_filter(args: argparse.Namespace, now: datetime) -> RunFilter:
    """Return the search the options ask for; ``--since`` ages count back from ``now``."""
    chosen: Since | None = args.since
    return RunFilter(
        repo_name=args.repo,
        repo_url=args.url,
        pipeline_name=args.pipeline,
        branch=args.branch,
        status=args.status,
        commit=args.commit,
        actor=args.actor,
        since=None if chosen is None else chosen.moment(now),
    )


def run(context: Context) -> int:
    """Find runs across pipelines and repositories, newest first (by start time).

    Every option narrows the search; together they must all hold. A status of
    "warning" in the table is a run that succeeded while a job allowed to fail failed
    (--status success finds it). Times are shown relative to now and in UTC; a running
    run's duration is its time so far. --json prints each run's whole document.
    """
    args = context.args
    now = utc_now()
    found = context.run_queries.search(
        run_filter(args, now), skip=(args.page - 1) * args.limit, limit=args.limit
    )
    if context.json:
        for each in found:
            context.print_json(each)
    else:
        views.show_found_runs(context, found, now)
    return 0


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``cirec runs``: one per condition, and the page."""
    parser.add_argument("--repo", metavar="NAME", help="repository name")
    parser.add_argument("--url", metavar="URL", help="repository URL")
    parser.add_argument("--pipeline", metavar="NAME", help="pipeline name")
    parser.add_argument("--branch", metavar="NAME", help="branch name")
    parser.add_argument("--status", choices=STATUSES, help="the run's status")
    parser.add_argument(
        "--commit", metavar="HASH", help="commit hash, or its first characters (a prefix)"
    )
    parser.add_argument("--actor", metavar="NAME", help="who started the run")
    parser.add_argument(
        "--since",
        metavar="WHEN",
        type=since,
        help="started at or after WHEN: an age back from now (30m, 2h, 3d, 1w: minutes, "
        "hours, days, weeks) or an ISO 8601 time (2026-12-03T12:00+01:00; UTC if no zone)",
    )
    parser.add_argument(
        "--limit", metavar="N", type=positive, default=20, help="runs per page (default 20)"
    )
    parser.add_argument(
        "--page", metavar="N", type=positive, default=1, help="which page, from 1 (default 1)"
    )


COMMAND = Command("runs", run, configure, creates_store=False)
