"""Generates ``docs/events.md``, the reference of every event, from the code itself.

Everything on the page that can drift is read from the code: the catalog's classes, their
docstrings, fields, field docs, ``EMITTED_BY``, ``CHANGES`` and ``SCHEMA_VERSION``; the stream
kinds and their docstrings (:mod:`eventstore.streams`); the :class:`~eventstore.recorder.Recorder`
method that builds each event (found in its source); and the JSON examples, which are real
events serialised by the codec. Only the example values (:mod:`.examples`) and the envelope's
descriptions (:mod:`.envelope`) are written here, and both are checked against the code: a new
field without an example or a description raises instead of rendering a page with a hole.

Regenerate the page with ``python -m tools.reference > docs/events.md``;
``tests/test_reference.py`` fails when the page and the code disagree.
"""

from tools.reference.prose import REGENERATE
from tools.reference.render import render_events_reference

__all__ = ["REGENERATE", "render_events_reference"]
