"""A CI day, recorded through the :class:`Recorder`: what ``cirec demo`` plays.

Three developers work on two repositories. Pipeline files are validated (one fails
validation first) and activated; seven runs follow on several branches: successes, a
lint job that fails but is allowed to, a failing unit test that fails its stage and
skips the stages after it, and a deploy canceled halfway. Every job logs its output in
chunks. The day's times and ids are fixed (:mod:`cirec.demo.ids`), so playing it again
on the same store stores nothing new, and :mod:`cirec.demo.guard` tells a store that holds
only the demo's events from one that holds anyone else's.
"""

from cirec.demo.day import ACTOR, RUNS, SESSIONS, Repo
from cirec.demo.player import DAY_START, DayClock, PlayedDay, play_day

__all__ = ["ACTOR", "DAY_START", "RUNS", "SESSIONS", "DayClock", "PlayedDay", "Repo", "play_day"]
