"""The Python examples of the README and of ``eventstore``'s docstring run as written."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

import eventstore
from cirec.config import open_store

README = Path(__file__).resolve().parents[1] / "README.md"
RUN_OF_ONE_JOB = [
    "RunStarted",
    "StageStarted",
    "JobStarted",
    "JobLogChunkAppended",
    "JobFinished",
    "StageFinished",
    "RunFinished",
]


def test_the_readme_python_example_records_a_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (example,) = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)
    monkeypatch.delenv("MONGO_DB_URL", raising=False)
    monkeypatch.setenv("CIREC_SQLITE_PATH", str(tmp_path / "readme.sqlite3"))
    exec(compile(example, str(README), "exec"), {})  # noqa: S102 -- our own README's example
    with open_store(f"sqlite://{tmp_path / 'readme.sqlite3'}") as store:
        assert [e.type for e in store.read_all()] == RUN_OF_ONE_JOB


def test_the_eventstore_package_example_records_a_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The example opens its store by URL alone: no variable of the environment is read.
    for variable in ("MONGO_DB_URL", "CIREC_SQLITE_PATH", "XDG_DATA_HOME"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.chdir(tmp_path)
    exec(compile(package_example(), eventstore.__file__, "exec"), {})  # noqa: S102 -- our own docstring
    with eventstore.open_store(f"sqlite://{tmp_path / 'ci' / 'events.sqlite3'}") as store:
        assert [e.type for e in store.read_all()] == RUN_OF_ONE_JOB


def package_example() -> str:
    """Return the example of ``eventstore``'s docstring: the indented block after ``::``."""
    doc = eventstore.__doc__ or ""
    block = doc.split("::\n", 1)[1]
    lines = []
    for line in block.splitlines()[1:]:
        if line and not line.startswith("    "):
            break
        lines.append(line)
    return textwrap.dedent("\n".join(lines))
