"""Optimizers and learning-rate schedulers against torch.optim 2.13 (issue 14).

Each test is one PyTorch idiom written once, run with ``T = torch`` and ``T = glassnet``:
training trajectories over many steps in float64 (parameters compared to ~1e-10), the
learning rates (and cycled momenta) of every scheduler over 60+ steps, hyper-parameter
defaults, ``param_groups`` edited by hand, ``add_param_group``, ``step(closure)``,
``zero_grad``, and state dicts (torch's layout; a torch optimizer's state dict loads into
glassnet and training goes on identically).
"""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import glassnet as gn

from ._compare import TORCH_REASON, assert_same

torch = pytest.importorskip("torch", reason=TORCH_REASON)

SHAPES = [(4, 3), (3,), (2, 4), (2,)]


def _init(seed=0):
    r = np.random.default_rng(seed)
    return [r.normal(size=s) for s in SHAPES]


def _params(T, arrays):
    return [T.tensor(a.copy(), dtype=T.float64, requires_grad=True) for a in arrays]


def _loss(T, ps, k):
    """A smooth non-quadratic loss that changes with the step ``k``; its gradient is
    ``p**3 - c_k``."""
    total = 0.0
    for p in ps:
        n = int(np.prod(p.shape))
        c = T.tensor(np.sin(k + np.arange(n)).reshape(tuple(p.shape)), dtype=T.float64)
        total = total + (p * p * p * p).sum() * 0.25 - (p * c).sum()
    return total


def _numpy(ps):
    return [np.array(p.detach().numpy()) for p in ps]


def _train(T, name, kw, steps=60, groups=None, sched=None):
    ps = _params(T, _init())
    spec = ps if groups is None else groups(ps)
    opt = getattr(T.optim, name)(spec, **kw)
    s = sched(T, opt) if sched is not None else None
    losses, lrs = [], []
    sign = -1.0 if kw.get("maximize") else 1.0    # maximize the negated loss
    for k in range(steps):
        opt.zero_grad()
        loss = _loss(T, ps, k) * sign
        loss.backward()
        opt.step()
        losses.append(loss.item())
        if s is not None:
            s.step()
            lrs.append(s.get_last_lr())
    return _numpy(ps), losses, lrs, opt


def _close(a, b, rtol=1e-10, atol=1e-12, what="params"):
    for i, (x, y) in enumerate(zip(a, b)):
        np.testing.assert_allclose(x, y, rtol=rtol, atol=atol, err_msg=f"{what}[{i}]")


# ----------------------------------------------------------------------- trajectories
TRAJ = [
    ("SGD", dict(lr=0.05)),
    ("SGD", dict(lr=0.02, momentum=0.9)),
    ("SGD", dict(lr=0.02, momentum=0.9, nesterov=True, weight_decay=0.01)),
    ("SGD", dict(lr=0.02, momentum=0.8, dampening=0.3, maximize=True)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, amsgrad=True, weight_decay=0.05)),
    ("Adam", dict(lr=0.01, decoupled_weight_decay=True, weight_decay=0.1)),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.01, amsgrad=True, maximize=True)),
    ("RMSprop", dict(lr=0.005)),
    ("RMSprop", dict(lr=0.005, momentum=0.5, centered=True, weight_decay=0.01)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1)),
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.8, eps=1e-5, weight_decay=0.1)),
    ("Adadelta", dict(maximize=True)),
    ("Adamax", dict()),
    ("Adamax", dict(lr=0.01, betas=(0.8, 0.99), weight_decay=0.1)),
    ("Adamax", dict(lr=0.01, maximize=True, eps=1e-6)),
    ("NAdam", dict()),
    ("NAdam", dict(lr=0.01, momentum_decay=0.01, weight_decay=0.1)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    ("NAdam", dict(lr=0.01, betas=(0.85, 0.95), maximize=True)),
    ("RAdam", dict()),
    ("RAdam", dict(lr=0.01, weight_decay=0.1)),
    ("RAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    ("RAdam", dict(lr=0.01, betas=(0.8, 0.9), maximize=True)),
    ("ASGD", dict()),
    ("ASGD", dict(lr=0.02, lambd=1e-3, alpha=0.5, t0=10, weight_decay=0.01)),
    ("Rprop", dict()),
    ("Rprop", dict(lr=0.05, etas=(0.3, 1.5), step_sizes=(1e-4, 0.2))),
    ("Rprop", dict(maximize=True)),
]


@pytest.mark.parametrize("name,kw", TRAJ, ids=[f"{n}-{i}" for i, (n, _) in enumerate(TRAJ)])
def test_training_trajectory_matches_torch(name, kw):
    ours, lg, _, _ = _train(gn, name, kw)
    ref, lt, _, _ = _train(torch, name, kw)
    _close(ours, ref)
    np.testing.assert_allclose(lg, lt, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name,kw", [("SGD", dict(lr=0.02, momentum=0.9)),
                                     ("Adam", dict(lr=0.01, weight_decay=0.1)),
                                     ("RMSprop", dict(lr=0.005, centered=True))])
