"""A following projector and a writer ride out their server's restart (SIGKILL, SIGTERM).

Real processes: a FerretDB server of the test's own, ``cirec project --follow`` and a
writer appending through it. The server is stopped with a signal while both run, and
started again on the same data once the follower has reported the outage (its URL gives
up on finding a server after 1 s, so a restart is an error to it, not a pause); the
writer retries its appends with the same event ids. Before workers waited faults out,
the follower exited 1 on the first lost connection (issue 10, bug 2).
"""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from tests.faults.processes import assert_recovered, follower, wait_for_acks, writer
from tests.faults.servers import FerretServer, require_ferretdb

EVENTS = 300
STOP_AFTER = 100
"""Acknowledged events before the server is stopped (the writer is then mid-way)."""


@pytest.mark.parametrize("stop", [signal.SIGKILL, signal.SIGTERM], ids=["sigkill", "sigterm"])
def test_follow_and_a_writer_ride_out_a_server_restart(
    tmp_path: Path, stop: signal.Signals
) -> None:
    require_ferretdb()
    server = FerretServer(tmp_path / "ferretdb")
    server.start()
    acks = tmp_path / "acks"
    following = follower(f"{server.url}?serverSelectionTimeoutMS=1000")
    writing = writer(server.url, EVENTS, acks)
    try:
        wait_for_acks(acks, STOP_AFTER, writing)
        server.stop_with(stop)
        following.stderr.wait_for("store unavailable")
        server.start()
        writing.finish(stop=False)
        assert following.running(), "the follower exited on the restart"
        head, lag_zero = assert_recovered(server.url, acks, following)
        print(f"{stop.name}: head {head}, lag 0 {lag_zero:.1f} s after the writer ended")
    finally:
        writing.kill()
        following.kill()
        server.close()


def test_follow_started_before_its_server_waits_for_it(tmp_path: Path) -> None:
    require_ferretdb()
    server = FerretServer(tmp_path / "ferretdb")  # not started yet
    following = follower(f"{server.url}?serverSelectionTimeoutMS=500")
    try:
        following.stderr.wait_for("store unavailable")
        assert following.running(), "the follower gave up on a server not up yet"
        server.start()
        acks = tmp_path / "acks"
        writer(server.url, 50, acks).finish(stop=False)
        assert_recovered(server.url, acks, following)
    finally:
        following.kill()
        server.close()
