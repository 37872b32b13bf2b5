"""The read side: folds of the event log into the user's read models.

``sessions``, ``repo_configs`` and ``jobs_history`` are built here on :mod:`eventstore`.
"""