def test_foreach_false_matches_torch(name, kw):
    ours, _, _, _ = _train(gn, name, dict(kw, foreach=False))
    ref, _, _, _ = _train(torch, name, dict(kw, foreach=False))
    _close(ours, ref)


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta",
                                  "Adamax", "NAdam", "RAdam", "ASGD", "Rprop"])
def test_default_hyper_parameters_match_torch(name):
    """Constructed with the parameters alone: the same defaults (SGD's lr is 1e-3)."""
    a = gn.nn.Parameter(np.zeros(2))
    b = torch.zeros(2, requires_grad=True)
    ours = getattr(gn.optim, name)([a])
    ref = getattr(torch.optim, name)([b])
    for k, v in ref.defaults.items():
        if k in ("fused", "differentiable", "capturable") and k not in ours.defaults:
            continue
        assert k in ours.defaults, f"{name}: default {k!r} missing"
        assert_same(ours.defaults[k], v, what=f"{name}.defaults[{k!r}]")
        assert_same(ours.param_groups[0][k], ref.param_groups[0][k], what=k)


def test_lbfgs_defaults_match_torch():
    ours = gn.optim.LBFGS([gn.nn.Parameter(np.zeros(2))])
    ref = torch.optim.LBFGS([torch.zeros(2, requires_grad=True)])
    assert ours.defaults == ref.defaults


def test_multiple_groups_with_their_own_options():
    def groups(ps):
        return [{"params": ps[:2]}, {"params": ps[2:], "lr": 0.002, "weight_decay": 0.1}]
    for name in ("Adam", "SGD", "NAdam"):
        kw = dict(lr=0.01, momentum=0.9) if name == "SGD" else dict(lr=0.01)
        ours, _, _, _ = _train(gn, name, kw, groups=groups)
        ref, _, _, _ = _train(torch, name, kw, groups=groups)
        _close(ours, ref, what=name)


@pytest.mark.parametrize("name,kw", [("Adam", dict(lr=0.01)), ("SGD", dict(lr=0.05)),
                                     ("Adam", dict(lr=0.01, foreach=False)),
                                     ("RAdam", dict(lr=0.01))])
def test_editing_param_groups_by_hand_takes_effect(name, kw):
    """``for g in opt.param_groups: g['lr'] = ...`` (the hand-written schedule), also
    through glassnet's flat engine."""
    out = {}
    for T in (gn, torch):
        ps = _params(T, _init())
        opt = getattr(T.optim, name)(ps, **kw)
        for k in range(30):
            if k % 10 == 9:
                for g in opt.param_groups:
                    g["lr"] = g["lr"] * 0.5
                    if "betas" in g:
                        g["betas"] = (0.8, g["betas"][1])
            opt.zero_grad()
            _loss(T, ps, k).backward()
            opt.step()
        out[T.__name__] = _numpy(ps)
    _close(out["glassnet"], out["torch"])


def test_add_param_group_mid_training():
    out = {}
    for T in (gn, torch):
        ps = _params(T, _init())
        opt = T.optim.Adam(ps[:2], lr=0.01)
        for k in range(20):
            if k == 8:
                opt.add_param_group({"params": ps[2:], "lr": 0.03, "betas": (0.5, 0.9)})
            opt.zero_grad()
            _loss(T, ps, k).backward()
            opt.step()
        out[T.__name__] = (_numpy(ps), [sorted(g) for g in opt.param_groups])
    _close(out["glassnet"][0], out["torch"][0])
    assert len(out["glassnet"][1]) == 2


