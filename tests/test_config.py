"""Configuration: which store a URL opens, and errors that name the setting, never a password."""

from __future__ import annotations

import pydoc
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

import pytest

from cirec import config as composition_root
from cirec.config import (
    DemoStore,
    configured_url,
    default_sqlite_path,
    demo_store,
    open_read_models,
    open_store,
)
from eventstore.adapters.sqlite import SQLiteEventStore
from eventstore.errors import ConfigError, StoreUnavailableError
from eventstore.urls import redact_url

SECRET = "s3cret-Pa55"  # noqa: S105 -- a made-up password the output must never show


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (f"mongodb://ci:{SECRET}@127.0.0.1:27017/cirec", "mongodb://ci:***@127.0.0.1:27017/cirec"),
        (
            f"mongodb+srv://ci:{SECRET}@db.example.com/x?w=1",
            "mongodb+srv://ci:***@db.example.com/x?w=1",
        ),
        ("mongodb://127.0.0.1:27017/", "mongodb://127.0.0.1:27017/"),
        ("sqlite:///tmp/events.sqlite3", "sqlite:///tmp/events.sqlite3"),
    ],
)
def test_urls_are_shown_without_their_password(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_the_embedded_store_is_the_default(tmp_path: Path) -> None:
    environ = {"XDG_DATA_HOME": str(tmp_path)}
    assert default_sqlite_path(environ) == tmp_path / "cirec" / "events.sqlite3"
    assert configured_url(None, environ) == f"sqlite://{tmp_path}/cirec/events.sqlite3"
    chosen = {"CIREC_SQLITE_PATH": str(tmp_path / "x.db"), "XDG_DATA_HOME": "/elsewhere"}
    assert default_sqlite_path(chosen) == tmp_path / "x.db"
    with open_store(None, environ) as store:
        assert isinstance(store, SQLiteEventStore)
        assert store.path == tmp_path / "cirec" / "events.sqlite3"


def test_mongo_db_url_wins_over_the_default_and_an_argument_over_both() -> None:
    environ = {"MONGO_DB_URL": "mongodb://127.0.0.1:1/"}
    assert configured_url(None, environ) == "mongodb://127.0.0.1:1/"
    assert configured_url("sqlite:///x.db", environ) == "sqlite:///x.db"


def test_an_unknown_scheme_is_named_with_a_suggestion() -> None:
    with pytest.raises(ConfigError, match="did you mean mongodb://") as caught:
        open_store(f"mongdb://ci:{SECRET}@127.0.0.1/")
    assert caught.value.setting == "url"
    assert SECRET not in str(caught.value)


def test_an_unreachable_server_is_a_typed_error_without_the_password() -> None:
    url = f"mongodb://ci:{SECRET}@127.0.0.1:1/cirec?serverSelectionTimeoutMS=200"
    with pytest.raises(StoreUnavailableError) as caught:
        open_store(url)
    assert SECRET not in str(caught.value)
    assert caught.value.location == redact_url(url)


def test_an_unusable_sqlite_path_is_a_typed_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(StoreUnavailableError) as caught:
        open_store(f"sqlite://{blocker}/events.sqlite3")
    assert str(blocker) in str(caught.value)


def test_connections_opening_one_fresh_file_at_once_all_succeed(tmp_path: Path) -> None:
    # Switching a fresh file to WAL makes SQLite answer "locked" without waiting; before
    # the open waited that out, about one round in eight of this failed.
    failures: list[Exception] = []

    def open_and_close(opener: Callable[[str], AbstractContextManager[object]], url: str) -> None:
        try:
            with opener(url):
                pass
        except Exception as exc:  # collected for the assertion below
            failures.append(exc)

    for round_number in range(40):
        url = f"sqlite://{tmp_path}/round-{round_number}.sqlite3"
        openers = [open_store, open_read_models] * 2
        threads = [threading.Thread(target=open_and_close, args=(o, url)) for o in openers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert failures == []


def test_help_on_the_composition_root_never_shows_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A default argument of os.environ made help() print every variable, passwords included.
    monkeypatch.setenv("MONGO_DB_URL", f"mongodb://ci:{SECRET}@127.0.0.1:1/")
    assert SECRET not in pydoc.render_doc(composition_root, renderer=pydoc.TextDoc())


def test_the_demo_plays_into_its_own_file_whatever_names_the_users_store() -> None:
    env = {
        "XDG_DATA_HOME": "/data",
        "MONGO_DB_URL": f"mongodb://u:{SECRET}@db.example.com/prod",
        "CIREC_SQLITE_PATH": "/mine/events.sqlite3",
    }

    assert demo_store(None, env) == DemoStore(
        "sqlite:///data/cirec/demo.sqlite3", ("MONGO_DB_URL", "CIREC_SQLITE_PATH")
    )
    assert demo_store(None, {"XDG_DATA_HOME": "/data"}).ignored == ()
    assert demo_store("sqlite:///x.sqlite3", env) == DemoStore("sqlite:///x.sqlite3", ())
