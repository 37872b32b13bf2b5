"""What every subcommand is given, and how a subcommand is declared."""

from __future__ import annotations

import argparse
import inspect
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any, NoReturn, TextIO

from attrs import frozen

from cirec.cli.tables import Column, print_table
from cirec.config import Stores
from eventstore.codec import dump_json, json_converter
from eventstore.errors import CirecError
from eventstore.store import EventStore
from eventstore.urls import redact_url
from projections.run_queries import RunQueries
from projections.store import ReadModelStore


class NotFoundError(CirecError):
    """Raised when a command is asked for a document or run that does not exist."""

    def __init__(self, what: str) -> None:
        self.what = what
        super().__init__(f"no {what}")


@frozen
class Context:
    """What a subcommand gets: its options, the stores, and where output goes.

    Each store is opened the first time the command uses it.
    """

    args: argparse.Namespace
    stores: Stores
    stdout: TextIO
    stderr: TextIO

    @property
    def events(self) -> EventStore:
        """The event log (opened on first use)."""
        return self.stores.events

    @property
    def read_models(self) -> ReadModelStore:
        """The read-model store (opened on first use)."""
        return self.stores.read_models

    @property
    def run_queries(self) -> RunQueries:
        """The run queries of ``jobs_history`` (the read-model store, opened on first use)."""
        return self.stores.run_queries

    @property
    def location(self) -> str:
        """The store's URL, redacted: the only form of it a command may print."""
        return self.stores.location

    @property
    def json(self) -> bool:
        """True when results must be JSON lines rather than text for people."""
        return bool(self.args.json)

    def out(self, line: str) -> None:
        """Print one line of result on stdout."""
        print(line, file=self.stdout)

    def diagnose(self, message: str) -> None:
        """Print a diagnostic line on stderr (never a result)."""
        print(message, file=self.stderr)

    def print_json(self, value: Any) -> None:
        """Print ``value`` (attrs instances included) as one line of compact JSON."""
        self.out(dump_json(json_converter.unstructure(value)))

    def print_table(self, columns: Sequence[Column], rows: Iterable[Sequence[str]]) -> None:
        """Print an aligned table for people (see :func:`~cirec.cli.tables.print_table`)."""
        print_table(self.stdout, columns, rows)


Handler = Callable[[Context], int]
"""A subcommand: does its work with the context and returns the exit code."""


@frozen
class Command:
    """A subcommand: its name, the function that runs it, and its own options, if any."""

    name: str
    run: Handler
    configure: Callable[[argparse.ArgumentParser], None] | None = None
    creates_store: bool = True
    """False for a command that only reads: it refuses a store that does not exist yet."""

    @property
    def help(self) -> str:
        """The first line of :attr:`description`."""
        return self.description.partition("\n")[0]

    @property
    def description(self) -> str:
        """The run function's docstring as ``--help`` shows it: without its code marks."""
        return (inspect.getdoc(self.run) or "").replace("``", "")


URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"]+")


class CommandLineError(Exception):
    """A usage error found by the parser: its message (URLs redacted) and the usage to show."""

    def __init__(self, message: str, usage: str, prog: str) -> None:
        self.message = message
        self.usage = usage
        self.prog = prog
        super().__init__(message)


class CliParser(argparse.ArgumentParser):
    """An argument parser whose usage errors never show a password from a URL argument.

    A usage error raises :class:`CommandLineError` instead of exiting, so the caller
    reports it the way it reports every other error (``--json`` included).
    """

    def error(self, message: str) -> NoReturn:
        """Raise :class:`CommandLineError` with ``message``, URLs in it redacted."""
        redacted = URL.sub(lambda match: redact_url(match.group()), message)
        raise CommandLineError(redacted, self.format_usage(), self.prog)


def shared_options(*, top_level: bool) -> CliParser:
    """Return the options every subcommand takes, before or after its name.

    Below the top level they default to "absent", so a subcommand's parser never
    overwrites a value given before the subcommand.
    """

    def default(value: object) -> object:
        return value if top_level else argparse.SUPPRESS

    options = CliParser(add_help=False)
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
