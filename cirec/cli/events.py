"""``cirec events``: browse the event log, oldest first after a position, or follow it."""

from __future__ import annotations

import argparse
import itertools
import json
import time
from collections.abc import Callable, Iterator
from typing import Any, Final

from attrs import frozen

from cirec.cli.context import Command, Context
from cirec.cli.numbers import not_negative, positive, seconds
from cirec.cli.tables import Column, fixed_line
from eventstore.catalog import EVENT_TYPES
from eventstore.codec import recorded_to_json
from eventstore.errors import UsageError
from eventstore.records import RecordedEvent
from eventstore.store import EventStore
from eventstore.wakeup import Wakeup

EVENT_COLUMNS: Final = (
    Column("position", 10, numeric=True),
    Column("recorded at", 27, fixed=True),
    Column("type", 24),
    Column("stream", 48),
    Column("summary", 80),
)
_TEXT_SHOWN: Final = 40
"""How many characters of a string value a summary shows."""
LIMIT: Final = 50
"""How many events a page shows when --limit is not given."""
INTERVAL_SECONDS: Final = 0.25
"""How often --follow reads the head of the log for appends no writer announced."""
WAKEUP_SLICE_SECONDS: Final = 3600.0
"""The longest one wait of --follow on the store's wake-up (it reads on after it)."""


@frozen
class EventFilter:
    """Which events to browse: those of one stream, of one type, or both (None: any)."""

    stream_id: str | None = None
    type: str | None = None

    def keeps(self, event: RecordedEvent) -> bool:
        """Tell whether ``event`` is one this filter asks for."""
        return self.type in (None, event.type) and self.stream_id in (None, event.stream_id)


def events_after(store: EventStore, after: int, where: EventFilter) -> Iterator[RecordedEvent]:
    """Yield the events ``where`` keeps at positions above ``after``, oldest first.

    Lazy: it reads the log (or the one stream ``where`` names) only as far as it is
    consumed, so taking a page reads about a page. It ends at the head of the log as it
    stands when it gets there (:func:`follow_events` reads on from there). A type is
    checked on each event as the log is read in order: a rare type costs a walk through
    the events between its occurrences, not a query of its own.
    """
    if where.stream_id is not None:
        found: Iterator[RecordedEvent] = (
            e for e in store.read_stream(where.stream_id) if e.position > after
        )
    else:
        found = store.read_all(after)
    return (event for event in found if where.keeps(event))


def follow_events(
    store: EventStore,
    after: int,
    where: EventFilter,
    wait: Callable[[float], object],
    interval: float = INTERVAL_SECONDS,
    wakeup: Wakeup | None = None,
) -> Iterator[RecordedEvent]:
    """Yield what :func:`events_after` yields, then each matching event as it is appended.

    It never ends by itself (an interrupt in ``wait`` ends it). Each event comes once,
    in position order. Each read starts after the last event read, kept or not: after
    its position in the log, or after its version in the one stream ``where`` names, so
    nothing is read twice, a rare type included. Once a read reaches the head of the log
    it calls ``wait(interval)`` and reads on; given a ``wakeup``, it waits on that
    instead, until the log grows past the head read before that read (a writer's
    notice, or the wake-up's own look every ``look_every`` seconds). The store's
    contract (an event at position p is visible only once every event before p is) is
    what makes a position a safe place to resume.
    """
    position, version = after, 0
    while True:
        mark = store.head() if wakeup is not None else 0  # a read that ends finds it at least
        if where.stream_id is None:
            found = store.read_all(position)
        else:
            found = store.read_stream(where.stream_id, after_version=version)
        for event in found:
            version = event.stream_version
            if event.position <= position:
                continue  # in the one stream: at or before --after
            position = event.position
            if where.keeps(event):
                yield event
        if wakeup is None:
            wait(interval)
        else:
            wakeup.wait(mark, WAKEUP_SLICE_SECONDS)


