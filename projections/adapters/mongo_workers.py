"""The workers' reports on MongoDB: ``read_model_workers``, one document per worker.

A document is the report (see :mod:`projections.presence`) with the worker's name as
its ``_id``. The collection holds one document per worker seen within a day, so its
queries need no index beyond ``_id``. The functions talk to the server directly and
raise the driver's errors; the store translates them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from pymongo.collection import Collection

from projections.adapters.bson_documents import bson_converter
from projections.presence import WorkerReport

Raw = dict[str, Any]

WORKERS: Final = "read_model_workers"


class MongoWorkers:
    """The reports of the workers of one database's read models."""

    def __init__(self, reports: Collection[Raw]) -> None:
        self._reports = reports

    def report(self, report: WorkerReport) -> None:
        """Store ``report`` (one upsert), replacing its worker's earlier one."""
        fields: Raw = bson_converter.unstructure(report)
        self._reports.replace_one({"_id": report.worker}, fields, upsert=True)

    def forget(self, seen_before: datetime) -> int:
        """Delete the reports last renewed before ``seen_before``; return how many."""
        return self._reports.delete_many({"seen": {"$lt": seen_before}}).deleted_count

    def reports(self) -> list[WorkerReport]:
        """Return every report, by worker name."""
        found = self._reports.find({}, {"_id": False}).sort("_id", 1)
        return [bson_converter.structure(raw, WorkerReport) for raw in found]