def test_step_closure_returns_the_loss():
    res = {}
    for T in (gn, torch):
        p = T.tensor([2.0, -1.0], dtype=T.float64, requires_grad=True)
        opt = T.optim.SGD([p], lr=0.1)

        def closure():
            opt.zero_grad()
            loss = (p * p).sum()
            loss.backward()
            return loss
        loss = opt.step(closure)
        res[T.__name__] = (loss.item(), p.detach().numpy().copy())
    assert res["glassnet"][0] == res["torch"][0]
    np.testing.assert_allclose(res["glassnet"][1], res["torch"][1], rtol=1e-15)


@pytest.mark.parametrize("set_to_none", [True, False])
def test_zero_grad(set_to_none):
    for T in (gn, torch):
        p = T.tensor([1.0, 2.0], requires_grad=True)
        opt = T.optim.Adam([p])
        (p * p).sum().backward()
        opt.zero_grad(set_to_none=set_to_none)
        if set_to_none:
            assert p.grad is None
        else:
            assert float(p.grad.abs().sum()) == 0.0
    p = gn.tensor([1.0], requires_grad=True)
    (p * p).sum().backward()
    gn.optim.SGD([p]).zero_grad()       # the default clears to None, as in torch 2.x
    assert p.grad is None


def test_state_is_empty_before_the_first_step_and_keyed_by_parameter():
    p = gn.nn.Parameter(np.ones(3))
    tp = torch.ones(3, requires_grad=True)
    opt, topt = gn.optim.Adam([p]), torch.optim.Adam([tp])
    assert opt.state[p] == {} and topt.state[tp] == {}
    p.grad, tp.grad = gn.tensor(np.ones(3)), torch.ones(3, dtype=torch.float32)
    opt.step()
    topt.step()
    assert set(opt.state[p]) == set(topt.state[tp])


# ------------------------------------------------------------------------ state dicts
SD_CASES = [("SGD", dict(lr=0.02, momentum=0.9)), ("Adam", dict(lr=0.01)),
            ("Adam", dict(lr=0.01, amsgrad=True)), ("AdamW", dict(lr=0.01)),
            ("RMSprop", dict(lr=0.005, momentum=0.5, centered=True)),
            ("Adagrad", dict(lr=0.1)), ("Adadelta", dict()), ("Adamax", dict()),
            ("NAdam", dict(lr=0.01)), ("RAdam", dict(lr=0.01)), ("ASGD", dict(t0=5)),
            ("Rprop", dict())]


@pytest.mark.parametrize("name,kw", SD_CASES, ids=[f"{n}-{i}" for i, (n, _) in
                                                    enumerate(SD_CASES)])
def test_torch_state_dict_loads_and_training_continues(name, kw):
    """Train 10 steps in torch, load torch's ``optimizer.state_dict()`` into glassnet,
    and train 30 more steps on both sides: the same parameters."""
    tps = _params(torch, _init())
    topt = getattr(torch.optim, name)(tps, **kw)
    for k in range(10):
        topt.zero_grad()
        _loss(torch, tps, k).backward()
        topt.step()
    ps = [gn.tensor(p.detach().numpy().copy(), dtype=gn.float64, requires_grad=True)
          for p in tps]
    opt = getattr(gn.optim, name)(ps, **kw)
    opt.load_state_dict(topt.state_dict())
    assert set(opt.state_dict()["state"][0]) == set(topt.state_dict()["state"][0])
    for k in range(10, 40):
        for T, pp, o in ((torch, tps, topt), (gn, ps, opt)):
            o.zero_grad()
            _loss(T, pp, k).backward()
            o.step()
    _close(_numpy(ps), _numpy(tps))


@pytest.mark.parametrize("name,kw", [("Adam", dict(lr=0.01)), ("NAdam", dict(lr=0.01)),
                                     ("SGD", dict(lr=0.02, momentum=0.9))])
