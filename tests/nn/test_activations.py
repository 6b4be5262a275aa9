"""Activations: gradchecks, parity with PyTorch, stability at |x| = 1000, known values."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassnet as gn
from glassnet import functional as F
from glassnet import nn
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


def test_prelu_module_weight_like_torch(torch):
    m = nn.PReLU(3, init=0.1)
    assert list(m.state_dict()) == ["weight"] and m.weight.shape == (3,)
    np.testing.assert_array_equal(m.weight.numpy(), np.float32(0.1))
    tm = torch.nn.PReLU(3, init=0.1)
    x = rnd(4, 3, 5).astype(np.float32)
    out = m(gn.Tensor(x))
    out.sum().backward()
    tout = tm(torch.from_numpy(x))
    tout.sum().backward()
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(m.weight.grad.numpy(), tm.weight.grad.numpy(), rtol=1e-5)
    with pytest.raises(ValueError, match="3 slopes.*4 channels"):
        m(gn.randn(2, 4))


def test_modules_match_functional(torch):
    x = gn.Tensor(rnd(3, 4).astype(np.float32))
    pairs = [
        (nn.LeakyReLU(0.25), torch.nn.LeakyReLU(0.25)), (nn.ELU(0.5), torch.nn.ELU(0.5)),
        (nn.SELU(), torch.nn.SELU()), (nn.Softplus(3.0, 4.0), torch.nn.Softplus(3.0, 4.0)),
        (nn.Softsign(), torch.nn.Softsign()), (nn.Softmax(1), torch.nn.Softmax(1)),
        (nn.LogSoftmax(1), torch.nn.LogSoftmax(1)), (nn.Sigmoid(), torch.nn.Sigmoid()),
        (nn.Tanh(), torch.nn.Tanh()), (nn.ReLU(), torch.nn.ReLU()),
    ]
    for m, tm in pairs:
        np.testing.assert_allclose(m(x).numpy(), tm(torch.from_numpy(x.numpy())).numpy(),
                                   rtol=1e-5, atol=1e-6, err_msg=repr(m))
    r, tr = nn.RReLU(0.2, 0.4).eval(), torch.nn.RReLU(0.2, 0.4).eval()
    np.testing.assert_allclose(r(x).numpy(), tr(torch.from_numpy(x.numpy())).numpy(), rtol=1e-6)


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


# ------------------------------------------------------------- known values
def test_step_and_sign_of_a_hand_worked_unit():
    # S = 0.5 x1 + 0.3 x2, output sign(S - 0.2)
    w = np.array([0.5, 0.3])
    X = np.array([[1.0, 1.0], [1.0, -1.0], [-1.0, 1.0], [-1.0, -1.0]])
    S = gn.Tensor(X @ w)  # 0.8, 0.2, -0.2, -0.8
    unit = nn.Sign(threshold=0.2)
    # sign(0.5*1 + 0.3*(-1) - 0.2) = sign(0): a tie, and the unit fires
    assert unit(S).numpy().tolist() == [1.0, 1.0, -1.0, -1.0]
    np.testing.assert_array_equal(F.sign(S - 0.2).numpy(), [1, 1, -1, -1])
    # exactly at the threshold the unit fires (+1 / high), unlike np.sign(0) == 0
    assert F.sign(gn.tensor([0.25]), threshold=0.25).numpy()[0] == 1.0
    assert nn.Step(threshold=0.25)(gn.tensor([0.25, 0.125])).numpy().tolist() == [1.0, 0.0]
    assert nn.Sign()(gn.tensor([0.0, -1e-30])).numpy().tolist() == [1.0, -1.0]
    # AND of two inputs with a step unit: w = (1, 1), threshold 1.5
    B = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], np.float32)
    out = nn.Step(threshold=1.5)(gn.Tensor(B @ np.ones(2, np.float32))).numpy()
    assert out.tolist() == [0.0, 0.0, 0.0, 1.0]
    assert nn.Step(low=-1.0, high=2.0)(gn.tensor([-3.0, 3.0])).numpy().tolist() == [-1.0, 2.0]


def test_threshold_units_have_zero_gradient():
    x = gn.tensor([-1.0, 0.5, 2.0], requires_grad=True)
    (F.step(x).sum() + F.sign(x, 1.0).sum()).backward()
    np.testing.assert_array_equal(x.grad.numpy(), 0.0)


def test_softplus_centered_is_zero_at_zero():
    x = gn.tensor([0.0, 1.0, -2.0])
    np.testing.assert_allclose(nn.Softplus(centered=True)(x).numpy(),
                               np.log1p(np.exp([0.0, 1.0, -2.0])) - np.log(2), rtol=1e-6)


def test_rrelu_slopes_random_in_training_and_mean_in_eval():
    m = nn.RReLU(0.1, 0.3)
    x = gn.Tensor(-np.ones((200, 50), np.float32))
    slopes = -m(x).numpy()
    assert slopes.min() >= 0.1 and slopes.max() <= 0.3 and slopes.std() > 0.04
    assert abs(slopes.mean() - 0.2) < 0.005
    np.testing.assert_array_equal(m(gn.tensor([2.0, 3.0])).numpy(), [2.0, 3.0])
    m.eval()
    np.testing.assert_allclose(m(x).numpy(), -0.2)
    gn.manual_seed(3)
    a = nn.RReLU()(x).numpy()
    gn.manual_seed(3)
    np.testing.assert_array_equal(a, nn.RReLU()(x).numpy())


def test_leaky_relu_very_leaky_and_default():
    assert nn.LeakyReLU().negative_slope == 0.01
    np.testing.assert_allclose(nn.LeakyReLU(0.3)(gn.tensor([-2.0, 2.0])).numpy(), [-0.6, 2.0])


def test_maxout_shape_value_and_gradient_to_the_winner():
    m = nn.Maxout(4, 3, pieces=2)
    assert m.weight.shape == (6, 4) and m.bias.shape == (6,)
    x = rnd(5, 4).astype(np.float32)
    out = m(gn.Tensor(x))
    assert out.shape == (5, 3)
    z = (x @ m.weight.numpy().T + m.bias.numpy()).reshape(5, 3, 2)
    np.testing.assert_allclose(out.numpy(), z.max(axis=2), rtol=1e-6)
    # one sample: only the winning piece of each unit gets a gradient
    m.zero_grad()
    m(gn.Tensor(x[:1])).sum().backward()
    win = z[0].argmax(axis=1)
    rows = np.arange(3) * 2 + win
    lose = np.setdiff1d(np.arange(6), rows)
    np.testing.assert_array_equal(m.weight.grad.numpy()[lose], 0.0)
    np.testing.assert_allclose(m.weight.grad.numpy()[rows], np.repeat(x[:1], 3, 0))
    assert m(gn.randn(2, 7, 4)).shape == (2, 7, 3)
    with pytest.raises(ValueError, match=r"Maxout\(4, 3, pieces=2\)"):
        m(gn.randn(2, 5))


def test_apl_formula_shapes_and_parameters():
    m = nn.APL(4, hinges=2)
    assert m.a.shape == (2, 4) and m.b.shape == (2, 4)
    assert sorted(m.state_dict()) == ["a", "b"]
    assert np.abs(m.a.numpy()).max() <= 0.2
    x = rnd(6, 4).astype(np.float32)
    a, b = m.a.numpy(), m.b.numpy()
    want = np.maximum(x, 0) + sum(a[s] * np.maximum(0, -x + b[s]) for s in range(2))
    np.testing.assert_allclose(m(gn.Tensor(x)).numpy(), want, rtol=1e-5, atol=1e-6)
    assert m(gn.randn(2, 4, 3, 3)).shape == (2, 4, 3, 3)
    with pytest.raises(ValueError, match=r"APL\(4\)"):
        m(gn.randn(2, 5))
    # gradients reach a and b
    m(gn.Tensor(x)).sum().backward()
    assert m.a.grad is not None and np.any(m.b.grad.numpy() != 0)


def test_get_activation_names():
    expect = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid,
              "leaky_relu": nn.LeakyReLU, "elu": nn.ELU, "softplus": nn.Softplus,
              "identity": nn.Identity, "linear": nn.Identity, "step": nn.Step,
              "sign": nn.Sign, "prelu": nn.PReLU, "rrelu": nn.RReLU, "selu": nn.SELU}
    x = gn.Tensor(rnd(3, 4).astype(np.float32))
    for name, cls in expect.items():
        m = nn.get_activation(name)
        assert type(m) is cls, name
        f = F.get_activation(name)
        if name == "prelu":
            np.testing.assert_array_equal(f(x, m.weight).numpy(), m(x).numpy())
        elif name != "rrelu":  # rrelu module trains by default: random slopes
            np.testing.assert_array_equal(f(x).numpy(), m(x).numpy())
    assert nn.get_activation("leaky_relu", negative_slope=0.2).negative_slope == 0.2
    assert F.get_activation("leaky_relu", negative_slope=0.2)(gn.tensor([-1.0])).item() == \
        pytest.approx(-0.2)
    relu = nn.ReLU()
    assert nn.get_activation(relu) is relu
    with pytest.raises(ValueError, match="unknown activation 'swishy'.*relu"):
        nn.get_activation("swishy")
    with pytest.raises(ValueError, match="unknown activation"):
        F.get_activation("swishy")
