"""The ``--projection NAME`` option shared by the commands that run projections."""

from __future__ import annotations

import argparse
from typing import Any

from projections.catalog import PROJECTIONS
from projections.projection import Projection


def add_projection_option(parser: argparse.ArgumentParser) -> None:
    """Add ``--projection NAME ...``; an unknown name is a usage error listing the valid ones.

    Names may follow one option or each their own (``--projection a b``, or
    ``--projection a --projection b``).
    """
    parser.add_argument(
        "--projection",
        metavar="NAME",
        nargs="+",
        action="extend",
        choices=[projection.name for projection in PROJECTIONS],
        help="only these read models: "
        + ", ".join(projection.name for projection in PROJECTIONS)
        + " (default: all)",
    )


def selected(args: argparse.Namespace) -> tuple[Projection[Any], ...]:
    """Return the projections ``--projection`` names, in catalog order; all if none is named."""
    names = set(args.projection or [])
    return tuple(p for p in PROJECTIONS if not names or p.name in names)
