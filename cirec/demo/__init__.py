"""A CI day, recorded through the :class:`Recorder`: what ``cirec demo`` plays.

Three developers work on two repositories. Pipeline files are validated (one fails
validation first) and activated; seven runs follow on several branches: successes, a
lint job that fails but is allowed to, a failing unit test that fails its stage and
skips the stages after it, and a deploy canceled halfway. Every job logs its output in
chunks. Every event gets a fresh id, so playing the day again records another day next
to the first, with the next run numbers.
"""

from cirec.demo.day import ACTOR, RUNS, SESSIONS, Repo
from cirec.demo.player import DayClock, play_day

__all__ = ["ACTOR", "RUNS", "SESSIONS", "DayClock", "Repo", "play_day"]
