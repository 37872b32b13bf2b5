"""``cirec project --follow`` is woken by another process's append, not by a poll, and a
signal ends its idle wait at once.

The worker's fallback look is set to 600 s (``--look-every``), far beyond each bounded
wait here, so only a writer's notice can make it fold an append made while it idles.
Nothing is timed: each wait is bounded only so that a broken wake-up fails, not hangs.
"""

from __future__ import annotations

import signal
import subprocess
import sys

from tests.cli.helpers import ROOT, clean_env, command
from tests.cli.test_follow import open_session, wait_for_commit
from tests.faults.processes import Worker

NEVER = "600"
BOUND_SECONDS = 20.0
_APPEND = """
import sys
from tests.cli.test_follow import open_session
open_session(sys.argv[1], sys.argv[2])
"""


def append_elsewhere(url: str, commit: str) -> None:
    """Open ada's session at ``commit`` from a process of its own (neither test nor worker)."""
    subprocess.run(
        [sys.executable, "-c", _APPEND, url, commit],
        cwd=ROOT,
        env=clean_env(),
        check=True,
        timeout=BOUND_SECONDS * 3,
    )


def test_a_following_worker_folds_each_append_of_another_process_without_polling(
    store_url: str,
) -> None:
    worker = Worker(
        command(
            "--db", store_url, "project", "--follow", "--projection", "sessions",
            "--look-every", NEVER,
        )
    )  # fmt: skip
    try:
        open_session(store_url, "c0")
        wait_for_commit(store_url, "c0", worker.process)  # past its first pass: it idles
        # Each round: an append while the worker idles (or is about to), folded only if
        # the append's notice woke it; three rounds leave no room for a lucky pass.
        for commit in ("c1", "c2", "c3"):
            append_elsewhere(store_url, commit)
            wait_for_commit(store_url, commit, worker.process)
    finally:
        text = worker.finish(stop=True)
    assert "Traceback" not in text


def test_a_signal_ends_an_idle_wait_at_once(store_url: str) -> None:
    worker = Worker(
        command(
            "--db", store_url, "project", "--follow", "--projection", "sessions",
            "--look-every", NEVER,
        )
    )  # fmt: skip
    try:
        open_session(store_url, "c0")
        wait_for_commit(store_url, "c0", worker.process)
        worker.process.send_signal(signal.SIGTERM)
        worker.process.wait(timeout=BOUND_SECONDS)  # not the 600 s of the look
    finally:
        if worker.running():
            worker.kill()
    text = worker.stderr.text()
    assert worker.process.returncode == 0, text
    assert "stopping after the batch in hand" in text
    assert text.splitlines()[-1] == "stopped"
