"""The browser test skips with a reason that says what to install."""
from __future__ import annotations

from . import browser


def test_reason_names_chromium_when_absent(monkeypatch):
    monkeypatch.setattr(browser, "CHROMIUM", None)
    assert "chromium" in browser.why_not()


def test_reason_names_playwright_when_absent(monkeypatch):
    monkeypatch.setattr(browser, "CHROMIUM", "/usr/bin/chromium")
    monkeypatch.setattr(browser.importlib.util, "find_spec",
                        lambda name: None if name == "playwright" else object())
    assert "pip install playwright" in browser.why_not()
