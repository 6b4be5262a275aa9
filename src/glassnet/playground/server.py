"""The playground's HTTP server: the standard library's ThreadingHTTPServer, JSON endpoints,
the page and its assets from the package (no network, no CDN).

Endpoints (``<id>`` is a session id from ``POST /api/session``)::

    GET  /                                  the page (static/index.html)
    GET  /static/<app.js|style.css>         its assets
    GET  /api/options                       datasets, features, activations, ... and limits
    POST /api/session          {config}     a new session -> {"id", "state"}
    GET  /api/session/<id>/state[?full=0]   everything the page draws
    POST /api/session/<id>/config {config}  new settings: reset with them
    POST /api/session/<id>/<play|pause|step|reset>
    GET  /api/session/<id>/unit?layer=L&unit=J   z, a, f'(z), δ, ∂E/∂w of one unit (trace)
    GET  /api/session/<id>/export/model     the network as a glassnet model file
    GET  /api/session/<id>/export/script    a Python script reproducing the run
    POST /api/session/<id>/import           a model file (its bytes) exported before

A bad value is HTTP 400 with ``{"error": message, "field": name}``; an unknown path or
session 404. Request bodies are limited to 1 MB, sessions to :data:`MAX_SESSIONS`.
"""
from __future__ import annotations

import json
import math
import secrets
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any
from urllib.parse import parse_qs, urlsplit

from . import datasets as D
from .export import load_model_bytes, model_bytes, script
from .session import (ACTIVATIONS, DEFAULTS, LIMITS, OPTIMIZERS, ConfigError, Session,
                      validate_config)

__all__ = ["PlaygroundServer", "make_server", "MAX_SESSIONS", "MAX_BODY"]

MAX_SESSIONS = 8
MAX_BODY = 1 << 20
_DRAIN_LIMIT = 16 * MAX_BODY   # a larger body is not read at all: the connection closes
_STATIC = {"index.html": "text/html; charset=utf-8", "app.js": "text/javascript; charset=utf-8",
           "style.css": "text/css; charset=utf-8"}


