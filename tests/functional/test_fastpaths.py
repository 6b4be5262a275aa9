"""Fast paths of issue 14's speed work: each gives the values and gradients of the plain
formula (float64 finite differences, and a parity check against torch where installed).

- Linear on N-D inputs runs as one 2-D GEMM on the (-1, in) rows;
- MatMul with an N-D left and a matrix right operand does the same.
"""
from __future__ import annotations

import numpy as np
import pytest

import glassnet as gn
from glassnet import functional as F
from glassnet.autograd import gradcheck
from glassnet.functional.math import Linear, MatMul

R = np.random.default_rng(0)


def rnd(*shape):
    return R.standard_normal(shape)


def T(a, grad=True):
    """A float64 glassnet tensor of ``a`` (the dtype spelt out)."""
    return gn.tensor(a, dtype=np.float64, requires_grad=grad)


# ------------------------------------------------------------------ Linear
@pytest.mark.parametrize("shape", [(5,), (4, 5), (3, 4, 5), (2, 3, 2, 5)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_nd_gradcheck(shape, bias):
    w, b = rnd(3, 5), rnd(3)
    if bias:
        gradcheck(lambda x, w, b: Linear.apply(x, w, b), [rnd(*shape), w, b])
    else:
        gradcheck(lambda x, w: Linear.apply(x, w), [rnd(*shape), w])


@pytest.mark.parametrize("shape", [(5,), (3, 4, 5), (2, 3, 2, 5)])
def test_linear_nd_matches_plain_formula(shape):
    x0, w0, b0 = rnd(*shape), rnd(3, 5), rnd(3)
    g0 = rnd(*shape[:-1], 3)
    x, w, b = (T(a) for a in (x0, w0, b0))
    y = F.linear(x, w, b)
    assert y.shape == shape[:-1] + (3,)
    np.testing.assert_allclose(y.numpy(), x0 @ w0.T + b0, rtol=1e-12)
    (y * T(g0, False)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), g0 @ w0, rtol=1e-12)
    g2, x2 = g0.reshape(-1, 3), x0.reshape(-1, 5)
    np.testing.assert_allclose(w.grad.numpy(), g2.T @ x2, rtol=1e-12)
    np.testing.assert_allclose(b.grad.numpy(), g2.sum(0), rtol=1e-12)


def test_linear_nd_noncontiguous_input():
    x0 = rnd(4, 5, 3).transpose(1, 0, 2)          # (5, 4, 3), not C-contiguous
    w0 = rnd(2, 3)
    x, w = T(x0), T(w0)
    F.linear(x, w).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.ones((5, 4, 2)) @ w0)
    gradcheck(lambda x, w: Linear.apply(x, w), [x0, w0])


def test_linear_nd_float32_dtype():
    x = gn.tensor(rnd(2, 3, 4).astype(np.float32), requires_grad=True)
    lin = gn.nn.Linear(4, 6)
    y = lin(x)
    assert y.shape == (2, 3, 6) and y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32 and lin.weight.grad.shape == (6, 4)


def test_linear_nd_parity_torch():
    torch = pytest.importorskip("torch", reason="parity check needs torch")
    x0, w0, b0 = rnd(3, 4, 5), rnd(6, 5), rnd(6)
    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x0, w0, b0))
    yt = torch.nn.functional.linear(xt, wt, bt)
    (yt ** 2).sum().backward()
    x, w, b = (T(a) for a in (x0, w0, b0))
    y = F.linear(x, w, b)
    (y * y).sum().backward()
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=1e-10)
    for a, at in ((x, xt), (w, wt), (b, bt)):
        np.testing.assert_allclose(a.grad.numpy(), at.grad.numpy(), rtol=1e-10)


# ------------------------------------------------------------------ MatMul
@pytest.mark.parametrize("ashape", [(3, 4, 5), (2, 3, 4, 5)])
def test_matmul_nd_by_matrix_gradcheck(ashape):
    gradcheck(lambda a, b: MatMul.apply(a, b), [rnd(*ashape), rnd(5, 2)])


