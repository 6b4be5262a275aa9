"""The optimizer tests run the flat engine's chunks on glassnet's threads even for their
small parameter sets (production runs groups under ``PARALLEL_MIN_PARAMS`` on the calling
thread), so that the threaded path is the one checked against the readable rules;
test_flat_engine.py checks the threshold itself."""
import pytest

from glassnet.optim import _flat


@pytest.fixture(autouse=True)
def _threaded_flat_steps(monkeypatch):
    monkeypatch.setattr(_flat, "PARALLEL_MIN_PARAMS", 0)
