"""``lag_p50_ms`` and ``lag_p99_ms``: time from append to visible in ``jobs_history``.

A writer process (``python -m bench.lag write URL SECONDS RATE``) appends the workload one event
per append at a steady rate, and prints, per append, the wall-clock time the append
returned and its position, with the job it starts or finishes. This process starts a
:class:`Projector` following the log, and polls: the read-model query API
(``run``) until each job shows as started or finished, and, as the baseline, the log
itself until each position is there. Both sides use the same clock (``time.time``).

The projector runs in a process of its own (``python -m bench.lag follow URL``), as a
worker does in production, so the pollers' decoding does not compete with it for the
interpreter lock.
"""

from __future__ import annotations

import json
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections import deque
from typing import IO, Any

from bench.append import singles
from bench.backends import Place, mongo_client, raw_sqlite
from bench.figures import Figure
from cirec.config import open_read_models, open_read_side, open_store
from eventstore.stored import commit_key
from projections.catalog import PROJECTIONS
from projections.documents import RUNNING
from projections.run_queries import RunQueries
from projections.worker import Projector
from tools.workload import Workload

POLL_SECONDS = 0.002
# How long, after the writer ends, the pollers wait for the last events to show.
DRAIN_SECONDS = 30.0
JobKey = tuple[str, str, str, int, str, str, str]
"""(repo name, repo URL, pipeline, run number, stage, job, "started" or "finished")."""


