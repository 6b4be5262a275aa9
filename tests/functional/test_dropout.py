"""functional.dropout: mask statistics and inverted scaling, seeding, identity cases, float64
gradient checks of dropout and dropout2d."""
from __future__ import annotations

import numpy as np
import pytest

import glassnet as gn
from glassnet import functional as F
from glassnet import nn
from glassnet.autograd import gradcheck


R = np.random.default_rng(2)


def test_mask_statistics_and_inverted_scaling():
    x = gn.Tensor(np.ones((400, 500), np.float32), requires_grad=True)
    y = F.dropout(x, 0.3)
    out = y.numpy()
    assert out.dtype == np.float32
    zero = out == 0
    assert abs(zero.mean() - 0.3) < 0.005
    np.testing.assert_allclose(out[~zero], 1 / 0.7, rtol=1e-6)
    assert abs(out.mean() - 1.0) < 0.01  # expectation preserved
    # the float32 mask is kept for backward: the gradient is the mask itself
    assert y._ctx.mask.dtype == np.float32
    y.backward(np.ones_like(out))
    np.testing.assert_array_equal(x.grad.numpy(), out)


def test_seeded_and_identity_cases():
    x = gn.Tensor(R.standard_normal((50, 20)).astype(np.float32))
    gn.manual_seed(5)
    a = F.dropout(x, 0.5).numpy()
    gn.manual_seed(5)
    np.testing.assert_array_equal(a, F.dropout(x, 0.5).numpy())
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x
    np.testing.assert_array_equal(F.dropout(x, 1.0).numpy(), 0.0)
    with pytest.raises(ValueError, match=r"dropout: p must be a probability in \[0, 1\]"):
        F.dropout(x, 1.5)
    with pytest.raises(ValueError, match="Dropout: p must be"):
        nn.Dropout(-0.1)


def test_gradcheck_dropout():
    def fn(x):
        gn.manual_seed(11)
        return F.dropout(x, 0.4)
    assert gradcheck(fn, [R.standard_normal((6, 5))])[0] < 1e-6

    def fn2(x):
        gn.manual_seed(11)
        return F.dropout2d(x, 0.4)
    assert gradcheck(fn2, [R.standard_normal((3, 4, 2, 2))])[0] < 1e-6
