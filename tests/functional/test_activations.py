"""functional.activations: float64 gradient checks, parity with PyTorch, stability at
|x| = 1000, known values."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassnet as gn
from glassnet import functional as F
from glassnet.autograd import gradcheck


R = np.random.default_rng(0)


def rnd(*shape):
    # keep away from the kinks at 0 so finite differences do not straddle them
    x = R.standard_normal(shape)
    return np.where(np.abs(x) < 1e-3, 0.5, x)


# ------------------------------------------------------------------ gradchecks
SIMPLE = [
    ("identity", F.identity), ("relu", F.relu), ("sigmoid", F.sigmoid), ("tanh", F.tanh),
    ("leaky_relu", lambda x: F.leaky_relu(x, 0.2)), ("rrelu_eval", F.rrelu),
    ("elu", lambda x: F.elu(x, 0.7)), ("selu", F.selu), ("softsign", F.softsign),
    ("softplus", lambda x: F.softplus(x, beta=2.0, threshold=1.0)),
    ("softplus_centered", lambda x: F.softplus(x, centered=True)),
    ("softmax", lambda x: F.softmax(x, axis=1)), ("log_softmax", lambda x: F.log_softmax(x, 0)),
    ("step", lambda x: F.step(x, 0.1)), ("sign", lambda x: F.sign(x, -0.1)),
]


@pytest.mark.parametrize("name,fn", SIMPLE, ids=[s[0] for s in SIMPLE])
def test_gradcheck_elementwise(name, fn):
    report = gradcheck(fn, [rnd(4, 5)])
    assert report[0] < 1e-6


def test_gradcheck_rrelu_training_with_fixed_slopes():
    def fn(x):
        gn.manual_seed(7)  # the same random slopes on every call of the check
        return F.rrelu(x, 0.1, 0.4, training=True)
    assert gradcheck(fn, [rnd(6, 3)])[0] < 1e-6


@pytest.mark.parametrize("shape,n", [((5, 3), 1), ((4, 3), 3), ((2, 3, 4, 4), 3), ((6,), 6)])
def test_gradcheck_prelu(shape, n):
    w = R.uniform(0.05, 0.5, n)
    rep = gradcheck(F.prelu, [rnd(*shape), w])
    assert max(rep.values()) < 1e-6


@pytest.mark.parametrize("lead", [(7,), (2, 3)])
def test_gradcheck_maxout(lead):
    x, w, b = rnd(*lead, 4), rnd(3 * 2, 4), rnd(3 * 2)
    rep = gradcheck(lambda x, w, b: F.maxout(x, w, b, pieces=2), [x, w, b])
    assert max(rep.values()) < 1e-6
    rep = gradcheck(lambda x, w: F.maxout(x, w, None, pieces=3), [x, rnd(2 * 3, 4)])
    assert max(rep.values()) < 1e-6


@pytest.mark.parametrize("shape", [(6, 4), (2, 4, 3, 3)])
def test_gradcheck_apl(shape):
    a, b = rnd(3, 4) * 0.5, rnd(3, 4)
    rep = gradcheck(F.apl, [rnd(*shape), a, b])
    assert max(rep.values()) < 1e-6


# ------------------------------------------------------------- torch parity
def _parity(torch, fn_gn, fn_t, arrays, dtype, rtol, atol):
    """Forward and every input's gradient agree with torch for ``dtype``."""
    arrays = [a.astype(dtype) for a in arrays]
    g = R.standard_normal(fn_gn(*[gn.Tensor(a) for a in arrays]).shape).astype(dtype)
    ts = [gn.Tensor(a.copy(), requires_grad=True) for a in arrays]
    out = fn_gn(*ts)
    assert out.dtype == dtype
    out.backward(g)
    tt = [torch.from_numpy(a.copy()).requires_grad_() for a in arrays]
    ref = fn_t(*tt)
    ref.backward(torch.from_numpy(g))
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=rtol, atol=atol)
    for a, b in zip(ts, tt):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=rtol, atol=atol)