def measure(place: Place, seconds: float, rate: float) -> dict[str, Figure]:
    """Return the lag figures with a writer appending ``rate`` events/s for ``seconds``."""
    # The log and the read models exist before the writer and the pollers start.
    with open_store(place.url), open_read_models(place.url) as models:
        for projection in PROJECTIONS:
            models.active_version(projection)
    follower = subprocess.Popen([sys.executable, "-m", "bench.lag", "follow", place.url])
    writer = subprocess.Popen(
        [sys.executable, "-m", "bench.lag", "write", place.url, str(seconds), str(rate)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert writer.stdout is not None  # noqa: S101 -- asked for above
    lines: deque[dict[str, Any]] = deque()
    reader = threading.Thread(target=_read_lines, args=(writer.stdout, lines), daemon=True)
    reader.start()
    try:
        model_lags, log_lags, achieved, unseen = _poll(place, lines, reader)
    finally:
        writer.wait()
        follower.terminate()
        follower.wait()
    label = f"in the log itself; writer {achieved:.0f} ev/s, {len(model_lags)} job events"
    if unseen:
        label += f", {unseen} not shown {DRAIN_SECONDS:.0f} s after the writer ended"
    return {
        "lag_p50_ms": Figure(_pct(model_lags, 50), _pct(log_lags, 50), "ms", label),
        "lag_p99_ms": Figure(_pct(model_lags, 99), _pct(log_lags, 99), "ms", label),
    }


def _pct(samples: list[float], percent: int) -> float:
    """Return the ``percent`` percentile of ``samples``, in ms (0 if there are none)."""
    if len(samples) < 2:
        return samples[0] * 1000 if samples else 0.0
    return statistics.quantiles(samples, n=100, method="inclusive")[percent - 1] * 1000


def follow(url: str) -> None:
    """Run a projector on the three read models of ``url`` until SIGTERM, woken by notices."""
    stop = threading.Event()
    with open_store(url) as events, open_read_models(url) as models, events.wakeup() as wakeup:

        def stopped(*_: object) -> None:
            stop.set()
            wakeup.interrupt()

        signal.signal(signal.SIGTERM, stopped)
        Projector(events, models, PROJECTIONS).follow(stop.is_set, stop.wait, wakeup=wakeup)


def _read_lines(stream: IO[str], into: deque[dict[str, Any]]) -> None:
    for line in stream:
        into.append(json.loads(line))


def _poll(
    place: Place, lines: deque[dict[str, Any]], reader: threading.Thread
) -> tuple[list[float], list[float], float, int]:
    """Watch every stamped append become visible.

    Returns the read-model and log lag samples, the rate the writer reached (appends/s),
    and how many job events had still not shown :data:`DRAIN_SECONDS` after the writer
    ended.
    """
    models, runs = open_read_side(place.url)
    head_of_log = _log_head(place)
    jobs: dict[JobKey, float] = {}
    positions: deque[tuple[int, float]] = deque()
    model_lags: list[float] = []
    log_lags: list[float] = []
    written, first, last = 0, 0.0, 0.0
    deadline = float("inf")
    try:
        while (reader.is_alive() or lines or jobs or positions) and time.time() < deadline:
            if not reader.is_alive() and deadline == float("inf"):
                deadline = time.time() + DRAIN_SECONDS
            while lines:
                line = lines.popleft()
                written += 1
                first, last = first or line["t"], line["t"]
                positions.append((line["position"], line["t"]))
                if line["job"] is not None:
                    jobs[tuple(line["job"])] = line["t"]
            now_head = head_of_log()
            while positions and positions[0][0] <= now_head:
                log_lags.append(time.time() - positions.popleft()[1])
            for key in _visible(runs, list(jobs)):
                model_lags.append(time.time() - jobs.pop(key))
            time.sleep(POLL_SECONDS)
    finally:
        models.close()
    # What never showed within the deadline counts at the lag it had reached: a floor.
    now = time.time()
    model_lags.extend(now - t for t in jobs.values())
    log_lags.extend(now - t for _, t in positions)
    achieved = (written - 1) / (last - first) if last > first else 0.0
    return model_lags, log_lags, achieved, len(jobs)


def _visible(runs: RunQueries, keys: list[JobKey]) -> list[JobKey]:
    """Return the job events of ``keys`` that ``jobs_history`` shows (one query per run)."""
    shown: list[JobKey] = []
    for repo_name, repo_url, pipeline, number in {key[:4] for key in keys}:
        run = runs.run(repo_name, repo_url, pipeline, number)
        if run is None:
            continue
        for key in keys:
            stage, job, what = key[4:]
            if key[:4] != (repo_name, repo_url, pipeline, number) or stage not in run.logs:
                continue
            found = run.logs[stage].jobs.get(job)
            if found is not None and (what == "started" or found.job_status != RUNNING):
                shown.append(key)
    return shown


def _log_head(place: Place) -> Any:
    """Return a function giving the highest position visible in the log, read raw."""
    if place.store == "sqlite":
        db = raw_sqlite(place)
        return lambda: db.execute("SELECT COALESCE(MAX(position), 0) FROM events").fetchone()[0]
    commits = mongo_client(place)[place.database]["events"]
    seen = [0]

    def head() -> int:
        # One event per append here, so commit n holds exactly position n.
        while commits.find_one({"_id": commit_key(seen[0] + 1)}, {"_id": 1}) is not None:
            seen[0] += 1
        return seen[0]

    return head


def writer(url: str, seconds: float, rate: float) -> None:
    """Append one event per append at ``rate`` events/s for ``seconds``, stamping each.

    A store slower than ``rate`` still stops after ``seconds``: the figure is the lag
    behind a writer of that duration, and a writer that fell behind would otherwise run
    for as long as ``seconds * rate`` appends take it (hours on FerretDB v1).
    """
    total = int(seconds * rate)
    runs: dict[str, tuple[str, str, str, int]] = {}
    appended = 0
    with open_store(url) as store:
        began = time.time()
        for sent, append in enumerate(singles(list(Workload(seed=500).appends(total)), total)):
            delay = began + sent / rate - time.time()
            if delay > 0:
                time.sleep(delay)
            elif time.time() - began >= seconds:
                break
            appended += 1
            result = store.append(append.stream_id, append.events, append.expected)
            stamped = time.time()
            event = append.events[0]
            data = event.data
            if event.type == "RunStarted":
                runs[data["run_id"]] = (
                    data["repo_name"],
                    data["repo_url"],
                    data["pipeline_name"],
                    data["run_number"],
                )
            job = None
            if event.type in ("JobStarted", "JobFinished"):
                what = "started" if event.type == "JobStarted" else "finished"
                job = [*runs[data["run_id"]], data["stage_name"], data["job_name"], what]
            line = {"t": stamped, "position": result.positions[0], "job": job}
            print(json.dumps(line), flush=True)
        spent = time.time() - began
    print(f"[bench lag writer] {appended} appends in {spent:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    if sys.argv[1] == "follow":
        follow(sys.argv[2])
    else:
        writer(sys.argv[2], float(sys.argv[3]), float(sys.argv[4]))
