"""Adadelta, Adamax, NAdam, RAdam, ASGD, Rprop and LBFGS without torch: each rule's first
steps against its formula worked out by hand, the state each keeps, argument checks, and
LBFGS on problems whose answer is known. (tests/parity/test_optim.py compares them all
with torch.optim over many steps.)"""
from __future__ import annotations

import math

import numpy as np
import pytest

import glassnet as gn
from glassnet import nn, optim

P0 = np.array([0.5, -1.0, 2.0])
G = [np.array([0.2, -0.4, 1.0]), np.array([-0.1, -0.3, 0.5]), np.array([0.3, 0.1, -0.2])]


def _run(cls, kw, grads=G):
    p = nn.Parameter(P0.copy())
    opt = cls([p], **kw)
    for g in grads:
        p.grad = gn.tensor(g, dtype=gn.float64)
        opt.step()
    return p.numpy(), opt.state[p]


def test_adadelta_two_steps_by_hand():
    lr, rho, eps = 1.0, 0.9, 1e-6
    p, v, u = P0.copy(), np.zeros(3), np.zeros(3)
    for g in G[:2]:
        v = rho * v + (1 - rho) * g * g
        d = np.sqrt(u + eps) / np.sqrt(v + eps) * g
        u = rho * u + (1 - rho) * d * d
        p = p - lr * d
    got, st = _run(optim.Adadelta, {}, G[:2])
    np.testing.assert_allclose(got, p, rtol=1e-14)
    np.testing.assert_allclose(st["acc_delta"], u, rtol=1e-14)
    assert st["step"] == 2 and set(st) == {"step", "square_avg", "acc_delta"}


def test_adamax_first_step_moves_each_coordinate_by_lr():
    # m = 0.1 g, u = |g| + eps, bias correction 0.1: the step is lr * g / (|g| + eps)
    got, st = _run(optim.Adamax, dict(lr=0.01), G[:1])
    np.testing.assert_allclose(got, P0 - 0.01 * G[0] / (np.abs(G[0]) + 1e-8), rtol=1e-12)
    np.testing.assert_allclose(st["exp_inf"], np.abs(G[0]) + 1e-8)


def test_adamax_exp_inf_is_a_decaying_max():
    _, st = _run(optim.Adamax, dict(betas=(0.9, 0.5)), G)
    u = np.abs(G[0]) + 1e-8
    for g in G[1:]:
        u = np.maximum(0.5 * u, np.abs(g) + 1e-8)
    np.testing.assert_allclose(st["exp_inf"], u, rtol=1e-15)


def test_nadam_first_step_by_hand():
    lr, b1, b2, eps, psi = 2e-3, 0.9, 0.999, 1e-8, 4e-3
    g = G[0]
    mu1 = b1 * (1 - 0.5 * 0.96 ** psi)
    mu2 = b1 * (1 - 0.5 * 0.96 ** (2 * psi))
    prod = float(np.float32(mu1))
    m, v = (1 - b1) * g, (1 - b2) * g * g
    denom = np.sqrt(v / (1 - b2)) + eps
    want = P0 - lr * (1 - mu1) / (1 - prod) * g / denom \
        - lr * mu2 / (1 - prod * mu2) * m / denom
    got, st = _run(optim.NAdam, {}, G[:1])
    np.testing.assert_allclose(got, want, rtol=1e-13)
    assert isinstance(st["mu_product"], float) and st["mu_product"] == prod


def test_radam_is_sgd_with_momentum_until_the_variance_is_tractable():
    # rho_t > 5 first at step 6 for beta2 = 0.999: before, p -= lr * m / (1 - b1^t)
    lr, b1 = 0.01, 0.9
    p, m = P0.copy(), np.zeros(3)
    grads = [G[k % 3] for k in range(5)]
    for t, g in enumerate(grads, 1):
        m = b1 * m + (1 - b1) * g
        p = p - lr * m / (1 - b1 ** t)
    got, _ = _run(optim.RAdam, dict(lr=lr), grads)
    np.testing.assert_allclose(got, p, rtol=1e-13)
    b2, t = 0.999, 6
    rho_inf = 2 / (1 - b2) - 1
    assert rho_inf - 2 * t * b2 ** t / (1 - b2 ** t) > 5 > \
        rho_inf - 2 * 5 * b2 ** 5 / (1 - b2 ** 5)


@pytest.mark.parametrize("cls", [optim.RAdam, optim.NAdam])
def test_decoupled_weight_decay_shrinks_the_weights_first(cls):
    a, _ = _run(cls, dict(lr=0.1, weight_decay=0.5, decoupled_weight_decay=True), G[:1])
    b, _ = _run(cls, dict(lr=0.1), G[:1])
    # the same step from (1 - lr wd) p: the difference is -lr wd p exactly
    np.testing.assert_allclose(a - b, -0.1 * 0.5 * P0, rtol=1e-12)


def test_asgd_averages_after_t0():
    got, st = _run(optim.ASGD, dict(lr=0.1, lambd=0.0, t0=1), G)
    # eta stays lr (lambd = 0), rounded to float32 as torch keeps it; mu = 1/max(1, t - t0)
    eta = float(np.float32(0.1))
    p1 = P0 - eta * G[0]
    p2 = p1 - eta * G[1]
    p3 = p2 - eta * G[2]
    np.testing.assert_allclose(got, p3, rtol=1e-14)
    np.testing.assert_allclose(st["ax"], p2 + (p3 - p2) * 1.0, rtol=1e-14)
    assert st["mu"] == 0.5 and st["eta"] == eta


