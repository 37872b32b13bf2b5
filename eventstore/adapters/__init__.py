"""The store adapters: MongoDB (pymongo) and the embedded SQLite file.

The names below are the tables and collections the event stores keep beside whatever
else shares their file or database (the read models do): no other store may take one.
"""

from typing import Final

EVENTS: Final = "events"
"""The log: a table in the embedded store, the collection of commits in MongoDB."""
PAYLOADS: Final = "event_payloads"
"""MongoDB only: the events of a large append while it is placed (see ``adapters.mongo``)."""

EVENT_STORE_NAMES: Final = frozenset({EVENTS, PAYLOADS})
"""Every table and collection name the event stores use."""
