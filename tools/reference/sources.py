"""What the page reads from source code: the stream kinds and the ``Recorder`` methods."""

from __future__ import annotations

import ast
import inspect
import itertools

from eventstore import streams
from eventstore.catalog import EVENT_TYPES
from eventstore.recorder import Recorder
from tools.reference.markdown import from_docstring


def stream_kinds() -> dict[str, str]:
    """Return each stream kind of :mod:`eventstore.streams` with its docstring, in source order.

    A kind is an upper-case constant with a string value and a docstring; raises
    ``LookupError`` if there is none.
    """
    kinds: dict[str, str] = {}
    for name, doc in _docstrings_after_assignments(ast.parse(inspect.getsource(streams))).items():
        value = getattr(streams, name, None)
        if name.isupper() and isinstance(value, str):
            kinds[value] = from_docstring(doc)
    if not kinds:
        raise LookupError("no documented stream kind found in eventstore/streams.py")
    return kinds


def _docstrings_after_assignments(module: ast.Module) -> dict[str, str]:
    """Map each name assigned at the top of ``module`` to the string literal right after it."""
    found: dict[str, str] = {}
    for statement, following in itertools.pairwise(module.body):
        target: ast.expr | None = None
        if isinstance(statement, ast.AnnAssign):
            target = statement.target
        elif isinstance(statement, ast.Assign) and len(statement.targets) == 1:
            target = statement.targets[0]
        if (
            isinstance(target, ast.Name)
            and isinstance(following, ast.Expr)
            and isinstance(following.value, ast.Constant)
            and isinstance(following.value.value, str)
        ):
            found[target.id] = inspect.cleandoc(following.value.value)
    return found


def recorder_methods() -> dict[str, list[str]]:
    """Map each event type to the public ``Recorder`` methods that construct it, in source order.

    The methods are read from ``Recorder`` and from its bases in :mod:`eventstore`, which
    hold its steps by job (generic, runs); ``Recorder``'s own come first.
    """
    found: dict[str, list[str]] = {}
    for cls in Recorder.__mro__:
        if not cls.__module__.startswith("eventstore."):
            continue
        (class_node,) = ast.parse(inspect.getsource(cls)).body
        for method in ast.iter_child_nodes(class_node):
            if isinstance(method, ast.FunctionDef) and not method.name.startswith("_"):
                for event_type in _event_types_constructed(method):
                    found.setdefault(event_type, []).append(method.name)
    return found


def _event_types_constructed(function: ast.FunctionDef) -> set[str]:
    """Return the catalog event types that ``function`` calls, as ``Type(…)`` or ``x.Type(…)``."""
    calls = [node.func for node in ast.walk(function) if isinstance(node, ast.Call)]
    names = {call.id for call in calls if isinstance(call, ast.Name)}
    names |= {call.attr for call in calls if isinstance(call, ast.Attribute)}
    return names & EVENT_TYPES.keys()
