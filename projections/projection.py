"""What a projection is: a name, a document type, one typed handler per event type.

A fold is ``(document | None, event, occurred_at) -> document | None``: it knows nothing of
any database, reads nothing but its arguments and returns a new value (documents are
frozen). Each handler is registered with :func:`on`, which ties together, for one event
type ``E``, the function naming the document an event of ``E`` touches and the fold of
``E`` into it, so mypy checks both against ``E`` and the document type. An event type
without a handler does not concern the projection.

A projection also declares what it is queried by (:class:`QuerySpec`): the stores keep
those top-level fields where they can be queried, and create the indexes it names, without
knowing the projection.
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Generic, TypeVar

from attrs import Factory, field, frozen

from eventstore.catalog import DomainEvent
from eventstore.codec import Codec
from eventstore.records import RecordedEvent
from projections import naming
from projections.errors import InvalidProjectionError

D = TypeVar("D")
E = TypeVar("E", bound=DomainEvent)

QUERYABLE_TYPES: typing.Final = (str, int, datetime)
"""The types a queried field may have: what every store compares and orders alike (a
``datetime`` is aware UTC in whole milliseconds, as every stored time is)."""


@frozen
class Envelope:
    """A decoded event with what folds may use of its record: its position and time."""

    position: int
    occurred_at: datetime
    event: DomainEvent

    @classmethod
    def of(cls, record: RecordedEvent, codec: Codec) -> Envelope:
        """Decode ``record`` (upcasting it if it is of an older schema version)."""
        return cls(record.position, record.occurred_at, codec.decode(record))


@frozen
class Handler(Generic[D]):
    """How a projection handles one event type; built by :func:`on`, which types it."""

    event_type: type[object]
    key_of: Callable[[DomainEvent], str | None]
    """The id of the document an event touches; None for an event of another type."""
    fold: Callable[[D | None, DomainEvent, datetime], D | None]
    """The document after an event (unchanged for an event of another type)."""


def on(
    event_type: type[E],
    fold: Callable[[D | None, E, datetime], D | None],
    key: Callable[[E], str],
) -> Handler[D]:
    """Return the handler of ``event_type``: ``key`` names the document, ``fold`` changes it.

    ``fold`` gets the document (None if there is none yet), the event and when it
    occurred, and returns the new document (None: still none).
    """

    def key_of(event: DomainEvent) -> str | None:
        return key(event) if isinstance(event, event_type) else None

    def fold_event(document: D | None, event: DomainEvent, at: datetime) -> D | None:
        return fold(document, event, at) if isinstance(event, event_type) else document

    return Handler(event_type, key_of, fold_event)


def _index_name(name: str) -> str:
    return naming.field_name("index", name)


def _field_names(names: Iterable[str]) -> tuple[str, ...]:
    return tuple(naming.field_name("field", name) for name in names)


@frozen
class Index:
    """An index over top-level fields of a read model's documents, in key order."""

    name: str = field(converter=_index_name)
    fields: tuple[str, ...]
    descending: frozenset[str] = frozenset()
    """The fields ordered from the highest value; the others go from the lowest."""


@frozen
class QuerySpec:
    """The top-level fields a read model is queried by, and the indexes over them.

    Each field is a ``str``, ``int`` or ``datetime`` field of the documents. The embedded
    store copies them into columns of their own beside each document (a ``datetime`` as
    its milliseconds since the Unix epoch); MongoDB keeps top-level fields as they are.
    Every version gets each index, in both stores.
    """

    fields: tuple[str, ...] = field(default=(), converter=_field_names)
    indexes: tuple[Index, ...] = ()

    def __attrs_post_init__(self) -> None:
        for kind, names in (("field", self.fields), ("index", [i.name for i in self.indexes])):
            if len(set(names)) != len(names):
                raise InvalidProjectionError(f"{kind}s {list(names)}", "a name is given twice")
        for index in self.indexes:
            unknown = (set(index.fields) | index.descending) - set(self.fields)
            if unknown or not index.fields:
                raise InvalidProjectionError(
                    f"index {index.name!r}", f"indexes only queried fields, not {sorted(unknown)}"
                )


def _by_type(projection: Projection[D]) -> Mapping[type[object], Handler[D]]:
    """Index the handlers by event type; refuse a type handled twice."""
    found: dict[type[object], Handler[D]] = {}
    for handler in projection.handlers:
        if handler.event_type in found:
            reason = f"{handler.event_type.__name__} has two handlers"
            raise InvalidProjectionError(projection.name, reason)
        found[handler.event_type] = handler
    return found


@frozen
class Projection(Generic[D]):
    """One read model: its name, its document type, its handlers and what it is queried by.

    Construction refuses a projection whose queried fields its documents lack, or are
    neither ``str``, ``int`` nor ``datetime``, and one with two handlers of one event type
    (:class:`~projections.errors.InvalidProjectionError`). Its name is checked by the
    stores (:mod:`projections.naming`).
    """

    name: str
    document_type: type[D]
    handlers: tuple[Handler[D], ...]
    queried_by: QuerySpec = QuerySpec()
    _handler_of: Mapping[type[object], Handler[D]] = field(
        init=False, repr=False, eq=False, default=Factory(_by_type, takes_self=True)
    )
    handled_types: frozenset[str] = field(
        init=False,
        repr=False,
        eq=False,
        default=Factory(lambda self: frozenset(t.__name__ for t in self._handler_of), True),
    )
    """The stored ``type`` names of the event types it handles (a class's own name, as
    :meth:`eventstore.codec.Codec.to_new_event` stores it): a record of any other type
    does not concern it, and need not be decoded for it."""

    def __attrs_post_init__(self) -> None:
        hints = typing.get_type_hints(self.document_type)
        for name in self.queried_by.fields:
            if hints.get(name) not in QUERYABLE_TYPES:
                reason = f"queried field {name!r} is no str, int or datetime field of its documents"
                raise InvalidProjectionError(self.name, reason)

    def key_of(self, event: DomainEvent) -> str | None:
        """Return the id of the document ``event`` touches, or None if it touches none."""
        handler = self._handler_of.get(type(event))
        return None if handler is None else handler.key_of(event)

    def fold(self, document: D | None, envelope: Envelope) -> D | None:
        """Return the document after ``envelope`` (unchanged if its type is not handled)."""
        handler = self._handler_of.get(type(envelope.event))
        if handler is None:
            return document
        return handler.fold(document, envelope.event, envelope.occurred_at)
