"""The readable per-parameter rules against the flat engine, for every rule and option.

``foreach=False`` steps each parameter with the rule's ``_update`` (its formula in NumPy);
the default steps all parameters of a group at once with the rule's kernel in
``optim/_flat.py``. They must agree for every rule and every combination of its options, on
every path of the engine: the chunked flat step (a parameter over 64k elements cut between
threads, a gathered run of small ones), the gathered step for strided parameters, and the
per-parameter kernel for groups where some gradients are missing. No torch needed.
"""
from __future__ import annotations

import itertools

import numpy as np
import pytest

import glassnet as gn
from glassnet import nn, optim


def _combos():
    out = []
    for mu, damp, nesterov, wd, mx in itertools.product([0.0, 0.9], [0.0, 0.3], [False, True],
                                                        [0.0, 0.1], [False, True]):
        if (nesterov and (mu == 0 or damp != 0)) or (mu == 0 and damp != 0):
            continue
        out.append(("SGD", dict(lr=0.05, momentum=mu, dampening=damp, nesterov=nesterov,
                                weight_decay=wd, maximize=mx)))
    for mu, centered, wd, mx in itertools.product([0.0, 0.5], [False, True], [0.0, 0.1],
                                                  [False, True]):
        out.append(("RMSprop", dict(lr=0.01, alpha=0.9, momentum=mu, centered=centered,
                                    weight_decay=wd, maximize=mx)))
    for decay, wd, acc, mx in itertools.product([0.0, 0.01], [0.0, 0.1], [0.0, 0.1],
                                                [False, True]):
        out.append(("Adagrad", dict(lr=0.1, lr_decay=decay, weight_decay=wd,
                                    initial_accumulator_value=acc, maximize=mx)))
    for ams, wd, mx, dec in itertools.product([False, True], [0.0, 0.1], [False, True],
                                              [False, True]):
        out.append(("Adam", dict(lr=0.01, betas=(0.8, 0.99), amsgrad=ams, weight_decay=wd,
                                 maximize=mx, decoupled_weight_decay=dec)))
    for ams, wd, mx in itertools.product([False, True], [0.0, 0.1], [False, True]):
        out.append(("AdamW", dict(lr=0.01, amsgrad=ams, weight_decay=wd, maximize=mx)))
    return out


COMBOS = _combos()


def _ids(combos):
    def short(v):
        return "".join(str(x) for x in v) if isinstance(v, tuple) else v
    return [name + "-" + ",".join(f"{k}={short(v)}" for k, v in kw.items() if k != "lr")
            for name, kw in combos]


def _grad(a, k):
    """A smooth, bounded, non-linear gradient, different at each step k (bounded, so that
    ``maximize=True`` climbs without overflowing)."""
    a = np.asarray(a, np.float64)
    key = (a.shape, k)
    if key not in _WAVES:
        _WAVES[key] = np.sin(k + np.arange(a.size).reshape(a.shape))
    return 2 * np.tanh(a) + _WAVES[key]


_WAVES = {}


def _build(dtype, seed=0):
    """Three groups, one per path of the engine.

    0: contiguous, every gradient present: the chunked flat step (one parameter of 70,000
       elements, above the 64k gathering size, cut between chunks; the small ones are one
       gathered run; one gradient is Fortran-ordered).
    1: strided parameters (a Fortran array, a column slice of a larger array): the
       gathered flat step.
    2: two flat steps, then some gradients missing and one parameter frozen: the
       per-parameter kernel on views of the flat state.
    """
    r = np.random.default_rng(seed)
    g0 = [r.normal(size=s) for s in [(280, 250), (7,), (3, 5), (4, 1, 3), (50, 20)]]
    g1 = [np.asfortranarray(r.normal(size=(70, 40))), r.normal(size=(9, 12)),
          r.normal(size=(6,))]
    g2 = [r.normal(size=s) for s in [(90, 80), (6,), (5, 5)]]
    groups = [[nn.Parameter(a.astype(dtype)) for a in grp] for grp in (g0, g1, g2)]
    groups[1][1] = nn.Parameter(g1[1].astype(dtype)[:, ::3])     # a view into a larger array
    assert [p.numpy().flags.c_contiguous for p in groups[1]] == [False, False, True]
    return groups


def _set_grads(groups, k, dtype):
    (g0, g1, g2) = groups
    for p in g0 + g1 + g2:
        p.grad = gn.Tensor(_grad(p.numpy(), k).astype(dtype))
    g0[2].grad = gn.Tensor(np.asfortranarray(g0[2].grad.numpy()))
    if k >= 2:                       # from the third step on, the group loses gradients
        g2[k % 2].grad = None
        g2[2].requires_grad = False  # frozen: no longer updated, whatever its .grad


