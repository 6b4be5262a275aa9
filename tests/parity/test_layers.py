"""Layers at PyTorch's names, arguments and parameter layouts (issue 14): the same state
dict moves between the two libraries, and the forward values and gradients agree."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassnet as gn
from glassnet import nn

from ._compare import TORCH_REASON, assert_same

torch = pytest.importorskip("torch", reason=TORCH_REASON)
tnn = torch.nn


def _arr(shape, seed=0):
    return np.random.default_rng(seed).uniform(-2, 2, size=shape)


def _check(build, x_shape, train=True, rtol=1e-6, atol=1e-8, n_inputs=1, int_input=None):
    """Build both, move torch's state dict into glassnet, compare state-dict keys/shapes,
    outputs, input and parameter gradients (float64)."""
    tm = build(tnn).double()
    gm = build(nn).double()
    tsd = tm.state_dict()
    gsd = gm.state_dict()
    assert list(gsd) == list(tsd)
    assert [tuple(v.shape) for v in gsd.values()] == [tuple(v.shape) for v in tsd.values()]
    gm.load_state_dict({k: v.numpy() for k, v in tsd.items()})
    tm.train(train)
    gm.train(train)
    if int_input is not None:
        ids = np.random.default_rng(0).integers(0, int_input, size=x_shape)
        gx, tx = [gn.tensor(ids)], [torch.tensor(ids)]
    else:
        xs = [_arr(x_shape, i) for i in range(n_inputs)]
        gx = [gn.tensor(a, dtype=gn.float64, requires_grad=True) for a in xs]
        tx = [torch.tensor(a, requires_grad=True) for a in xs]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gy, ty = gm(*gx), tm(*tx)
    assert_same(gy, ty, rtol, atol)
    w = np.random.default_rng(9).standard_normal(tuple(ty.shape))
    (gy * gn.tensor(w, dtype=gn.float64)).sum().backward()
    (ty * torch.tensor(w)).sum().backward()
    for a, b in zip(gx, tx):
        if b.requires_grad:
            assert_same(a.grad, b.grad, rtol * 10, atol * 10, "input grad")
    for (n, p), (n2, q) in zip(gm.named_parameters(), tm.named_parameters()):
        assert n == n2
        if q.grad is None:
            assert p.grad is None
        else:
            assert_same(p.grad, q.grad, rtol * 10, atol * 10, f"grad of {n}")
    back = build(tnn).double()
    back.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in gm.state_dict().items()})
    for k, v in back.state_dict().items():
        np.testing.assert_allclose(v.numpy(), gm.state_dict()[k].numpy(), rtol=1e-12)


LAYERS = [
    ("GELU", lambda m: m.GELU(), (4, 5)),
    ("GELU_tanh", lambda m: m.GELU(approximate="tanh"), (4, 5)),
    ("SiLU", lambda m: m.SiLU(), (4, 5)),
    ("Mish", lambda m: m.Mish(), (4, 5)),
    ("Hardswish", lambda m: m.Hardswish(), (4, 5)),
    ("Hardsigmoid", lambda m: m.Hardsigmoid(), (4, 5)),
    ("Hardtanh", lambda m: m.Hardtanh(-0.5, 1.5), (4, 5)),
    ("ReLU6", lambda m: m.ReLU6(), (4, 5)),
    ("Softmin", lambda m: m.Softmin(dim=1), (4, 5)),
    ("Threshold", lambda m: m.Threshold(0.2, -3.0), (4, 5)),
    ("CELU", lambda m: m.CELU(0.5), (4, 5)),
    ("LogSigmoid", lambda m: m.LogSigmoid(), (4, 5)),
    ("GLU", lambda m: m.GLU(), (4, 6)),
    ("Softmax", lambda m: m.Softmax(dim=-1), (4, 5)),
    ("LogSoftmax", lambda m: m.LogSoftmax(dim=1), (4, 5)),
    ("PReLU", lambda m: m.PReLU(3), (4, 3, 2)),
    ("Linear", lambda m: m.Linear(5, 3), (4, 5)),
    ("Linear_nobias", lambda m: m.Linear(5, 3, bias=False), (2, 4, 5)),
    ("Bilinear", None, None),
    ("Conv2d", lambda m: m.Conv2d(2, 3, 3, padding=1), (2, 2, 5, 5)),
    ("Conv1d", lambda m: m.Conv1d(2, 3, 3, stride=2), (2, 2, 9)),
    ("GroupNorm", lambda m: m.GroupNorm(2, 4), (3, 4, 5)),
    ("GroupNorm_noaffine", lambda m: m.GroupNorm(4, 4, affine=False), (3, 4, 2, 2)),
    ("LayerNorm", lambda m: m.LayerNorm(5), (3, 4, 5)),
    ("LayerNorm_2d", lambda m: m.LayerNorm((4, 5)), (3, 4, 5)),
    ("LayerNorm_nobias", lambda m: m.LayerNorm(5, bias=False), (3, 5)),
    ("LayerNorm_noaffine", lambda m: m.LayerNorm(5, elementwise_affine=False), (3, 5)),
    ("BatchNorm1d", lambda m: m.BatchNorm1d(4), (6, 4)),
    ("BatchNorm2d", lambda m: m.BatchNorm2d(3), (4, 3, 2, 2)),
    ("InstanceNorm1d", lambda m: m.InstanceNorm1d(3), (2, 3, 6)),
    ("InstanceNorm2d_affine", lambda m: m.InstanceNorm2d(3, affine=True), (2, 3, 4, 4)),
    ("InstanceNorm2d_tracked", lambda m: m.InstanceNorm2d(3, affine=True,
                                                          track_running_stats=True),
     (2, 3, 4, 4)),
    ("AdaptiveAvgPool2d", lambda m: m.AdaptiveAvgPool2d((3, 2)), (2, 3, 7, 5)),
    ("AdaptiveAvgPool1d", lambda m: m.AdaptiveAvgPool1d(4), (2, 3, 9)),
    ("AdaptiveMaxPool2d", lambda m: m.AdaptiveMaxPool2d(2), (2, 3, 5, 5)),
    ("AdaptiveMaxPool1d", lambda m: m.AdaptiveMaxPool1d(3), (2, 3, 7)),
    ("MaxPool2d", lambda m: m.MaxPool2d(2), (2, 3, 4, 4)),
    ("AvgPool2d", lambda m: m.AvgPool2d(2), (2, 3, 4, 4)),
    ("MaxPool2d_ceil", lambda m: m.MaxPool2d(3, 2, ceil_mode=True), (2, 3, 6, 6)),
    ("AvgPool2d_exclude_pad", lambda m: m.AvgPool2d(3, 2, 1, count_include_pad=False),
     (2, 3, 5, 5)),
    ("Flatten", lambda m: m.Flatten(), (2, 3, 4)),
    ("Flatten_range", lambda m: m.Flatten(0, 1), (2, 3, 4)),
    ("Unflatten", lambda m: m.Unflatten(1, (2, 3)), (4, 6)),
    ("Identity", lambda m: m.Identity(54, unused_argument=0.1), (3, 2)),
    ("Dropout_eval", lambda m: m.Dropout(0.5), (3, 4)),
    ("Upsample_nearest", lambda m: m.Upsample(scale_factor=2), (1, 2, 3, 3)),
    ("Upsample_bilinear", lambda m: m.Upsample(size=(5, 7), mode="bilinear",
                                               align_corners=False), (1, 2, 3, 3)),
    ("PixelShuffle", lambda m: m.PixelShuffle(2), (1, 8, 2, 3)),
    ("ZeroPad2d", lambda m: m.ZeroPad2d((1, 0, 2, 1)), (1, 2, 3, 3)),
    ("ConstantPad1d", lambda m: m.ConstantPad1d(2, 3.5), (1, 2, 4)),
    ("ReflectionPad2d", lambda m: m.ReflectionPad2d(1), (1, 2, 3, 3)),
    ("ReplicationPad1d", lambda m: m.ReplicationPad1d((2, 1)), (1, 2, 4)),
    ("Sequential", lambda m: m.Sequential(m.Linear(5, 4), m.GELU(), m.LayerNorm(4),
                                          m.Linear(4, 2)), (3, 5)),
]


@pytest.mark.parametrize("name,build,shape", [l for l in LAYERS if l[1] is not None],
                         ids=[l[0] for l in LAYERS if l[1] is not None])
def test_layer_matches_torch(name, build, shape):
    train = not name.endswith("_eval")
    _check(build, shape, train=train)


def test_layer_in_eval_mode_uses_running_statistics():
    _check(lambda m: m.BatchNorm2d(3), (4, 3, 2, 2), train=False)
    _check(lambda m: m.InstanceNorm1d(3, track_running_stats=True), (2, 3, 5), train=False)


def test_bilinear_layer():
    _check(lambda m: m.Bilinear(3, 3, 4), (5, 3), n_inputs=2)


def test_embedding_layer():
    _check(lambda m: m.Embedding(6, 3, padding_idx=0), (2, 4), int_input=6)


def test_embedding_from_pretrained_with_max_norm():
    w = _arr((5, 3))
    g = nn.Embedding.from_pretrained(gn.tensor(w, dtype=gn.float64), max_norm=1.0)
    t = tnn.Embedding.from_pretrained(torch.tensor(w), max_norm=1.0)
    ids = np.array([0, 2, 2, 4])
    assert_same(g(gn.tensor(ids)), t(torch.tensor(ids)))
    assert_same(g.weight.detach(), t.weight.detach())
    assert repr(g) == repr(t) and g.weight.requires_grad == t.weight.requires_grad


LOSSES = [
    ("CrossEntropyLoss", lambda m: m.CrossEntropyLoss(), "class"),
    ("CrossEntropyLoss_smooth", lambda m: m.CrossEntropyLoss(label_smoothing=0.1), "class"),
    ("CrossEntropyLoss_ignore", lambda m: m.CrossEntropyLoss(ignore_index=2), "class"),
    ("CrossEntropyLoss_sum", lambda m: m.CrossEntropyLoss(reduction="sum"), "class"),
    ("NLLLoss", lambda m: m.NLLLoss(), "logp"),
    ("MSELoss", lambda m: m.MSELoss(), "real"),
    ("L1Loss_sum", lambda m: m.L1Loss(reduction="sum"), "real"),
    ("SmoothL1Loss", lambda m: m.SmoothL1Loss(beta=0.5), "real"),
    ("HuberLoss", lambda m: m.HuberLoss(delta=0.7), "real"),
    ("BCELoss", lambda m: m.BCELoss(), "prob"),
    ("BCEWithLogitsLoss", lambda m: m.BCEWithLogitsLoss(), "binary"),
    ("KLDivLoss", lambda m: m.KLDivLoss(reduction="batchmean"), "dist"),
    ("MultiMarginLoss", lambda m: m.MultiMarginLoss(), "class"),
]


def _loss_inputs(kind):
    r = np.random.default_rng(4)
    x = r.standard_normal((6, 4))
    if kind in ("class", "logp"):
        return x, r.integers(0, 4, size=6)
    if kind == "real":
        return x, r.standard_normal((6, 4))
    if kind == "prob":
        return 1 / (1 + np.exp(-x)), r.uniform(size=(6, 4))
    if kind == "binary":
        return x, (r.uniform(size=(6, 4)) > 0.5).astype(np.float64)
    p = r.dirichlet(np.ones(4), size=6)
    return x, p


@pytest.mark.parametrize("name,build,kind", LOSSES, ids=[l[0] for l in LOSSES])
def test_loss_module_matches_torch(name, build, kind):
    x, t = _loss_inputs(kind)
    gx = gn.tensor(x, dtype=gn.float64, requires_grad=True)
    tx = torch.tensor(x, requires_grad=True)
    if kind == "logp":
        gin, tin = nn.functional.log_softmax(gx, dim=1), torch.log_softmax(tx, dim=1)
    elif kind == "dist":
        gin, tin = nn.functional.log_softmax(gx, dim=1), torch.log_softmax(tx, dim=1)
    else:
        gin, tin = gx, tx
    gt = gn.tensor(t) if t.dtype.kind == "i" else gn.tensor(t, dtype=gn.float64)
    gl, tl = build(nn)(gin, gt), build(tnn)(tin, torch.tensor(t))
    assert_same(gl, tl, 1e-6, 1e-9)
    gl.backward()
    tl.backward()
    assert_same(gx.grad, tx.grad, 1e-6, 1e-9)


def test_loss_weights_are_buffers_in_the_state_dict():
    w = np.array([1.0, 2.0, 0.5])
    for mod, lib in ((nn, gn), (tnn, torch)):
        assert list(mod.CrossEntropyLoss(weight=lib.tensor(w)).state_dict()) == ["weight"]
        assert list(mod.BCEWithLogitsLoss(pos_weight=lib.tensor(w)).state_dict()) == [
            "pos_weight"]
        assert list(mod.MSELoss().state_dict()) == []


def test_weighted_cross_entropy_module():
    x, t = _loss_inputs("class")
    w = np.array([1.0, 2.0, 0.5, 3.0])
    gl = nn.CrossEntropyLoss(weight=gn.tensor(w, dtype=gn.float64))(
        gn.tensor(x, dtype=gn.float64), gn.tensor(t))
    tl = tnn.CrossEntropyLoss(weight=torch.tensor(w))(torch.tensor(x), torch.tensor(t))
    assert_same(gl, tl)


# --------------------------------------------------------------- containers
def test_module_list_api():
    for mod in (nn, tnn):
        ml = mod.ModuleList([mod.ReLU(), mod.Tanh()])
        ml.append(mod.Sigmoid())
        ml.extend([mod.GELU()])
        ml.insert(1, mod.SiLU())
        assert [type(m).__name__ for m in ml] == ["ReLU", "SiLU", "Tanh", "Sigmoid", "GELU"]
        assert len(ml) == 5 and type(ml[-1]).__name__ == "GELU"
        assert type(ml[1:3]).__name__ == "ModuleList" and len(ml[1:3]) == 2
        del ml[0]
        assert [n for n, _ in ml.named_children()] == ["0", "1", "2", "3"]
        ml[0] = mod.ReLU6()
        assert type(ml[0]).__name__ == "ReLU6"
        ml += [mod.Identity()]
        assert len(ml) == 5


def test_module_dict_api():
    for mod in (nn, tnn):
        md = mod.ModuleDict({"a": mod.ReLU()})
        md["b"] = mod.Tanh()
        md.update([("c", mod.Sigmoid())])
        assert list(md) == ["a", "b", "c"] and list(md.keys()) == ["a", "b", "c"]
        assert "b" in md and len(md) == 3
        assert type(md.pop("b")).__name__ == "Tanh"
        assert [k for k, _ in md.items()] == ["a", "c"]


def test_sequential_api():
    res = []
    for mod in (nn, tnn):
        s = mod.Sequential(mod.Linear(2, 3), mod.ReLU(), mod.Linear(3, 1))
        res.append((len(s), type(s[-1]).__name__, [n for n, _ in s[1:].named_children()],
                    type(s[0:2]).__name__))
        s.append(mod.Sigmoid())
        del s[1]
        res.append([n for n, _ in s.named_children()])
        s.insert(1, mod.Tanh())
        res.append([type(m).__name__ for m in s])
    assert res[:3] == res[3:]


def test_sequential_from_an_ordered_dict():
    from collections import OrderedDict
    g = nn.Sequential(OrderedDict([("fc", nn.Linear(2, 3)), ("act", nn.ReLU())]))
    t = tnn.Sequential(OrderedDict([("fc", tnn.Linear(2, 3)), ("act", tnn.ReLU())]))
    assert list(g.state_dict()) == list(t.state_dict())
    assert repr(g) == repr(t)


def test_parameter_list_and_dict():
    for mod, lib in ((nn, gn), (tnn, torch)):
        pl = mod.ParameterList([mod.Parameter(lib.zeros(2)) for _ in range(3)])
        pl.append(mod.Parameter(lib.ones(1)))
        assert len(pl) == 4 and [n for n, _ in pl.named_parameters()] == ["0", "1", "2", "3"]
        assert list(pl.state_dict()) == ["0", "1", "2", "3"]
        pd = mod.ParameterDict({"a": mod.Parameter(lib.zeros(2))})
        pd["b"] = mod.Parameter(lib.ones(3))
        assert list(pd.keys()) == ["a", "b"] and tuple(pd["b"].shape) == (3,)
        assert sorted(n for n, _ in pd.named_parameters()) == ["a", "b"]

        class M(mod.Module):
            def __init__(self):
                super().__init__()
                self.ps = mod.ParameterList([mod.Parameter(lib.zeros(2))])
        assert list(M().state_dict()) == ["ps.0"]


def test_dropout_inplace_and_p_validation():
    gn.manual_seed(0)
    x = gn.ones(4, 4)
    y = nn.Dropout(0.5, inplace=True)(x)
    assert y is x
    with pytest.raises(ValueError):
        nn.Dropout(1.5)
    with pytest.raises(ValueError):
        tnn.Dropout(1.5)


def test_dropout_in_eval_is_identity_both():
    for mod, lib in ((nn, gn), (tnn, torch)):
        d = mod.Dropout(0.9).eval()
        x = lib.ones(3, 3)
        assert float(d(x).sum()) == 9.0


def test_softmax_without_dim_picks_torchs_axis_with_a_warning():
    x = _arr((2, 3, 4))
    with pytest.warns(UserWarning, match="Implicit dimension"):
        g = nn.Softmax()(gn.tensor(x, dtype=gn.float64))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = tnn.Softmax()(torch.tensor(x))
    assert_same(g, t)


def test_a_whole_tutorial_cnn_trains_identically_for_a_step():
    """The course's Fashion-MNIST CNN: torch's weights loaded, one SGD step each side."""
    def build(m):
        return m.Sequential(m.Conv2d(1, 4, 3, padding=1), m.ReLU(), m.MaxPool2d(2),
                            m.Conv2d(4, 8, 3), m.GELU(), m.AdaptiveAvgPool2d(1), m.Flatten(),
                            m.Dropout(0.0), m.Linear(8, 10))
    tm, gm = build(tnn).double(), build(nn).double()
    gm.load_state_dict(tm.state_dict())
    x = _arr((4, 1, 8, 8))
    y = np.array([1, 0, 3, 9])
    tl = tnn.functional.cross_entropy(tm(torch.tensor(x)), torch.tensor(y))
    gl = nn.functional.cross_entropy(gm(gn.tensor(x, dtype=gn.float64)), gn.tensor(y))
    assert_same(gl, tl)
    tl.backward()
    gl.backward()
    for (n, p), (_, q) in zip(gm.named_parameters(), tm.named_parameters()):
        assert_same(p.grad, q.grad, 1e-6, 1e-9, n)
    total_g = nn.utils.clip_grad_norm_(gm.parameters(), 0.5)
    total_t = tnn.utils.clip_grad_norm_(tm.parameters(), 0.5)
    assert_same(total_g, total_t)
    for p, q in zip(gm.parameters(), tm.parameters()):
        assert_same(p.grad, q.grad, 1e-6, 1e-9)


# ----------------------------------------------------------------- nn.utils / init
def test_parameters_to_vector_and_back():
    g, t = nn.Linear(3, 2).double(), tnn.Linear(3, 2).double()
    g.load_state_dict(t.state_dict())
    vg = nn.utils.parameters_to_vector(g.parameters())
    vt = tnn.utils.parameters_to_vector(t.parameters())
    assert_same(vg, vt)
    new = np.arange(8, dtype=np.float64)
    nn.utils.vector_to_parameters(gn.tensor(new, dtype=gn.float64), g.parameters())
    tnn.utils.vector_to_parameters(torch.tensor(new), t.parameters())
    for p, q in zip(g.parameters(), t.parameters()):
        assert_same(p.detach(), q.detach())


@pytest.mark.parametrize("norm_type", [2.0, 1.0, float("inf")])
def test_clip_grad_norm_returns_the_total_norm_tensor(norm_type):
    r = np.random.default_rng(2)
    grads = [r.standard_normal((3, 2)).astype(np.float32), r.standard_normal(4).astype(np.float32)]
    gps = [nn.Parameter(gn.zeros(*a.shape)) for a in grads]
    tps = [tnn.Parameter(torch.zeros(*a.shape)) for a in grads]
    for p, q, a in zip(gps, tps, grads):
        p.grad = gn.tensor(a.copy())
        q.grad = torch.tensor(a.copy())
    assert_same(nn.utils.clip_grad_norm_(gps, 1.0, norm_type=norm_type),
                tnn.utils.clip_grad_norm_(tps, 1.0, norm_type=norm_type))
    for p, q in zip(gps, tps):
        assert_same(p.grad, q.grad)
    nn.utils.clip_grad_value_(gps, 0.1)
    tnn.utils.clip_grad_value_(tps, 0.1)
    for p, q in zip(gps, tps):
        assert_same(p.grad, q.grad)


def test_clip_grad_norm_nonfinite_error():
    p = nn.Parameter(gn.zeros(2))
    p.grad = gn.tensor([np.inf, 1.0])
    with pytest.raises(RuntimeError, match="non-finite"):
        nn.utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)


@pytest.mark.parametrize("name,args", [
    ("linear", ()), ("relu", ()), ("tanh", ()), ("sigmoid", ()), ("selu", ()),
    ("leaky_relu", (0.2,)), ("leaky_relu", ()), ("conv2d", ()),
])
def test_calculate_gain(name, args):
    assert nn.init.calculate_gain(name, *args) == pytest.approx(
        tnn.init.calculate_gain(name, *args))


@pytest.mark.parametrize("fn,kw", [
    ("xavier_uniform_", {}), ("xavier_uniform_", {"gain": 2.0}), ("xavier_normal_", {}),
    ("kaiming_uniform_", {}), ("kaiming_uniform_", {"a": 5 ** 0.5}),
    ("kaiming_normal_", {"mode": "fan_out", "nonlinearity": "relu"}),
    ("uniform_", {"a": -0.1, "b": 0.1}), ("normal_", {"std": 0.02}),
    ("trunc_normal_", {"std": 0.02}), ("orthogonal_", {}),
])
def test_init_statistics_match_torch(fn, kw):
    """Random fills: the same distribution (bounds and spread) as torch's."""
    shape = (200, 300)
    g = gn.zeros(*shape)
    t = torch.zeros(*shape)
    gn.manual_seed(0)
    torch.manual_seed(0)
    getattr(nn.init, fn)(g, **kw)
    with torch.no_grad():
        getattr(tnn.init, fn)(t, **kw)
    gv, tv = g.numpy(), t.numpy()
    assert abs(gv.std() - tv.std()) < 0.05 * tv.std()
    if "uniform" in fn:     # bounded: the same bound
        assert abs(np.abs(gv).max() - np.abs(tv).max()) < 0.02 * np.abs(tv).max()
    if fn == "orthogonal_":
        np.testing.assert_allclose(gv @ gv.T, np.eye(200), atol=1e-4)


@pytest.mark.parametrize("fn", ["zeros_", "ones_", "eye_", "dirac_", "constant_"])
def test_init_deterministic_fills_match_torch(fn):
    shape = (4, 4, 3, 3) if fn == "dirac_" else (3, 4)
    g, t = gn.zeros(*shape), torch.zeros(*shape)
    args = (0.3,) if fn == "constant_" else ()
    getattr(nn.init, fn)(g, *args)
    with torch.no_grad():
        getattr(tnn.init, fn)(t, *args)
    assert_same(g, t)
