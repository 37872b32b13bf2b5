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

from projections.sizes import encoded_cost

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
    """Return the longest suffix of ``text`` whose ``text_cost`` is within ``budget``.

    Measured on its UTF-8, where costs add up byte by byte (``sizes.encoded_cost``): the
    last ``budget`` characters (every character costs at least a byte) are encoded and
    measured once; if they cost too much, the least prefix of their bytes that covers the
    excess is dropped (:func:`_excess_prefix`), then the bytes up to the next character,
    and the rest decoded. Each character is encoded and decoded once, however long the
    text; measuring it as JSON in pieces was most of a catch-up's time.
    """
    if budget <= 0:
        return ""
    candidate = text[-budget:]
    encoded = candidate.encode("utf-8", "surrogatepass")
    excess = encoded_cost(encoded) - budget
    if excess <= 0:
        return candidate
    start = _excess_prefix(encoded, excess)
    while start < len(encoded) and encoded[start] & _CONTINUATION == _CONTINUATION_BITS:
        start += 1  # never start inside a character
    return encoded[start:].decode("utf-8", "surrogatepass")


def _excess_prefix(encoded: bytes, excess: int) -> int:
    """Return the least ``n`` such that ``encoded[:n]`` costs at least ``excess`` (> 0).

    ``encoded`` as a whole costs that much. Every byte costs at least one, so dropping a
    piece that costs no more than what is still to drop never drops too much: the piece
    is dropped whole. A piece that costs more is shrunk in proportion, down to one byte,
    which then ends the prefix. Each step measures at most what is left to drop.
    """
    start, left, piece = 0, excess, excess
    while left > 0:
        piece = min(piece, left)
        cost = encoded_cost(encoded[start : start + piece])
        if cost <= left:
            start, left, piece = start + piece, left - cost, left - cost
        elif piece == 1:
            return start + 1
        else:
            piece = max(1, piece * left // cost)
    return start