def _run(name, kw, dtype, foreach, steps=5):
    groups = _build(dtype)
    arrays = [id(p.numpy()) for grp in groups for p in grp]
    opt = getattr(optim, name)([{"params": grp} for grp in groups], foreach=foreach, **kw)
    for k in range(steps):
        _set_grads(groups, k, dtype)
        opt.step()
        if k == 1:
            frozen = groups[2][2].numpy().copy()
    assert [id(p.numpy()) for grp in groups for p in grp] == arrays, "updates must be in place"
    np.testing.assert_array_equal(groups[2][2].numpy(), frozen)
    return groups, opt


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name,kw", COMBOS, ids=_ids(COMBOS))
def test_readable_rule_and_flat_engine_agree(name, kw, dtype):
    read_groups, read = _run(name, kw, dtype, foreach=False)
    assert not read._engine.layouts                             # the readable rule only
    before = gn.get_num_threads()
    for threads in (1, 3):
        gn.set_num_threads(threads)
        try:
            flat_groups, flat = _run(name, kw, dtype, foreach=None)
        finally:
            gn.set_num_threads(before)
        lay = flat._engine.layouts
        assert sorted(gi for gi, _ in lay) == [0, 1, 2]       # the engine ran every group
        chunks = lay[(0, np.dtype(dtype))].plan(threads)
        assert len(chunks) == threads
        assert any(len(pieces) > 1 for chunk in chunks for _, _, pieces in chunk)
        _assert_same(flat_groups, flat, read_groups, read, dtype)


def _assert_same(flat_groups, flat, read_groups, read, dtype):
    tol = dict(rtol=1e-12, atol=1e-12) if dtype == np.float64 else dict(rtol=2e-5, atol=2e-6)
    for fg, rg in zip(flat_groups, read_groups):
        for p, q in zip(fg, rg):
            assert p.numpy().dtype == q.numpy().dtype == dtype
            np.testing.assert_allclose(p.numpy(), q.numpy(), **tol)
            fs, rs = flat.state[p], read.state[q]
            assert sorted(fs) == sorted(rs)
            assert fs["step"] == rs["step"] and isinstance(rs["step"], int)
            for key in rs:
                if key != "step":
                    assert rs[key].dtype == dtype and rs[key].shape == q.numpy().shape
                    np.testing.assert_allclose(fs[key], rs[key], **tol)
    # the gradient-less steps held group 2's parameters back
    assert [read.state[q]["step"] for q in read_groups[2]] == [3, 4, 2]


@pytest.mark.parametrize("foreach", [None, False])
@pytest.mark.parametrize("name,kw", [c for c in COMBOS if not c[1].get("maximize")],
                         ids=_ids([c for c in COMBOS if not c[1].get("maximize")]))
def test_maximize_is_minimizing_the_negated_gradient(name, kw, foreach):
    kw = {k: v for k, v in kw.items() if k != "maximize"}
    r = np.random.default_rng(4)
    init = [r.normal(size=s) for s in [(300, 250), (5,), (4, 3)]]
    up = [nn.Parameter(a.copy()) for a in init]
    down = [nn.Parameter(a.copy()) for a in init]
    opt_up = getattr(optim, name)(up, foreach=foreach, maximize=True, **kw)
    opt_down = getattr(optim, name)(down, foreach=foreach, **kw)
    for k in range(4):
        for p, q in zip(up, down):
            g = _grad(p.numpy(), k)
            p.grad, q.grad = gn.Tensor(g), gn.Tensor(-g)
        opt_up.step()
        opt_down.step()
    for p, q in zip(up, down):
        np.testing.assert_allclose(p.numpy(), q.numpy(), rtol=1e-14, atol=1e-15)


def test_adamw_is_adam_with_decoupled_weight_decay():
    a = [nn.Parameter(np.linspace(-1, 1, 12).reshape(3, 4)) for _ in range(2)]
    opt_w = optim.AdamW([a[0]], lr=0.01, weight_decay=0.1)
    opt_a = optim.Adam([a[1]], lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)
    assert opt_w.param_groups[0]["decoupled_weight_decay"] is True
    assert optim.Adam([nn.Parameter(np.ones(2))]).param_groups[0]["decoupled_weight_decay"] is False
    for k in range(3):
        for p in a:
            p.grad = gn.Tensor(_grad(p.numpy(), k))
        opt_w.step()
        opt_a.step()
    np.testing.assert_array_equal(a[0].numpy(), a[1].numpy())


def test_foreach_chooses_the_path():
    calls = []

    class CountingSGD(optim.SGD):
        def _update(self, p, g, state, group):
            calls.append(p.shape)
            super()._update(p, g, state, group)

    for foreach, engine in [(None, True), (True, True), (False, False)]:
        p = nn.Parameter(np.ones((2, 3)))
        opt = optim.SGD([p], lr=0.5, momentum=0.9, foreach=foreach)
        assert opt.param_groups[0]["foreach"] is foreach
        p.grad = gn.Tensor(np.ones((2, 3)))
        opt.step()
        assert bool(opt._engine.layouts) is engine
        np.testing.assert_allclose(p.numpy(), 0.5)
    # a subclass with its own _update runs it, never the parent's flat kernel ...
    p = nn.Parameter(np.ones(4))
    opt = CountingSGD([p], lr=0.5)
    p.grad = gn.Tensor(np.ones(4))
    opt.step()
    assert calls == [(4,)] and not opt._engine.layouts
    np.testing.assert_allclose(p.numpy(), 0.5)

    # ... while one that only changes defaults keeps the engine
    class SlowSGD(optim.SGD):
        def __init__(self, params):
            super().__init__(params, lr=0.001)

    opt = SlowSGD([p])
    opt.step()
    assert opt._engine.layouts and calls == [(4,)]


