"""tools/kill_resume.py, short: 3 runs killed with SIGKILL (one during a checkpoint write),
each resumed from its latest checkpoint, end bit-identical to the uninterrupted run and
leave no temporary file. The full 30-kill run: ``python tools/kill_resume.py``."""
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

TOOL = Path(__file__).resolve().parents[2] / "tools" / "kill_resume.py"

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")


def test_kill_and_resume_three_times(tmp_path):
    out = subprocess.run([sys.executable, str(TOOL), "--kills", "3", "--seed", "3",
                          "--dir", str(tmp_path)], capture_output=True, text=True, timeout=120)
    text = out.stdout + out.stderr
    kills = re.search(r"kills: (\d+) \((\d+) during a checkpoint write", text)
    same = re.search(r"identical runs: (\d+)/(\d+)", text)
    left = re.search(r"leftover temporaries: (\d+)", text)
    assert kills and same and left, text
    assert int(kills.group(1)) == 3 and int(kills.group(2)) >= 1, text
    assert same.group(1) == same.group(2) and int(same.group(2)) >= 3, text
    assert int(left.group(1)) == 0 and out.returncode == 0, text
