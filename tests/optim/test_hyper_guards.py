"""Hyper-parameter guards of every optimizer: in the constructor, in load_state_dict (before
anything is applied) and at every step() (a group edited to a NaN lr); what PyTorch
refuses is refused, and what PyTorch accepts is accepted except the documented few
values that can only diverge (docs/porting.md)."""
import math

import numpy as np
import pytest

import glassnet as gn
from glassnet import nn, optim
from glassnet.errors import ArgumentError, ArgumentTypeError

NAN, INF = float("nan"), float("inf")


def _p():
    return [nn.Parameter(np.ones(3, np.float32))]


# (optimizer, argument, value[, other arguments]): each refused, the message naming both
REFUSED = [
    ("SGD", "lr", -0.1), ("SGD", "lr", NAN), ("SGD", "lr", INF),
    ("SGD", "momentum", 1.0, {"lr": 0.1}), ("SGD", "momentum", 1.5, {"lr": 0.1}),
    ("SGD", "momentum", -0.1, {"lr": 0.1}), ("SGD", "momentum", NAN, {"lr": 0.1}),
    ("SGD", "dampening", NAN, {"lr": 0.1}), ("SGD", "weight_decay", -1, {"lr": 0.1}),
    ("SGD", "weight_decay", NAN, {"lr": 0.1}),
    ("Adam", "lr", NAN), ("Adam", "betas", (1.0, 0.9)), ("Adam", "betas", (0.9, 1.0)),
    ("Adam", "betas", (-0.1, 0.9)), ("Adam", "betas", (NAN, 0.9)), ("Adam", "eps", -1e-8),
    ("Adam", "eps", NAN), ("Adam", "weight_decay", -1),
    ("AdamW", "betas", (1.0, 0.9)), ("AdamW", "weight_decay", -0.01),
    ("Adamax", "betas", (1.0, 0.9)), ("Adamax", "eps", -1),
    ("NAdam", "betas", (0.9, 1.5)), ("NAdam", "momentum_decay", -1),
    ("RAdam", "lr", -1), ("RAdam", "eps", -1),
    ("RMSprop", "momentum", 1.0), ("RMSprop", "momentum", -1), ("RMSprop", "alpha", -0.1),
    ("RMSprop", "eps", -1),
    ("Adagrad", "lr_decay", -1), ("Adagrad", "initial_accumulator_value", -1),
    ("Adagrad", "eps", -1),
    ("Adadelta", "rho", 1.5), ("Adadelta", "rho", -0.1), ("Adadelta", "lr", -1),
    ("ASGD", "lr", -1), ("ASGD", "weight_decay", -1), ("ASGD", "lambd", NAN),
    ("Rprop", "lr", -1), ("Rprop", "etas", (1.5, 1.2)),
    ("LBFGS", "lr", -1), ("LBFGS", "lr", NAN),
]
BAD = [(r[0], dict(r[3] if len(r) > 3 else {}, **{r[1]: r[2]}), f"{r[0]}: {r[1]}")
       for r in REFUSED]
EXACT = [  # the whole message, for the cases the issue names
    ("SGD", dict(lr=-0.1), r"SGD: lr must be a finite number >= 0, got -0.1"),
    ("SGD", dict(lr=NAN), r"SGD: lr must be a finite number >= 0, got nan"),
    ("SGD", dict(lr=0.1, momentum=1.5), r"SGD: momentum must be in \[0, 1\), got 1.5"),
    ("Adam", dict(betas=(1.0, 0.9)), r"Adam: betas\[0\] must be in \[0, 1\), got 1.0"),
    ("RMSprop", dict(momentum=1.0), r"RMSprop: momentum must be in \[0, 1\), got 1.0"),
    ("SGD", dict(lr=0.1, weight_decay=-1), r"SGD: weight_decay must be a finite number >= 0"),
]


@pytest.mark.parametrize("name, kw, match", BAD + EXACT,
                         ids=[f"{n}-{k}" for n, k, _ in BAD + EXACT])
def test_constructor_refuses(name, kw, match):
    with pytest.raises(ArgumentError, match=match):
        getattr(optim, name)(_p(), **kw)


GOOD = [  # accepted by PyTorch, computed correctly, accepted here too
    ("SGD", dict(lr=0.0)), ("SGD", dict(lr=0.1, momentum=0.999)),
    ("SGD", dict(lr=0.1, momentum=0.5, dampening=-1.0)),
    ("SGD", dict(lr=0.1, momentum=0.5, dampening=2.0)),
    ("Adam", dict(eps=0.0)), ("Adam", dict(betas=(0.0, 0.0))), ("AdamW", dict(eps=0.0)),
    ("RMSprop", dict(alpha=1.0)), ("RMSprop", dict(momentum=0.9, eps=0.0)),
    ("Adadelta", dict(rho=1.0)), ("Adagrad", dict(eps=0.0)),
    ("ASGD", dict(lambd=-1.0, alpha=-1.0, t0=-1.0)), ("NAdam", dict(momentum_decay=0.0)),
    ("Rprop", dict(step_sizes=(-1.0, 50.0))), ("LBFGS", dict(lr=0.0)),
]


