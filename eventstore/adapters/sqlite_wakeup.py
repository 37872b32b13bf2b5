"""Commit notices on one machine for the embedded store: a datagram socket per follower.

Each follower binds a unix datagram socket in a directory beside the database file
(``events.sqlite3-wake/``, created by the first follower). A writer, once its append has
committed, sends each socket found there one datagram holding the log's new head (8
bytes, big-endian) and never waits: a full queue is skipped (that follower has notices
waiting already, so it reads the head anyway), and a socket whose owner is gone
(``ECONNREFUSED``) is removed. With no follower the directory is absent or empty, and a
notice costs one ``scandir`` that finds nothing. A follower binds its socket *before*
its first read, so a commit after that read always finds the socket.

Unix sockets take paths of at most 107 bytes; a longer one is reached through the
directory's descriptor (``/proc/self/fd/N/name``, Linux), and where neither works the
follower has no socket and relies on its fallback look alone (:mod:`eventstore.wakeup`).
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import socket
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Final

SUFFIX: Final = "-wake"
"""What the notice directory's name adds to the database file's."""
SOCKET_END: Final = ".sock"
_NOTICE = struct.Struct(">Q")
_MAX_PATH: Final = 107  # sun_path holds 108 bytes, the last a NUL
_GONE: Final = frozenset({errno.ECONNREFUSED, errno.ENOENT, errno.ENOTSOCK})
"""Errors that say no live follower owns a socket path: remove it."""


def notice_dir(database: Path) -> Path:
    """Return the directory of ``database``'s followers' sockets."""
    return database.with_name(database.name + SUFFIX)


@contextmanager
def _address(path: Path) -> Iterator[str]:
    """Yield an address for ``path`` that fits a unix socket (via its directory if long)."""
    if len(os.fsencode(path)) <= _MAX_PATH:
        yield str(path)
        return
    folder = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        yield f"/proc/self/fd/{folder}/{path.name}"
    finally:
        os.close(folder)


class Notifier:
    """The writer's side: tell every follower of one database file that the log grew."""

    def __init__(self, database: Path) -> None:
        self._folder = os.fspath(notice_dir(database))

    def notify(self, head: int) -> None:
        """Send ``head`` to every follower's socket; never raises, never blocks.

        Called once an append has committed: a notice is a hint, so whatever goes wrong
        here (no directory, a follower gone or slow) costs the append nothing more.
        """
        try:
            with os.scandir(self._folder) as found:
                paths = [e.path for e in found if e.name.endswith(SOCKET_END)]
        except OSError:
            return  # no follower has made the directory, or it cannot be read
        if not paths:
            return
        sender = _sender()
        if sender is None:
            return
        notice = _NOTICE.pack(head)
        for path in paths:
            _send(sender, path, notice)


_SENDER: list[socket.socket] = []
"""The one unbound socket this process's writers send notices from, made at first use."""


def _sender() -> socket.socket | None:
    """Return the process's sending socket (None where there are no unix sockets)."""
    if not _SENDER:
        try:
            _SENDER.append(socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM))
        except (OSError, AttributeError):
            return None
    return _SENDER[0]


def _send(sender: socket.socket, path: str, notice: bytes) -> None:
    """Send ``notice`` to ``path`` without waiting; remove the path if no one is behind it."""
    try:
        if len(os.fsencode(path)) <= _MAX_PATH:
            sender.sendto(notice, socket.MSG_DONTWAIT, path)
        else:
            with _address(Path(path)) as address:
                sender.sendto(notice, socket.MSG_DONTWAIT, address)
    except OSError as exc:
        if exc.errno in _GONE:
            with contextlib.suppress(OSError):
                os.unlink(path)  # its follower died without removing it
        # EAGAIN: that follower's queue is full, so it has a notice waiting already.


class Listener:
    """A follower's socket in the notice directory: readable while notices wait."""

    def __init__(self, path: Path, receiver: socket.socket) -> None:
        self.path = path
        self._receiver = receiver

    @classmethod
    def open(cls, database: Path) -> Listener | None:
        """Bind a new socket beside ``database``; None if that cannot be done here.

        The directory is created if missing. A read-only directory, a path too long for
        a socket and no ``/proc``, or a platform without unix sockets all give None: the
        follower then relies on its fallback look.
        """
        folder = notice_dir(database)
        path = folder / f"{os.getpid()}-{secrets.token_hex(6)}{SOCKET_END}"
        try:
            folder.mkdir(exist_ok=True)
            receiver = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        except (OSError, AttributeError):  # AttributeError: no AF_UNIX on this platform
            return None
        try:
            with _address(path) as address:
                receiver.bind(address)
            receiver.setblocking(False)
        except OSError:
            receiver.close()
            return None
        return cls(path, receiver)

    def fileno(self) -> int:
        """Return the socket's descriptor."""
        return self._receiver.fileno()

    def drain(self) -> int | None:
        """Receive every waiting notice; return the highest head named (None if none)."""
        highest: int | None = None
        while True:
            try:
                data = self._receiver.recv(64)
            except (BlockingIOError, InterruptedError):
                return highest
            except OSError:
                return highest if highest is not None else 0
            named = _NOTICE.unpack(data)[0] if len(data) == _NOTICE.size else 0
            highest = named if highest is None else max(highest, named)

    def close(self) -> None:
        """Close the socket and remove its path, so writers stop sending to it."""
        self._receiver.close()
        with contextlib.suppress(OSError):
            self.path.unlink()
