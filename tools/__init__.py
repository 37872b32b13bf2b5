"""Tooling kept in the repository and never shipped: the generator of ``docs/events.md``."""
