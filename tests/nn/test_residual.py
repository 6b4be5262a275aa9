"""nn.Residual: float64 gradient check of a block, shapes with and without a projection."""
from __future__ import annotations

import numpy as np
import pytest

import glassnet as gn
from glassnet import nn
from glassnet.autograd import gradcheck


R = np.random.default_rng(0)


def rnd(*shape):
    return R.standard_normal(shape)


def test_gradcheck_residual_block():
    gn.manual_seed(1)
    block = nn.Residual(nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.ReLU()),
                        projection=True, in_channels=2, out_channels=3).double()
    gradcheck(lambda x: block(x), [rnd(2, 2, 4, 4)])


def test_residual_shapes():
    same = nn.Residual(nn.Conv2d(4, 4, 3, padding=1))
    x = gn.randn(2, 4, 5, 5)
    np.testing.assert_allclose(same(x).numpy(), same.fn(x).numpy() + x.numpy(), rtol=1e-6)
    with pytest.raises(ValueError, match="projection"):
        nn.Residual(nn.Conv2d(4, 8, 3, padding=1))(x)
    down = nn.Residual(nn.Conv2d(4, 8, 3, stride=2, padding=1), projection=True, in_channels=4,
                       out_channels=8, stride=2)
    assert down(x).shape == (2, 8, 3, 3)
