"""`glassnet playground`: serves on 127.0.0.1, prints the address, answers; bad ports and
missing page files are clear errors."""
from __future__ import annotations

import subprocess
import sys
import urllib.request

import pytest

from glassnet.cli import playground as cli
from glassnet.cli.main import main


def test_command_serves_on_loopback_and_prints_the_url():
    p = subprocess.Popen([sys.executable, "-m", "glassnet.cli.main", "playground", "--port", "0",
                          "--no-browser"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    try:
        line = p.stdout.readline()
        assert line.startswith("glassnet playground: http://127.0.0.1:"), line
        url = line.split()[2]
        with urllib.request.urlopen(url, timeout=20) as r:
            assert r.status == 200 and b"glassnet playground" in r.read()
    finally:
        p.terminate()
        p.wait(timeout=20)


@pytest.mark.parametrize("port", ["70000", "-1", "x"])
def test_bad_port_is_a_clear_error(port, capsys):
    assert main(["playground", "--port", port, "--no-browser"]) != 0
    assert "--port" in capsys.readouterr().err


def test_missing_page_files_are_named(monkeypatch, capsys):
    monkeypatch.setattr(cli, "missing_assets", lambda: ["app.js"])
    assert main(["playground", "--port", "0", "--no-browser"]) != 0
    err = capsys.readouterr().err
    assert "app.js" in err and "reinstall" in err


def test_assets_are_installed():
    assert cli.missing_assets() == []
