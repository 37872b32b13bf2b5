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
_PIECE: Final = 1024
"""How many characters :func:`_longest_within` measures at a time."""


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

    Costs add up, so the suffix is measured piece by piece from the end, and only the
    piece that crosses the budget is bisected: each character is encoded a bounded
    number of times, however long the text. (Bisecting over the whole suffix encoded it
    again at each of its ~17 steps, for every chunk of a long log.)
    """
    spent = 0
    end = len(text)
    while end > 0:
        start = max(end - _PIECE, 0)
        cost = text_cost(text[start:end])
        if spent + cost > budget:
            return text[_first_fitting(text, start, end, budget - spent) :]
        spent += cost
        end = start
    return text


def _first_fitting(text: str, low: int, end: int, budget: int) -> int:
    """Return the least start in ``low..end`` whose ``text[start:end]`` is within ``budget``.

    ``text[low:end]`` is known not to fit, and the empty ``text[end:end]`` fits.
    """
    high = end  # text[high:end] fits; text[low:end] does not
    while high - low > 1:
        middle = (low + high) // 2
        if text_cost(text[middle:end]) <= budget:
            high = middle
        else:
            low = middle
    return high