def summary(event: RecordedEvent) -> str:
    """Return the event's data on one line for people: ``key=value`` pairs, long values cut.

    A string the stream id already shows (a run's id in its run's stream, a repository's
    name and URL in its stream) is left out. A string longer than 40 characters shows
    its start and its length; a list or a map shows how many items it holds.
    """
    return " ".join(
        f"{key}={_shown(value)}"
        for key, value in event.data.items()
        if not (isinstance(value, str) and json.dumps(value, ensure_ascii=False) in event.stream_id)
    )


def _shown(value: Any) -> str:
    if isinstance(value, str):
        if len(value) > _TEXT_SHOWN:
            return f"{value[:_TEXT_SHOWN]!r}…({len(value)} chars)"
        return repr(value)
    if isinstance(value, dict):
        return f"{{{len(value)} keys}}"
    if isinstance(value, list | tuple):
        return f"[{len(value)} items]"
    return str(value)


def row(event: RecordedEvent) -> list[str]:
    """Return the table row of one event."""
    return [
        str(event.position),
        f"{event.recorded_at:%Y-%m-%d %H:%M:%S.%f}"[:-3] + " UTC",
        event.type,
        event.stream_id,
        summary(event),
    ]


def run(context: Context) -> int:
    """Browse the event log: the events after a position, oldest first.

    --stream and --type narrow it to one stream, one event type, or both. Times are the
    store's (recorded_at), in UTC. --json prints each event in its documented JSON form
    (docs/events.md), the form cirec emit reads. To read on, pass the last position
    shown as --after.

    --follow prints every matching event after --after, then each new one as it is
    appended, a line at a time, until Ctrl-C (exit 130). It takes no --limit: start it
    later with --after instead. Its table has fixed-width columns and one header.
    """
    args = context.args
    where = EventFilter(stream_id=args.stream, type=args.type)
    if args.follow:
        if args.limit is not None:
            raise UsageError(
                "--limit",
                str(args.limit),
                "--follow prints every matching event; start later with --after instead",
            )
        _follow(context, where)
        return 0  # never reached: following ends by an interrupt
    limit = LIMIT if args.limit is None else args.limit
    page = list(itertools.islice(events_after(context.events, args.after, where), limit))
    if context.json:
        for event in page:
            context.print_json(recorded_to_json(event))
    else:
        context.print_table(EVENT_COLUMNS, [row(event) for event in page])
    return 0


def _follow(context: Context, where: EventFilter) -> None:
    """Print the matching events as they come, each flushed at once, until interrupted."""
    args = context.args
    if not context.json:
        context.out(fixed_line(EVENT_COLUMNS, [column.title for column in EVENT_COLUMNS]))
        context.stdout.flush()
    with context.events.wakeup(args.interval) as wakeup:
        followed = follow_events(context.events, args.after, where, time.sleep, wakeup=wakeup)
        for event in followed:
            if context.json:
                context.print_json(recorded_to_json(event))
            else:
                context.out(fixed_line(EVENT_COLUMNS, row(event)))
            context.stdout.flush()


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``cirec events``."""
    parser.add_argument("--stream", metavar="ID", help="only the events of this stream")
    parser.add_argument(
        "--type", metavar="TYPE", choices=sorted(EVENT_TYPES), help="only events of this type"
    )
    parser.add_argument(
        "--after",
        metavar="POS",
        type=not_negative,
        default=0,
        help="only events at positions above POS (default 0: from the start)",
    )
    parser.add_argument(
        "--limit",
        metavar="N",
        type=positive,
        help=f"at most N events (default {LIMIT}); not with --follow, which prints them all",
    )
    parser.add_argument(
        "--follow",
        action="store_true",
        help="then keep printing new matching events as they are appended, until Ctrl-C",
    )
    parser.add_argument(
        "--interval",
        metavar="SECONDS",
        type=seconds,
        default=INTERVAL_SECONDS,
        help="with --follow: how often to look for new events no writer announced; appends"
        f" on this machine or server show at once (default {INTERVAL_SECONDS:g})",
    )


COMMAND = Command("events", run, configure, creates_store=False)