@pytest.mark.parametrize("name, kw", GOOD, ids=[f"{n}-{k}" for n, k in GOOD])
def test_constructor_accepts_what_pytorch_computes(name, kw):
    opt = getattr(optim, name)(_p(), **kw)
    if name != "LBFGS":
        for p in opt.param_groups[0]["params"]:
            p.grad = gn.Tensor(np.full(3, 0.5, np.float32))
        opt.step()
        opt.step()
        assert all(np.all(np.isfinite(p._data)) for p in opt.param_groups[0]["params"])


# values PyTorch accepts that can only diverge or give NaN, refused here (docs/porting.md)
DIFFERS_FROM_TORCH = {("SGD", "lr", NAN), ("SGD", "lr", INF), ("SGD", "momentum", 1.0),
                      ("SGD", "momentum", 1.5), ("SGD", "weight_decay", NAN),
                      ("SGD", "momentum", NAN), ("SGD", "dampening", NAN),
                      ("RMSprop", "momentum", 1.0), ("RMSprop", "alpha", 1.5),
                      ("ASGD", "lambd", NAN), ("Adam", "lr", INF)}


def test_parity_with_pytorch_rules():
    torch = pytest.importorskip("torch")
    cases = [(n, k, v) for n, kw, _ in BAD for k, v in kw.items() if k != "lr" or len(kw) == 1]
    cases += [(n, k, v) for n, kw in GOOD for k, v in kw.items()]
    cases += [(n, k, v) for n, k, v in DIFFERS_FROM_TORCH]
    extra = {"SGD": {"lr": 0.1}}
    for name, key, value in cases:
        kw = dict(extra.get(name, {}), **{key: value})
        if name == "SGD" and key == "dampening":
            kw["momentum"] = 0.5
        try:
            getattr(torch.optim, name)([torch.nn.Parameter(torch.ones(3))], **kw)
            torch_ok = True
        except (ValueError, TypeError):
            torch_ok = False
        try:
            getattr(optim, name)(_p(), **kw)
            ours_ok = True
        except (ArgumentError, ArgumentTypeError):
            ours_ok = False
        if not torch_ok:
            assert not ours_ok, f"{name}({kw}): PyTorch refuses it, glassnet accepts it"
        elif not ours_ok:
            assert any(n == name and k == key and (v == value or (v != v and value != value))
                       for n, k, v in DIFFERS_FROM_TORCH), \
                f"{name}({kw}): PyTorch accepts it, glassnet refuses it (undocumented)"


@pytest.mark.parametrize("edit, match", [
    (lambda g: g.__setitem__("lr", NAN), r"SGD.step: param_groups\[1\]\['lr'\] must be a "
                                         r"finite number >= 0, got nan"),
    (lambda g: g.__setitem__("lr", -0.1), r"param_groups\[1\]\['lr'\]"),
    (lambda g: g.__setitem__("momentum", 1.5), r"param_groups\[1\]\['momentum'\]"),
    (lambda g: g.__setitem__("weight_decay", INF), r"param_groups\[1\]\['weight_decay'\]"),
])
def test_an_edited_group_is_caught_at_the_next_step_before_any_update(edit, match):
    a, b = nn.Parameter(np.ones(3, np.float32)), nn.Parameter(np.ones(2, np.float32))
    opt = optim.SGD([{"params": [a]}, {"params": [b]}], lr=0.1, momentum=0.9)
    for p in (a, b):
        p.grad = gn.Tensor(np.ones_like(p._data))
    opt.step()
    before = [a._data.copy(), b._data.copy()]
    edit(opt.param_groups[1])
    with pytest.raises(ArgumentError, match=match):
        opt.step()
    np.testing.assert_array_equal(a._data, before[0])   # group 0 was not stepped either
    np.testing.assert_array_equal(b._data, before[1])


@pytest.mark.parametrize("foreach", [None, False])
def test_adam_group_edits_are_caught(foreach):
    p = nn.Parameter(np.ones(3, np.float32))
    opt = optim.Adam([p], lr=1e-2, foreach=foreach)
    p.grad = gn.Tensor(np.ones(3, np.float32))
    for key, value in [("betas", (1.0, 0.999)), ("eps", -1.0), ("lr", "0.1")]:
        saved = opt.param_groups[0][key]
        opt.param_groups[0][key] = value
        with pytest.raises((ArgumentError, ArgumentTypeError), match=f"'{key}'"):
            opt.step()
        opt.param_groups[0][key] = saved
    opt.step()


def test_lbfgs_step_checks_its_group():
    p = nn.Parameter(np.ones(3))
    opt = optim.LBFGS([p], lr=1)
    opt.param_groups[0]["lr"] = NAN

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss
    with pytest.raises(ArgumentError, match=r"LBFGS.step: param_groups\[0\]\['lr'\]"):
        opt.step(closure)


def test_a_scheduler_that_sets_a_bad_lr_is_caught():
    p = nn.Parameter(np.ones(3, np.float32))
    opt = optim.SGD([p], lr=0.1)
    sched = optim.lr_scheduler.LambdaLR(opt, lambda e: -1.0 if e >= 1 else 1.0)
    sched.step()
    p.grad = gn.Tensor(np.ones(3, np.float32))
    with pytest.raises(ArgumentError, match=r"\['lr'\] must be a finite number >= 0, got -0.1"):
        opt.step()


