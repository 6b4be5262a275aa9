"""The Functions whose copies run in chunks on glassnet's threads pass their float64
gradient checks with the chunking forced on small arrays and three threads."""
from __future__ import annotations

import numpy as np
import pytest

from glassnet import backend
from glassnet import functional as F
from glassnet.autograd import gradcheck
from glassnet.functional import pooling as P
from glassnet.functional import recurrent as R

rng = np.random.default_rng(0)


@pytest.fixture(autouse=True)
def three_threads_on_everything(monkeypatch):
    monkeypatch.setattr(backend.threads, "PARALLEL_MIN_ELEMENTS", 1)
    monkeypatch.setattr(backend.threads, "ELEMENTWISE_MIN_ELEMENTS", 1)
    prev = backend.get_num_threads()
    backend.set_num_threads(3)
    yield
    backend.set_num_threads(prev)


def test_relu():
    x = rng.standard_normal((5, 2, 3, 3))
    x = np.where(np.abs(x) < 1e-3, 0.5, x)       # away from the kink
    gradcheck(F.relu, [x])


@pytest.mark.parametrize("kw", [dict(padding=1), dict(stride=2, padding=(1, 2)),
                                dict(dilation=2, padding="same"), dict()])
def test_conv2d(kw):
    r = np.random.default_rng(1)    # (finite differences are too coarse for some draws)
    gradcheck(lambda x, w, b: F.conv2d(x, w, b, **kw),
              [r.standard_normal((5, 2, 6, 5)), r.standard_normal((3, 2, 3, 3)),
               r.standard_normal(3)])


def test_conv2d_without_bias_and_conv1d():
    gradcheck(lambda x, w: F.conv2d(x, w, padding=1), [rng.standard_normal((4, 2, 5, 5)),
                                                         rng.standard_normal((3, 2, 3, 3))])
    gradcheck(lambda x, w, b: F.conv1d(x, w, b, padding=2),
              [rng.standard_normal((4, 2, 9)), rng.standard_normal((3, 2, 3)),
               rng.standard_normal(3)])


@pytest.mark.parametrize("k", [2, 3, (1, 2), (2, 1)])
def test_max_pool_separable(k):
    gradcheck(lambda x: P.max_pool2d(x, k), [rng.standard_normal((5, 2, 7, 6))])


@pytest.mark.parametrize("kind", ["lstm", "gru"])
@pytest.mark.parametrize("masked", [False, True])
def test_recurrent(recurrent_args, kind, masked):
    G = 4 if kind == "lstm" else 3
    args = recurrent_args(kind, 7, N=5)
    fn = R.LSTMFunction if kind == "lstm" else R.GRUFunction
    mask = R.lengths_to_mask([4, 1, 3, 2, 4], 4) if masked else None
    for k in range(G - 1):
        gradcheck(lambda *a, k=k: fn.apply(*a, mask=mask)[k], args)
