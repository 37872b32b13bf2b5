"""Writer processes for the multi-process tests, run as ``python -m tests.workers KIND …``.

* ``contend URL WRITER COUNT STREAMS SEED``: appends COUNT events one at a time to shared
  streams with exact expected versions, re-reading the version after each conflict.
* ``batches URL SEED``: appends multi-event batches until killed, printing ``ready`` first.
* ``singles URL WRITER``: appends one event at a time to its own stream as fast as it
  can until killed, printing ``ready`` after the first.
* ``start_runs URL COUNT``: starts COUNT runs of one pipeline, printing each run number.
"""

from __future__ import annotations

import itertools
import random
import sys
import uuid

from cirec.config import open_store
from eventstore.catalog import Trigger
from eventstore.clock import utc_now
from eventstore.errors import WrongExpectedVersionError
from eventstore.recorder import Recorder
from eventstore.records import NewEvent


def new_event(**data: object) -> NewEvent:
    """Return a record carrying ``data`` (the store does not decode payloads)."""
    return NewEvent(
        event_id=uuid.uuid4(), type="Probe", schema_version=1, occurred_at=utc_now(), data=data
    )


def contend(url: str, writer: int, count: int, streams: int, seed: int) -> None:
    """Append ``count`` events across ``streams`` shared streams, exact versions, retrying."""
    rng = random.Random(seed)
    conflicts = 0
    known: dict[str, int] = {}  # the version this writer last saw of each stream
    with open_store(url) as store:
        for sequence in range(count):
            stream = f"shared-{rng.randrange(streams)}"
            event = new_event(writer=writer, sequence=sequence)
            while True:
                if stream not in known:
                    known[stream] = store.stream_version(stream)
                try:
                    known[stream] = store.append(stream, [event], known[stream]).stream_version
                    break
                except WrongExpectedVersionError as conflict:
                    # As a real client does: take the actual version from the error, retry.
                    conflicts += 1
                    known[stream] = conflict.actual
    print(f"writer {writer}: {count} appended, {conflicts} conflicts retried", flush=True)


def batches(url: str, seed: int) -> None:
    """Append batches of 2-8 events forever; each event names its batch, size and index."""
    rng = random.Random(seed)
    with open_store(url) as store:
        print("ready", flush=True)
        while True:
            batch, size = str(uuid.uuid4()), rng.randint(2, 8)
            events = [new_event(batch=batch, size=size, index=i) for i in range(size)]
            store.append(f"batch-stream-{rng.randrange(5)}", events)


def singles(url: str, writer: int) -> None:
    """Append one-event batches to this writer's own stream, as fast as it can, forever."""
    with open_store(url) as store:
        for sequence in itertools.count():
            store.append(f"small-{writer}", [new_event(writer=writer, sequence=sequence)])
            if sequence == 0:
                print("ready", flush=True)


def start_runs(url: str, count: int) -> None:
    """Start ``count`` runs of the same pipeline through the recorder; print their numbers."""
    with open_store(url) as store:
        recorder = Recorder(store, actor="runner")
        for _ in range(count):
            run = recorder.start_run(
                repo_name="shared",
                repo_url="https://git.example.com/shared.git",
                branch="main",
                pipeline_name="build",
                commit_hash="abc1234",
                pipeline_config={"stages": ["build"]},
                trigger=Trigger.PUSH,
            )
            print(run.run_number, flush=True)


def main(argv: list[str]) -> None:
    """Dispatch to the worker named by ``argv[0]``."""
    kind, url, *numbers = argv
    if kind == "contend":
        contend(url, *(int(n) for n in numbers))
    elif kind == "batches":
        batches(url, int(numbers[0]))
    elif kind == "singles":
        singles(url, int(numbers[0]))
    elif kind == "start_runs":
        start_runs(url, int(numbers[0]))
    else:
        raise SystemExit(f"unknown worker {kind!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
