"""functional.pooling: float64 gradient checks of every pool, stochastic pooling's sampling,
and the max pool's gradient routing (ties as PyTorch's)."""
from __future__ import annotations

import numpy as np
import pytest

import glassnet as gn
from glassnet.autograd import gradcheck
from glassnet.functional import pooling as P


R = np.random.default_rng(0)


def rnd(*shape):
    return R.standard_normal(shape)


def test_gradcheck_pools():
    x = rnd(2, 2, 6, 5)
    gradcheck(lambda x: P.max_pool2d(x, 2), [x])
    gradcheck(lambda x: P.max_pool2d(x, 3, stride=2, padding=1), [x])
    gradcheck(lambda x: P.max_pool2d(x, 3), [x])            # cropped border
    gradcheck(lambda x: P.max_pool2d(x, (1, 2)), [x])
    gradcheck(lambda x: P.avg_pool2d(x, 3, stride=2, padding=1), [x])
    gradcheck(lambda x: P.avg_pool2d(x, (2, 3), stride=(2, 1)), [x])
    gradcheck(lambda x: P.max_avg_pool2d(x, 2, alpha=0.3), [x])
    gradcheck(lambda x: P.adaptive_avg_pool2d(x, 1), [x])
    gradcheck(lambda x: P.lp_pool2d(x, 2, 2), [np.abs(x) + 0.1])
    x1 = rnd(2, 3, 9)
    gradcheck(lambda x: P.max_pool1d(x, 3, stride=2), [x1])
    gradcheck(lambda x: P.avg_pool1d(x, 2, padding=1), [x1])


def test_gradcheck_stochastic_pool_eval():
    x = np.abs(rnd(2, 2, 4, 6)) + 0.1
    gradcheck(lambda x: P.stochastic_pool2d(x, 2, training=False), [x])


def test_stochastic_pool_training_samples_by_activation():
    # window [1, 0, 0, 3]: picks 3 with probability 3/4, never a zero
    x = np.zeros((4000, 1, 2, 2))
    x[:, 0, 0, 0], x[:, 0, 1, 1] = 1.0, 3.0
    t = gn.tensor(x, requires_grad=True, dtype=np.float64)
    y = P.stochastic_pool2d(t, 2, training=True)
    vals = y.numpy().ravel()
    assert set(np.unique(vals)) <= {1.0, 3.0}
    assert abs((vals == 3.0).mean() - 0.75) < 0.03
    y.sum().backward()
    g = t.grad.numpy()
    # the gradient goes to the sampled position only
    np.testing.assert_array_equal(g.sum(axis=(1, 2, 3)), np.ones(4000))
    np.testing.assert_array_equal(g[:, 0, 1, 1] == 1, vals == 3.0)
    ev = P.stochastic_pool2d(x[:1], 2, training=False).numpy().ravel()
    np.testing.assert_allclose(ev, [(1 + 9) / 4])


def test_max_pool_gradient_goes_to_max_only():
    x = gn.tensor(np.array([[[[1, 5], [3, 2]]]], float), requires_grad=True)
    P.max_pool2d(x, 2).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy()[0, 0], [[0, 1], [0, 0]])


@pytest.mark.parametrize("kernel,stride,padding", [(2, 2, 0), (3, 3, 0), (3, 2, 1), ((2, 3), None, 0)])
def test_max_pool_ties_match_torch(torch, kernel, stride, padding):
    # few distinct values: many windows hold their maximum twice; the gradient must go
    # to the first one in row-major order, as PyTorch's
    x = R.integers(0, 3, (2, 3, 9, 8)).astype(np.float32)
    tx = torch.from_numpy(x).requires_grad_()
    ty = torch.nn.functional.max_pool2d(tx, kernel, stride, padding)
    g = R.standard_normal(ty.shape).astype(np.float32)
    ty.backward(torch.from_numpy(g))
    gx = gn.tensor(x, requires_grad=True)
    y = P.max_pool2d(gx, kernel, stride, padding)
    y.backward(g)
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-4, atol=1e-4)
    # (overlapping windows add in another order: equal up to float rounding)
    np.testing.assert_allclose(gx.grad.numpy(), tx.grad.numpy(), rtol=1e-6, atol=1e-6)


