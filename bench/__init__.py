"""The recorder's benchmark: a seeded CI workload, each figure beside its baseline.

Run ``python -m bench --store sqlite|mongo --size smoke|full [--out FILE.json]``; see
``docs/performance.md`` for the method of each figure and what limits it.
"""
