"""Headless Chromium for the playground's browser test and screenshots: Debian's chromium
driven by Playwright (no downloaded browser). :func:`why_not` says why it cannot run here."""
from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

CHROMIUM = next((p for p in ("/usr/bin/chromium", shutil.which("chromium") or "",
                             shutil.which("chromium-browser") or "") if p and Path(p).exists()), None)
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


def why_not() -> str | None:
    if CHROMIUM is None:
        return "no Chromium (apt-get install chromium)"
    if importlib.util.find_spec("playwright") is None:
        return "Playwright is not installed (pip install playwright)"
    return None


def launch(p):
    return p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
