"""How much of each job's log a ``jobs_history`` document keeps: a byte budget per job. Pure.

A run's tails together stay within :data:`LOG_TAILS_BUDGET_BYTES` (6 MiB of the 8 MiB
document budget of :mod:`projections.sizes`): each job gets an equal share, at most
:data:`MAX_JOB_TAIL_BYTES` (64 KiB), and the share halves each time the number of jobs
of the run passes a power of two (64 jobs: 64 KiB each; 128: 48 KiB; 2,048: 3 KiB).
Halving in steps, not at every job, means the tails already kept are cut again only
about ten times in a run of 2,000 jobs.

A job's tail is always *the longest suffix of its whole log whose cost is within the
share* (cost: :func:`projections.sizes.text_cost`, the bytes the text takes in a JSON
string, which bounds its UTF-8 too). Cuts fall between characters, never inside one,
and the rule composes: cutting a cut tail, or cutting after each chunk instead of once
at the end, gives the same text. So the tail depends only on the log so far and the
number of jobs, never on how the log was chunked or batched.
"""

from __future__ import annotations

from typing import Final

from projections.sizes import text_cost

LOG_TAILS_BUDGET_BYTES: Final = 6 * 1024 * 1024
"""What the tails of one run may cost in all."""
MAX_JOB_TAIL_BYTES: Final = 64 * 1024
"""What one job's tail may cost, however few jobs its run has."""

_CONTINUATION: Final = 0b1100_0000
_CONTINUATION_BITS: Final = 0b1000_0000


def job_tail_budget(jobs: int) -> int:
    """Return what each job's tail may cost in a run of ``jobs`` jobs (see the module)."""
    share = LOG_TAILS_BUDGET_BYTES // _bucket(jobs)
    return min(MAX_JOB_TAIL_BYTES, share)


def _bucket(jobs: int) -> int:
    """Return the smallest power of two that is at least ``jobs`` (1 for none)."""
    return 1 << max(jobs - 1, 0).bit_length()


def kept_tail(text: str, budget: int) -> str:
    """Return the longest suffix of ``text`` whose :func:`text_cost` is within ``budget``."""
    if budget <= 0:
        return ""
    candidate = text[-budget:]  # every character costs at least a byte
    encoded = candidate.encode("utf-8", "surrogatepass")
    if len(encoded) > budget:
        start = len(encoded) - budget
        while start < len(encoded) and encoded[start] & _CONTINUATION == _CONTINUATION_BITS:
            start += 1  # never start inside a character
        candidate = encoded[start:].decode("utf-8", "surrogatepass")
    return _longest_within(candidate, budget)


def _longest_within(text: str, budget: int) -> str:
    """Return the longest suffix of ``text`` within ``budget``.

    Costs add up, so the text is measured once, and then only the prefix to drop: the
    least prefix whose cost covers the excess (:func:`_excess_prefix`). Each character
    is measured a bounded number of times, however long the text.
    """
    excess = text_cost(text) - budget
    if excess <= 0:
        return text
    return text[_excess_prefix(text, excess) :]


def _excess_prefix(text: str, excess: int) -> int:
    """Return the least ``n`` such that ``text[:n]`` costs at least ``excess`` (> 0).

    ``text`` as a whole costs that much. Every character costs at least one byte, so
    dropping a piece that costs no more than what is still to drop can never drop too
    much: the piece is dropped whole. A piece that costs more is shrunk in proportion,
    down to one character, which then ends the prefix.
    """
    start, left, piece = 0, excess, excess
    while left > 0:
        piece = min(piece, left)
        cost = text_cost(text[start : start + piece])
        if cost <= left:
            start, left, piece = start + piece, left - cost, left - cost
        elif piece == 1:
            return start + 1
        else:
            piece = max(1, piece * left // cost)
    return start
