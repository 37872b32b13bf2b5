"""The sections of ``docs/events.md`` on a run's lifecycle rules and the status rule."""

from __future__ import annotations

from eventstore.run_gate import MAX_RACES
from tools.reference.markdown import table

_KEYS = "`data.repo_name` … `data.pipeline_name`"
_RULES = (
    (
        "`RunStarted`",
        'its `event_id` is `uuid5(run_id, "RunStarted")` and its run id has not started; '
        "the same start again is a retry (nothing appended)",
        "`event_id`; `data.run_id` (a run id started with other content)",
    ),
    ("any other event of a run", "its run has started", "`data.run_id`"),
    (
        "anything but `JobLogChunkAppended`",
        "the run has not ended (`RunFinished` or `RunCanceled`)",
        "`type`",
    ),
    ("`StageStarted`", "the stage has not started", "`data.stage_name`"),
    (
        "`JobStarted`",
        "its stage has started and not finished; a new job as `attempt` 1, a job seen "
        "before once its last attempt ended, as the next attempt",
        "`data.stage_name`, `data.job_name`, `data.attempt`",
    ),
    (
        "`JobLogChunkAppended`",
        "its job has started; `attempt` is the job's latest; `chunk_index` is the "
        "attempt's next (0, 1, 2 …), or an index stored with the same text (a retry)",
        "`data.job_name`, `data.attempt`, `data.chunk_index` (a gap, or out of order), "
        "`data.content` (an index stored with other text)",
    ),
    ("`JobFinished`", "the job's latest attempt is running", "`data.job_name`"),
    (
        "`StageFinished`",
        "the stage is running and none of its jobs is; its `status` is the one its jobs give it",
        "`data.stage_name`, `data.status`",
    ),
    (
        "`RunFinished`",
        "repository, URL, branch and pipeline are its `RunStarted`'s; no stage is "
        "running; its `status` is the one its stages give it",
        f"{_KEYS}, `type`, `data.status`",
    ),
    (
        "`RunCanceled`",
        "repository, URL, branch and pipeline are its `RunStarted`'s",
        _KEYS,
    ),
)


def lifecycle_section() -> str:
    """Return the section stating what a run's history allows next, and how it is enforced."""
    rules = table(("event", "accepted when", "refused naming"), _RULES)
    return f"""
## A run's lifecycle

A run's stream is its aggregate. Before an event of a run is appended — by the
recorder's methods, `Recorder.record`, `Recorder.emit` or `cirec emit` alike — the write
side folds the run's `RunStarted` and its stream into the run's state
(`eventstore/run_state.py`), checks the event against it (`eventstore/lifecycle.py`,
`eventstore/run_gate.py`) and refuses what the run's history forbids with a
`LifecycleError`: an `InvalidEventError` that also names the event type and the run,
e.g. `data.status: StageFinished of run 3f…: the jobs of stage 'test' give it 'failed'
(job 'unit' failed)`. Nothing of a refused event is stored. `EventStore.append`, the
log's own port, checks no lifecycle: it stores what it is given.

{rules}

An event that breaks several rules is refused naming the first one broken, in the order
of the table and, within a row, of the fields it names.

Why these choices:

- **Order is the engine's to keep.** A run's events are refused out of order rather than
  reordered: a runner writes one job's output in sequence, and an engine that sent an
  event too early gets an error naming what it must send first, and can send it again
  after. The documents then never depend on arrival order, since only one order is
  stored.
- **Log chunks may come late.** A runner uploads the end of a job's output after it has
  reported the job's end (GitLab's trace upload works that way), so chunks are accepted
  after `JobFinished`, `StageFinished` and the run's end, as long as they continue the
  latest attempt in order. A chunk sent again at its index with the same text is a retry:
  nothing is appended and the receipt says `already_stored`.
- **A status the engine gives is checked, never replaced.** A stage's or run's status
  follows from its parts by the rule below; an engine that says otherwise is refused,
  naming `data.status` and the part that decides it.
- **A `RunStarted`'s id is its run's.** The write side finds a run's start by it, and a
  retried start is the same event whatever the retry sends.

A run is checked against its stream as the store holds it, and the event is appended at
exactly the stream version it was checked against. When another writer appended to the
run in between, the append fails on that version, and the write side reads the run again
and checks again (at most {MAX_RACES} times), so two writers on one run can never both
pass a check that only one of them may. An event retried with the `event_id` it was
stored under is never refused: the write side finds it stored and returns where.

## The status rule

One function, `eventstore/status_rule.py`, used by the write side's checks and by the
`jobs_history` projection alike, as GitLab derives a pipeline's status:

- a job's part in its stage is its latest attempt's status, except that a failure the
  job allows (`allows_failure`) counts as a success (a success with warnings);
- a stage's status is `failed` if one of its jobs' parts is failed, else `canceled` if
  one is not a success, else `success`; a stage without jobs takes the status its
  `StageFinished` gives;
- a run's status is the same composite of its stages'; a run without stages takes the
  status its `RunFinished` gives;
- `RunCanceled` ends every running job as `canceled`; a stage it ends, and the run, are
  `failed` if a failure decides them, else `canceled`. A failure is never hidden by a
  cancel: no accepted sequence of events makes a failed job's failure disappear from its
  stage's and its run's status.
"""
