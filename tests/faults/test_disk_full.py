"""A full disk under the embedded store: the writer and the follower wait it out.

The store's file lives on a tmpfs of its own, 64 MiB. While a writer appends and
``cirec project --follow`` folds, a filler file takes every free byte; once both have
reported the full disk, the filler goes and both carry on by themselves. Mounting needs
root: elsewhere the test is skipped saying so, but never in CI (``CI=true``), where it
must run. Before, the follower exited 1 on ``database or disk is full`` (issue 10).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from cirec.config import open_read_models
from tests.faults.checks import assert_log_whole, assert_read_models_sound, seconds_to_lag_zero
from tests.faults.processes import assert_recovered, follower, wait_for_acks, writer

DISK_BYTES = 64 * 1024 * 1024
EVENTS = 6_000
FILL_AFTER = 300


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A tmpfs of ``DISK_BYTES`` mounted in the test's folder, unmounted afterwards."""
    mount, umount = shutil.which("mount"), shutil.which("umount")
    where = tmp_path / "disk"
    where.mkdir()
    mounted = (
        mount is not None
        and subprocess.run(
            [mount, "-t", "tmpfs", "-o", f"size={DISK_BYTES}", "tmpfs", str(where)],
            capture_output=True,
            check=False,
            timeout=30,
        ).returncode
        == 0
    )
    if not mounted:
        reason = "a full disk needs a tmpfs, and this machine lets no one here mount one"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    try:
        yield where
    finally:
        assert umount is not None
        subprocess.run([umount, "-l", str(where)], check=False, timeout=30)


def fill(disk: Path) -> Path:
    """Write a file on ``disk`` until the disk refuses more; return it."""
    # Unbuffered: with a buffer, the bytes a full disk refused stay in it and closing the
    # file tries them again, raising ENOSPC out of the ``with`` (a red CI run did).
    filler = disk / "filler"
    chunk = b"\0" * (64 * 1024)
    with filler.open("wb", buffering=0) as out, contextlib.suppress(OSError):
        while out.write(chunk):
            pass
    return filler


def test_the_writer_and_the_follower_wait_out_a_full_disk(small_disk: Path) -> None:
    url = f"sqlite://{small_disk / 'events.sqlite3'}"
    acks = small_disk.parent / "acks"
    writing = writer(url, EVENTS, acks)
    following = follower(url)
    try:
        wait_for_acks(acks, FILL_AFTER, writing)
        filler = fill(small_disk)
        writing.stderr.wait_for("disk is full")
        following.stderr.wait_for("store unavailable")
        filler.unlink()
        writing.finish(stop=False)
        head, lag_zero = assert_recovered(url, acks, following)
        print(f"disk full: head {head}, lag 0 {lag_zero:.1f} s after the writer ended")
    finally:
        writing.kill()
        following.kill()


def test_a_follower_started_on_a_full_disk_waits_for_room(small_disk: Path) -> None:
    # Its first reads may create the read models' first versions: a write. In one CI run a
    # follower that came up as the disk filled exited 1 on it, from reading the checkpoints
    # outside the retries; this starts one on a disk already full.
    url = f"sqlite://{small_disk / 'events.sqlite3'}"
    acks = small_disk.parent / "acks"
    writer(url, FILL_AFTER, acks).finish(stop=False)
    with open_read_models(url):
        pass  # its tables exist; its first versions do not yet
    filler = fill(small_disk)
    following = follower(url)
    try:
        following.stderr.wait_for("store unavailable")
        filler.unlink()
        following.stderr.wait_for("store back after")
        seconds_to_lag_zero(url, assert_log_whole(url, acks))
        reported = following.finish(stop=True)
    finally:
        following.kill()
    assert "cirec: error" not in reported
    assert_read_models_sound(url)
