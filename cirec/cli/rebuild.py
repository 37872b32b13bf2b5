"""``cirec rebuild`` and ``cirec verify``: replay the log into, or against, the read models."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from cirec.cli.context import Command, Context
from cirec.cli.progress import Progress, Task
from cirec.cli.selection import add_projection_option, selected
from projections.projection import Projection
from projections.rebuild import Difference, rebuild, verify
from projections.unwritable import Unwritable


def run_rebuild(context: Context) -> int:
    """Replay the whole log into fresh read models and switch to them when caught up.

    Readers keep seeing the old version until the switch; a running ``cirec project``
    moves over to the new version by itself.
    """
    progress = Progress(context.stderr)
    rebuilt: list[tuple[Projection[Any], str, dict[tuple[str, str], Unwritable]]] = []
    for projection in selected(context.args):
        unwritable: dict[tuple[str, str], Unwritable] = {}
        version = rebuild(
            context.events,
            context.read_models,
            projection,
            on_progress=_reporting_to(progress.task(projection.name)),
            on_unwritable=_collecting_in(unwritable),
        )
        rebuilt.append((projection, version, unwritable))
    progress.finish()  # the bars end before the results, which may share their terminal
    for projection, version, unwritable in rebuilt:
        for (name, _), mark in sorted(unwritable.items()):
            context.diagnose(mark.describe(name))
        checkpoint = context.read_models.checkpoint(projection, version)
        if context.json:
            context.print_json(
                {"projection": projection.name, "version": version, "checkpoint": checkpoint}
            )
        else:
            context.out(f"{projection.name}: rebuilt as {version} up to position {checkpoint}")
    return 0


def run_verify(context: Context) -> int:
    """Compare each stored document with a replay of the log; exit 1 if any differs.

    Only the part of the log a read model has folded (up to its checkpoint) is replayed,
    so a projector that is behind is not a difference. A document that could not be
    written (over the size budget) is a difference too, named with its size and limit,
    and so is a stored value a query matches on that its document does not give (a
    column of the embedded store, say), named with both values. Each difference names
    the fields that differ; each projection ends with its count
    (with ``--json`` too, so success prints something a machine can read).
    """
    differing = 0
    for projection in selected(context.args):
        differences = verify(context.events, context.read_models, projection)
        differing += len(differences)
        for difference in differences:
            if context.json:
                context.print_json(
                    {
                        "projection": projection.name,
                        "difference": difference,
                        "fields": difference.fields,
                    }
                )
            elif difference.unwritable is not None:
                mark = difference.unwritable.describe(projection.name)
                context.out("; ".join([mark, *_mismatches(difference)]))
            else:
                context.out(f"{projection.name}: {_described(difference)}")
        if context.json:
            context.print_json({"projection": projection.name, "differing": len(differences)})
        else:
            noun = "document differs" if len(differences) == 1 else "documents differ"
            context.out(f"{projection.name}: {len(differences)} {noun}")
    return 1 if differing else 0


def _described(difference: Difference) -> str:
    """Return what is wrong with one document, naming the fields that differ.

    A stored query value its document does not give is named with both values:
    ``document '…' column run_number holds 3, its document 1``.
    """
    mismatches = _mismatches(difference)
    if difference.stored is None:
        first = f"document {difference.key!r} is missing"
    elif difference.replayed is None:
        first = f"document {difference.key!r} should not exist"
    elif difference.fields or not mismatches:
        first = f"document {difference.key!r} differs in {', '.join(difference.fields)}"
    else:
        first = f"document {difference.key!r} {mismatches.pop(0)}"
    return "; ".join([first, *mismatches])


def _mismatches(difference: Difference) -> list[str]:
    return [mismatch.describe() for mismatch in difference.mismatches]


def _collecting_in(
    found: dict[tuple[str, str], Unwritable],
) -> Callable[[str, Unwritable], None]:
    """Return a reporter keeping the latest mark of each (projection, key) in ``found``."""

    def collect(name: str, mark: Unwritable) -> None:
        found[(name, mark.key)] = mark

    return collect


def _reporting_to(task: Task) -> Callable[[str, int, int], None]:
    """Return a rebuild's progress callback moving ``task`` to each checkpoint, of the head."""
    return lambda _name, position, head: task.advance_to(position, head)


def _configure(parser: argparse.ArgumentParser) -> None:
    add_projection_option(parser)


REBUILD = Command("rebuild", run_rebuild, _configure)
VERIFY = Command("verify", run_verify, _configure, creates_store=False)
