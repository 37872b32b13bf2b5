"""A CI engine driven step by step: ``python -m tests.cli.run_steps URL`` reads one step a
line from stdin, records it through the Recorder, and answers ``ok`` once it is stored.

Steps (words split on spaces)::

    start                       validate the pipeline ``api``/``build`` and start a run
    stage STAGE                 start a stage
    job STAGE JOB [allowed]     start a job (``allowed``: it may fail)
    log STAGE JOB TEXT...       append TEXT and a newline to the job's log
    job-done STAGE JOB STATUS   finish a job
    stage-done STAGE STATUS     finish a stage
    run-done STATUS             finish the run

A test drives it, so what a watcher sees changes exactly when the test says, never on
a timer.
"""

from __future__ import annotations

import sys

from cirec.config import open_store
from eventstore.catalog import Status, Trigger
from eventstore.recorder import Recorder, RunHandle

REPO = "api"
URL = "https://git.example/api.git"
PIPELINE = "build"


def main(url: str) -> None:
    """Record the steps read from stdin into the store at ``url``."""
    with open_store(url) as store:
        recorder = Recorder(store, actor="engine")
        run: RunHandle | None = None
        chunks: dict[tuple[str, str], int] = {}
        for line in sys.stdin:
            step, *words = line.split()
            if step == "start":
                recorder.pipeline_validated(
                    repo_name=REPO,
                    repo_url=URL,
                    branch="main",
                    pipeline_name=PIPELINE,
                    pipeline_file_name=".ci/build.yml",
                    pipeline_config={"stages": ["build"]},
                    commit_hash="9f2c1e7d",
                )
                run = recorder.start_run(
                    repo_name=REPO,
                    repo_url=URL,
                    branch="main",
                    pipeline_name=PIPELINE,
                    commit_hash="9f2c1e7d",
                    pipeline_config={"stages": ["build"]},
                    trigger=Trigger.PUSH,
                )
            elif run is None:
                raise SystemExit(f"{step}: no run started")
            elif step == "stage":
                recorder.start_stage(run, words[0])
            elif step == "job":
                recorder.start_job(run, words[0], words[1], allows_failure=words[2:] == ["allowed"])
            elif step == "log":
                index = chunks.get((words[0], words[1]), 0)
                chunks[(words[0], words[1])] = index + 1
                content = " ".join(words[2:]) + "\n"
                recorder.append_log(run, words[0], words[1], chunk_index=index, content=content)
            elif step == "job-done":
                recorder.finish_job(run, words[0], words[1], Status(words[2]))
            elif step == "stage-done":
                recorder.finish_stage(run, words[0], Status(words[1]))
            elif step == "run-done":
                recorder.finish_run(run, Status(words[0]))
            else:
                raise SystemExit(f"unknown step {step!r}")
            print("ok", flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
