"""The ``cirec`` command: parsing, the store, and how errors end a run.

Conventions every subcommand shares:

* ``--db URL`` picks the store (it overrides ``MONGO_DB_URL``; see :mod:`cirec.config`)
  and ``--json`` makes the output JSON lines; both go before or after the subcommand.
* Results go to stdout, diagnostics to stderr; a URL is only ever printed redacted.
* Exit codes: 0 success, 1 a :class:`CirecError` (one ``cirec: error: …`` line on stderr,
  no traceback), a failed check (``verify``, a rejected line of ``emit``) or a reader
  that closed stdout early, 2 a usage error (argparse's own), 130 an interrupt.
* With ``--json`` an error is also one JSON object on stdout, ``{"error": {…}}``, so a
  machine reading the results reads the failure in the same form.

A subcommand is a :class:`Command` in :data:`COMMANDS`, one module each; :func:`main`
parses the options and hands the command a :class:`Context` whose stores open on first
use, so ``emit`` never opens the read models.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from importlib.metadata import version

from cirec.cli import demo, emit, events, project, rebuild, runs, show, status, watch
from cirec.cli.context import (
    CliParser,
    Command,
    CommandLineError,
    Context,
    Handler,
    shared_options,
)
from cirec.config import Stores, configured_url
from eventstore.codec import dump_json
from eventstore.errors import CirecError, ConfigError, InvalidArgumentError, UsageError
from eventstore.urls import scrub

PROG = "cirec"

COMMANDS: tuple[Command, ...] = (
    demo.COMMAND,
    emit.COMMAND,
    project.COMMAND,
    rebuild.REBUILD,
    rebuild.VERIFY,
    status.COMMAND,
    show.COMMAND,
    runs.COMMAND,
    events.COMMAND,
    watch.COMMAND,
)
"""Every subcommand, in the order ``cirec --help`` lists them."""


def build_parser() -> argparse.ArgumentParser:
    """Return the parser of the whole command line, subcommands included."""
    parser = CliParser(
        prog=PROG,
        description="Record CI/CD events in an immutable log and fold them into read models.",
        parents=[shared_options(top_level=True)],
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {version(PROG)}")
    subcommands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in COMMANDS:
        sub = subcommands.add_parser(
            command.name,
            help=command.help,
            description=command.description,
            formatter_class=argparse.RawDescriptionHelpFormatter,
            parents=[shared_options(top_level=False)],
        )
        sub.set_defaults(run=command.run, creates_store=command.creates_store)
        if command.configure is not None:
            command.configure(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run ``cirec`` on ``argv`` (default: the command line) and return its exit code.

    A usage error gives 2, with the usage; ``--help`` and ``--version`` exit 0. A
    :class:`CirecError` is reported as one ``cirec: error: …`` line on stderr, with any
    password of the store URL masked, and gives 1 (2 for a :class:`UsageError`: a
    URL that does not parse, options that exclude each other); a closed stdout gives 1, silently.
    """
    arguments = sys.argv[1:] if argv is None else argv
    try:
        args = build_parser().parse_args(arguments)
    except CommandLineError as exc:
        sys.stderr.write(f"{exc.usage}{exc.prog}: error: {exc.message}\n")
        if "--json" in arguments:
            print_error_json("UsageError", exc.message, 2)
        return 2
    url = configured_url(args.db)
    try:
        with Stores(url, create=args.creates_store) as stores:
            context = Context(args, stores, sys.stdout, sys.stderr)
            handler: Handler = args.run
            exit_code = handler(context)
            sys.stdout.flush()  # so a closed pipe is noticed here, not at interpreter exit
            return exit_code
    except CirecError as exc:
        message = error_line(exc, url)
        print(f"{PROG}: error: {message}", file=sys.stderr)
        exit_code = 2 if isinstance(exc, UsageError) else 1
        if args.json:
            print_error_json(type(exc).__name__, message, exit_code, _field_of(exc))
        return exit_code
    except BrokenPipeError:
        # The reader of stdout went away (`cirec … | head`): stop quietly, as `cat` does,
        # and keep the interpreter's final flush from failing again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        if args.json:
            print_error_json("Interrupted", "interrupted", 130)
        return 130


def print_error_json(kind: str, message: str, exit_code: int, field: str | None = None) -> None:
    """Print the error as one JSON object on stdout: ``{"error": {type, message, …}}``.

    ``message`` must already be redacted; ``field`` names the offending field or option,
    where the error knows it.
    """
    error = {"type": kind, "message": message, "exit_code": exit_code}
    if field is not None:
        error["field"] = field
    with contextlib.suppress(BrokenPipeError):  # nobody is reading the results any more
        print(dump_json({"error": error}), flush=True)


def _field_of(exc: CirecError) -> str | None:
    """Return the field or setting an error is about, if it names one."""
    if isinstance(exc, InvalidArgumentError):
        return exc.field
    if isinstance(exc, ConfigError):
        return exc.setting
    return None


def error_line(exc: CirecError, url: str) -> str:
    """Return the message of ``exc`` on one line, with the password of ``url`` masked."""
    return scrub(" ".join(str(exc).split()), url)
