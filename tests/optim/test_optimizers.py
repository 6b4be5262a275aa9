"""Optimizers: trajectories equal torch.optim's step for step, in-place updates, state dicts."""
from __future__ import annotations

import json

import numpy as np
import pytest

import glassnet as gn
from glassnet import nn, optim

SHAPES = [(6, 5), (6,), (3, 6), (3,)]


def _init_arrays(seed=0):
    r = np.random.default_rng(seed)
    return [r.normal(size=s) for s in SHAPES]


def _grad_fn(arrays, k):
    """A smooth non-quadratic gradient, different at each step k, used by both frameworks."""
    return [a ** 3 - 0.5 * a + np.sin(k + np.arange(a.size).reshape(a.shape)) for a in arrays]


CASES = [
    ("SGD", dict(lr=0.05)),
    ("SGD", dict(lr=0.05, weight_decay=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.3, weight_decay=0.01)),
    ("SGD", dict(lr=0.05, momentum=0.8, nesterov=True)),
    ("SGD", dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.05)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, momentum=0.9, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, centered=True, momentum=0.5)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=0.1, initial_accumulator_value=0.1)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.99), weight_decay=0.1)),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.01, weight_decay=0.1, amsgrad=True)),
    ("SGD", dict(lr=0.005, momentum=0.5, weight_decay=0.1, maximize=True)),
    ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5, weight_decay=0.1, maximize=True)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=0.1, maximize=True)),
    ("Adam", dict(lr=0.01, weight_decay=0.1, amsgrad=True, maximize=True)),
    ("Adam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    ("AdamW", dict(lr=0.01, weight_decay=0.1, maximize=True)),
    # the rules added for issue 14 that have flat-engine kernels
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.8, weight_decay=0.1, maximize=True)),
    ("Adamax", dict(lr=0.01)),
    ("Adamax", dict(lr=0.01, betas=(0.8, 0.99), weight_decay=0.1, maximize=True)),
    ("RAdam", dict(lr=0.01)),
    ("RAdam", dict(lr=0.01, weight_decay=0.1, maximize=True)),
    ("RAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
]


def _run_glassnet(name, kw, steps=20, foreach=True, missing=None):
    params = [nn.Parameter(a.copy()) for a in _init_arrays()]
    data_ids = [id(p.numpy()) for p in params]
    opt = getattr(optim, name)(params, foreach=foreach, **kw)
    for k in range(steps):
        for p, g in zip(params, _grad_fn([p.numpy() for p in params], k)):
            p.grad = gn.Tensor(g)
        if missing is not None and k % 3 == 1:
            params[missing].grad = None
        opt.step()
    assert [id(p.numpy()) for p in params] == data_ids, "step() must update p.numpy() in place"
    return [p.numpy() for p in params]


def _run_torch(torch, name, kw, steps=20, missing=None):
    params = [torch.tensor(a.copy(), requires_grad=True) for a in _init_arrays()]
    opt = getattr(torch.optim, name)(params, **kw)
    for k in range(steps):
        for p, g in zip(params, _grad_fn([p.detach().numpy() for p in params], k)):
            p.grad = torch.tensor(g)
        if missing is not None and k % 3 == 1:
            params[missing].grad = None
        opt.step()
    return [p.detach().numpy() for p in params]


@pytest.mark.parametrize("name,kw", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_trajectory_matches_torch(torch, name, kw):
    ours = _run_glassnet(name, kw)
    ref = _run_torch(torch, name, kw)
    for a, b in zip(ours, ref):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-8)
    # the per-parameter path computes the same thing as the flat one
    single = _run_glassnet(name, kw, foreach=False)
    for a, b in zip(ours, single):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name,kw", [CASES[2], CASES[8], CASES[10], CASES[12], CASES[15]])
def test_missing_gradients_match_torch(torch, name, kw):
    # a parameter without a gradient on some steps is skipped (its step count lags), like torch
    ours = _run_glassnet(name, kw, missing=1)
    ref = _run_torch(torch, name, kw, missing=1)
    for a, b in zip(ours, ref):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-8)


