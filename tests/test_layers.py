"""The layers run one way (cirec -> projections -> eventstore) and no modules import in a circle.

The import graph is read from the source with :mod:`ast`, imports inside functions
included: a circle held apart by a lazy import is still a circle.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("cirec", "eventstore", "projections")
BELOW = {"cirec": {"projections", "eventstore"}, "projections": {"eventstore"}, "eventstore": set()}


def module_files() -> dict[str, Path]:
    """Every module of the shipped packages, by dotted name."""
    modules = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


MODULES = module_files()


def imported(module: str, path: Path) -> Iterator[str]:
    """Yield the project modules that ``module`` imports, anywhere in its source."""
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")
                anchor = anchor if is_package else anchor[:-1]
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                # `from pkg import name` imports the module pkg.name if there is one.
                yield f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base


def graph() -> dict[str, set[str]]:
    return {
        module: {target for target in imported(module, path) if target in MODULES}
        for module, path in MODULES.items()
    }


def test_the_graph_sees_the_packages() -> None:
    edges = graph()
    assert len(MODULES) > 60
    assert "eventstore.catalog" in edges["eventstore.recorder"]
    assert "projections.worker" in edges["cirec.cli.project"]


def test_no_layer_imports_one_above_it() -> None:
    upward = [
        f"{module} imports {target}"
        for module, targets in graph().items()
        for target in targets
        if target.split(".")[0] not in BELOW[module.split(".")[0]] | {module.split(".")[0]}
    ]
    assert upward == []


def strongly_connected(edges: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm: the groups of modules that reach each other."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(edges[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            groups.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return groups


def test_the_cycle_finder_finds_a_cycle() -> None:
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert sorted(map(sorted, strongly_connected(edges))) == [["a", "b", "c"], ["d"]]


def test_no_modules_import_each_other_in_a_circle() -> None:
    edges = graph()
    circles = [group for group in strongly_connected(edges) if len(group) > 1]
    self_imports = [module for module, targets in edges.items() if module in targets]
    assert circles == []
    assert self_imports == []


BLOCKED_RUN = textwrap.dedent(
    """
    import importlib.abc, sys, tempfile, uuid
    from datetime import UTC, datetime
    from pathlib import Path

    class Blocked(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in ("projections", "cirec", "rich"):
                raise ImportError(f"{name} is blocked")
            return None

    sys.meta_path.insert(0, Blocked())
    import eventstore
    from eventstore import Metadata, NewEvent, Recorder
    from eventstore.adapters.sqlite import SQLiteEventStore
    from eventstore.catalog import Status, Trigger

    with SQLiteEventStore(Path(sys.argv[1])) as store:
        store.append("raw", [NewEvent(event_id=uuid.uuid4(), type="Noted", schema_version=1,
            occurred_at=datetime(2026, 12, 1, tzinfo=UTC), data={"a": 1}, metadata=Metadata())])
        recorder = Recorder(store, actor="ci")
        run = recorder.start_run(repo_name="r", repo_url="u", branch="main",
            pipeline_name="build", commit_hash="abc1234", pipeline_config={},
            trigger=Trigger.PUSH)
        recorder.finish_run(run, Status.SUCCESS)
        print(",".join(event.type for event in store.read_all()))
    print(sorted(name for name in sys.modules if name.split(".")[0] in ("projections", "cirec")))
    """
)


def test_the_write_side_works_without_the_read_side_or_the_application(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", BLOCKED_RUN, str(tmp_path / "alone.sqlite3")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["Noted,RunStarted,RunFinished", "[]"]


@pytest.mark.parametrize("blocked", ["projections", "cirec", "rich"])
def test_the_blocker_itself_blocks(blocked: str) -> None:
    script = BLOCKED_RUN.split("import eventstore")[0] + f"import {blocked}\n"
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1
    assert f"{blocked} is blocked" in done.stderr


def test_the_command_line_imports_rich_only_to_draw() -> None:
    # `cirec --help`, and every command piped, start without it: it costs ~50 ms.
    script = "import sys, cirec.cli.main; print('rich' in sys.modules)"
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.stdout == "False\n", done.stderr
