"""A base for anything holding a connection: ``close()``, and ``with`` that closes it."""

from __future__ import annotations

from abc import ABC, abstractmethod
from types import TracebackType
from typing import Self


class Closing(ABC):
    """Holds a resource until :meth:`close`; as a context manager, closes it on exit."""

    @abstractmethod
    def close(self) -> None:
        """Release the connection; the object must not be used afterwards."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