def _mlp_pair(torch):
    gn.manual_seed(3)
    model = nn.Sequential(nn.Linear(8, 16), nn.Linear(16, 4)).double()
    tmodel = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.Linear(16, 4)).double()
    with torch.no_grad():
        for (_, p), (_, tp) in zip(model.named_parameters(), tmodel.named_parameters()):
            tp.copy_(torch.from_numpy(p.numpy()))
    return model, tmodel


@pytest.mark.parametrize("name,kw", [("Adam", dict(lr=0.01)), ("AdamW", dict(lr=0.01)),
                                     ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True)),
                                     ("RMSprop", dict(lr=0.005))])
def test_mlp_training_matches_torch(torch, name, kw):
    model, tmodel = _mlp_pair(torch)
    r = np.random.default_rng(1)
    X, Y = r.normal(size=(32, 8)), r.normal(size=(32, 4))
    opt = getattr(optim, name)(model.parameters(), **kw)
    topt = getattr(torch.optim, name)(tmodel.parameters(), **kw)
    for _ in range(20):
        h = model(gn.tensor(X, dtype="float64"))
        d = gn.functional.tanh(h) - gn.tensor(Y, dtype="float64")
        loss = (d * d).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        tl = ((torch.tanh(tmodel(torch.from_numpy(X))) - torch.from_numpy(Y)) ** 2).mean()
        topt.zero_grad()
        tl.backward()
        topt.step()
    for p, tp in zip(model.parameters(), tmodel.parameters()):
        np.testing.assert_allclose(p.numpy(), tp.detach().numpy(), rtol=1e-6, atol=1e-9)


def test_float32_parameters_stay_float32():
    p = nn.Parameter(np.ones((4, 3), np.float32))
    q = nn.Parameter(np.ones(3, np.float64))
    opt = optim.Adam([p, q], lr=0.1)
    p.grad, q.grad = gn.Tensor(np.ones((4, 3), np.float32)), gn.Tensor(np.ones(3))
    opt.step()
    assert p.numpy().dtype == np.float32 and q.numpy().dtype == np.float64
    np.testing.assert_allclose(p.numpy(), 0.9, rtol=1e-6)
    assert opt.state[p]["exp_avg"].dtype == np.float32


def test_skips_frozen_and_gradless_parameters():
    a = nn.Parameter(np.ones(3))
    b = nn.Parameter(np.ones(3))
    c = nn.Parameter(np.ones(3))
    opt = optim.SGD([a, b, c], lr=0.5)
    a.grad, b.grad = gn.Tensor(np.ones(3)), gn.Tensor(np.ones(3))
    b.requires_grad = False
    opt.step()
    np.testing.assert_array_equal(a.numpy(), 0.5)
    np.testing.assert_array_equal(b.numpy(), 1.0)
    np.testing.assert_array_equal(c.numpy(), 1.0)


def test_views_of_parameters_see_updates():
    p = nn.Parameter(np.zeros((2, 3)))
    view = p.numpy()[0]
    opt = optim.Adam([p], lr=0.1)
    p.grad = gn.Tensor(np.ones((2, 3)))
    opt.step()
    np.testing.assert_allclose(view, -0.1)


def test_replaced_parameter_array_is_reflattened():
    p = nn.Parameter(np.zeros(3))
    q = nn.Parameter(np.zeros(2))
    opt = optim.Adam([p, q], lr=0.1)
    for _ in range(2):
        p.grad, q.grad = gn.Tensor(np.ones(3)), gn.Tensor(np.ones(2))
        opt.step()
    m_before = opt.state[p]["exp_avg"].copy()
    p.data = p.numpy().astype(np.float32)  # e.g. model.float()
    p.grad, q.grad = gn.Tensor(np.ones(3, np.float32)), gn.Tensor(np.ones(2))
    opt.step()
    assert opt.state[p]["exp_avg"].dtype == np.float32
    np.testing.assert_allclose(opt.state[p]["exp_avg"], 0.9 * m_before + 0.1, rtol=1e-6)
    np.testing.assert_allclose(p.numpy(), q.numpy()[0], rtol=1e-6)


