"""The README's Python example runs as written, on the embedded store."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cirec.config import open_store

README = Path(__file__).resolve().parents[1] / "README.md"


def test_the_readme_python_example_records_a_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (example,) = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)
    monkeypatch.delenv("MONGO_DB_URL", raising=False)
    monkeypatch.setenv("CIREC_SQLITE_PATH", str(tmp_path / "readme.sqlite3"))
    exec(compile(example, str(README), "exec"), {})  # noqa: S102 -- our own README's example
    with open_store(f"sqlite://{tmp_path / 'readme.sqlite3'}") as store:
        assert [e.type for e in store.read_all()] == [
            "RunStarted",
            "StageStarted",
            "JobStarted",
            "JobLogChunkAppended",
            "JobFinished",
            "StageFinished",
            "RunFinished",
        ]
