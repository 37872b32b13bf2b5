"""The ``cirec`` command: a thin layer over the library, one function per subcommand.

Conventions every subcommand shares:

* ``--db URL`` picks the store (it overrides ``MONGO_DB_URL``; see :mod:`eventstore.config`)
  and ``--json`` makes the output JSON lines; both go before or after the subcommand.
* Results go to stdout, diagnostics to stderr; a URL is only ever printed redacted.
* Exit codes: 0 success, 1 a :class:`CirecError` (one ``cirec: error: …`` line on stderr,
  no traceback) or a reader that closed stdout early, 2 a usage error (argparse's own).

A subcommand is a function ``run(context) -> exit code`` plus an entry in :data:`COMMANDS`;
:func:`main` parses the options, opens the store and hands the function a :class:`Context`.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Iterable
from importlib.metadata import version
from typing import TextIO

from attrs import frozen

from eventstore.codec import dump_json, recorded_to_json
from eventstore.config import configured_url, open_store, redact_url, url_password
from eventstore.demo import ACTOR, play_demo
from eventstore.errors import CirecError
from eventstore.recorder import Recorder
from eventstore.records import RecordedEvent
from eventstore.store import EventStore
from eventstore.tables import EVENT_COLUMNS, event_row, render_table

PROG = "cirec"


@frozen
class Context:
    """What a subcommand gets: its options, the open store, and where output goes."""

    args: argparse.Namespace
    store: EventStore
    location: str
    """The store's URL, redacted: the only form of it a command may print."""
    stdout: TextIO
    stderr: TextIO

    @property
    def json(self) -> bool:
        """True when results must be JSON lines rather than text for people."""
        return bool(self.args.json)

    def print_events(self, events: Iterable[RecordedEvent]) -> int:
        """Print ``events`` as a table, or one JSON object per line; return how many."""
        listed = list(events)
        if self.json:
            lines = [dump_json(recorded_to_json(event)) for event in listed]
        else:
            lines = render_table(EVENT_COLUMNS, [event_row(event) for event in listed])
        for line in lines:
            print(line, file=self.stdout)
        return len(listed)

    def diagnose(self, message: str) -> None:
        """Print a diagnostic line on stderr (never a result)."""
        print(message, file=self.stderr)


Handler = Callable[[Context], int]
"""A subcommand: does its work with the context and returns the exit code."""


@frozen
class Command:
    """A subcommand: its name, the function that runs it, and its own options, if any."""

    name: str
    run: Handler
    configure: Callable[[argparse.ArgumentParser], None] | None = None

    @property
    def help(self) -> str:
        """The first line of the run function's docstring."""
        return (self.run.__doc__ or "").strip().partition("\n")[0]


# -- the subcommands --------------------------------------------------------------------


def run_demo(context: Context) -> int:
    """Record a scripted CI session (a session, a pipeline, two runs) and print its events."""
    head_before = context.store.head()
    receipts = play_demo(Recorder(context.store, actor=ACTOR))
    ours = {receipt.event_id for receipt in receipts}
    # Other writers may append meanwhile: show exactly the events the demo stored.
    stored = (e for e in context.store.read_all(after=head_before) if e.event_id in ours)
    count = context.print_events(stored)
    if not context.json:
        context.diagnose(
            f"{count} events stored in {context.store.backend} store at {context.location}"
        )
    return 0


COMMANDS: tuple[Command, ...] = (Command("demo", run_demo),)
"""Every subcommand, in the order ``cirec --help`` lists them."""


# -- parsing and running ----------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """Return the parser of the whole command line, subcommands included."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Record CI/CD events in an immutable log and fold them into read models.",
        parents=[_shared_options(top_level=True)],
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {version(PROG)}")
    subcommands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in COMMANDS:
        sub = subcommands.add_parser(
            command.name,
            help=command.help,
            description=command.help,
            parents=[_shared_options(top_level=False)],
        )
        sub.set_defaults(run=command.run)
        if command.configure is not None:
            command.configure(sub)
    return parser


def _shared_options(*, top_level: bool) -> argparse.ArgumentParser:
    """Return the options every subcommand takes, before or after its name.

    Below the top level they default to "absent", so a subcommand's parser never
    overwrites a value given before the subcommand.
    """

    def default(value: object) -> object:
        return value if top_level else argparse.SUPPRESS

    options = argparse.ArgumentParser(add_help=False)
    options.add_argument(
        "--db",
        metavar="URL",
        default=default(None),
        help="store URL: mongodb://…, mongodb+srv://… or sqlite:///path "
        "(default: $MONGO_DB_URL, else the embedded SQLite file)",
    )
    options.add_argument(
        "--json",
        action="store_true",
        default=default(False),
        help="print results as JSON lines, one object per line",
    )
    return options


def main(argv: list[str] | None = None) -> int:
    """Run ``cirec`` on ``argv`` (default: the command line) and return its exit code.

    Usage errors, ``--help`` and ``--version`` exit through argparse (2, 0, 0). A
    :class:`CirecError` is reported as one ``cirec: error: …`` line on stderr, with any
    password of the store URL masked, and gives 1; so does a closed stdout, silently.
    """
    args = build_parser().parse_args(argv)
    url = configured_url(args.db)
    try:
        with open_store(url) as store:
            context = Context(args, store, redact_url(url), sys.stdout, sys.stderr)
            handler: Handler = args.run
            status = handler(context)
            sys.stdout.flush()  # so a closed pipe is noticed here, not at interpreter exit
            return status
    except CirecError as exc:
        print(f"{PROG}: error: {error_line(exc, url)}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # The reader of stdout went away (`cirec … | head`): stop quietly, as `cat` does,
        # and keep the interpreter's final flush from failing again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


def error_line(exc: CirecError, url: str) -> str:
    """Return the message of ``exc`` on one line, with the password of ``url`` masked."""
    message = " ".join(str(exc).split())
    secret = url_password(url)
    return message.replace(secret, "***") if secret else message


if __name__ == "__main__":
    raise SystemExit(main())