def test_state_dict_round_trip_is_json_and_numpy_only():
    def make():
        ps = [nn.Parameter(a.copy()) for a in _init_arrays()]
        return ps, optim.Adam([{"params": ps[:2]}, {"params": ps[2:], "lr": 0.003}], lr=0.01)

    ps, opt = make()
    for k in range(5):
        for p, g in zip(ps, _grad_fn([p.numpy() for p in ps], k)):
            p.grad = gn.Tensor(g)
        opt.step()
    sd = opt.state_dict()
    arrays = {f"{i}.{k}": v for i, st in sd["state"].items() for k, v in st.items()
              if isinstance(v, np.ndarray)}
    rest = json.loads(json.dumps({"param_groups": sd["param_groups"],
                                  "state": {i: {k: v for k, v in st.items()
                                                if not isinstance(v, np.ndarray)}
                                            for i, st in sd["state"].items()}}))
    rebuilt = {"param_groups": rest["param_groups"],
               "state": {i: dict(st, **{k.split(".", 1)[1]: v for k, v in arrays.items()
                                        if k.split(".")[0] == i})
                         for i, st in rest["state"].items()}}
    ps2, opt2 = make()
    for p2, p in zip(ps2, ps):
        p2.numpy()[...] = p.numpy()
    opt2.load_state_dict(rebuilt)
    assert opt2.param_groups[1]["lr"] == 0.003 and opt2.param_groups[0]["betas"] == (0.9, 0.999)
    for k in range(5, 10):
        for pp in (ps, ps2):
            for p, g in zip(pp, _grad_fn([p.numpy() for p in pp], k)):
                p.grad = gn.Tensor(g)
        opt.step()
        opt2.step()
    for p, p2 in zip(ps, ps2):
        np.testing.assert_array_equal(p.numpy(), p2.numpy())


def test_add_param_group_and_zero_grad():
    a, b = nn.Parameter(np.ones(2)), nn.Parameter(np.ones(2))
    opt = optim.SGD([a], lr=0.1)
    opt.add_param_group({"params": [b], "lr": 1.0})
    assert opt.param_groups[1]["momentum"] == 0.0
    a.grad, b.grad = gn.Tensor(np.ones(2)), gn.Tensor(np.ones(2))
    opt.step()
    np.testing.assert_allclose(a.numpy(), 0.9)
    np.testing.assert_allclose(b.numpy(), 0.0)
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(a.grad.numpy(), 0)
    opt.zero_grad()
    assert a.grad is None and b.grad is None
    with pytest.raises(ValueError, match="another group"):
        opt.add_param_group({"params": [a]})


def test_bad_arguments_raise_clear_errors():
    p = nn.Parameter(np.ones(2))
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match="single Tensor"):
        optim.SGD(p, lr=0.1)
    with pytest.raises(ValueError, match="lr"):
        optim.Adam([p], lr=-1)
    with pytest.raises(ValueError, match="nesterov"):
        optim.SGD([p], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="betas"):
        optim.Adam([p], betas=(0.9, 1.5))
    with pytest.raises(ValueError, match="gradient of shape"):
        opt = optim.SGD([p], lr=0.1)
        p.grad = gn.Tensor(np.ones(3))
        opt.step()


def test_get_by_name():
    p = nn.Parameter(np.ones(2))
    assert isinstance(optim.get("adam", [p]), optim.Adam)
    m = optim.get("Momentum", [p], lr=0.2)
    assert isinstance(m, optim.SGD) and m.param_groups[0]["momentum"] == 0.9
    assert m.param_groups[0]["lr"] == 0.2
    assert optim.get("adamw", [p], lr=None).param_groups[0]["weight_decay"] == 0.01
    assert optim.get("rmsprop", [p]).param_groups[0]["lr"] == 0.01
    assert isinstance(optim.get("adagrad", [p]), optim.Adagrad)
    assert optim.get("sgd", [p], momentum=0.5).param_groups[0]["momentum"] == 0.5
    assert isinstance(optim.get("adamax", [p]), optim.Adamax)
    with pytest.raises(ValueError, match="unknown optimizer 'adamaxx'"):
        optim.get("adamaxx", [p])


