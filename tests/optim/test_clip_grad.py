"""Gradient clipping equals torch.nn.utils.clip_grad_norm_ / clip_grad_value_."""
from __future__ import annotations

import numpy as np
import pytest

import glassnet as gn
from glassnet import nn, optim


def _params(scale):
    r = np.random.default_rng(0)
    ps = [nn.Parameter(r.normal(size=s)) for s in [(4, 3), (3,), (2, 4)]]
    for p in ps:
        p.grad = gn.Tensor(r.normal(size=p.numpy().shape) * scale)
    return ps


@pytest.mark.parametrize("norm_type", [2.0, float("inf"), 1.0, 3.0])
@pytest.mark.parametrize("scale", [0.01, 10.0])
def test_clip_grad_norm_matches_torch(torch, norm_type, scale):
    ps = _params(scale)
    tps = [torch.tensor(p.numpy()) for p in ps]
    for p, tp in zip(ps, tps):
        tp.grad = torch.tensor(p.grad.numpy().copy())
    total = optim.clip_grad_norm_(ps, 1.5, norm_type=norm_type)
    ttotal = torch.nn.utils.clip_grad_norm_(tps, 1.5, norm_type=norm_type)
    assert isinstance(total, gn.Tensor) and total.shape == ()   # torch returns a Tensor
    np.testing.assert_allclose(total, float(ttotal), rtol=1e-10)
    for p, tp in zip(ps, tps):
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-10)
    if scale > 1:
        assert optim.grad_norm(ps, norm_type) <= 1.5 + 1e-6


def test_clip_grad_value_matches_torch(torch):
    ps = _params(3.0)
    tps = [torch.tensor(p.numpy()) for p in ps]
    for p, tp in zip(ps, tps):
        tp.grad = torch.tensor(p.grad.numpy().copy())
    optim.clip_grad_value_(ps, 0.7)
    torch.nn.utils.clip_grad_value_(tps, 0.7)
    for p, tp in zip(ps, tps):
        np.testing.assert_array_equal(p.grad.numpy(), tp.grad.numpy())
    assert max(np.abs(p.grad.numpy()).max() for p in ps) == pytest.approx(0.7)


def test_clip_edge_cases():
    p = nn.Parameter(np.ones(3))
    assert optim.clip_grad_norm_([p], 1.0) == 0.0  # no gradients
    p.grad = gn.Tensor(np.array([np.inf, 0.0, 0.0]))
    with pytest.raises(RuntimeError, match="total norm"):
        optim.clip_grad_norm_(p, 1.0, error_if_nonfinite=True)
    with pytest.raises(ValueError, match="max_norm"):
        optim.clip_grad_norm_([p], -1)
    with pytest.raises(ValueError, match="clip_value"):
        optim.clip_grad_value_([p], -1)
