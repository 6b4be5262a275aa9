"""The compiled Adam step (backend.kernels.optim_kernels) against the NumPy rule it
replaces, on every path of the flat engine, and against PyTorch's Adam."""
from __future__ import annotations

import numpy as np
import pytest

import glassnet as gn
from glassnet import nn, optim
from glassnet.backend import kernels

pytestmark = pytest.mark.skipif(not kernels.available(),
                                reason="Numba is not installed (pip install 'glassnet[jit]')")

CASES = [("Adam", {}), ("Adam", {"weight_decay": 0.1}), ("Adam", {"maximize": True}),
         ("AdamW", {"weight_decay": 0.05}), ("Adam", {"betas": (0.5, 0.9), "eps": 1e-3}),
         ("Adam", {"amsgrad": True})]


def _train(name, kw, jit, dtype, strided=False, steps=4):
    prev = kernels.set_enabled(jit)
    try:
        gn.manual_seed(0)
        model = nn.Sequential(nn.Linear(7, 300), nn.Tanh(), nn.Linear(300, 3)).to(dtype)
        if strided:     # a transposed (non-contiguous) parameter: the gathered path
            w = model[0].weight
            w.data = w.data.numpy().T.copy().T
        opt = getattr(optim, name)(model.parameters(), lr=0.01, **kw)
        r = np.random.default_rng(1)
        for _ in range(steps):
            x = gn.tensor(r.standard_normal((16, 7)), dtype=dtype)
            opt.zero_grad()
            (model(x) ** 2).mean().backward()
            opt.step()
        return [p.numpy().copy() for p in model.parameters()]
    finally:
        kernels.set_enabled(prev)


@pytest.mark.parametrize("name,kw", CASES)
@pytest.mark.parametrize("dtype", [gn.float32, gn.float64])
def test_compiled_adam_equals_the_numpy_rule(name, kw, dtype):
    tol = dict(rtol=2e-5, atol=1e-6) if dtype == gn.float32 else dict(rtol=1e-12, atol=1e-14)
    for strided in (False, True):
        for a, b in zip(_train(name, kw, True, dtype, strided),
                        _train(name, kw, False, dtype, strided)):
            np.testing.assert_allclose(a, b, **tol)


def test_the_kernel_is_used_and_moves_the_parameters():
    k = kernels.optim_kernels(np.float32)
    assert k is not None
    p, g = np.ones(5, np.float32), np.full(5, 2.0, np.float32)
    m, v = np.zeros(5, np.float32), np.zeros(5, np.float32)
    f = np.float32
    k.adam(p, g, m, v, f(1), f(0), f(0.9), f(0.1), f(0.999), f(0.001), f(0.1), f(0), f(1))
    np.testing.assert_allclose(m, 0.2)
    np.testing.assert_allclose(v, 0.004)
    np.testing.assert_allclose(p, 1 - 0.1 * 0.2 / np.sqrt(0.004), rtol=1e-6)
    prev = kernels.set_enabled(False)
    try:
        assert kernels.optim_kernels(np.float32) is None
    finally:
        kernels.set_enabled(prev)


def test_compiled_adam_follows_torch(torch):
    gn.manual_seed(0)
    g = nn.Linear(40, 30)
    t = torch.nn.Linear(40, 30)
    t.load_state_dict({k: torch.tensor(v.numpy()) for k, v in g.state_dict().items()})
    go = optim.AdamW(g.parameters(), lr=0.01, weight_decay=0.1)
    to = torch.optim.AdamW(t.parameters(), lr=0.01, weight_decay=0.1)
    r = np.random.default_rng(0)
    for _ in range(5):
        x = r.standard_normal((8, 40)).astype(np.float32)
        go.zero_grad(); to.zero_grad()
        (g(gn.tensor(x)) ** 2).mean().backward()
        (t(torch.tensor(x)) ** 2).mean().backward()
        go.step(); to.step()
    for (n, p), (_, q) in zip(g.named_parameters(), t.named_parameters()):
        np.testing.assert_allclose(p.numpy(), q.detach().numpy(), rtol=1e-5, atol=1e-6,
                                   err_msg=n)
