"""Toxiproxy, driven through its HTTP API: a proxy between a client and the test server.

``CIREC_TOXIPROXY_URL`` names the API (``.ci/run`` starts one with ``.ci/toxiproxy.sh``).
A :class:`Proxy` listens on a free port of 127.0.0.1 and forwards to the MongoDB test
server; a test adds *toxics* to it (latency, a bandwidth limit, a connection that goes
silent or is cut after some bytes) and removes them, which is the fault and its end.
"""

from __future__ import annotations

import json
import os
import urllib.request
import uuid
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.backends import mongo_base_url

VARIABLE = "CIREC_TOXIPROXY_URL"
API_SECONDS = 10.0


def api_url() -> str:
    """Return the Toxiproxy API's URL; skip (or in CI fail) the test without one."""
    url = os.environ.get(VARIABLE, "")
    if url:
        where = urlsplit(url)
        assert where.scheme == "http", f"{VARIABLE} must be an http:// URL"
        assert where.hostname in ("127.0.0.1", "localhost"), "tests talk to 127.0.0.1 only"
        return url.rstrip("/")
    reason = f"fault tests need Toxiproxy: {VARIABLE}=http://127.0.0.1:PORT (.ci/toxiproxy.sh)"
    if os.environ.get("CIREC_REQUIRE_MONGO") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


def _call(method: str, url: str, body: dict[str, Any] | None = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)  # noqa: S310 -- http, 127.0.0.1
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=API_SECONDS) as reply:  # noqa: S310 -- as above
        text = reply.read()
    return json.loads(text) if text else None


class Proxy:
    """One Toxiproxy proxy to the MongoDB test server; close it to remove it."""

    def __init__(self) -> None:
        self._api = api_url()
        server = urlsplit(mongo_base_url())
        assert server.hostname in ("127.0.0.1", "localhost"), "tests talk to 127.0.0.1 only"
        self._userinfo = server.netloc.rpartition("@")[0]
        self._query = server.query
        self.name = f"cirec-{uuid.uuid4().hex[:8]}"
        upstream = f"{server.hostname}:{server.port or 27017}"
        made = _call(
            "POST",
            f"{self._api}/proxies",
            {"name": self.name, "listen": "127.0.0.1:0", "upstream": upstream},
        )
        self.listen: str = made["listen"]

    def url(self, direct: str, **options: object) -> str:
        """Return the URL ``direct`` (of the test server) through this proxy, plus ``options``.

        The database, credentials and options of ``direct`` are kept.
        """
        database = urlsplit(direct).path
        login = f"{self._userinfo}@" if self._userinfo else ""
        query = "&".join(
            [*filter(None, [self._query]), *(f"{key}={value}" for key, value in options.items())]
        )
        return f"mongodb://{login}{self.listen}{database}" + (f"?{query}" if query else "")

    def add(self, kind: str, stream: str = "downstream", **attributes: object) -> str:
        """Add a toxic of ``kind`` on ``stream`` (``upstream``: to the server); return its name."""
        name = f"{kind}-{stream}-{uuid.uuid4().hex[:6]}"
        _call(
            "POST",
            f"{self._api}/proxies/{self.name}/toxics",
            {"name": name, "type": kind, "stream": stream, "attributes": attributes},
        )
        return name

    def remove(self, toxic: str) -> None:
        """Remove the toxic named ``toxic``."""
        _call("DELETE", f"{self._api}/proxies/{self.name}/toxics/{toxic}")

    def close(self) -> None:
        """Remove the proxy (its connections close)."""
        _call("DELETE", f"{self._api}/proxies/{self.name}")