def test_state_dict_layout_is_torchs(name, kw):
    """``{'state': {index: {...}}, 'param_groups': [{..., 'params': [indices]}]}``."""
    def groups(ps):
        return [{"params": ps[:1]}, {"params": ps[1:], "lr": 0.003}]
    _, _, _, opt = _train(gn, name, kw, steps=3, groups=groups)
    _, _, _, topt = _train(torch, name, kw, steps=3, groups=groups)
    sd, tsd = opt.state_dict(), topt.state_dict()
    assert list(sd) == list(tsd) == ["state", "param_groups"]
    assert sorted(sd["state"]) == sorted(tsd["state"]) == [0, 1, 2, 3]
    assert [g["params"] for g in sd["param_groups"]] == [g["params"] for g in
                                                         tsd["param_groups"]]
    for g, tg in zip(sd["param_groups"], tsd["param_groups"]):
        assert set(tg) - {"fused", "differentiable", "capturable"} <= set(g)
        assert g["lr"] == tg["lr"]
    for i in tsd["state"]:
        for k, v in tsd["state"][i].items():
            np.testing.assert_allclose(np.asarray(sd["state"][i][k], dtype=float),
                                       v.numpy(), rtol=1e-10, err_msg=f"state[{i}][{k}]")


@pytest.mark.parametrize("name,kw", [("Adam", dict(lr=0.01)), ("Rprop", dict()),
                                     ("ASGD", dict(t0=3)), ("NAdam", dict(lr=0.01))])
def test_own_state_dict_round_trip_resumes_exactly(name, kw):
    ps = _params(gn, _init())
    opt = getattr(gn.optim, name)(ps, **kw)
    for k in range(5):
        opt.zero_grad()
        _loss(gn, ps, k).backward()
        opt.step()
    sd = opt.state_dict()
    ps2 = [gn.tensor(p.numpy().copy(), dtype=gn.float64, requires_grad=True) for p in ps]
    opt2 = getattr(gn.optim, name)(ps2, **kw)
    opt2.load_state_dict(sd)
    for k in range(5, 15):
        for pp, o in ((ps, opt), (ps2, opt2)):
            o.zero_grad()
            _loss(gn, pp, k).backward()
            o.step()
    for a, b in zip(_numpy(ps), _numpy(ps2)):
        np.testing.assert_array_equal(a, b)


# ------------------------------------------------------------------------------ LBFGS
def _rosenbrock(p):
    a, b = p[:-1], p[1:]
    return (100.0 * (b - a * a) * (b - a * a) + (1.0 - a) * (1.0 - a)).sum()


@pytest.mark.parametrize("kw", [dict(line_search_fn="strong_wolfe"),
                                dict(line_search_fn="strong_wolfe", history_size=3, lr=0.5),
                                dict(lr=0.1, max_iter=10),
                                dict(lr=1.0, max_iter=5, history_size=2)])
