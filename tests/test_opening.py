"""``eventstore.open_store``: the one way to open an event store by URL, environment unread."""

from __future__ import annotations

import pytest

import eventstore
from cirec import config
from eventstore.errors import UsageError
from tests.workers import new_event


def test_the_store_a_url_names_is_opened_whatever_the_environment(
    store_url: str, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Were the environment read, these would send the store elsewhere (or nowhere).
    monkeypatch.setenv("MONGO_DB_URL", "mongodb://nowhere.invalid:1/?serverSelectionTimeoutMS=1")
    monkeypatch.setenv("CIREC_SQLITE_PATH", "/nonexistent/elsewhere.sqlite3")
    with eventstore.open_store(store_url) as store:
        assert store.backend == backend
        store.append("opened", [new_event(n=1)])
    # cirec's composition root opens the same store for the same URL.
    with config.open_store(store_url) as again:
        assert [e.data for e in again.read_all()] == [{"n": 1}]


@pytest.mark.parametrize("url", ["postgres://db/cirec", "sqlite://", "mongo://h/db", ""])
def test_a_url_that_names_no_store_is_a_usage_error_naming_it(url: str) -> None:
    with pytest.raises(UsageError) as caught:
        eventstore.open_store(url)
    assert caught.value.setting == "url"
