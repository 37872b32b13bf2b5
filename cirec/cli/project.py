"""``cirec project``: run the projector worker, once or following the log."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from typing import Any

from cirec.cli.context import Command, Context
from cirec.cli.numbers import positive, seconds
from cirec.cli.progress import Progress
from cirec.cli.selection import add_projection_option, selected
from cirec.cli.stopping import stop_on_signals
from eventstore.wakeup import LOOK_EVERY_SECONDS
from projections.presence import Presence
from projections.projection import Projection
from projections.retrying import MAX_DELAY_SECONDS, Outage, Retrier
from projections.unwritable import Unwritable
from projections.worker import DEFAULT_BATCH_SIZE, Projector


def configure(parser: argparse.ArgumentParser) -> None:
    """Add ``--follow``, ``--batch-size`` and ``--projection``."""
    parser.add_argument(
        "--follow",
        action="store_true",
        help="keep folding new events until SIGINT or SIGTERM (default: catch up and exit)",
    )
    parser.add_argument(
        "--batch-size",
        type=positive,
        default=DEFAULT_BATCH_SIZE,
        metavar="N",
        help=f"events folded per batch and projection (default {DEFAULT_BATCH_SIZE}); a stop"
        " request waits for at most one batch",
    )
    parser.add_argument(
        "--look-every",
        type=seconds,
        default=LOOK_EVERY_SECONDS,
        metavar="SECONDS",
        help="with --follow: how often to read the log's head in case a writer could not"
        " announce its append (another machine, an older cirec); appends on this machine"
        f" or server wake the worker at once (default {LOOK_EVERY_SECONDS:g})",
    )
    add_projection_option(parser)


def run(context: Context) -> int:
    """Fold the log into the read models: catch up and exit, or keep following it.

    With ``--follow`` the worker folds new events as writers announce them (and reads
    the head every ``--look-every`` seconds for those that cannot), until it receives
    SIGINT (Ctrl-C) or SIGTERM, says so at once, finishes the batch in hand (an idle
    wait ends at once) and exits 0; a second signal stops it at once (exit 130),
    leaving a claimed batch the next worker folds again. Without it, a signal stops the
    catch-up the same way, with exit 130.

    A fault that can pass (the server down or silent, a full disk) is waited out: one
    line on stderr when it begins, one when the store is back. The worker reports itself
    in the store as it goes, outages included, for ``cirec status`` to show.
    """
    projections = selected(context.args)
    unwritable: dict[tuple[str, str], Unwritable] = {}

    def report(name: str, mark: Unwritable) -> None:
        unwritable[(name, mark.key)] = mark
        if context.args.follow:
            context.diagnose(mark.describe(name))

    names = ", ".join(projection.name for projection in projections)
    if context.args.follow:

        def outage(now: Outage) -> None:
            if now.failures == 1:  # one line an outage; the recovery says how long it was
                context.diagnose(
                    f"store unavailable, retrying with backoff (at most"
                    f" {MAX_DELAY_SECONDS:g} s apart): {now.error}"
                )

        def recovery(past: Outage, now: float) -> None:
            context.diagnose(
                f"store back after {past.lasted(now):.1f} s and {past.failures} failed"
                " tries; following again"
            )

        with stop_on_signals(context.stderr, "the batch in hand") as stop:
            context.diagnose(f"following the log into {names}; SIGINT or SIGTERM stops")
            # A store not reachable yet is waited for, as one lost later is.
            opening: list[tuple[Outage, float]] = []

            def opened(past: Outage, now: float) -> None:
                recovery(past, now)
                opening.append((past, now))

            retrier = Retrier(stop.wait, stop.is_set, on_outage=outage, on_recovery=opened)
            # Reading the checkpoints may create the first versions: a write, so a full disk
            # at start is waited out here too.
            started = retrier.call(lambda: checkpoints(context, projections))
            if started is None:
                context.diagnose("stopped")
                return 0
            projector = Projector(
                context.events,
                context.read_models,
                projections,
                batch_size=context.args.batch_size,
                on_unwritable=report,
            )
            presence = Presence(
                context.read_models, tuple(projection.name for projection in projections)
            )
            report_folded = FoldedReport(context.diagnose, started)
            for past, now in opening:  # the wait for the store counts as an outage too
                presence.on_recovery(past, now)
            with context.events.wakeup(context.args.look_every) as wakeup:
                stop.also(wakeup.interrupt)
                projector.follow(
                    stop.is_set,
                    stop.wait,
                    on_outage=outage,
                    on_recovery=recovery,
                    presence=presence,
                    on_progress=report_folded.folded,
                    wakeup=wakeup,
                )
        context.diagnose("stopped")
    else:
        projector = Projector(
            context.events,
            context.read_models,
            projections,
            batch_size=context.args.batch_size,
            on_unwritable=report,
        )
        head = context.events.head()
        started = checkpoints(context, projections)
        reached = dict(started)
        # A bar per projection: they take turns, so one bar over all of them would go back.
        progress = Progress(context.stderr)
        tasks = {name: progress.task(name, head, start=at) for name, at in started.items()}

        def advance(name: str, position: int) -> None:
            reached[name] = position
            tasks[name].advance_to(position)

        with stop_on_signals(context.stderr, "the batch in hand") as stop:
            projector.catch_up(advance, stop.is_set)
        progress.finish()
        folded = ", ".join(f"{name} {reached[name] - started[name]}" for name in started)
        if stop.is_set():
            context.diagnose(f"stopped before position {head}; events folded: {folded}")
        else:
            context.diagnose(f"caught up to position {head}; events folded: {folded}")
        for (name, _), mark in sorted(unwritable.items()):
            context.diagnose(mark.describe(name))
    for projection in projections:
        version = context.read_models.active_version(projection)
        checkpoint = context.read_models.checkpoint(projection, version)
        not_written = sorted(key for name, key in unwritable if name == projection.name)
        if context.json:
            context.print_json(
                {"projection": projection.name, "checkpoint": checkpoint, "unwritable": not_written}
            )
        elif not_written:
            context.out(
                f"{projection.name}: checkpoint {checkpoint};"
                f" {len(not_written)} documents not written (see cirec verify)"
            )
        else:
            context.out(f"{projection.name}: checkpoint {checkpoint}")
    return 130 if stop.is_set() and not context.args.follow else 0


def checkpoints(context: Context, projections: Sequence[Projection[Any]]) -> dict[str, int]:
    """Return the checkpoint of each projection's active version."""
    store = context.read_models
    return {p.name: store.checkpoint(p, store.active_version(p)) for p in projections}


class FoldedReport:
    """What a following worker says it has folded, on stderr.

    A line at its first batch, then at most one every :data:`REPORT_SECONDS` while it
    folds, none while it idles; each counts the events folded since the last line.
    """

    def __init__(
        self,
        say: Callable[[str], None],
        checkpoints: dict[str, int],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._say = say
        self._clock = clock
        self._reached = dict(checkpoints)
        self._folded = 0
        self._said: float | None = None

    def folded(self, projection: str, checkpoint: int) -> None:
        """Count the batch that took ``projection`` to ``checkpoint``; say so if it is time."""
        self._folded += checkpoint - self._reached.get(projection, checkpoint)
        self._reached[projection] = checkpoint
        now = self._clock()
        if self._said is None or now - self._said >= REPORT_SECONDS:
            reached = ", ".join(f"{name} {at}" for name, at in sorted(self._reached.items()))
            self._say(f"folded {self._folded} events since the last report; at {reached}")
            self._folded = 0
            self._said = now


REPORT_SECONDS = 5.0


COMMAND = Command("project", run, configure)
