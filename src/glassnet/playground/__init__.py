"""``glassnet playground``: a local web page, backed by glassnet, where a small network
learns a two-dimensional dataset live, and every backprop number of a unit is one click away.

``python -m glassnet playground`` or ``glassnet playground --port 8000``; the server binds
127.0.0.1 only. :func:`make_server` builds it for tests and scripts.
"""
from __future__ import annotations

from .server import PlaygroundServer, make_server
from .session import ConfigError, Session, validate_config

__all__ = ["PlaygroundServer", "make_server", "Session", "ConfigError", "validate_config"]