def test_matmul_nd_by_matrix_values():
    a0, b0 = rnd(2, 3, 4, 5), rnd(5, 2)
    g0 = rnd(2, 3, 4, 2)
    a, b = T(a0), T(b0)
    z = a @ b
    np.testing.assert_allclose(z.numpy(), a0 @ b0, rtol=1e-12)
    (z * T(g0, False)).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), g0 @ b0.T, rtol=1e-12)
    np.testing.assert_allclose(b.grad.numpy(),
                               a0.reshape(-1, 5).T @ g0.reshape(-1, 2), rtol=1e-12)


@pytest.mark.parametrize("shapes", [((3, 4, 5), (3, 5, 2)), ((4, 5), (5, 2)), ((5,), (5, 2)),
                                    ((3, 4, 5), (5,)), ((4, 5), (2, 5, 3))])
def test_matmul_other_layouts_still_gradcheck(shapes):
    gradcheck(lambda a, b: MatMul.apply(a, b), [rnd(*shapes[0]), rnd(*shapes[1])])


# ------------------------------------------------- log_softmax and nll_loss
from glassnet.functional import losses as L  # noqa: E402
from glassnet.functional.activations import LogSoftmax  # noqa: E402


@pytest.mark.parametrize("axis", [0, 1, -1])
@pytest.mark.parametrize("shape", [(4, 6), (2, 3, 5)])
def test_log_softmax_gradcheck_and_values(shape, axis):
    z0 = rnd(*shape) * 3
    gradcheck(lambda z: LogSoftmax.apply(z, axis=axis), [z0])
    out = F.log_softmax(T(z0), axis=axis).numpy()
    m = z0.max(axis=axis, keepdims=True)
    ref = z0 - m - np.log(np.exp(z0 - m).sum(axis=axis, keepdims=True))
    np.testing.assert_allclose(out, ref, rtol=1e-12, atol=1e-12)


def test_log_softmax_float32_stays_float32():
    z = gn.tensor(rnd(3, 4).astype(np.float32), requires_grad=True)
    y = F.log_softmax(z, axis=1)
    assert y.dtype == np.float32
    y.sum().backward()
    assert z.grad.dtype == np.float32