def test_closure_is_called():
    p = nn.Parameter(np.array([2.0]))
    opt = optim.SGD([p], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    loss = opt.step(closure)
    assert float(loss.item()) == 4.0
    np.testing.assert_allclose(p.numpy(), [1.0])


@pytest.mark.parametrize("name,kw", [("Adam", dict(lr=0.01, weight_decay=0.1)),
                                     ("SGD", dict(lr=0.05, momentum=0.9))])
def test_non_contiguous_parameter_is_updated_in_place(name, kw):
    base = np.asfortranarray(_init_arrays()[0])  # (6, 5), column-major: no BLAS fast path
    p = nn.Parameter(base)
    ref = nn.Parameter(np.ascontiguousarray(base))
    assert not p.numpy().flags.c_contiguous
    arr_id = id(p.numpy())
    opt, opt_ref = getattr(optim, name)([p], **kw), getattr(optim, name)([ref], **kw)
    for k in range(5):
        g = _grad_fn([ref.numpy()], k)[0]
        p.grad, ref.grad = gn.Tensor(np.asfortranarray(g)), gn.Tensor(g)
        opt.step()
        opt_ref.step()
    assert id(p.numpy()) == arr_id
    np.testing.assert_allclose(p.numpy(), ref.numpy(), rtol=1e-12)


# Large enough that the flat step is cut into chunks run on glassnet's threads and the big
# parameters are stepped through views of their own arrays; a run of small ones in between
# is gathered into the flat buffers.
BIG_SHAPES = [(300, 500), (7,), (40, 300), (3,), (5,), (9, 300)]


def _one_group_each(name, params, kw):
    """The flat engine's per-parameter step: every parameter in a group of its own, so each
    is one kernel call on views of its own arrays (when stepped with one thread)."""
    return getattr(optim, name)([{"params": [q]} for q in params], **kw)


def _step_on_one_thread(opt):
    from glassnet import backend
    before = backend.get_num_threads()
    backend.set_num_threads(1)
    try:
        opt.step()
    finally:
        backend.set_num_threads(before)


@pytest.mark.parametrize("name,kw", CASES)
@pytest.mark.parametrize("threads", [1, 2, 3])
def test_chunked_flat_step_equals_the_per_parameter_step(name, kw, threads):
    from glassnet import backend
    r = np.random.default_rng(1)
    init = [r.normal(size=s).astype(np.float32) for s in BIG_SHAPES]
    flat = [nn.Parameter(a.copy()) for a in init]
    single = [nn.Parameter(a.copy()) for a in init]
    opt_flat = getattr(optim, name)(flat, **kw)
    opt_single = _one_group_each(name, single, kw)
    before = backend.get_num_threads()
    backend.set_num_threads(threads)
    try:
        for k in range(4):
            grads = _grad_fn(init, k)
            for p, q, g in zip(flat, single, grads):
                p.grad, q.grad = gn.Tensor(g.astype(np.float32)), gn.Tensor(g.astype(np.float32))
            opt_flat.step()
            _step_on_one_thread(opt_single)
        assert backend.get_num_threads() == threads
        lay = next(iter(opt_flat._engine.layouts.values()))
        chunks = lay.plan(threads)
        assert len(chunks) == threads
        covered = [(a, b) for chunk in chunks for a, b, _ in chunk]
        assert covered[0][0] == 0 and covered[-1][1] == lay.size
        assert all(b0 == a1 for (_, b0), (a1, _) in zip(covered[:-1], covered[1:]))
        assert any(len(pieces) > 1 for chunk in chunks for _, _, pieces in chunk)
    finally:
        backend.set_num_threads(before)
    for p, q in zip(flat, single):
        np.testing.assert_array_equal(p.numpy(), q.numpy())
    for p, q in zip(flat, single):
        for key, val in opt_single.state[q].items():
            np.testing.assert_array_equal(opt_flat.state[p][key], val)


@pytest.mark.parametrize("threads", [1, 2, 3, 8])
@pytest.mark.parametrize("shapes", [
    [(256, 784), (256,), (128, 256), (128,), (10, 128), (10,)],              # the MLP
    [(32, 1, 3, 3), (32,), (64, 32, 3, 3), (64,), (128, 3136), (128,), (10, 128), (10,)],
    [(9000,)] * 5, [(100,)] * 40, BIG_SHAPES])
def test_flat_plan_covers_once_gathers_small_ones_and_balances_cost(shapes, threads):
    from glassnet.optim._flat import FlatLayout
    ps = [nn.Parameter(np.zeros(s, np.float32)) for s in shapes]
    lay = FlatLayout(ps, np.dtype(np.float32), ("m",), {"m": 0.0})
    chunks = lay.plan(threads)
    assert 1 <= len(chunks) <= threads
    seen = [np.zeros(int(np.prod(s)), int) for s in shapes]
    for chunk in chunks:
        for a, b, pieces in chunk:
            assert sum(hi - lo for _, lo, hi in pieces) == b - a
            for i, lo, hi in pieces:
                assert lay.start[i] + lo >= a and lay.start[i] + hi <= b
                seen[i][lo:hi] += 1
            if len(pieces) == 1 and b - a < lay.SEGMENT_MIN:    # no slivers of a big one
                assert lay.end[pieces[0][0]] - lay.start[pieces[0][0]] < lay.GATHER_BELOW
    assert all((s == 1).all() for s in seen)
    small = [i for i, s in enumerate(shapes) if np.prod(s) < lay.GATHER_BELOW]
    gathered = [p for ch in chunks for _, _, p in ch if len(p) > 1]
    if len(small) > 1:     # all small parameters: one rule call
        assert len(gathered) == 1 and sorted(i for i, _, _ in gathered[0]) == small
    if len(chunks) > 1:    # elements + a fixed cost per rule call, near equal per chunk
        costs = [sum(b - a + lay.SEGMENT_COST for a, b, _ in ch) for ch in chunks]
        big_seg = max(b - a for ch in chunks for a, b, _ in ch)
        assert max(costs) - min(costs) <= big_seg + lay.SEGMENT_COST


@pytest.mark.parametrize("name,kw", [("Adam", dict(lr=0.01, weight_decay=0.1)),
                                     ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True))])
