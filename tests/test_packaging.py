"""The wheel ships the application and its two layers, typed, and nothing else.

Built here without build isolation (no index is asked); ``.ci/run`` also installs the
wheel in a fresh virtualenv and runs ``cirec demo`` from it.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = {"cirec", "eventstore", "projections"}

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    out = tmp_path_factory.mktemp("wheel")
    build = tmp_path_factory.mktemp("build")
    pip = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation"]
    subprocess.run(
        [*pip, "-w", str(out), str(ROOT)],
        cwd=build,
        check=True,
        capture_output=True,
        timeout=300,
    )
    (built,) = out.glob("cirec-*.whl")
    return zipfile.ZipFile(built)


def test_the_wheel_holds_exactly_the_three_packages(wheel: zipfile.ZipFile) -> None:
    names = wheel.namelist()
    top = {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")}
    assert top == SHIPPED
    assert not [name for name in names if name.startswith(("bench/", "tools/", "tests/"))]


def test_each_shipped_package_says_it_is_typed(wheel: zipfile.ZipFile) -> None:
    for package in SHIPPED:
        assert f"{package}/py.typed" in wheel.namelist(), package


def test_the_console_script_is_the_application(wheel: zipfile.ZipFile) -> None:
    (entry_points,) = [n for n in wheel.namelist() if n.endswith(".dist-info/entry_points.txt")]
    text = wheel.read(entry_points).decode()
    assert "cirec = cirec.cli:main" in text
