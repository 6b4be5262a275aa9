"""Activation layers (nn.activation): PyTorch parity of the modules, hand-worked threshold
units, random slopes, Maxout and APL, get_activation by name (the Functions' gradient
checks are in tests/functional/test_activations.py)."""
from __future__ import annotations

import numpy as np
import pytest

import glassnet as gn
from glassnet import functional as F
from glassnet import nn


R = np.random.default_rng(0)


def rnd(*shape):
    # keep away from the kinks at 0 so finite differences do not straddle them
    x = R.standard_normal(shape)
    return np.where(np.abs(x) < 1e-3, 0.5, x)


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


# ---------------------------------------------------------------- issue 17: sign(0) = 0
def test_three_valued_sign_and_the_decks_exercise():
    z = gn.tensor([-0.3, 0.0, 0.0001, 2.0])
    assert nn.Sign(three_valued=True)(z).numpy().tolist() == [-1.0, 0.0, 1.0, 1.0]
    assert nn.Sign()(z).numpy().tolist() == [-1.0, 1.0, 1.0, 1.0]        # default unchanged
    np.testing.assert_array_equal(F.sign(z, three_valued=True).numpy(), np.sign(z.numpy()))
    np.testing.assert_array_equal(nn.Sign(0.5, three_valued=True)(gn.tensor([0.4, 0.5, 0.6])).numpy(),
                                  [-1, 0, 1])
    assert "three_valued=True" in repr(nn.Sign(three_valued=True))
    # deck 000, "Predict with a Neural Network - Solution": f(S) = sign(S - 0.2) on x = (-1, 1)
    x = gn.tensor([[-1.0, 1.0]])
    w = gn.tensor([[0.4, 0.1], [0.0, -0.4], [-0.1, 0.4]])
    S = gn.tensor(np.round((x @ w.T).numpy(), 10))          # -0.3, -0.4, 0.5
    assert nn.Sign(0.2, three_valued=True)(S).numpy().tolist() == [[-1.0, -1.0, 1.0]]
    # the second exercise's f(S) = sign(S), with 0 for S = 0: a node exactly at 0 outputs 0
    h = nn.Sign(three_valued=True)(gn.tensor([[0.5 * 1 + 0.5 * -1, 0.3]]))
    assert h.numpy().tolist() == [[0.0, 1.0]]
    x.requires_grad_(True)
    F.sign(x, three_valued=True).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), 0.0)
