"""``glassnet playground``: serve the playground page on 127.0.0.1 and open it."""
from __future__ import annotations

import argparse
import sys
from typing import Any

__all__ = ["add_parser", "run", "missing_assets"]


def add_parser(sub: Any) -> argparse.ArgumentParser:
    """Add ``glassnet playground`` to ``sub`` (the subparsers of ``glassnet``)."""
    from .argtypes import non_negative_int
    p = sub.add_parser("playground", help="a web page where a small network learns live",
                       description="Serve the glassnet playground on 127.0.0.1 (loopback only) "
                       "and open it in the browser: datasets, features, layers, activations, "
                       "optimisers; click a unit for its backprop numbers. Ctrl-C stops it.")
    p.add_argument("--port", type=non_negative_int, default=8000,
                   help="default 8000; 0 picks a free port")
    p.add_argument("--no-browser", action="store_true", help="only print the address")
    return p


def missing_assets() -> list[str]:
    """The files of the page that are not in the installed package (normally none). The
    server itself is the standard library's: the playground needs no optional package."""
    from importlib import resources
    static = resources.files("glassnet.playground").joinpath("static")
    return [n for n in ("index.html", "app.js", "style.css") if not static.joinpath(n).is_file()]


def run(args: argparse.Namespace) -> int:
    """Serve until interrupted; returns 0."""
    from ..errors import ArgumentError
    from ..playground import make_server
    if args.port > 65535:
        raise ArgumentError(f"--port must be 0 to 65535, got {args.port}")
    missing = missing_assets()
    if missing:
        raise ArgumentError(f"the page's files are not installed "
                            f"({', '.join(missing)} missing from glassnet/playground/static); "
                            f"reinstall glassnet (pip install --force-reinstall glassnet)")
    try:
        server = make_server(args.port)
    except OSError as e:
        raise ArgumentError(f"--port {args.port}: cannot listen on 127.0.0.1 ({e.strerror})") from None
    print(f"glassnet playground: {server.url}  (Ctrl-C stops it)", flush=True)
    if not args.no_browser:
        import webbrowser
        try:
            webbrowser.open(server.url)
        except Exception:           # no browser here: the address above is enough
            print("glassnet playground: no browser found; open the address above", file=sys.stderr)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
    return 0
