"""Every read model cirec projects, in the order commands and workers handle them."""

from __future__ import annotations

from typing import Any

from projections.jobs_history import JOBS_HISTORY
from projections.projection import Projection
from projections.repo_configs import REPO_CONFIGS
from projections.sessions import SESSIONS

# Any: the read models have different document types; a caller that uses one through
# a generic function (``Projector.step``, ``rebuild``) gets its own type back there.
PROJECTIONS: tuple[Projection[Any], ...] = (SESSIONS, REPO_CONFIGS, JOBS_HISTORY)
"""``sessions``, ``repo_configs`` and ``jobs_history``."""
