"""``cirec emit``: append events given in their documented JSON form."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TextIO

from cirec.cli.context import Command, Context
from cirec.cli.progress import Progress, Task
from eventstore.errors import ConfigError, UsageError
from eventstore.importer import Rejected, import_lines


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the event argument and ``--file``."""
    parser.add_argument(
        "event",
        nargs="?",
        metavar="JSON",
        help="one event as a JSON object (default: read JSON lines from --file or stdin)",
    )
    parser.add_argument(
        "--file",
        metavar="PATH",
        help="read one event per line from PATH ('-' is stdin)",
    )


def run(context: Context) -> int:
    """Append events given as JSON (an argument, or JSON lines from a file or stdin).

    Each line is validated on its own: a bad line is reported on stderr as
    ``line N: FIELD: PROBLEM`` and nothing from it is stored, while the good lines around
    it are. Events already stored (same ``event_id``) are not stored again. Exits 1 if
    any line was rejected.

    With ``--json``, one object per input line, each naming its ``line``: a rejected
    line (``field``, ``problem``) as soon as it is read, appended events (``event_id``,
    ``stream_id``, ``position``, ``already_stored``) once their batch is stored.
    """
    args = context.args
    if args.event is not None and args.file is not None:
        raise UsageError("--file", args.file, "give either one JSON event or --file, not both")
    lines: Iterable[tuple[int, str]]
    if args.event is not None:
        progress = Progress(context.stderr, unit="events")
        lines = [(1, args.event)]
    elif args.file in (None, "-"):
        progress = Progress(context.stderr, unit="lines", rate_unit="lines/s")
        lines = _numbered(sys.stdin, progress.task("emit"), None)
    else:
        progress = Progress(context.stderr, unit="bytes", rate_unit="B/s")
        lines = _read_file(Path(args.file), progress.task("emit"))
    appended = already = rejected = 0
    for outcome in import_lines(context.events, lines):
        if isinstance(outcome, Rejected):
            rejected += 1
            progress.say(f"line {outcome.line}: {outcome.field}: {outcome.problem}")
            if context.json:
                context.print_json(outcome)
            continue
        already += outcome.already_stored
        appended += not outcome.already_stored
        if context.json:
            context.print_json(outcome)
    progress.finish()
    if not context.json:
        context.out(f"{appended} appended, {already} already stored, {rejected} rejected")
    return 1 if rejected else 0


def _read_file(path: Path, progress: Task) -> Iterator[tuple[int, str]]:
    try:
        size = path.stat().st_size
        stream = path.open(encoding="utf-8")
    except OSError as exc:
        raise ConfigError("--file", str(path), exc.strerror or str(exc)) from None
    with stream:
        yield from _numbered(stream, progress, size)


def _numbered(stream: TextIO, progress: Task, size: int | None) -> Iterator[tuple[int, str]]:
    done = number = 0
    try:
        for number, line in enumerate(stream, start=1):
            yield number, line
            done += len(line.encode()) if size is not None else 1
            progress.advance_to(done, size)
    except UnicodeDecodeError:
        raise ConfigError("input", f"line {number + 1}", "not UTF-8 text") from None


COMMAND = Command("emit", run, configure)
