"""Run ``cirec`` as a subprocess of this interpreter, and make events to feed it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from cirec.config import open_store
from cirec.demo import play_day
from eventstore.codec import dump_json, recorded_to_json

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT_SECONDS = 120
STORE_FIELDS = ("stream_id", "stream_version", "position", "recorded_at")


def clean_env(**extra: str) -> dict[str, str]:
    """Return this process's environment without ``MONGO_DB_URL``, plus ``extra``."""
    env = {key: value for key, value in os.environ.items() if key != "MONGO_DB_URL"}
    env.update(extra)
    return env


def command(*args: str) -> list[str]:
    """Return the argv that runs ``cirec args`` with this interpreter's installed package."""
    return [sys.executable, "-m", "cirec.cli", *args]


def cirec(
    *args: str, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``cirec args`` to its end (within the timeout) and return what it did."""
    return run(command(*args), cwd=ROOT, stdin=stdin, env=env)


def run(
    argv: list[str], *, cwd: Path, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` in ``cwd`` to its end (within the timeout), capturing its text output."""
    return subprocess.run(
        argv,
        cwd=cwd,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
        check=False,
    )


def json_lines(text: str) -> list[Any]:
    """Return the JSON values of the lines of ``text``."""
    return [json.loads(line) for line in text.splitlines()]


def day_lines(folder: Path) -> list[str]:
    """Return the demo's CI day as emit lines: the JSON form of each event, store fields cut."""
    url = f"sqlite://{folder / 'day-source.sqlite3'}"
    with open_store(url) as store:
        play_day(store)
        recorded = [recorded_to_json(event) for event in store.read_all()]
    return [
        dump_json({key: value for key, value in event.items() if key not in STORE_FIELDS})
        for event in recorded
    ]
