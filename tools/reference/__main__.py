"""``python -m tools.reference``: write ``docs/events.md`` to standard output."""

from __future__ import annotations

import sys

from tools.reference.render import render_events_reference


def main() -> None:
    """Write the page to standard output as UTF-8, whatever the locale's encoding."""
    sys.stdout.buffer.write(render_events_reference().encode("utf-8"))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
