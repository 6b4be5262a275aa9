"""The annotations of glassnet.nn and glassnet.optim: a PyTorch-style script on them passes
mypy and runs, and misuses mypy must catch (wrong argument types, a slice of a Sequential
taken for one layer, a scheduler's rates taken for one float) fail it."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from .test_mypy import REPO, _mypy

SCRIPT = Path(__file__).with_name("nn_optim_script.py")


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("mypy_cache_nn")


def test_nn_optim_script_runs():
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    r = subprocess.run([sys.executable, str(SCRIPT)], capture_output=True, text=True, env=env,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    assert "learning rates" in r.stdout


@pytest.mark.integration
def test_nn_optim_script_passes_mypy(cache):
    pytest.importorskip("mypy.api", reason="mypy is not installed (pip install '.[test]')")
    out, rc, _ = _mypy([str(SCRIPT)], cache)
    assert rc == 0, out


BAD = '''
from glassnet import nn, optim
from glassnet.optim import lr_scheduler as sch

model = nn.Sequential(nn.Linear(4, 8), nn.ReLU())
opt = optim.SGD(model.parameters(), lr="0.1")
layer: nn.Linear = model[0:1]
rate: float = sch.StepLR(opt, step_size="2").get_last_lr()
lstm = nn.LSTM(4, 8, num_layers=2.5)
'''


@pytest.mark.integration
def test_nn_optim_misuse_fails_mypy(cache, tmp_path):
    pytest.importorskip("mypy.api", reason="mypy is not installed (pip install '.[test]')")
    bad = tmp_path / "bad_nn_optim.py"
    bad.write_text(BAD)
    out, rc, _ = _mypy([str(bad)], cache)
    assert rc == 1, out
    for message in ['Argument "lr" to "SGD" has incompatible type "str"; expected "float"',
                    'expression has type "Sequential", variable has type "Linear"',
                    'Argument "step_size" to "StepLR" has incompatible type "str"; expected "int"',
                    'expression has type "list[float]", variable has type "float"',
                    'Argument "num_layers" to "LSTM" has incompatible type "float"; '
                    'expected "int"']:
        assert message in out, out