TORCH_CASES = [
    ("relu", lambda x: F.relu(x), lambda t, x: t.relu(x)),
    ("sigmoid", lambda x: F.sigmoid(x), lambda t, x: t.sigmoid(x)),
    ("tanh", lambda x: F.tanh(x), lambda t, x: t.tanh(x)),
    ("leaky_relu", lambda x: F.leaky_relu(x, 0.3),
     lambda t, x: t.nn.functional.leaky_relu(x, 0.3)),
    ("rrelu_eval", lambda x: F.rrelu(x, 0.1, 0.3),
     lambda t, x: t.nn.functional.rrelu(x, 0.1, 0.3, training=False)),
    ("elu", lambda x: F.elu(x, 0.7), lambda t, x: t.nn.functional.elu(x, 0.7)),
    ("selu", lambda x: F.selu(x), lambda t, x: t.nn.functional.selu(x)),
    ("softplus", lambda x: F.softplus(x, 2.0, 3.0),
     lambda t, x: t.nn.functional.softplus(x, 2.0, 3.0)),
    ("softsign", lambda x: F.softsign(x), lambda t, x: t.nn.functional.softsign(x)),
    ("softmax", lambda x: F.softmax(x, 1), lambda t, x: t.softmax(x, 1)),
    ("log_softmax", lambda x: F.log_softmax(x, 0), lambda t, x: t.log_softmax(x, 0)),
    ("identity", lambda x: F.identity(x), lambda t, x: t.nn.Identity()(x)),
]


@pytest.mark.parametrize("dtype,tol", [(np.float32, 1e-5), (np.float64, 1e-10)])
@pytest.mark.parametrize("name,fg,ft", TORCH_CASES, ids=[c[0] for c in TORCH_CASES])
def test_matches_torch(torch, name, fg, ft, dtype, tol):
    x = rnd(5, 6) * 4
    _parity(torch, fg, lambda x: ft(torch, x), [x], dtype, tol, tol)


@pytest.mark.parametrize("dtype,tol", [(np.float32, 1e-5), (np.float64, 1e-10)])
@pytest.mark.parametrize("shape,n", [((5, 4), 1), ((3, 4, 2, 2), 4)])
def test_prelu_matches_torch(torch, shape, n, dtype, tol):
    w = R.uniform(0.05, 0.5, n)
    _parity(torch, F.prelu, torch.nn.functional.prelu, [rnd(*shape), w], dtype, tol, tol)


# ---------------------------------------------------------------- stability
STABLE = [F.identity, F.relu, F.sigmoid, F.tanh, F.leaky_relu, F.rrelu, F.elu, F.selu,
          F.softsign, F.softplus, lambda x: F.softplus(x, beta=0.5, threshold=1e6),
          lambda x: F.softplus(x, centered=True), F.step, F.sign,
          lambda x: F.softmax(x, 0), lambda x: F.log_softmax(x, 0),
          lambda x: F.prelu(x, np.array([0.25], x.dtype))]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("fn", STABLE)
def test_no_overflow_at_1000(fn, dtype):
    x = gn.Tensor(np.array([-1000.0, -30.0, -1.0, 0.0, 1.0, 30.0, 1000.0], dtype=dtype),
                  requires_grad=True)
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
        warnings.simplefilter("error")
        y = fn(x)
        y.backward(np.ones(y.shape, dtype=dtype))
    assert np.all(np.isfinite(y.numpy())) and np.all(np.isfinite(x.grad.numpy()))


def test_stable_values_at_extremes():
    x = gn.tensor([-1000.0, 1000.0])
    np.testing.assert_array_equal(F.sigmoid(x).numpy(), [0.0, 1.0])
    np.testing.assert_allclose(F.softplus(x).numpy(), [0.0, 1000.0])
    np.testing.assert_allclose(F.softplus(x, threshold=1e9).numpy(), [0.0, 1000.0])
    np.testing.assert_allclose(F.elu(x).numpy(), [-1.0, 1000.0])
    np.testing.assert_allclose(F.log_softmax(x, 0).numpy(), [-2000.0, 0.0])


def test_threshold_units_have_zero_gradient():
    x = gn.tensor([-1.0, 0.5, 2.0], requires_grad=True)
    (F.step(x).sum() + F.sign(x, 1.0).sum()).backward()
    np.testing.assert_array_equal(x.grad.numpy(), 0.0)
