"""What the runs of a workload look like: :data:`BENCHMARK` and :data:`TRICKY`."""

from __future__ import annotations

from typing import Any

from attrs import frozen

Span = tuple[int, int]
"""An inclusive range ``(least, most)`` a count is drawn from."""


@frozen(kw_only=True)
class Shape:
    """What the runs of a workload look like."""

    repos: tuple[tuple[str, str], ...]
    """``(repo_name, repo_url)`` of each repository."""
    branches: tuple[str, ...]
    pipelines: tuple[str, ...]
    stage_names: tuple[str, ...]
    stages: Span
    jobs: Span
    """Jobs per run, spread over its stages (at least one each)."""
    job_names: tuple[str, ...] = ()
    """Names for the first jobs of every stage; the others are ``{stage}-{n}``."""
    chunks: Span
    """Log chunks per job."""
    chunk_chars: Span
    """Characters per log chunk."""
    sections: bool
    """Open and close each job's steps with GitLab's section markers (small chunks)."""
    failure_rate: tuple[float, float]
    """Range of each run's share of failed jobs."""
    allowed_failure_rate: float
    cancel_rate: float
    """Share of runs canceled during one of their stages."""
    validation_failure_rate: float
    pipeline_config: dict[str, Any]
    users: int


BENCHMARK = Shape(
    repos=(
        ("api", "https://git.example.com/acme/api.git"),
        ("web", "https://git.example.com/acme/web.git"),
        ("infra", "https://git.example.com/acme/infra.git"),
    ),
    branches=("main", "feature/cache", "release/2.4"),
    pipelines=("build", "nightly", "deploy.prod"),
    stage_names=("prepare", "build", "test", "package", "deploy"),
    stages=(3, 5),
    jobs=(8, 15),
    chunks=(20, 200),
    chunk_chars=(1024, 8192),
    sections=True,
    failure_rate=(0.03, 0.10),
    allowed_failure_rate=0.1,
    cancel_rate=0.05,
    validation_failure_rate=0.1,
    pipeline_config={
        "stages": ["prepare", "build", "test", "package", "deploy"],
        "image": "python:3.11",
    },
    users=12,
)
"""The benchmark's load: 3-5 stages, 8-15 jobs, 20-200 chunks of 1-8 KiB per job."""

TRICKY = Shape(
    repos=(
        ("api", "https://git.example.com/acme/api.git"),
        ("web", "https://git.example.com/acme/web.git"),
    ),
    branches=("main", "feature/x", "deploy.prod"),
    pipelines=("build", "$where", "release.v2"),
    stage_names=("build", "test", "deploy"),
    stages=(2, 3),
    jobs=(3, 5),
    job_names=("unit", "", "$inc", "a.b"),
    chunks=(1, 4),
    chunk_chars=(20, 400),
    sections=False,
    failure_rate=(0.05, 0.10),
    allowed_failure_rate=0.2,
    cancel_rate=0.25,
    validation_failure_rate=0.3,
    pipeline_config={"stages": ["build", "test"], "matrix": [[1, 2], [3]], "$set": {"a.b": 1}},
    users=5,
)
"""Small runs whose names and configs are what stores get wrong: operators, dots, ``""``."""

LOG_LINES = (
    "$ make -j2 all\n",
    "gcc -O2 -c src/{n}.c -o build/{n}.o\n",
    "ok   github.com/acme/pkg/{n}  0.{n}s\n",
    "PASSED tests/test_{n}.py::test_case_{n} [ {n}%]\n",
    "Downloading https://registry.example/pkg-{n}.tgz (12.{n} kB)\n",
    "warning: unused variable `tmp_{n}` — café ✓\n",
)
