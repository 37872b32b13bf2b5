"""The facts of the demo's CI day: repositories, jobs, pipelines, sessions and runs."""

from __future__ import annotations

from typing import Any

from attrs import frozen

from eventstore.catalog import Trigger

ACTOR = "cirec-demo"
"""The actor the demo records its events as."""


@frozen
class Repo:
    """A repository of the demo."""

    name: str
    url: str


@frozen
class Job:
    """A job: what it runs, what it prints when it passes and when it fails."""

    name: str
    script: str
    passes: str
    fails: str
    allows_failure: bool = False


@frozen
class Pipeline:
    """A pipeline: its file and its stages, each with its jobs."""

    name: str
    stages: tuple[tuple[str, tuple[Job, ...]], ...]

    @property
    def file_name(self) -> str:
        """Where the pipeline's definition lives in the repository."""
        return f".cirec/{self.name}.yml"

    @property
    def config(self) -> dict[str, Any]:
        """The validated configuration, as the CI engine would store it."""
        jobs = {
            job.name: {"stage": stage, "script": [job.script], "allow_failure": job.allows_failure}
            for stage, stage_jobs in self.stages
            for job in stage_jobs
        }
        return {"name": self.name, "stages": [stage for stage, _ in self.stages], "jobs": jobs}


@frozen
class Run:
    """One run of the day: where, by whom, which jobs fail, and where it is canceled."""

    repo: Repo
    branch: str
    pipeline: Pipeline
    commit: str
    actor: str
    trigger: Trigger = Trigger.PUSH
    failing: frozenset[str] = frozenset()
    cancel_in: str | None = None
    """The stage during which the run is canceled, if it is."""


API = Repo("api", "https://git.example.com/acme/api.git")
WEB = Repo("web", "https://git.example.com/acme/web.git")
COMPILE = Job("compile", "python -m build --wheel", "Successfully built api-2.4.0.whl", "")
UNIT = Job("unit", "pytest -q", "212 passed in 41.8s", "FAILED tests/test_login.py::test_expiry")
LINT = Job("lint", "ruff check .", "All checks passed!", "api/auth.py:88:5: F841", True)
PUBLISH = Job("publish", "twine upload dist/*", "View at: https://pypi.example.com/api/2.4.0", "")
ROLLOUT = Job("rollout", "kubectl rollout status deploy/api", "deployment rolled out", "")
BUNDLE = Job("bundle", "npm run build", "webpack compiled successfully", "")
E2E = Job("e2e", "npx playwright test", "38 passed (52.1s)", "1 failed: checkout.spec.ts:17")
BUILD_AND_TEST = Pipeline(
    "build-and-test", (("build", (COMPILE,)), ("test", (UNIT, LINT)), ("publish", (PUBLISH,)))
)
DEPLOY = Pipeline("deploy", (("build", (COMPILE,)), ("deploy", (ROLLOUT,))))
WEB_CI = Pipeline("ci", (("build", (BUNDLE,)), ("test", (E2E,))))
MAIN, LOGIN = "main", "feature/login"
SESSIONS = (
    ("alice", API, MAIN, "a1c3e5f7"),
    ("bob", API, LOGIN, "b0d2f4a6"),
    ("carol", WEB, MAIN, "c9e8d7f6"),
)
PIPELINES = ((API, MAIN, BUILD_AND_TEST), (API, LOGIN, BUILD_AND_TEST), (API, MAIN, DEPLOY))
RUNS = (
    Run(API, MAIN, BUILD_AND_TEST, "a1c3e5f7", "alice", failing=frozenset({"lint"})),
    Run(API, LOGIN, BUILD_AND_TEST, "b0d2f4a6", "bob", failing=frozenset({"unit"})),
    Run(WEB, MAIN, WEB_CI, "c9e8d7f6", "carol"),
    Run(API, LOGIN, BUILD_AND_TEST, "b7e9a1c3", "bob"),
    Run(API, MAIN, DEPLOY, "a1c3e5f7", "alice", Trigger.MANUAL, cancel_in="deploy"),
    Run(WEB, MAIN, WEB_CI, "c2b4d6f8", "carol", failing=frozenset({"e2e"})),
    Run(API, MAIN, BUILD_AND_TEST, "a8f6e4d2", "alice", Trigger.SCHEDULE),
)
