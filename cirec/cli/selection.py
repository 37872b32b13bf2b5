"""The ``--projection NAME`` option shared by the commands that run projections."""

from __future__ import annotations

import argparse
import difflib
from typing import Any

from projections.catalog import PROJECTIONS
from projections.projection import Projection


def add_projection_option(parser: argparse.ArgumentParser) -> None:
    """Add ``--projection NAME ...``; an unknown name is a usage error naming the closest.

    Names may follow one option or each their own (``--projection a b``, or
    ``--projection a --projection b``).
    """
    parser.add_argument(
        "--projection",
        metavar="NAME",
        nargs="+",
        action="extend",
        type=projection_name,
        help="only these read models: "
        + ", ".join(projection.name for projection in PROJECTIONS)
        + " (default: all)",
    )


def selected(args: argparse.Namespace) -> tuple[Projection[Any], ...]:
    """Return the projections ``--projection`` names, in catalog order; all if none is named."""
    names = set(args.projection or [])
    return tuple(p for p in PROJECTIONS if not names or p.name in names)


def projection_name(text: str) -> str:
    """Return ``text`` if it names a read model; else raise a usage error naming the closest."""
    names = [projection.name for projection in PROJECTIONS]
    if text in names:
        return text
    closest = difflib.get_close_matches(text, names, n=1)
    hint = f"did you mean {closest[0]!r}? " if closest else ""
    raise argparse.ArgumentTypeError(
        f"no read model named {text!r}; {hint}(one of {', '.join(names)})"
    )
