"""Shared fixtures: seeded RNG, the real-data directory, and optional peers."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

import glassnet as gn

REPO = Path(__file__).resolve().parents[1]


def shared_data_dir() -> Path | None:
    """../shared/data beside the repository root (or GLASSNET_DATA), if it exists."""
    env = os.environ.get("GLASSNET_DATA")
    for p in ([Path(env)] if env else []) + [REPO.parent / "shared" / "data"]:
        if p.is_dir():
            return p
    return None


@pytest.fixture
def data_dir():
    d = shared_data_dir()
    if d is None:
        pytest.skip("real datasets not found: set GLASSNET_DATA or put them in ../shared/data")
    return d


@pytest.fixture(autouse=True)
def _seed():
    gn.manual_seed(0)
    np.random.seed(0)
    yield


@pytest.fixture
def torch():
    return pytest.importorskip("torch", reason="PyTorch is not installed (pip install torch==2.13.0)")


@pytest.fixture
def one_blas_thread():
    """Run a test with one BLAS thread (threadpoolctl, when installed): small GEMMs gain
    nothing from two, and on a shared, oversubscribed 2-core machine two spinning OpenBLAS
    threads made short trainings 5-10x slower."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield
        return
    with threadpool_limits(1, user_api="blas"):
        yield
