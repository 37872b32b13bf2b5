"""``cirec watch``: one run, live, until it ends.

On a terminal the view is redrawn in place (drawn with ``rich``): the run's outcome and time, each
stage and job with its status and time, and the tail of the log of each running job.
Anywhere else (a pipe, a CI log) it prints one plain line per change instead. The view
reads ``jobs_history``, so it moves only while a projector keeps that read model
current: ``cirec project --follow`` elsewhere, or ``--project`` here. With neither,
it says so rather than wait in silence.
"""

from __future__ import annotations

import argparse
import time
from datetime import datetime
from typing import TYPE_CHECKING, Final

from cirec.cli import show
from cirec.cli.context import Command, Context
from cirec.cli.numbers import seconds
from cirec.cli.outcomes import (
    duration,
    is_over,
    job_elapsed_ms,
    look,
    run_elapsed_ms,
    run_outcome,
)
from eventstore.clock import utc_now
from projections.documents import RUNNING, RunDocument
from projections.jobs_history import JOBS_HISTORY
from projections.store import ReadModelStore
from projections.worker import Projector

if TYPE_CHECKING:
    from rich.console import RenderableType

INTERVAL_SECONDS: Final = 0.5
"""How often the run is read again."""
PRESENCE_SECONDS: Final = 1.0
"""How often the workers' reports are read again while the run has not ended; no
projector is reported missing before two looks in a row have found none (a worker
started just before the watcher may not have reported itself yet)."""
LOG_LINES: Final = 8
"""How many lines of each running job's log the live view shows."""
_HOME, _CLEAR_LINE, _CLEAR_BELOW = "\x1b[H", "\x1b[K", "\x1b[J"
_HIDE_CURSOR, _SHOW_CURSOR = "\x1b[?25l", "\x1b[?25h"
NO_PROJECTOR: Final = (
    "no projector is following jobs_history, so this view will not change;"
    " start `cirec project --follow` or pass --project"
)


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the run's arguments, ``--exit-status``, ``--project`` and ``--interval``."""
    show.run_arguments(parser, number=True, latest=True)
    parser.add_argument(
        "--exit-status",
        action="store_true",
        help="exit 1 if the run did not succeed (default: 0 once it has ended)",
    )
    parser.add_argument(
        "--project",
        action="store_true",
        help="fold new events into jobs_history here, for when no projector runs",
    )
    parser.add_argument(
        "--interval",
        type=seconds,
        default=INTERVAL_SECONDS,
        metavar="SECONDS",
        help=f"how often to look again (default {INTERVAL_SECONDS:g})",
    )


def projector_following(store: ReadModelStore, now: datetime) -> bool:
    """Tell whether some worker reports that it follows ``jobs_history`` now."""
    return any(
        JOBS_HISTORY.name in report.projections and report.state(now) == "following"
        for report in store.worker_reports()
    )


def run(context: Context) -> int:
    """Watch a run live, until it ends (RUN defaults to the pipeline's latest run).

    On a terminal the view is redrawn in place; piped, it prints a line per change;
    with --json, the run's document as one JSON line each time it changes.
    Without --exit-status it exits 0 once the run has ended; with it, 1 unless the
    run succeeded (a success with warnings is a success). Ctrl-C stops watching.
    """
    args = context.args
    projector = (
        Projector(context.events, context.read_models, [JOBS_HISTORY]) if args.project else None
    )
    if projector is not None:
        projector.catch_up()  # so a run the log holds is found even if nothing folded it yet
    current = show.find_run(context, args.number)
    view: View
    if context.json:
        view = JsonView(context)
    elif context.stdout.isatty():
        view = LiveView(context)
    else:
        view = PlainView(context)
    try:
        current = _follow(context, current, projector, view)
    finally:  # an interrupt too: the last state stays on the screen, the cursor comes back
        view.close(current, utc_now())
    if args.exit_status and run_outcome(current) not in ("success", "success with warnings"):
        return 1
    return 0


def _follow(
    context: Context,
    current: RunDocument,
    projector: Projector | None,
    view: View,
) -> RunDocument:
    """Show ``current`` and its later states until it ends."""
    args = context.args
    presence_checked: datetime | None = None
    missed = 0  # looks in a row that found no projector
    while True:
        now = utc_now()
        if (
            projector is None
            and not is_over(current)
            and (
                presence_checked is None
                or (now - presence_checked).total_seconds() >= PRESENCE_SECONDS
            )
        ):
            presence_checked = now
            missed = 0 if projector_following(context.read_models, now) else missed + 1
        view.show(current, now, NO_PROJECTOR if missed >= 2 else None)
        if is_over(current):
            return current
        time.sleep(args.interval)
        if projector is not None:
            projector.catch_up()
        current = _reread(context, current)


def _reread(context: Context, current: RunDocument) -> RunDocument:
    """Return the run as ``jobs_history`` holds it now (as before, if it is gone)."""
    again = context.run_queries.run(
        current.repo_name, current.repo_url, current.pipeline_name, current.run_number
    )
    return again if again is not None else current


class View:
    """Where the states of the run go, one after the other."""

    def show(self, run: RunDocument, now: datetime, warning: str | None) -> None:
        """Show the run as it is at ``now``, with ``warning`` if there is one."""
        raise NotImplementedError

    def close(self, run: RunDocument, now: datetime) -> None:
        """Show the last state and end the view."""
        raise NotImplementedError


def heading(run: RunDocument, now: datetime) -> str:
    """Return the one line that names the run and says how it stands."""
    outcome = run_outcome(run)
    return (
        f"{look(outcome).icon} run #{run.run_number} of {run.repo_name} {run.pipeline_name}"
        f" on {run.branch} at {run.git_commit_hash[:12]}: {outcome}"
        f" ({'running for ' if not is_over(run) else ''}{duration(run_elapsed_ms(run, now))})"
        + (f" ({run.cancel_reason})" if run.cancel_reason else "")
    )