# ---------------------------------------------------------------- issue 17: L2 pooling at 0
def _relu_windows(seed=1):
    """ReLU'd maps with some all-zero 2x2 windows and some mixed ones."""
    x = np.random.default_rng(seed).standard_normal((2, 2, 6, 6))
    x = np.maximum(x, 0)
    x[0, 0, :2, :2] = 0.0
    x[1, 1, 2:4, 4:6] = 0.0
    return x


def test_lp_pool_zero_window_has_zero_gradient_as_torch():
    x = gn.tensor(_relu_windows(), requires_grad=True)
    P.lp_pool2d(x, 2, 2).sum().backward()
    g = x.grad.numpy()
    assert np.isfinite(g).all()
    np.testing.assert_array_equal(g[0, 0, :2, :2], 0.0)
    torch = pytest.importorskip("torch")
    xt = torch.tensor(_relu_windows(), requires_grad=True)
    torch.nn.LPPool2d(2, 2)(xt).sum().backward()
    np.testing.assert_allclose(g, xt.grad.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("p", [2.0, 4.0])   # even p: x^p >= 0 around the zeros
def test_gradcheck_lp_pool_with_zero_windows(p):
    # central differences of (sum x^p)^(1/p) at a zero window are 0: the subgradient used
    gradcheck(lambda x: P.lp_pool2d(x, p, 2), [_relu_windows()])
    gradcheck(lambda x: P.lp_pool2d(x, p, 3, stride=2), [_relu_windows(2)])


def test_relu_l2_pool_cnn_trains_with_finite_grads():
    from glassnet import nn, optim
    gn.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.LPPool2d(2, 2),
                        nn.Flatten(), nn.Linear(4 * 4 * 4, 3))
    x = np.random.default_rng(0).standard_normal((8, 1, 8, 8)).astype(np.float32)
    x[:, :, :4, :4] = 0.0                     # a zero patch: all-zero windows after the ReLU
    with gn.no_grad():                         # and a bias that kills some channels outright
        net[0].bias.data[...] = -5.0 * (np.arange(4) % 2)
    y = np.arange(8) % 3
    opt = optim.SGD(net.parameters(), lr=0.1)
    for _ in range(3):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(net(gn.tensor(x)), gn.tensor(y))
        loss.backward()
        for prm in net.parameters():
            assert np.isfinite(prm.grad.numpy()).all()
        opt.step()
        assert np.isfinite(loss.item())
    assert all(np.isfinite(prm.data).all() for prm in net.parameters())


# ---------------------------------------------------------------- issue 17: max + average
def test_max_avg_pool_is_max_plus_mean_as_the_deck():
    # deck 003, table of pooling methods (2015): y = max + (1 / hw) sum
    x = np.array([[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]], np.float64)[None, None]
    y = P.max_avg_pool2d(x, 2).numpy()[0, 0]
    np.testing.assert_allclose(y, [[6 + 13 / 4, 8 + 21 / 4], [3 + 8 / 4, 4 + 8 / 4]])
    xr = rnd(2, 3, 6, 6)
    np.testing.assert_allclose(P.max_avg_pool2d(xr, 3, stride=2).numpy(),
                               P.max_pool2d(xr, 3, stride=2).numpy()
                               + P.avg_pool2d(xr, 3, stride=2).numpy())
    gradcheck(lambda x: P.max_avg_pool2d(x, 2), [xr])


def test_max_avg_pool_convex_mix_option():
    xr = rnd(2, 3, 6, 6)
    m, a = P.max_pool2d(xr, 2).numpy(), P.avg_pool2d(xr, 2).numpy()
    np.testing.assert_allclose(P.max_avg_pool2d(xr, 2, alpha=0.3).numpy(), 0.3 * m + 0.7 * a)
    np.testing.assert_allclose(P.max_avg_pool2d(xr, 2, alpha=0.5).numpy(),
                               0.5 * P.max_avg_pool2d(xr, 2).numpy())
    with pytest.raises(ValueError, match="alpha"):
        P.max_avg_pool2d(xr, 2, alpha=1.5)
