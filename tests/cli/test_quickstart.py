"""docs/quickstart.md works as written: its shell blocks, run in order, do what it says."""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from pathlib import Path

from tests.cli.helpers import ROOT, clean_env, run

QUICKSTART = ROOT / "docs" / "quickstart.md"


def test_the_quickstart_runs_verbatim_after_the_install_step(tmp_path: Path) -> None:
    install, *steps = re.findall(r"```bash\n(.*?)```", QUICKSTART.read_text(), flags=re.DOTALL)
    assert "pip install -e '.[test]'" in install  # done already: this is our own venv
    bin_dir = os.path.dirname(sys.executable)
    env = clean_env(PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}", HOME=str(tmp_path))

    bash = shutil.which("bash")
    assert bash is not None

    result = run([bash, "-eu", "-c", "\n".join(steps)], cwd=tmp_path, env=env)

    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("exit status: 1\n")  # status refused the store not created yet
    assert "no store at" in result.stderr.splitlines()[0]
    assert "10 appended, 0 already stored, 1 rejected\nexit status: 1\n" in out
    assert (
        result.stderr.count("line 8: data.status: must be one of 'success', 'failed', 'canceled'")
        == 1
    )
    assert (
        "caught up to position 10; events folded: sessions 10, repo_configs 10, jobs_history 10"
        in result.stderr.splitlines()
    )
    assert f"store: sqlite at sqlite://{tmp_path / 'quickstart.sqlite3'}" in out
    (shown,) = [json.loads(line) for line in out.splitlines() if line.startswith('{"run_id"')]
    assert (shown["run_number"], shown["status"], list(shown["logs"])) == (1, "success", ["test"])
    assert "$ make test\n128 passed in 4.21s\n" in out
    assert out.count(" 0 documents differ") == 6
    # Step 8: run 2 watched while its end arrives (or, on a slow start, after), then its log.
    lines = out.splitlines()
    first = next(i for i, line in enumerate(lines) if "run #2 of acme-api build-and-test" in line)
    end = lines.index("exit status: 1", first)
    watched = [line.split(" in ")[0] for line in lines[first + 1 : end]]
    assert watched[-3:] == [
        "✗ test / unit: failed",
        "✗ test: failed",
        "✗ run #2 of acme-api build-and-test on main at 4b8d0aa: failed (6m00s)",
    ]
    assert lines[end + 1 : end + 3] == ["$ make test", "127 passed, 1 failed in 4.38s"]