@pytest.mark.parametrize("edit, match", [
    (lambda sd: sd["param_groups"][0].update(lr=-0.1), r"param_groups\[0\]\['lr'\]"),
    (lambda sd: sd["param_groups"][0].update(betas=[0.9, 1.0]), r"\['betas'\]\[1\]"),
    (lambda sd: sd["param_groups"][0].update(params=["a"]), "parameter indices"),
    (lambda sd: sd["state"][0].update(step=-1), r"state\[0\]\['step'\] must be an integer"),
    (lambda sd: sd["state"][0].update(step=NAN), r"state\[0\]\['step'\]"),
    (lambda sd: sd["state"][0].update(exp_avg=np.ones(4)), "has shape"),
    (lambda sd: sd["state"][0].update(exp_avg_sq=np.full(3, INF)), "NaN or infinite"),
    (lambda sd: sd["state"].update({"x": {}}), "parameter index 'x'"),
    (lambda sd: sd.pop("state"), "expected keys 'state'"),
])
def test_load_state_dict_checks_everything_before_applying(edit, match):
    p = nn.Parameter(np.ones(3, np.float32))
    opt = optim.Adam([p], lr=1e-2)
    p.grad = gn.Tensor(np.ones(3, np.float32))
    opt.step()
    good = opt.state_dict()
    bad = opt.state_dict()
    edit(bad)
    opt.step()                                    # a different state from ``good``
    groups = [dict(g) for g in opt.param_groups]
    state = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in opt.state[p].items()}
    with pytest.raises(ArgumentError, match=match):
        opt.load_state_dict(bad)
    assert [dict(g) for g in opt.param_groups] == groups
    for k, v in state.items():
        np.testing.assert_array_equal(opt.state[p][k], v)
    opt.load_state_dict(good)
    assert opt.state[p]["step"] == 1


def test_torch_state_dict_with_float_steps_still_loads():
    torch = pytest.importorskip("torch")
    tp = torch.nn.Parameter(torch.ones(3))
    topt = torch.optim.Adam([tp], lr=1e-2)
    tp.grad = torch.ones(3)
    topt.step()
    p = nn.Parameter(np.ones(3, np.float32))
    opt = optim.Adam([p], lr=1e-2)
    opt.load_state_dict(topt.state_dict())
    assert opt.state[p]["step"] == 1 and math.isclose(opt.param_groups[0]["lr"], 1e-2)


@pytest.mark.parametrize("make, field, value, match", [
    (lambda o: optim.lr_scheduler.StepLR(o, 2), "last_epoch", -2, "last_epoch"),
    (lambda o: optim.lr_scheduler.StepLR(o, 2), "base_lrs", [INF], "base_lrs"),
    (lambda o: optim.lr_scheduler.StepLR(o, 2), "_step_count", 1.5, "_step_count"),
    (lambda o: optim.lr_scheduler.MultiStepLR(o, [2]), "milestones", {"a": 1}, "milestones"),
    (lambda o: optim.lr_scheduler.CosineAnnealingLR(o, 4), "T_max", 0, "T_max"),
    (lambda o: optim.lr_scheduler.OneCycleLR(o, 0.1, total_steps=5), "last_epoch", 9,
     "at most total_steps"),
    (lambda o: optim.lr_scheduler.OneCycleLR(o, 0.1, total_steps=5), "_anneal_func_type",
     "cubic", r"one of \['cos', 'linear'\]"),
    (lambda o: optim.lr_scheduler.CosineAnnealingWarmRestarts(o, 2), "T_i", -1, "T_i"),
    (lambda o: optim.lr_scheduler.OneCycleLR(o, 0.1, total_steps=5), "_schedule_phases",
     [{"end_step": 1.0}, {"end_step": 4}], r"_schedule_phases\[0\] must be a dict with the keys"),
    (lambda o: optim.lr_scheduler.OneCycleLR(o, 0.1, total_steps=5), "_schedule_phases",
     [{"end_step": 0.5, "start_lr": "params", "end_lr": "max_lr", "start_momentum":
       "max_momentum", "end_momentum": "base_momentum"}, {}], "start_lr"),
    (lambda o: optim.lr_scheduler.ReduceLROnPlateau(o), "cooldown_counter", -1, "cooldown"),
    (lambda o: optim.lr_scheduler.SequentialLR(o, [optim.lr_scheduler.StepLR(o, 2)], []),
     "_schedulers", [], "_schedulers must be a list of 1"),
])
def test_scheduler_load_state_dict_checks_fields(make, field, value, match):
    opt = optim.SGD(_p(), lr=0.1, momentum=0.9)
    sched = make(opt)
    sd = sched.state_dict()
    before = {k: v for k, v in vars(sched).items() if not callable(v)}
    sd[field] = value
    with pytest.raises(ArgumentError, match=match):
        sched.load_state_dict(sd)
    assert {k: v for k, v in vars(sched).items() if not callable(v)} == before
