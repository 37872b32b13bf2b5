"""Every document of every read model, serialised, and the same after a rebuild."""

from __future__ import annotations

from cirec.config import open_read_models, open_store
from eventstore.codec import dump_json, json_converter
from projections.catalog import PROJECTIONS
from projections.rebuild import rebuild
from projections.store import ReadModelStore


def snapshot(store: ReadModelStore) -> dict[str, str]:
    """Every active document of every projection, serialised: equal means byte-identical."""
    result = {}
    for projection in PROJECTIONS:
        version = store.active_version(projection)
        rows = [
            [key, stored.position, json_converter.unstructure(stored.document)]
            for key, stored in store.documents(projection, version)
        ]
        result[projection.name] = dump_json(rows)
    return result


def rebuilt(url: str) -> dict[str, str]:
    """Rebuild every projection from the log and return the snapshot."""
    with open_store(url) as events, open_read_models(url) as store:
        for projection in PROJECTIONS:
            rebuild(events, store, projection)
        return snapshot(store)