def test_lbfgs_rosenbrock_losses_match_torch(kw):
    out = {}
    for T in (gn, torch):
        p = T.tensor([-1.2, 1.0, 0.5, -0.3], dtype=T.float64, requires_grad=True)
        opt = T.optim.LBFGS([p], **kw)
        losses, firsts = [], []

        def closure():
            opt.zero_grad()
            loss = _rosenbrock(p)
            loss.backward()
            losses.append(loss.item())
            return loss
        for _ in range(3):
            firsts.append(opt.step(closure).item())
        out[T.__name__] = (np.array(losses), firsts, p.detach().numpy().copy(),
                           opt.state[p]["n_iter"], opt.state[p]["func_evals"])
    g, t = out["glassnet"], out["torch"]
    assert len(g[0]) == len(t[0]) and g[3:] == t[3:]
    np.testing.assert_allclose(g[0], t[0], rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(g[1], t[1], rtol=1e-8)
    np.testing.assert_allclose(g[2], t[2], rtol=1e-8, atol=1e-10)


def _lstm_model(T, hidden):
    class Sequence(T.nn.Module):
        """pytorch/examples time_sequence_prediction's model, smaller."""

        def __init__(self):
            super().__init__()
            self.lstm1 = T.nn.LSTMCell(1, hidden)
            self.lstm2 = T.nn.LSTMCell(hidden, hidden)
            self.linear = T.nn.Linear(hidden, 1)

        def forward(self, x):
            n = x.shape[0]
            h, c, h2, c2 = (T.zeros(n, hidden, dtype=T.double) for _ in range(4))
            outs = []
            for i in range(x.shape[1]):
                h, c = self.lstm1(x[:, i:i + 1], (h, c))
                h2, c2 = self.lstm2(h, (h2, c2))
                outs.append(self.linear(h2))
            return T.cat(outs, dim=1) if T is torch else gn.functional.concat(outs, axis=1)
    return Sequence()


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_lbfgs_time_sequence_prediction_matches_torch(line_search_fn):
    """pytorch/examples time_sequence_prediction (tests/third_party): two LSTMCells fit
    sine waves with LBFGS(lr=0.8) and a closure, in float64; every closure loss of two
    steps agrees with torch's."""
    r = np.random.default_rng(2)
    x = np.arange(16) + r.integers(-80, 80, 6).reshape(6, 1)
    data = np.sin(x / 20.0)
    torch.manual_seed(0)
    tm = _lstm_model(torch, 8).double()
    gm = _lstm_model(gn, 8).double()
    gm.load_state_dict({k: gn.tensor(v.detach().numpy().copy(), dtype=gn.float64)
                        for k, v in tm.state_dict().items()})
    out = {}
    for T, m in ((torch, tm), (gn, gm)):
        inp = T.tensor(data[2:, :-1], dtype=T.float64)
        tgt = T.tensor(data[2:, 1:], dtype=T.float64)
        crit = T.nn.MSELoss()
        opt = T.optim.LBFGS(m.parameters(), lr=0.8, line_search_fn=line_search_fn)
        losses = []
        for _ in range(2):
            def closure():
                opt.zero_grad()
                loss = crit(m(inp), tgt)
                losses.append(loss.item())
                loss.backward()
                return loss
            opt.step(closure)
        out[T.__name__] = np.array(losses)
    assert len(out["glassnet"]) == len(out["torch"])
    assert out["torch"][-1] < out["torch"][0]
    np.testing.assert_allclose(out["glassnet"], out["torch"], rtol=1e-8)


def test_lbfgs_state_dict_loads_torchs():
    def run(T, p, opt, n):
        def closure():
            opt.zero_grad()
            loss = _rosenbrock(p)
            loss.backward()
            return loss
        for _ in range(n):
            opt.step(closure)
    tp = torch.tensor([-1.2, 1.0, 0.5], dtype=torch.float64, requires_grad=True)
    topt = torch.optim.LBFGS([tp], max_iter=4, history_size=3)
    run(torch, tp, topt, 2)
    p = gn.tensor(tp.detach().numpy().copy(), dtype=gn.float64, requires_grad=True)
    opt = gn.optim.LBFGS([p], max_iter=4, history_size=3)
    opt.load_state_dict(topt.state_dict())
    assert set(opt.state_dict()["state"][0]) == set(topt.state_dict()["state"][0])
    run(torch, tp, topt, 2)
    run(gn, p, opt, 2)
    np.testing.assert_allclose(p.numpy(), tp.detach().numpy(), rtol=1e-9)


def test_lbfgs_needs_a_closure_and_one_group():
    p = gn.nn.Parameter(np.ones(2))
    with pytest.raises(TypeError):
        gn.optim.LBFGS([p]).step()
    with pytest.raises(TypeError):
        torch.optim.LBFGS([torch.ones(2, requires_grad=True)]).step()
    with pytest.raises(ValueError, match="one group"):
        gn.optim.LBFGS([{"params": [p]}, {"params": [gn.nn.Parameter(np.ones(1))]}])


# ------------------------------------------------------------------------- schedulers
def _sgd(T, kw=None):
    ps = [T.ones(2, requires_grad=True), T.ones(3, requires_grad=True)]
    return T.optim.SGD([{"params": ps[:1]}, {"params": ps[1:], "lr": 0.05}],
                       **(kw or dict(lr=0.1, momentum=0.9)))


def _adam(T):
    ps = [T.ones(2, requires_grad=True)]
    return T.optim.Adam(ps, lr=0.01)


SCHED = [
    ("StepLR", lambda S, o: S.StepLR(o, step_size=7, gamma=0.5)),
    ("MultiStepLR", lambda S, o: S.MultiStepLR(o, milestones=[3, 10, 10, 40], gamma=0.5)),
    ("ExponentialLR", lambda S, o: S.ExponentialLR(o, gamma=0.93)),
    ("CosineAnnealingLR", lambda S, o: S.CosineAnnealingLR(o, T_max=10, eta_min=0.001)),
    ("CosineAnnealingLR-long", lambda S, o: S.CosineAnnealingLR(o, T_max=50)),
    ("LambdaLR", lambda S, o: S.LambdaLR(o, lambda e: 1.0 / (1 + e))),
    ("LambdaLR-per-group", lambda S, o: S.LambdaLR(o, [lambda e: 0.9 ** e,
                                                         lambda e: 1 + 0.1 * e])),
    ("MultiplicativeLR", lambda S, o: S.MultiplicativeLR(o, lambda e: 0.97)),
    ("ConstantLR", lambda S, o: S.ConstantLR(o, factor=0.25, total_iters=7)),
    ("ConstantLR-default", lambda S, o: S.ConstantLR(o)),
    ("LinearLR", lambda S, o: S.LinearLR(o, start_factor=0.2, end_factor=0.9, total_iters=13)),
    ("LinearLR-default", lambda S, o: S.LinearLR(o)),
    ("PolynomialLR", lambda S, o: S.PolynomialLR(o, total_iters=30, power=2.0)),
    ("PolynomialLR-default", lambda S, o: S.PolynomialLR(o)),
    ("CosineAnnealingWarmRestarts", lambda S, o: S.CosineAnnealingWarmRestarts(o, T_0=7)),
    ("CosineAnnealingWarmRestarts-mult", lambda S, o: S.CosineAnnealingWarmRestarts(
        o, T_0=5, T_mult=2, eta_min=0.001)),
    ("CyclicLR", lambda S, o: S.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=4,
                                         step_size_down=6)),
    ("CyclicLR-triangular2", lambda S, o: S.CyclicLR(o, 0.01, 0.1, step_size_up=5,
                                                     mode="triangular2")),
    ("CyclicLR-exp_range", lambda S, o: S.CyclicLR(o, [0.01, 0.02], 0.1, step_size_up=5,
                                                   mode="exp_range", gamma=0.97)),
    ("CyclicLR-no-momentum", lambda S, o: S.CyclicLR(o, 0.01, 0.1, step_size_up=3,
                                                     cycle_momentum=False)),
    ("CyclicLR-scale_fn", lambda S, o: S.CyclicLR(o, 0.01, 0.1, step_size_up=3,
                                                  scale_fn=lambda x: 0.5 ** x,
                                                  scale_mode="iterations")),
    ("OneCycleLR", lambda S, o: S.OneCycleLR(o, max_lr=1.0, total_steps=61)),
    ("OneCycleLR-three-phase-linear", lambda S, o: S.OneCycleLR(
        o, max_lr=[1.0, 0.5], epochs=61, steps_per_epoch=1, three_phase=True,
        anneal_strategy="linear", div_factor=10.0, final_div_factor=100.0)),
    ("OneCycleLR-pct", lambda S, o: S.OneCycleLR(o, max_lr=0.3, total_steps=80,
                                                 pct_start=0.1, base_momentum=0.8,
                                                 max_momentum=0.99)),
    ("SequentialLR", lambda S, o: S.SequentialLR(
        o, [S.LinearLR(o, start_factor=0.1, total_iters=5), S.CosineAnnealingLR(o, T_max=20),
            S.ExponentialLR(o, 0.9)], milestones=[5, 25])),
    ("SequentialLR-warmup-step", lambda S, o: S.SequentialLR(
        o, [S.ConstantLR(o, factor=0.1, total_iters=3), S.StepLR(o, 5, 0.5)],
        milestones=[3])),
    ("ChainedScheduler", lambda S, o: S.ChainedScheduler(
        [S.ConstantLR(o, factor=0.1, total_iters=10), S.ExponentialLR(o, gamma=0.95)])),
    ("ChainedScheduler-with-optimizer", lambda S, o: S.ChainedScheduler(
        [S.LinearLR(o, 0.5, total_iters=8), S.MultiStepLR(o, [12, 30])], optimizer=o)),
]


