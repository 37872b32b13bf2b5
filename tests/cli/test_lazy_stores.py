"""A command opens only the stores it uses: `emit` never the read models, `show` never the log."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import NoReturn

import pytest

from cirec import config
from cirec.cli.main import main
from eventstore.urls import StoreUrl

EVENT = {
    "event_id": str(uuid.UUID(int=1, version=4)),
    "type": "SessionOpened",
    "schema_version": 1,
    "occurred_at": "2026-12-01T10:00:00.000Z",
    "data": {
        "user_id": "ada",
        "repo_name": "api",
        "repo_url": "https://git.example.com/acme/api.git",
        "branch": "main",
        "commit_hash": "9f2c1e7",
        "is_remote": True,
    },
}


def refuse(name: str) -> object:
    def opener(where: StoreUrl) -> NoReturn:
        raise AssertionError(f"{name} opened for {where.shown}")

    return opener


def test_emit_never_opens_the_read_models(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite://{tmp_path / 'lazy.sqlite3'}"
    for opener in ("open_parsed_read_models", "open_parsed_read_side"):
        monkeypatch.setattr(config, opener, refuse("the read-model store"))
    assert main(["--db", url, "emit", json.dumps(EVENT)]) == 0
    assert "1 appended" in capsys.readouterr().out


def test_show_session_never_opens_the_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite://{tmp_path / 'lazy.sqlite3'}"
    assert main(["--db", url, "emit", json.dumps(EVENT)]) == 0
    assert main(["--db", url, "project"]) == 0
    capsys.readouterr()
    monkeypatch.setattr(config, "open_parsed_store", refuse("the event store"))
    assert main(["--db", url, "--json", "show", "session", "ada"]) == 0
    assert json.loads(capsys.readouterr().out)["user_id"] == "ada"