class PlainView(View):
    """One plain line per change: the run's heading once, then each stage and job as it moves."""

    def __init__(self, context: Context) -> None:
        self._context = context
        self._seen: dict[tuple[str, ...], str] = {}
        self._warned: str | None = None

    def show(self, run: RunDocument, now: datetime, warning: str | None) -> None:
        """Print the heading the first time, then a line for each status that changed."""
        if warning != self._warned:
            if warning is not None:
                self._context.diagnose(f"cirec: warning: {warning}")
            self._warned = warning
        if not self._seen:
            self._line(heading(run, now))
            self._seen[()] = run.status
        for stage in run.logs.values():
            over = stage.stage_status != RUNNING
            if not over:  # a stage starts before its jobs and ends after them
                self._changed(("stage", stage.stage_name), stage.stage_status, stage.stage_name)
            for job in stage.jobs.values():
                tolerated = job.allows_failure and job.job_status == "failed"
                took = ""
                if job.job_status != RUNNING:
                    took = f" in {duration(job_elapsed_ms(job, now))}"
                self._changed(
                    ("job", stage.stage_name, job.job_name),
                    job.job_status,
                    f"{stage.stage_name} / {job.job_name}",
                    (" (allowed to fail)" if tolerated else "") + took,
                )
            if over:
                self._changed(("stage", stage.stage_name), stage.stage_status, stage.stage_name)

    def close(self, run: RunDocument, now: datetime) -> None:
        """Print the run's outcome, once it has one."""
        self.show(run, now, None)
        if is_over(run):
            self._line(heading(run, now))
        self._context.stdout.flush()

    def _changed(self, key: tuple[str, ...], status: str, name: str, extra: str = "") -> None:
        if self._seen.get(key) != status:
            self._seen[key] = status
            self._line(f"{look(status).icon} {name}: {status}{extra}")

    def _line(self, text: str) -> None:
        self._context.out(text)
        self._context.stdout.flush()


class JsonView(View):
    """The run's document as one JSON line each time it changes (``--json``)."""

    def __init__(self, context: Context) -> None:
        self._context = context
        self._last: RunDocument | None = None
        self._warned: str | None = None

    def show(self, run: RunDocument, now: datetime, warning: str | None) -> None:
        """Print the document if it differs from the last one printed; warnings on stderr."""
        if warning != self._warned and warning is not None:
            self._context.diagnose(f"cirec: warning: {warning}")
        self._warned = warning
        if run != self._last:
            self._last = run
            self._context.print_json(run)
            self._context.stdout.flush()

    def close(self, run: RunDocument, now: datetime) -> None:
        """Print the last state, if it is new."""
        self.show(run, now, None)


class LiveView(View):
    """The run redrawn in place on the terminal, from the top of the screen (as ``watch(1)``)."""

    def __init__(self, context: Context) -> None:
        from rich.console import Console  # imported by the CLI only, never by the Recorder

        self._stdout = context.stdout
        self._console = Console(file=context.stdout)
        self._stdout.write(_HIDE_CURSOR + _HOME + _CLEAR_BELOW)

    def show(self, run: RunDocument, now: datetime, warning: str | None) -> None:
        """Redraw the whole view: each line over the last frame's, then clear what is left."""
        with self._console.capture() as captured:
            self._console.print(self._renderable(run, now, warning))
        lines = captured.get().splitlines()
        self._stdout.write(_HOME + "".join(line + _CLEAR_LINE + "\n" for line in lines))
        self._stdout.write(_CLEAR_BELOW)
        self._stdout.flush()

    def close(self, run: RunDocument, now: datetime) -> None:
        """Draw the last state, leave it on the screen and show the cursor again."""
        self.show(run, now, None)
        self._stdout.write(_SHOW_CURSOR)
        self._stdout.flush()

    def _renderable(self, run: RunDocument, now: datetime, warning: str | None) -> RenderableType:
        from rich.console import Group
        from rich.table import Table
        from rich.text import Text

        outcome = run_outcome(run)
        parts: list[RenderableType] = [Text(heading(run, now), style=f"bold {look(outcome).style}")]
        table = Table(box=None, pad_edge=False, show_edge=False)
        for title in ("stage", "job", "status", "time"):
            table.add_column(title, no_wrap=True, justify="right" if title == "time" else "left")
        tails: list[tuple[str, str]] = []
        for stage in run.logs.values():
            stage_cell = Text(f"{look(stage.stage_status).icon} {stage.stage_name}")
            stage_cell.stylize(look(stage.stage_status).style)
            for index, job in enumerate(stage.jobs.values()):
                status = job.job_status
                if job.allows_failure and status == "failed":
                    status = "failed (allowed)"
                table.add_row(
                    stage_cell if index == 0 else "",
                    job.job_name,
                    Text(f"{look(job.job_status).icon} {status}", style=look(job.job_status).style),
                    duration(job_elapsed_ms(job, now)),
                )
                if job.job_status == RUNNING and job.job_logs:
                    tails.append((f"{stage.stage_name} / {job.job_name}", job.job_logs))
            if not stage.jobs:
                table.add_row(stage_cell, "", "", "")
        parts.append(table)
        for name, log in tails:
            lines = log.rstrip("\n").splitlines()[-LOG_LINES:]
            parts.append(Text(f"── log of {name} (last {len(lines)} lines) ──", style="dim"))
            parts.append(Text("\n".join(lines)))
        if warning is not None:
            parts.append(Text(f"warning: {warning}", style="bold yellow"))
        return Group(*parts)


COMMAND = Command("watch", run, configure, creates_store=False)