def _schedule(T, make, n=60, opt=_sgd, epochs=None):
    o = opt(T)
    s = make(T.optim.lr_scheduler, o)
    lrs, moms = [s.get_last_lr()], []
    for i in range(n):
        o.step()
        if epochs is None:
            s.step()
        else:
            s.step(epochs[i])
        lrs.append(s.get_last_lr())
        moms.append([g.get("momentum", g.get("betas", (None,))[0]) for g in o.param_groups])
    return lrs, moms, s, o


@pytest.mark.parametrize("name,make", SCHED, ids=[s[0] for s in SCHED])
def test_scheduler_learning_rates_match_torch(name, make):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours, om, s, o = _schedule(gn, make)
        ref, tm, ts, to = _schedule(torch, make)
    assert_same(ours, ref, rtol=1e-12, atol=1e-15, what=f"{name} lrs")
    np.testing.assert_allclose(np.array(om, float), np.array(tm, float), rtol=1e-12)
    assert [g["lr"] for g in o.param_groups] == ours[-1]
    if hasattr(ts, "last_epoch"):
        assert s.last_epoch == ts.last_epoch


@pytest.mark.parametrize("name", ["OneCycleLR", "CyclicLR"])
def test_momentum_cycling_moves_adams_beta1(name):
    make = dict(SCHED)[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours, om, _, o = _schedule(gn, make, opt=_adam)
        ref, tm, _, to = _schedule(torch, make, opt=_adam)
    np.testing.assert_allclose(ours, ref, rtol=1e-12)
    np.testing.assert_allclose(om, tm, rtol=1e-12)
    assert o.param_groups[0]["betas"][1] == to.param_groups[0]["betas"][1] == 0.999


@pytest.mark.parametrize("name,epochs", [
    ("CosineAnnealingWarmRestarts", [0.5 * i for i in range(60)]),
    ("CosineAnnealingWarmRestarts-mult", [i / 3 for i in range(60)]),
    ("StepLR", [int(1.5 * i) for i in range(60)]),
    ("MultiStepLR", [int(1.5 * i) for i in range(60)]),
    ("ExponentialLR", [2 * i for i in range(60)]),
    ("CosineAnnealingLR", [int(1.5 * i) for i in range(60)]),
    ("LinearLR", [i // 2 for i in range(60)]),
    ("ConstantLR", [i // 2 for i in range(60)]),
    ("PolynomialLR", [i // 2 for i in range(60)])])
def test_scheduler_step_with_epoch_matches_torch(name, epochs):
    """``step(epoch)`` (deprecated in torch, still used by SGDR's per-batch idiom
    ``sched.step(epoch + i / iters)``): the closed forms."""
    make = dict(SCHED)[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours, _, _, _ = _schedule(gn, make, epochs=epochs)
        ref, _, _, _ = _schedule(torch, make, epochs=epochs)
    np.testing.assert_allclose(ours, ref, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", ["OneCycleLR", "CyclicLR", "StepLR", "SequentialLR",
                                  "CosineAnnealingWarmRestarts-mult", "LinearLR"])
def test_scheduler_state_dict_resumes_like_torch(name):
    """Save the scheduler's and optimizer's state dicts half-way, build new ones, load,
    and continue: the same learning rates as torch's uninterrupted run."""
    make = dict(SCHED)[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref, _, _, _ = _schedule(torch, make)
        o = _sgd(gn)
        s = make(gn.optim.lr_scheduler, o)
        ours = [s.get_last_lr()]
        for _ in range(30):
            o.step()
            s.step()
            ours.append(s.get_last_lr())
        import json
        sd = json.loads(json.dumps(s.state_dict()))
        osd = o.state_dict()
        o2 = _sgd(gn)
        s2 = make(gn.optim.lr_scheduler, o2)
        o2.load_state_dict(osd)
        s2.load_state_dict(sd)
        for _ in range(30):
            o2.step()
            s2.step()
            ours.append(s2.get_last_lr())
    np.testing.assert_allclose(ours, ref, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("kw", [dict(mode="min", factor=0.5, patience=2),
                                dict(mode="max", factor=0.1, patience=1, cooldown=2,
                                     min_lr=1e-3),
                                dict(mode="min", patience=0, threshold=0.1,
                                     threshold_mode="abs", min_lr=[0.01, 0.001])])
def test_reduce_lr_on_plateau_matches_torch(kw):
    metrics = [1.0, 0.9, 0.95, 0.91, 0.92, 0.93, 0.5, 0.6, 0.7, 0.8, 0.45, 0.46, 0.47,
               0.48, 0.2, 0.3, 0.3, 0.3, 0.3, 0.1] * 3
    out = {}
    for T in (gn, torch):
        o = _sgd(T)
        s = T.optim.lr_scheduler.ReduceLROnPlateau(o, **kw)
        lrs = []
        for m in metrics:
            o.step()
            s.step(m)
            lrs.append(s.get_last_lr())
        out[T.__name__] = (lrs, s.last_epoch, s.num_bad_epochs, s.best)
        assert isinstance(s, T.optim.lr_scheduler.LRScheduler)
    assert_same(out["glassnet"], out["torch"], rtol=1e-12)


def test_scheduler_sets_initial_lr_and_base_lrs():
    for T in (gn, torch):
        o = _sgd(T)
        s = T.optim.lr_scheduler.StepLR(o, 3)
        assert [g["initial_lr"] for g in o.param_groups] == [0.1, 0.05]
        assert s.base_lrs == [0.1, 0.05] and s.last_epoch == 0
        with pytest.raises(KeyError):
            T.optim.lr_scheduler.StepLR(_sgd(T), 3, last_epoch=4)


def test_cycle_momentum_needs_momentum_or_betas():
    for T in (gn, torch):
        o = T.optim.Adagrad([T.ones(2, requires_grad=True)])
        with pytest.raises(ValueError):
            T.optim.lr_scheduler.OneCycleLR(o, max_lr=0.1, total_steps=10)
        T.optim.lr_scheduler.OneCycleLR(o, max_lr=0.1, total_steps=10, cycle_momentum=False)


def test_one_cycle_refuses_stepping_past_total_steps():
    for T in (gn, torch):
        o = _sgd(T)
        s = T.optim.lr_scheduler.OneCycleLR(o, max_lr=0.1, total_steps=3)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for _ in range(3):
                o.step()
                s.step()
            with pytest.raises(ValueError):
                s.step()


def test_cosine_warm_restarts_per_batch_idiom():
    """The SGDR docs' loop: ``scheduler.step(epoch + i / iters)`` inside the batch loop."""
    out = {}
    for T in (gn, torch):
        o = _sgd(T)
        s = T.optim.lr_scheduler.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2)
        iters, lrs = 7, []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for epoch in range(12):
                for i in range(iters):
                    o.step()
                    s.step(epoch + i / iters)
                    lrs.append(s.get_last_lr())
        out[T.__name__] = lrs
    np.testing.assert_allclose(out["glassnet"], out["torch"], rtol=1e-12, atol=1e-15)
    assert math.isclose(out["glassnet"][0][0], 0.1)


def test_named_parameters_keep_their_names():
    """torch 2.13 accepts ``model.named_parameters()``: the group keeps ``param_names``."""
    out = {}
    for T in (gn, torch):
        m = T.nn.Linear(2, 1)
        opt = T.optim.Adam(m.named_parameters(), lr=0.1)
        sd = opt.state_dict()
        out[T.__name__] = (opt.param_groups[0]["param_names"],
                           sd["param_groups"][0]["param_names"], sd["param_groups"][0]["params"])
    assert out["glassnet"] == out["torch"]


def test_custom_scheduler_subclass():
    """A user's schedule: subclass LRScheduler (or the old _LRScheduler), write get_lr
    from base_lrs and last_epoch."""
    out = {}
    for T in (gn, torch):
        S = T.optim.lr_scheduler

        class Warmup(S._LRScheduler):
            def get_lr(self):
                return [b * min(1.0, (self.last_epoch + 1) / 5) for b in self.base_lrs]
        o = _sgd(T)
        s = Warmup(o)
        lrs = [s.get_last_lr()]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for _ in range(8):
                o.step()
                s.step()
                lrs.append(s.get_last_lr())
        out[T.__name__] = lrs
        assert isinstance(s, S.LRScheduler)
    assert_same(out["glassnet"], out["torch"], rtol=1e-15)
