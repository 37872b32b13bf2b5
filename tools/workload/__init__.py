"""The one seeded CI workload: the benchmark's load and the tests' long logs.

A :class:`Workload` yields appends run by run, so memory stays flat however long the log.
Per run: a session access, a pipeline validation (a few of them failed first), the
``RunStarted`` alone (at its run number's expected version), then one append per stage:
its ``StageStarted``, each job's ``JobStarted``, log chunks and ``JobFinished``, and its
``StageFinished``; the run's end goes with its last stage. Each new repository branch
first gets a session opening, a validation and an activation of every pipeline. Some jobs
fail (some of those allowed to), and some runs are canceled with a job still running.

A :class:`Shape` says what the runs look like: :data:`BENCHMARK` is a realistic load
(GitLab-sized logs, section markers); :data:`TRICKY` is small and full of the names users
pick that a store must keep exactly (``$where``, ``deploy.prod``, an empty job name).
The same seed and shape give the same events, ids and times included.
"""

from tools.workload.generator import Append, Workload
from tools.workload.shapes import BENCHMARK, TRICKY, Shape

__all__ = ["BENCHMARK", "TRICKY", "Append", "Shape", "Workload"]