TARGETS = np.array([2, 0, 5, 1, 3])


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("ignore", [False, True])
def test_nll_of_log_softmax_fused_matches_the_two_nodes(reduction, weighted, ignore):
    z0, w0 = rnd(5, 6), np.abs(rnd(6)) + 0.1
    t = TARGETS.copy()
    if ignore:
        t[1] = -100
    kw = dict(reduction=reduction, weight=T(w0, False) if weighted else None)
    z = T(z0)
    logp = F.log_softmax(z, axis=1)
    assert L._log_softmax_source(logp) is not None           # the fused node is used
    loss = L.nll_loss(logp, gn.tensor(t), **kw)
    gsel = rnd(*loss.shape)
    (loss * T(gsel, False)).sum().backward()
    # the two nodes: the log-probabilities as a fresh leaf, then the chain rule by hand
    x = T(logp.numpy())
    ref = L.nll_loss(x, gn.tensor(t), **kw)
    (ref * T(gsel, False)).sum().backward()
    np.testing.assert_allclose(loss.numpy(), ref.numpy(), rtol=1e-12)
    gx = x.grad.numpy()
    p = np.exp(logp.numpy())
    np.testing.assert_allclose(z.grad.numpy(), gx - p * gx.sum(1, keepdims=True),
                               rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_nll_of_log_softmax_gradcheck(reduction):
    t = gn.tensor(TARGETS)
    gradcheck(lambda z: L.nll_loss(F.log_softmax(z, axis=1), t, reduction=reduction),
              [rnd(5, 6)])


def test_nll_fusion_skipped_when_the_log_probs_are_watched():
    z = T(rnd(5, 6))
    logp = F.log_softmax(z, axis=1)
    logp.retain_grad()
    assert L._log_softmax_source(logp) is None
    L.nll_loss(logp, gn.tensor(TARGETS)).backward()
    assert logp.grad is not None and z.grad is not None
    # log_softmax over another axis, or of a 3-D input: the plain nodes
    assert L._log_softmax_source(F.log_softmax(T(rnd(5, 6)), axis=0)) is None
    assert L._log_softmax_source(F.log_softmax(T(rnd(2, 5, 6)), axis=1)) is None


def test_nll_of_log_softmax_parity_torch():
    torch = pytest.importorskip("torch", reason="parity check needs torch")
    z0 = rnd(5, 6)
    zt = torch.tensor(z0, requires_grad=True)
    lt = torch.nn.functional.nll_loss(torch.log_softmax(zt, 1), torch.tensor(TARGETS))
    lt.backward()
    z = T(z0)
    loss = L.nll_loss(F.log_softmax(z, axis=1), gn.tensor(TARGETS))
    loss.backward()
    np.testing.assert_allclose(loss.numpy(), lt.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(z.grad.numpy(), zt.grad.numpy(), rtol=1e-10, atol=1e-14)


# ------------------------------------------------ conv2d input gradient in blocks
from glassnet.functional import conv as C  # noqa: E402


@pytest.mark.parametrize("block_columns", [1, 13, 10 ** 6])
@pytest.mark.parametrize("kw", [dict(), dict(padding=1), dict(stride=2, padding=(1, 2)),
                                dict(dilation=2, padding="same")])
def test_conv2d_blocked_input_grad_gradcheck(monkeypatch, block_columns, kw):
    monkeypatch.setattr(C, "_DX_BLOCK_COLUMNS", block_columns)
    gradcheck(lambda x, w, b: F.conv2d(x, w, b, **kw), [rnd(3, 2, 6, 5), rnd(4, 2, 3, 2), rnd(4)])


@pytest.mark.parametrize("block_columns", [1, 50, 10 ** 6])
def test_conv2d_blocked_input_grad_matches_full_col2im(monkeypatch, block_columns):
    monkeypatch.setattr(C, "_DX_BLOCK_COLUMNS", block_columns)
    x0, w0 = rnd(5, 3, 9, 8).astype(np.float32), rnd(4, 3, 3, 3).astype(np.float32)
    geo = C._Geometry.of(x0.shape, w0.shape, (1, 1), (1, 1, 0, 0), (1, 1))
    g = rnd(4, geo.N * geo.Ho * geo.Wo).astype(np.float32)
    wt = w0.transpose(2, 3, 1, 0).reshape(-1, geo.O)
    ref = C._col2im((wt @ g).reshape(geo.kh, geo.kw, geo.C, geo.N, geo.Ho, geo.Wo), geo)
    got = C._input_grad_blocked(wt, g, geo)
    assert got.shape == x0.shape and got.dtype == np.float32
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-5)


def test_conv2d_unpadded_mnist_shapes_parity_torch():
    torch = pytest.importorskip("torch", reason="parity check needs torch")
    x0, w0, b0 = rnd(3, 4, 12, 12), rnd(5, 4, 3, 3), rnd(5)
    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x0, w0, b0))
    yt = torch.nn.functional.conv2d(xt, wt, bt)
    (yt ** 2).sum().backward()
    x, w, b = (T(a) for a in (x0, w0, b0))
    y = F.conv2d(x, w, b)
    (y * y).sum().backward()
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=1e-10, atol=1e-12)
    for a, at in ((x, xt), (w, wt), (b, bt)):
        np.testing.assert_allclose(a.grad.numpy(), at.grad.numpy(), rtol=1e-9, atol=1e-10)


# ------------------------------------------------------------- dropout mask
import importlib  # noqa: E402
D = importlib.import_module("glassnet.functional.dropout")


@pytest.mark.parametrize("p", [0.0, 0.25, 0.5, 1.0])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dropout_mask_is_the_plain_formula_of_the_same_draws(p, dtype):
    gn.manual_seed(3)
    m = D.dropout_mask((40, 50), p, dtype)
    gn.manual_seed(3)
    u = importlib.import_module("glassnet.backend").rng().random((40, 50), dtype=dtype)
    ref = (u >= p).astype(dtype) * (0.0 if p >= 1 else 1 / (1 - p))
    assert m.dtype == dtype
    np.testing.assert_array_equal(m, ref.astype(dtype))


def test_dropout_gradient_is_the_mask():
    x = T(rnd(30, 20))
    gn.manual_seed(0)
    y = F.dropout(x, p=0.3)
    y.sum().backward()
    mask = y.numpy() / x.numpy()
    np.testing.assert_allclose(x.grad.numpy(), mask, rtol=1e-12)
    kept = mask != 0
    np.testing.assert_allclose(mask[kept], 1 / 0.7, rtol=1e-12)
    # a fixed mask: the float64 gradient check of y = x * m
    gradcheck(lambda x: D.Dropout.apply(x, p=0.0), [rnd(4, 5)])
