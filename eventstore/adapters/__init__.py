"""The store adapters: MongoDB (pymongo) and the embedded SQLite file.

The names below are the tables and collections the event stores keep beside whatever
else shares their file or database (the read models do): no other store may take one.
"""

from typing import Final

EVENTS: Final = "events"
"""The log: a table in the embedded store, the collection of commits in MongoDB."""
EVENT_INDEX: Final = "event_index"
STREAM_INDEX: Final = "stream_index"
STREAM_COMMITS: Final = "stream_commits"
INDEX_META: Final = "index_meta"
"""The MongoDB store's derived lookup index (:mod:`eventstore.adapters.mongo_index`)."""

EVENT_STORE_NAMES: Final = frozenset(
    {EVENTS, EVENT_INDEX, STREAM_INDEX, STREAM_COMMITS, INDEX_META}
)
"""Every table and collection name the event stores use."""