def test_a_custom_rule_needs_only_its_update():
    class SignSGD(optim.Optimizer):
        def __init__(self, params, lr=0.01):
            super().__init__(params, dict(lr=lr))

        def _state_names(self, group):
            return ("count",)

        def _update(self, p, g, state, group):
            state["count"] += 1
            p -= group["lr"] * np.sign(g)

    p = nn.Parameter(np.array([1.0, -2.0, 3.0], np.float32))
    opt = SignSGD([p], lr=0.5)
    for _ in range(2):
        p.grad = gn.Tensor(np.array([2.0, -1.0, 0.0], np.float32))
        opt.step()
    np.testing.assert_allclose(p.numpy(), [0.0, -1.0, 3.0])
    assert opt.state[p]["step"] == 2
    assert opt.state[p]["count"].dtype == np.float32
    np.testing.assert_array_equal(opt.state[p]["count"], 2)


@pytest.mark.parametrize("name,kw", [("Adam", dict(lr=0.01, amsgrad=True)),
                                     ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5)),
                                     ("SGD", dict(lr=0.1, momentum=0.9))])
def test_switching_paths_mid_training_keeps_one_state(name, kw):
    r = np.random.default_rng(5)
    init = [r.normal(size=s) for s in [(200, 400), (3,), (7, 2)]]
    mixed = [nn.Parameter(a.copy()) for a in init]
    ref = [nn.Parameter(a.copy()) for a in init]
    opt = getattr(optim, name)(mixed, **kw)
    opt_ref = getattr(optim, name)(ref, foreach=False, **kw)
    for k in range(9):
        opt.param_groups[0]["foreach"] = [None, False, True][k // 3]
        for p, q in zip(mixed, ref):
            p.grad = gn.Tensor(_grad(p.numpy(), k))
            q.grad = gn.Tensor(_grad(q.numpy(), k))
        opt.step()
        opt_ref.step()
    for p, q in zip(mixed, ref):
        np.testing.assert_allclose(p.numpy(), q.numpy(), rtol=1e-12, atol=1e-12)
        for key, val in opt_ref.state[q].items():
            np.testing.assert_allclose(opt.state[p][key], val, rtol=1e-12, atol=1e-12)
    # the readable steps in the middle updated the engine's flat buffers in place
    lay = next(iter(opt._engine.layouts.values()))
    assert all(opt.state[p][n] is lay.views[n][i] for i, p in enumerate(mixed) for n in lay.names)


def test_readable_rule_follows_a_replaced_parameter_array():
    p = nn.Parameter(np.zeros(3))
    opt = optim.Adam([p], lr=0.1, foreach=False)
    for _ in range(2):
        p.grad = gn.Tensor(np.ones(3))
        opt.step()
    m_before = opt.state[p]["exp_avg"].copy()
    p.data = p.numpy().astype(np.float32)  # e.g. model.float()
    p.grad = gn.Tensor(np.ones(3, np.float32))
    opt.step()
    assert opt.state[p]["exp_avg"].dtype == np.float32 and p.numpy().dtype == np.float32
    np.testing.assert_allclose(opt.state[p]["exp_avg"], 0.9 * m_before + 0.1, rtol=1e-6)


def test_bad_foreach_and_maximize_are_named():
    p = nn.Parameter(np.ones(2))
    with pytest.raises(ValueError, match="foreach must be None, True or False, got 'yes'"):
        optim.Adam([p], foreach="yes")
    with pytest.raises(ValueError, match="maximize must be True or False, got 2"):
        optim.SGD([p], lr=0.1, maximize=2)


@pytest.mark.parametrize("n, threaded", [(1000, False), (1 << 19, True)])
def test_small_groups_step_on_the_calling_thread(monkeypatch, n, threaded):
    """Below PARALLEL_MIN_PARAMS a group's step is one call on this thread (a pool wake-up
    costs more than the work); from it on, the chunks go to the pool."""
    from glassnet import backend
    from glassnet.optim import _flat
    monkeypatch.setattr(_flat, "PARALLEL_MIN_PARAMS", 1 << 19)
    calls = []
    real = backend.parallel_chunks
    monkeypatch.setattr(backend, "parallel_chunks",
                        lambda *a, **k: (calls.append(a[0]), real(*a, **k))[1])
    before = gn.get_num_threads()
    gn.set_num_threads(2)
    try:
        p = gn.nn.Parameter(np.ones(n, np.float32))
        p.grad = gn.Tensor(np.full(n, 0.5, np.float32))
        opt = optim.Adam([p], lr=0.1)
        opt.step()
    finally:
        gn.set_num_threads(before)
    assert bool(calls) is threaded
    np.testing.assert_allclose(p.numpy(), 0.9, rtol=1e-6)     # first Adam step: p - lr
