"""A playground server on a free loopback port, in a thread, for the tests of this folder."""
from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request

import pytest

from glassnet.playground import make_server


class Client:
    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")

    def request(self, method, path, body=None, raw=False):
        data = None
        headers = {}
        if body is not None:
            data = body if raw else json.dumps(body).encode()
            headers["Content-Type"] = "application/octet-stream" if raw else "application/json"
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                payload, status, ctype = r.read(), r.status, r.headers.get("Content-Type", "")
        except urllib.error.HTTPError as e:
            payload, status, ctype = e.read(), e.code, e.headers.get("Content-Type", "")
        if ctype.startswith("application/json"):
            return status, json.loads(payload)
        return status, payload

    def get(self, path):
        return self.request("GET", path)

    def post(self, path, body=None, raw=False):
        return self.request("POST", path, body if body is not None else {}, raw)


@pytest.fixture(scope="module")
def server():
    srv = make_server(0)
    t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    t.start()
    yield srv
    srv.shutdown()
    srv.server_close()


@pytest.fixture()
def client(server):
    return Client(server.url)
