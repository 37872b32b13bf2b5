"""Numbers on the command line: checked by the parser, so a bad one is a usage error."""

from __future__ import annotations

import argparse
import math


def positive(text: str) -> int:
    """Return ``text`` as a whole number of 1 or more; else raise a usage error naming it."""
    return _whole(text, 1)


def not_negative(text: str) -> int:
    """Return ``text`` as a whole number of 0 or more (a position); else a usage error."""
    return _whole(text, 0)


def _whole(text: str, least: int) -> int:
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if number < least:
        raise argparse.ArgumentTypeError(f"must be {least} or more, got {number}")
    return number


def seconds(text: str) -> float:
    """Return ``text`` as a finite number of seconds above 0; else raise a usage error naming it."""
    try:
        number = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not math.isfinite(number) or number <= 0:
        raise argparse.ArgumentTypeError(f"must be a number of seconds above 0, got {text!r}")
    return number