def test_rprop_grows_and_shrinks_step_sizes_by_sign():
    p = nn.Parameter(np.zeros(2))
    opt = optim.Rprop([p], lr=0.1, etas=(0.5, 2.0), step_sizes=(0.01, 0.3))
    for g in ([1.0, 1.0], [1.0, -1.0], [1.0, 1.0], [1.0, 1.0]):
        p.grad = gn.tensor(g, dtype=gn.float64)
        opt.step()
    # coordinate 0: same sign throughout, sizes 0.1, 0.2, 0.3 (clamped), 0.3
    # coordinate 1: flip at step 2 (size 0.05, no move, prev = 0), then 0.05, 0.1
    np.testing.assert_allclose(p.numpy(), [-(0.1 + 0.2 + 0.3 + 0.3), -0.1 + 0.0 - 0.05 - 0.1])
    np.testing.assert_allclose(opt.state[p]["step_size"], [0.3, 0.1])


@pytest.mark.parametrize("cls,kw,msg", [
    (optim.Adadelta, dict(rho=1.5), "rho"), (optim.Adamax, dict(betas=(1.0, 0.9)), "betas"),
    (optim.NAdam, dict(momentum_decay=-1), "momentum_decay"),
    (optim.RAdam, dict(eps=-1), "eps"), (optim.Rprop, dict(etas=(1.5, 2.0)), "etas"),
    (optim.LBFGS, dict(line_search_fn="armijo"), "line_search_fn"),
    (optim.LBFGS, dict(max_iter=0), "max_iter")])
def test_bad_arguments_are_refused(cls, kw, msg):
    with pytest.raises(ValueError, match=msg):
        cls([nn.Parameter(np.ones(2))], **kw)


def test_new_names_are_in_get():
    p = nn.Parameter(np.ones(2))
    for name, cls in [("adadelta", optim.Adadelta), ("adamax", optim.Adamax),
                      ("nadam", optim.NAdam), ("radam", optim.RAdam), ("asgd", optim.ASGD),
                      ("rprop", optim.Rprop)]:
        assert isinstance(optim.get(name, [p]), cls)
    assert optim.get("sgd", [p]).param_groups[0]["lr"] == 0.01
    assert optim.SGD([p]).param_groups[0]["lr"] == 1e-3


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_lbfgs_solves_a_quadratic(line_search_fn):
    r = np.random.default_rng(0)
    Q = r.normal(size=(5, 5))
    A = Q @ Q.T + 5 * np.eye(5)
    b = r.normal(size=5)
    p = nn.Parameter(np.zeros(5))
    opt = optim.LBFGS([p], lr=1.0 if line_search_fn else 0.1, max_iter=200,
                      tolerance_grad=1e-12, tolerance_change=1e-15,
                      line_search_fn=line_search_fn)

    def closure():
        opt.zero_grad()
        x = p.numpy()
        loss = 0.5 * x @ A @ x - b @ x
        p.grad = gn.tensor(A @ x - b, dtype=gn.float64)   # the gradient by hand
        return gn.tensor(loss, dtype=gn.float64)
    first = opt.step(closure)
    assert float(first) == 0.0                      # the first evaluation's loss
    np.testing.assert_allclose(p.numpy(), np.linalg.solve(A, b), rtol=1e-6, atol=1e-8)
    st = opt.state[p]
    assert st["n_iter"] <= 200 and st["func_evals"] >= st["n_iter"]
    assert len(st["old_dirs"]) == len(st["old_stps"]) == len(st["ro"])


def test_lbfgs_stops_at_once_when_the_gradient_is_tiny():
    p = nn.Parameter(np.zeros(3))
    opt = optim.LBFGS([p])
    calls = []

    def closure():
        calls.append(1)
        p.grad = gn.tensor(np.full(3, 1e-9), dtype=gn.float64)
        return gn.tensor(1.0)
    opt.step(closure)
    assert len(calls) == 1 and np.all(p.numpy() == 0)


def test_lbfgs_history_is_bounded_and_state_dict_round_trips():
    p = nn.Parameter(np.array([3.0, -2.0, 1.0]))
    opt = optim.LBFGS([p], history_size=2, max_iter=6)

    def closure():
        opt.zero_grad()
        x = p.numpy()
        p.grad = gn.tensor(4 * x ** 3 + x, dtype=gn.float64)
        return gn.tensor(float((x ** 4).sum() + 0.5 * (x * x).sum()), dtype=gn.float64)
    opt.step(closure)
    assert len(opt.state[p]["old_dirs"]) <= 2
    sd = opt.state_dict()
    assert list(sd["state"]) == [0] and sd["param_groups"][0]["params"] == [0]
    q = nn.Parameter(p.numpy().copy())
    opt2 = optim.LBFGS([q], history_size=2, max_iter=6)
    opt2.load_state_dict(sd)
    sd["state"][0]["old_dirs"][0][...] = 99.0      # a copy: the loaded state is its own
    assert not np.any(opt2.state[q]["old_dirs"][0] == 99.0)
    opt.step(closure)

    def closure2():
        opt2.zero_grad()
        x = q.numpy()
        q.grad = gn.tensor(4 * x ** 3 + x, dtype=gn.float64)
        return gn.tensor(float((x ** 4).sum() + 0.5 * (x * x).sum()), dtype=gn.float64)
    opt2.step(closure2)
    np.testing.assert_array_equal(p.numpy(), q.numpy())
    assert math.isfinite(float(p.numpy().sum()))
