"""Screenshots of the glassnet playground in headless Chromium (Debian's chromium driven by
Playwright; no downloaded browser): the page at rest, while training, and with the backprop
panel of a unit open.

    python tools/playground_screenshots.py            # writes docs/images/playground_*.png

Needs ``pip install playwright`` (in the test extra) and ``apt-get install chromium``.
"""
from __future__ import annotations

import argparse
import shutil
import sys
import threading
from pathlib import Path

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


def _small(png: bytes) -> bytes:
    """The screenshot as a 256-colour PNG (a third of the size; UI colours survive)."""
    try:
        import io

        from PIL import Image
    except ImportError:
        return png
    im = Image.open(io.BytesIO(png)).convert("RGB").quantize(colors=256)
    buf = io.BytesIO()
    im.save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("docs/images"))
    ap.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    args = ap.parse_args(argv)
    if not Path(args.chromium).exists():
        print(f"no Chromium at {args.chromium} (apt-get install chromium)", file=sys.stderr)
        return 1
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print("Playwright is not installed (pip install playwright)", file=sys.stderr)
        return 1
    from glassnet.playground import make_server

    args.out.mkdir(parents=True, exist_ok=True)
    srv = make_server(0)
    threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05},
                     daemon=True).start()
    shots = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=args.chromium, args=ARGS)
            pg = browser.new_page(viewport={"width": 1280, "height": 860})
            # a shared setup in the URL: the spiral from x1 and x2, four tanh layers, Adam
            pg.goto(srv.url + "#dataset=spiral&features=x1,x2&hidden=8,8,8,8&activation=tanh"
                    "&lr=0.01&optimizer=adam&noise=0&seed=3")
            pg.wait_for_selector("body[data-ready='1']")
            shots.append(("playground_rest.png", pg.screenshot(full_page=False)))
            pg.click("#play")
            pg.wait_for_function("last.epoch >= 150", timeout=120000)
            shots.append(("playground_training.png", pg.screenshot(full_page=False)))
            pg.click("#play")
            pg.wait_for_function("!last.playing")
            pg.click("#step")                       # the 'one step' update table
            pg.wait_for_selector("#update-panel:not(.hidden)")
            pg.click("#unit-2-1")
            pg.wait_for_selector("#unit-samples")
            shots.append(("playground_backprop.png", pg.screenshot(full_page=True)))
            browser.close()
    finally:
        srv.shutdown()
        srv.server_close()
    for name, png in shots:
        png = _small(png)
        (args.out / name).write_bytes(png)
        print(f"{args.out / name}: {len(png) / 1024:.0f} KB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