def test_gathered_step_follows_the_layout_order(name, kw):
    """With a strided parameter the whole group takes the gathered path, whose flat order
    (large parameters first, then the small ones) differs from the parameters' order."""
    r = np.random.default_rng(2)
    init = [np.asfortranarray(r.normal(size=(300, 400))), r.normal(size=(7,)),
            r.normal(size=(100, 700)), r.normal(size=(3, 5))]
    flat = [nn.Parameter(a.astype(np.float32)) for a in init]
    single = [nn.Parameter(np.ascontiguousarray(a).astype(np.float32)) for a in init]
    assert not flat[0].numpy().flags.c_contiguous
    opt_flat = getattr(optim, name)(flat, **kw)
    opt_single = _one_group_each(name, single, kw)
    lay_order = None
    for k in range(3):
        for p, q, g in zip(flat, single, _grad_fn(init, k)):
            p.grad = gn.Tensor(np.asfortranarray(g.astype(np.float32)) if g.ndim == 2 and
                               g.shape == (300, 400) else g.astype(np.float32))
            q.grad = gn.Tensor(np.ascontiguousarray(g.astype(np.float32)))
        opt_flat.step()
        _step_on_one_thread(opt_single)
        lay_order = next(iter(opt_flat._engine.layouts.values())).order
    assert lay_order == [0, 2, 1, 3]
    for p, q in zip(flat, single):
        np.testing.assert_array_equal(p.numpy(), q.numpy())