class PlaygroundServer(ThreadingHTTPServer):
    """A ThreadingHTTPServer holding the sessions."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int]) -> None:
        super().__init__(address, _Handler)
        self.sessions: dict[str, Session] = {}
        self.sessions_lock = threading.Lock()

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}/"

    def new_session(self, config: Any) -> tuple[str, Session]:
        s = Session(config)
        sid = secrets.token_hex(8)
        with self.sessions_lock:
            while len(self.sessions) >= MAX_SESSIONS:   # drop the one seen longest ago
                old = min(self.sessions, key=lambda k: self.sessions[k].last_seen)
                self.sessions.pop(old).close()
            self.sessions[sid] = s
        return sid, s

    def server_close(self) -> None:
        with self.sessions_lock:
            for s in self.sessions.values():
                s.close()
        super().server_close()


def make_server(port: int = 8000, host: str = "127.0.0.1") -> PlaygroundServer:
    """A server bound to ``host`` (loopback by default) on ``port`` (0: any free port)."""
    return PlaygroundServer((host, port))


class _HTTPError(Exception):
    def __init__(self, status: int, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.field = status, message, field


def _int_arg(query: dict[str, list[str]], name: str) -> int:
    vals = query.get(name)
    if not vals:
        raise _HTTPError(400, f"{name}: missing (give ?{name}=N)", name)
    try:
        return int(vals[0])
    except ValueError:
        raise _HTTPError(400, f"{name}: must be a whole number, got {vals[0]!r}", name) from None


class _Handler(BaseHTTPRequestHandler):
    server: PlaygroundServer
    protocol_version = "HTTP/1.1"
    _body_read = False

    def log_message(self, format: str, *args: Any) -> None:   # quiet: the page polls often
        pass

    # ------------------------------------------------------------ replies
    def _send(self, status: int, body: bytes, ctype: str,
              extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, obj: Any, status: int = 200) -> None:
        try:
            text = json.dumps(obj, allow_nan=False)
        except ValueError:          # a diverged run: NaN / inf go out as null
            text = json.dumps(_finite(obj), allow_nan=False)
        self._send(status, text.encode(), "application/json; charset=utf-8")

    def _body(self) -> bytes:
        self._body_read = True
        try:
            n = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            self.close_connection = True
            raise _HTTPError(400, "Content-Length: not a number", "body") from None
        if n < 0 or n > MAX_BODY:
            self.close_connection = True     # what is left of the body is not a request
            if 0 < n <= _DRAIN_LIMIT:        # read it and drop it, so the client sees the reply
                while n > 0:
                    chunk = self.rfile.read(min(n, 1 << 16))
                    if not chunk:
                        break
                    n -= len(chunk)
            raise _HTTPError(413, f"body: at most {MAX_BODY} bytes, got "
                             f"{self.headers.get('Content-Length')}", "body")
        return self.rfile.read(n) if n else b""

    def _json_body(self) -> Any:
        raw = self._body()
        if not raw:
            return {}
        try:
            return json.loads(raw)
        except (ValueError, UnicodeDecodeError) as e:
            raise _HTTPError(400, f"body: not valid JSON ({e})", "body") from None

    # ------------------------------------------------------------ routing
    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_HEAD(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        parts = [p for p in url.path.split("/") if p]
        query = parse_qs(url.query)
        self._body_read = False
        try:
            try:
                self._route(method, parts, query)
            except _HTTPError as e:
                self._error(e.status, e.message, e.field)
            except ConfigError as e:
                self._error(400, str(e), e.field)
            except Exception as e:      # a bug, not the page's fault: say so, keep serving
                self._error(500, f"internal error: {type(e).__name__}: {e}", None)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _error(self, status: int, message: str, field: str | None) -> None:
        if not self._body_read and (self.headers.get("Content-Length") or "0") != "0":
            self.close_connection = True    # an unread body would be taken for a request
        self._json({"error": message, "field": field}, status)

    def _route(self, method: str, parts: list[str], query: dict[str, list[str]]) -> None:
        if method == "GET" and (not parts or parts == ["index.html"]):
            return self._static("index.html")
        if method == "GET" and len(parts) == 2 and parts[0] == "static":
            return self._static(parts[1])
        if parts[:1] != ["api"]:
            raise _HTTPError(404, f"no such page: /{'/'.join(parts)}")
        if parts == ["api", "options"] and method == "GET":
            return self._json({"datasets": list(D.DATASETS), "classification": list(D.CLASSIFICATION),
                               "features": list(D.FEATURES), "activations": list(ACTIVATIONS),
                               "optimizers": list(OPTIMIZERS), "limits": LIMITS,
                               "defaults": DEFAULTS, "previews": _previews()})
        if parts == ["api", "session"] and method == "POST":
            body = self._json_body()
            cfg = body.get("config", {}) if isinstance(body, dict) else body
            sid, s = self.server.new_session(cfg)
            return self._json({"id": sid, "state": s.state()})
        if len(parts) < 4 or parts[1] != "session":
            raise _HTTPError(404, f"no such endpoint: /{'/'.join(parts)}")
        found = self.server.sessions.get(parts[2])
        if found is None:
            raise _HTTPError(404, f"no session {parts[2]!r} (it ended; reload the page)", "session")
        self._session(method, "/".join(parts[3:]), found, query)

    def _session(self, method: str, action: str, s: Session,
                 query: dict[str, list[str]]) -> None:
        if method == "GET" and action == "state":
            full = query.get("full", ["1"])[0] != "0"
            return self._json(s.state(full=full))
        if method == "GET" and action == "unit":
            return self._json(s.unit(_int_arg(query, "layer"), _int_arg(query, "unit")))
        if method == "GET" and action == "export/model":
            return self._send(200, model_bytes(s), "application/octet-stream",
                              {"Content-Disposition":
                               'attachment; filename="playground-model.safetensors"'})
        if method == "GET" and action == "export/script":
            return self._send(200, script(s).encode(), "text/x-python; charset=utf-8",
                              {"Content-Disposition": 'attachment; filename="playground_run.py"'})
        if method != "POST":
            raise _HTTPError(404 if action not in _POSTS else 405,
                             f"no such endpoint: {method} {action}")
        if action == "config":
            body = self._json_body()
            cfg = body.get("config") if isinstance(body, dict) and "config" in body else body
            s.reset(validate_config(cfg))
            return self._json(s.state())
        if action == "import":
            load_model_bytes(s, self._body())
            return self._json(s.state())
        self._body()        # read and drop whatever was sent
        if action == "play":
            s.message = ""
            s.playing.set()
        elif action == "pause":
            s.playing.clear()
        elif action == "step":
            s.playing.clear()
            with s.lock:
                s.train_step()
        elif action == "reset":
            s.reset()
        else:
            raise _HTTPError(404, f"no such endpoint: POST {action}")
        self._json(s.state(full=action == "reset"))

    def _static(self, name: str) -> None:
        if name not in _STATIC:
            raise _HTTPError(404, f"no such file: {name}")
        body = resources.files("glassnet.playground").joinpath("static").joinpath(name).read_bytes()
        self._send(200, body, _STATIC[name])


def _finite(obj: Any) -> Any:
    """``obj`` with every NaN or infinite float replaced by None (JSON has neither)."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    return obj


def _previews() -> dict[str, list[list[float]]]:
    """150 points of every dataset (seed 0, no noise) for the dataset buttons."""
    out = {}
    for name in D.DATASETS:
        X, y = D.make_dataset(name, 150, 0, seed=0)
        out[name] = [[round(float(a), 2), round(float(b), 2), round(float(t), 2)]
                     for (a, b), t in zip(X, y)]
    return out


_POSTS = ("config", "import", "play", "pause", "step", "reset")
