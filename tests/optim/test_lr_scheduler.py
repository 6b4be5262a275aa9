"""Learning-rate schedules: the lr sequences equal torch.optim.lr_scheduler's."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

from glassnet import nn, optim
from glassnet.optim import lr_scheduler as sch


def _pair(torch, lrs=(0.1, 0.02)):
    ps = [nn.Parameter(np.ones(2)) for _ in lrs]
    tps = [torch.ones(2, requires_grad=True) for _ in lrs]
    opt = optim.SGD([{"params": [p], "lr": lr} for p, lr in zip(ps, lrs)], lr=lrs[0])
    topt = torch.optim.SGD([{"params": [p], "lr": lr} for p, lr in zip(tps, lrs)], lr=lrs[0])
    return opt, topt


SCHEDULES = [
    ("StepLR", dict(step_size=3, gamma=0.5)),
    ("MultiStepLR", dict(milestones=[2, 5, 5, 11], gamma=0.3)),
    ("ExponentialLR", dict(gamma=0.9)),
    ("CosineAnnealingLR", dict(T_max=7, eta_min=0.001)),
    ("CosineAnnealingLR", dict(T_max=4)),
]


@pytest.mark.parametrize("name,kw", SCHEDULES, ids=[s[0] + str(i) for i, s in enumerate(SCHEDULES)])
def test_schedules_match_torch(torch, name, kw):
    opt, topt = _pair(torch)
    s = getattr(sch, name)(opt, **kw)
    ts = getattr(torch.optim.lr_scheduler, name)(topt, **kw)
    ours, ref = [], []
    for _ in range(25):
        opt.step()
        topt.step()
        s.step()
        ts.step()
        ours.append(s.get_last_lr())
        ref.append(ts.get_last_lr())
    np.testing.assert_allclose(ours, ref, rtol=1e-12, atol=1e-15)
    assert [g["lr"] for g in opt.param_groups] == ours[-1]


def test_lambda_lr_matches_torch(torch):
    opt, topt = _pair(torch)
    fs = [lambda e: 0.95 ** e, lambda e: 1.0 / (1 + e)]
    s, ts = sch.LambdaLR(opt, fs), torch.optim.lr_scheduler.LambdaLR(topt, fs)
    for _ in range(10):
        opt.step()
        topt.step()
        s.step()
        ts.step()
        np.testing.assert_allclose(s.get_last_lr(), ts.get_last_lr(), rtol=1e-12)


@pytest.mark.parametrize("kw", [dict(mode="min", factor=0.5, patience=2),
                                dict(mode="max", factor=0.1, patience=1, cooldown=2, min_lr=1e-3),
                                dict(mode="min", factor=0.5, patience=0, threshold=0.1,
                                     threshold_mode="abs", min_lr=[0.01, 0.001])])
def test_reduce_on_plateau_matches_torch(torch, kw):
    opt, topt = _pair(torch)
    s = sch.ReduceLROnPlateau(opt, **kw)
    ts = torch.optim.lr_scheduler.ReduceLROnPlateau(topt, **kw)
    metrics = [1.0, 0.9, 0.95, 0.91, 0.92, 0.93, 0.5, 0.6, 0.7, 0.8, 0.45, 0.46, 0.47, 0.48,
               0.2, 0.3, 0.3, 0.3, 0.3, 0.1]
    for m in metrics:
        s.step(m)
        ts.step(m)
        np.testing.assert_allclose(s.get_last_lr(), ts.get_last_lr(), rtol=1e-12)
    assert s.get_last_lr() != [0.1, 0.02]  # it did reduce


def test_plateau_requires_metric_and_valid_args():
    opt = optim.SGD([nn.Parameter(np.ones(1))], lr=0.1)
    with pytest.raises(TypeError, match="monitored value"):
        sch.ReduceLROnPlateau(opt).step()
    with pytest.raises(ValueError, match="mode"):
        sch.ReduceLROnPlateau(opt, mode="up")
    with pytest.raises(ValueError, match="factor"):
        sch.ReduceLROnPlateau(opt, factor=1.5)
    with pytest.raises(ValueError, match="step_size"):
        sch.StepLR(opt, step_size=0)
    with pytest.raises(TypeError, match="Optimizer"):
        sch.StepLR("not an optimizer", step_size=2)


def test_scheduler_state_dict_resumes(torch):
    opt = optim.SGD([nn.Parameter(np.ones(1))], lr=0.1)
    s = sch.MultiStepLR(opt, milestones=[2, 4], gamma=0.5)
    for _ in range(3):
        s.step()
    sd = json.loads(json.dumps(s.state_dict()))
    opt2 = optim.SGD([nn.Parameter(np.ones(1))], lr=0.1)
    opt2.load_state_dict(opt.state_dict())
    s2 = sch.MultiStepLR(opt2, milestones=[9], gamma=0.5)
    s2.load_state_dict(sd)
    for _ in range(3):
        s.step()
        s2.step()
        assert s.get_last_lr() == s2.get_last_lr()


# ---- the schedules added for issue 14, against their formulas (no torch) ----------------
def _one(lr=0.1, **kw):
    return optim.SGD([nn.Parameter(np.ones(1))], lr=lr, **kw)


def _lrs(s, n):
    out = [s.get_last_lr()[0]]
    for _ in range(n):
        s.optimizer.step()
        s.step()
        out.append(s.get_last_lr()[0])
    return np.array(out)


def test_linear_and_constant_lr_warmups():
    got = _lrs(sch.LinearLR(_one(), start_factor=0.25, end_factor=1.0, total_iters=4), 6)
    np.testing.assert_allclose(got, 0.1 * np.array([0.25, 0.4375, 0.625, 0.8125, 1, 1, 1]))
    got = _lrs(sch.ConstantLR(_one(), factor=0.5, total_iters=3), 5)
    np.testing.assert_allclose(got, [0.05, 0.05, 0.05, 0.1, 0.1, 0.1])


def test_polynomial_and_multiplicative_lr():
    got = _lrs(sch.PolynomialLR(_one(), total_iters=4, power=2.0), 6)
    np.testing.assert_allclose(got, 0.1 * (1 - np.minimum(np.arange(7), 4) / 4) ** 2,
                               atol=1e-15)
    got = _lrs(sch.MultiplicativeLR(_one(), lambda e: 0.5), 3)
    np.testing.assert_allclose(got, [0.1, 0.05, 0.025, 0.0125])


def test_one_cycle_endpoints_and_momentum():
    opt = _one(momentum=0.9)
    s = sch.OneCycleLR(opt, max_lr=1.0, total_steps=11, pct_start=0.5)   # peak at step 4.5
    got = _lrs(s, 10)
    assert got.max() < 1.0
    opt = _one(momentum=0.9)
    s = sch.OneCycleLR(opt, max_lr=1.0, total_steps=10, pct_start=0.5)
    got = _lrs(s, 9)
    assert got[0] == pytest.approx(1.0 / 25) and got.max() == pytest.approx(1.0)
    assert got[-1] == pytest.approx(1.0 / 25 / 1e4)
    assert opt.param_groups[0]["momentum"] == pytest.approx(0.95)   # back at the top
    with pytest.raises(ValueError, match="total_steps"):
        sch.OneCycleLR(_one(), max_lr=1.0)


def test_cyclic_lr_triangle():
    s = sch.CyclicLR(_one(momentum=0.9), base_lr=0.0, max_lr=1.0, step_size_up=2)
    np.testing.assert_allclose(_lrs(s, 8), [0, 0.5, 1, 0.5, 0, 0.5, 1, 0.5, 0])
    s = sch.CyclicLR(_one(momentum=0.9), 0.0, 1.0, step_size_up=1, mode="triangular2")
    np.testing.assert_allclose(_lrs(s, 6), [0, 1, 0, 0.5, 0, 0.25, 0])


def test_warm_restarts_restart_and_double():
    s = sch.CosineAnnealingWarmRestarts(_one(), T_0=2, T_mult=2)
    got = _lrs(s, 7)
    # periods 2, 4, ...: restarts (lr back at 0.1) at epochs 2 and 6
    np.testing.assert_allclose(got[[0, 2, 6]], 0.1)
    np.testing.assert_allclose(got[1], 0.05)
    np.testing.assert_allclose(got[4], 0.05)
    s.step(2.5)
    np.testing.assert_allclose(s.get_last_lr()[0], 0.05 * (1 + math.cos(math.pi / 8)))


def test_sequential_and_chained():
    opt = _one()
    s = sch.SequentialLR(opt, [sch.ConstantLR(opt, 0.1, total_iters=10),
                               sch.ExponentialLR(opt, 0.5)], milestones=[2])
    np.testing.assert_allclose(_lrs(s, 4), [0.01, 0.01, 0.1, 0.05, 0.025])
    opt = _one()
    s = sch.ChainedScheduler([sch.ConstantLR(opt, 0.5, total_iters=2),
                              sch.ExponentialLR(opt, 0.5)])
    np.testing.assert_allclose(_lrs(s, 3), [0.05, 0.025, 0.025, 0.0125])
    with pytest.raises(ValueError, match="milestone"):
        sch.SequentialLR(opt, [sch.StepLR(opt, 2)], milestones=[3])
    with pytest.raises(ValueError, match="ReduceLROnPlateau"):
        sch.ChainedScheduler([sch.ReduceLROnPlateau(opt)])


def test_chained_scheduler_state_dict_round_trip():
    # the saved states of the chained schedulers are loaded into them (they were set on the
    # ChainedScheduler in their place, and the load then failed on a dict)
    opt = _one()
    s = sch.ChainedScheduler([sch.ConstantLR(opt, 0.5, total_iters=4),
                              sch.ExponentialLR(opt, 0.9)])
    for _ in range(3):
        opt.step()
        s.step()
    sd = json.loads(json.dumps(s.state_dict()))
    opt2 = _one()
    s2 = sch.ChainedScheduler([sch.ConstantLR(opt2, 0.5, total_iters=4),
                               sch.ExponentialLR(opt2, 0.9)])
    opt2.load_state_dict(opt.state_dict())
    s2.load_state_dict(sd)
    assert all(isinstance(c, sch.LRScheduler) for c in s2._schedulers)
    assert [c.last_epoch for c in s2._schedulers] == [3, 3]
    assert s2.get_last_lr() == s.get_last_lr()
    opt.step(), s.step()
    opt2.step(), s2.step()
    np.testing.assert_allclose(s2.get_last_lr(), s.get_last_lr())
    bad = dict(sd, _schedulers=sd["_schedulers"][:1])
    with pytest.raises(ValueError, match="_schedulers"):
        s2.load_state_dict(bad)
