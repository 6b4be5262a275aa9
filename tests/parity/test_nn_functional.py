"""``import glassnet.nn.functional as F`` against ``torch.nn.functional`` (issue 14): each case
is one call a tutorial makes, compared on values, dtype, shape and input gradients."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassnet as gn
import glassnet.nn.functional as F
from glassnet.autograd import gradcheck
from glassnet.nn import _functions as X

from ._compare import TORCH_REASON, assert_same

torch = pytest.importorskip("torch", reason=TORCH_REASON)
TF = torch.nn.functional


def _arr(shape, seed=0, lo=-3.0, hi=3.0, dtype=np.float64):
    return np.random.default_rng(seed).uniform(lo, hi, size=shape).astype(dtype)


def _both(a, grad=True):
    g = gn.tensor(a.copy(), dtype=a.dtype, requires_grad=grad and a.dtype.kind == "f")
    t = torch.tensor(a.copy(), requires_grad=grad and a.dtype.kind == "f")
    return g, t


def _run(fn_g, fn_t, arrays, rtol=1e-6, atol=1e-8, grad=True):
    """Call both sides with the same inputs; compare outputs and, for float results,
    gradients of a fixed random projection."""
    gs, ts = zip(*[_both(a, grad) if isinstance(a, np.ndarray) else (a, a) for a in arrays])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yg, yt = fn_g(*gs), fn_t(*ts)
    assert_same(yg, yt, rtol, atol)
    if grad and yt.dtype.is_floating_point and yt.requires_grad:
        w = np.random.default_rng(1).standard_normal(tuple(yt.shape))
        (yg * gn.tensor(w, dtype=yg.dtype)).sum().backward()
        (yt * torch.tensor(w, dtype=yt.dtype)).sum().backward()
        for i, (g, t) in enumerate(zip(gs, ts)):
            if isinstance(t, torch.Tensor) and t.requires_grad:
                assert_same(g.grad, t.grad, rtol * 10, atol * 10, f"grad {i}")


X1 = _arr((4, 6))
X4 = _arr((2, 3, 5, 6))

ACTIVATIONS = [
    ("relu", lambda f, x: f.relu(x)),
    ("relu6", lambda f, x: f.relu6(x * 3)),
    ("leaky_relu", lambda f, x: f.leaky_relu(x, 0.2)),
    ("leaky_relu_kw", lambda f, x: f.leaky_relu(x, negative_slope=0.05)),
    ("elu", lambda f, x: f.elu(x, alpha=0.7)),
    ("celu", lambda f, x: f.celu(x, alpha=1.5)),
    ("selu", lambda f, x: f.selu(x)),
    ("gelu", lambda f, x: f.gelu(x)),
    ("gelu_tanh", lambda f, x: f.gelu(x, approximate="tanh")),
    ("silu", lambda f, x: f.silu(x)),
    ("mish", lambda f, x: f.mish(x)),
    ("hardswish", lambda f, x: f.hardswish(x * 2)),
    ("hardsigmoid", lambda f, x: f.hardsigmoid(x * 2)),
    ("hardtanh", lambda f, x: f.hardtanh(x)),
    ("hardtanh_range", lambda f, x: f.hardtanh(x, -2.0, 0.5)),
    ("threshold", lambda f, x: f.threshold(x, 0.5, -1.0)),
    ("softplus", lambda f, x: f.softplus(x, beta=2, threshold=4)),
    ("softsign", lambda f, x: f.softsign(x)),
    ("sigmoid", lambda f, x: f.sigmoid(x)),
    ("tanh", lambda f, x: f.tanh(x)),
    ("logsigmoid", lambda f, x: f.logsigmoid(x)),
    ("glu", lambda f, x: f.glu(x, dim=-1)),
    ("softmax_dim1", lambda f, x: f.softmax(x, dim=1)),
    ("softmax_dim0", lambda f, x: f.softmax(x, dim=0)),
    ("log_softmax", lambda f, x: f.log_softmax(x, dim=-1)),
    ("softmin", lambda f, x: f.softmin(x, dim=1)),
    ("softmax_implicit", lambda f, x: f.softmax(x)),
    ("log_softmax_implicit", lambda f, x: f.log_softmax(x)),
]


@pytest.mark.parametrize("name,fn", ACTIVATIONS, ids=[a[0] for a in ACTIVATIONS])
def test_activation(name, fn):
    _run(lambda x: fn(F, x), lambda x: fn(TF, x), [X1])


def test_softmax_implicit_dim_warns_and_picks_torchs_axis():
    x3 = _arr((2, 3, 4))
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
        yg = F.softmax(gn.tensor(x3, dtype=gn.float64))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yt = TF.softmax(torch.tensor(x3))
    assert_same(yg, yt)


def test_softmax_dtype_argument():
    _run(lambda x: F.softmax(x, dim=1, dtype=gn.float32),
         lambda x: TF.softmax(x, dim=1, dtype=torch.float32), [X1], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["relu", "leaky_relu", "elu", "hardtanh", "silu"])
def test_inplace_writes_into_the_input(name):
    a = X1.copy()
    g, t = gn.tensor(a.copy(), dtype=gn.float64), torch.tensor(a.copy())
    rg, rt = getattr(F, name)(g, inplace=True), getattr(TF, name)(t, inplace=True)
    assert rg is g and rt is t
    assert_same(g, t)


def test_inplace_relu_inside_a_graph_keeps_gradients():
    g, t = _both(X1)
    hg, ht = g * 2, t * 2
    F.relu(hg, inplace=True)
    TF.relu(ht, inplace=True)
    hg.sum().backward()
    ht.sum().backward()
    assert_same(g.grad, t.grad)


def test_inplace_on_a_leaf_that_requires_grad_is_refused():
    g, t = _both(X1)
    with pytest.raises(RuntimeError, match="leaf"):
        TF.relu(t, inplace=True)
    with pytest.raises(RuntimeError, match="leaf"):
        F.relu(g, inplace=True)


NEW_FUNCTIONS = [
    ("gelu", lambda x: X.GELU.apply(x)), ("gelu_tanh", lambda x: X.GELU.apply(
        x, approximate="tanh")), ("silu", X.SiLU.apply), ("mish", X.Mish.apply),
    ("hardswish", lambda x: X.Hardswish.apply(x * 2 + 0.1)),
    ("hardsigmoid", lambda x: X.Hardsigmoid.apply(x * 2 + 0.1)),
    ("hardtanh", lambda x: X.Hardtanh.apply(x * 2 + 0.1)),
    ("threshold", lambda x: X.Threshold.apply(x, threshold=0.3, value=2.0)),
    ("pad_reflect", lambda x: F.pad(x, (2, 1), mode="reflect")),
    ("pad_replicate", lambda x: F.pad(x, (2, 1), mode="replicate")),
    ("pad_constant", lambda x: F.pad(x, (1, 2, 0, 1), value=3.0)),
    ("interp_bilinear", lambda x: F.interpolate(x[None], scale_factor=1.5, mode="bilinear")),
    ("adaptive_max", lambda x: F.adaptive_max_pool2d(x[None], (3, 4))),
    ("adaptive_avg", lambda x: F.adaptive_avg_pool2d(x[None], (3, 4))),
    ("smooth_l1", lambda x: F.smooth_l1_loss(x, gn.zeros(*x.shape, dtype=gn.float64),
                                             reduction="none", beta=0.7)),
    ("kl_div", lambda x: F.kl_div(x, gn.ones(*x.shape, dtype=gn.float64) * 0.2,
                                  reduction="sum")),
]


@pytest.mark.parametrize("name,fn", NEW_FUNCTIONS, ids=[a[0] for a in NEW_FUNCTIONS])
def test_new_functions_gradcheck(name, fn):
    gradcheck(fn, [_arr((3, 5, 6), seed=3)])


def test_dropout_training_false_is_identity_and_p1_zeros():
    g = gn.tensor(X1, dtype=gn.float64)
    assert F.dropout(g, 0.5, training=False) is g
    assert_same(F.dropout(g, p=1.0), TF.dropout(torch.tensor(X1), p=1.0))
    gn.manual_seed(0)
    y = F.dropout(gn.ones(1000, dtype=gn.float64), p=0.25)
    vals = set(np.unique(y.numpy()).tolist())
    assert vals <= {0.0, 1 / 0.75}


def test_dropout_rejects_a_bad_probability():
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.dropout(gn.tensor(X1), p=1.5)
    with pytest.raises(ValueError, match="between 0 and 1"):
        TF.dropout(torch.tensor(X1), p=1.5)


def test_dropout2d_drops_whole_channels():
    gn.manual_seed(1)
    y = F.dropout2d(gn.ones(8, 16, 3, 3), p=0.5).numpy()
    per_channel = y.reshape(8, 16, -1)
    assert np.all((per_channel == per_channel[..., :1]))


W = _arr((5, 6), seed=2)
B = _arr((5,), seed=3)


@pytest.mark.parametrize("bias", [True, False])
def test_linear(bias):
    _run(lambda x, w, b: F.linear(x, w, b if bias else None),
         lambda x, w, b: TF.linear(x, w, b if bias else None), [X1, W, B])


def test_bilinear():
    _run(F.bilinear, TF.bilinear, [_arr((4, 3)), _arr((4, 2), 1), _arr((5, 3, 2), 2),
                                   _arr((5,), 3)])


CONV2D = [
    dict(), dict(stride=2), dict(padding=1), dict(padding="same"), dict(padding="valid"),
    dict(padding=(1, 2), stride=(2, 1)), dict(dilation=2, padding=2), dict(groups=3),
]


@pytest.mark.parametrize("kw", CONV2D, ids=[str(k) for k in CONV2D])
def test_conv2d(kw):
    groups = kw.get("groups", 1)
    w = _arr((6, 3 // groups, 3, 3), 4)
    _run(lambda x, w, b: F.conv2d(x, w, b, **kw), lambda x, w, b: TF.conv2d(x, w, b, **kw),
         [X4, w, _arr((6,), 5)])


CONV1D = [dict(), dict(stride=2), dict(padding=1), dict(padding="same"), dict(groups=3)]


@pytest.mark.parametrize("kw", CONV1D, ids=[str(k) for k in CONV1D])
def test_conv1d(kw):
    groups = kw.get("groups", 1)
    _run(lambda x, w: F.conv1d(x, w, **kw), lambda x, w: TF.conv1d(x, w, **kw),
         [_arr((2, 3, 9)), _arr((6, 3 // groups, 3), 4)])


POOLS = [
    ("max_pool2d", lambda f, x: f.max_pool2d(x, 2)),
    ("max_pool2d_stride", lambda f, x: f.max_pool2d(x, kernel_size=3, stride=1)),
    ("max_pool2d_pad", lambda f, x: f.max_pool2d(x, 3, 2, padding=1)),
    ("avg_pool2d", lambda f, x: f.avg_pool2d(x, 2)),
    ("avg_pool2d_pad", lambda f, x: f.avg_pool2d(x, 3, stride=2, padding=1)),
    ("avg_pool2d_exclude_pad", lambda f, x: f.avg_pool2d(x, 3, 2, 1, count_include_pad=False)),
    ("avg_pool2d_divisor", lambda f, x: f.avg_pool2d(x, 2, divisor_override=3)),
    ("adaptive_avg_1", lambda f, x: f.adaptive_avg_pool2d(x, 1)),
    ("adaptive_avg_uneven", lambda f, x: f.adaptive_avg_pool2d(x, (3, 4))),
    ("adaptive_avg_none", lambda f, x: f.adaptive_avg_pool2d(x, (None, 2))),
    ("adaptive_max", lambda f, x: f.adaptive_max_pool2d(x, (2, 4))),
    ("adaptive_max_1", lambda f, x: f.adaptive_max_pool2d(x, 1)),
    ("max_pool2d_unbatched", lambda f, x: f.max_pool2d(x[0], 2)),
    ("max_pool2d_ceil", lambda f, x: f.max_pool2d(x, 2, ceil_mode=True)),
    ("max_pool2d_ceil_stride_pad", lambda f, x: f.max_pool2d(x, 3, 2, 1, ceil_mode=True)),
    ("max_pool2d_ceil_exact", lambda f, x: f.max_pool2d(x, (1, 2), ceil_mode=True)),
]


@pytest.mark.parametrize("name,fn", POOLS, ids=[p[0] for p in POOLS])
def test_pool2d(name, fn):
    _run(lambda x: fn(F, x), lambda x: fn(TF, x), [X4])


POOLS1 = [
    ("max_pool1d", lambda f, x: f.max_pool1d(x, 2)),
    ("max_pool1d_ceil", lambda f, x: f.max_pool1d(x, 2, ceil_mode=True)),
    ("max_pool1d_ceil_s3", lambda f, x: f.max_pool1d(x, 4, 3, 1, ceil_mode=True)),
    ("avg_pool1d", lambda f, x: f.avg_pool1d(x, 3, stride=2)),
    ("adaptive_avg_pool1d", lambda f, x: f.adaptive_avg_pool1d(x, 4)),
    ("adaptive_max_pool1d", lambda f, x: f.adaptive_max_pool1d(x, 3)),
]


@pytest.mark.parametrize("name,fn", POOLS1, ids=[p[0] for p in POOLS1])
def test_pool1d(name, fn):
    _run(lambda x: fn(F, x), lambda x: fn(TF, x), [_arr((2, 3, 9))])


def test_unsupported_pool_options_are_errors():
    with pytest.raises(ValueError, match="ceil_mode"):
        F.avg_pool2d(gn.tensor(X4), 2, ceil_mode=True)
    with pytest.raises(ValueError, match="return_indices"):
        F.max_pool2d(gn.tensor(X4), 2, return_indices=True)


PADS = [
    ((1, 1), "constant", None), ((1, 2, 3, 0), "constant", 0.5), ((-1, 2), "constant", None),
    ((2, 2), "reflect", None), ((1, 2, 2, 1), "reflect", None), ((3, 1), "replicate", None),
    ((1, 1, 2, 2), "replicate", None), ((2, 1, 1, 0), "circular", None),
]


@pytest.mark.parametrize("p,mode,value", PADS, ids=[f"{m}{p}" for p, m, _ in PADS])
def test_pad(p, mode, value):
    kw = {} if value is None else {"value": value}
    x = X4 if len(p) == 4 or mode == "constant" else X4[0]
    _run(lambda x: F.pad(x, p, mode=mode, **kw), lambda x: TF.pad(x, p, mode=mode, **kw),
         [x])


def test_pad_mode_needs_torchs_number_of_dimensions():
    with pytest.raises(NotImplementedError, match="Padding size 2 is not supported for 4D"):
        TF.pad(torch.tensor(X4), (1, 1), mode="reflect")
    with pytest.raises(NotImplementedError, match="Padding size 2 is not supported for 4D"):
        F.pad(gn.tensor(X4), (1, 1), mode="reflect")


def test_pad_reflect_too_large_is_an_error():
    with pytest.raises(RuntimeError):
        TF.pad(torch.tensor(X4[0]), (6, 6), mode="reflect")
    with pytest.raises(ValueError, match="Padding size should be less"):
        F.pad(gn.tensor(X4[0]), (6, 6), mode="reflect")


INTERP = [
    dict(scale_factor=2), dict(size=(7, 9)), dict(size=4), dict(scale_factor=(1.5, 0.5)),
    dict(scale_factor=2, mode="bilinear"), dict(size=(7, 11), mode="bilinear"),
    dict(size=(7, 11), mode="bilinear", align_corners=True),
    dict(scale_factor=0.6, mode="bilinear", align_corners=False),
    dict(size=(3, 2), mode="nearest-exact"), dict(size=(2, 3), mode="area"),
]


@pytest.mark.parametrize("kw", INTERP, ids=[str(k) for k in INTERP])
def test_interpolate(kw):
    _run(lambda x: F.interpolate(x, **kw), lambda x: TF.interpolate(x, **kw), [X4])


def test_interpolate_linear_1d_and_align_corners_error():
    x = _arr((2, 3, 7))
    _run(lambda x: F.interpolate(x, size=12, mode="linear"),
         lambda x: TF.interpolate(x, size=12, mode="linear"), [x])
    with pytest.raises(ValueError, match="align_corners"):
        F.interpolate(gn.tensor(X4), scale_factor=2, align_corners=True)


def test_pixel_shuffle():
    _run(lambda x: F.pixel_shuffle(x, 2), lambda x: TF.pixel_shuffle(x, 2),
         [_arr((2, 8, 3, 4))])


@pytest.mark.parametrize("num_classes", [-1, 5])
def test_one_hot(num_classes):
    ids = np.array([[0, 3], [2, 1]])
    assert_same(F.one_hot(gn.tensor(ids), num_classes),
                TF.one_hot(torch.tensor(ids), num_classes))


def test_one_hot_of_floats_is_refused():
    with pytest.raises(RuntimeError):
        F.one_hot(gn.tensor([1.0, 2.0]))


@pytest.mark.parametrize("padding_idx", [None, 1])
def test_embedding(padding_idx):
    ids = np.array([[0, 1, 3], [1, 1, 2]])
    _run(lambda w: F.embedding(gn.tensor(ids), w, padding_idx=padding_idx),
         lambda w: TF.embedding(torch.tensor(ids), w, padding_idx=padding_idx),
         [_arr((4, 5))])


def test_embedding_max_norm_renormalises_the_weight():
    w = _arr((4, 5))
    g, t = gn.tensor(w.copy(), dtype=gn.float64), torch.tensor(w.copy())
    ids = np.array([0, 2])
    assert_same(F.embedding(gn.tensor(ids), g, max_norm=1.0),
                TF.embedding(torch.tensor(ids), t, max_norm=1.0), rtol=1e-6)
    assert_same(g, t, rtol=1e-6)


DIST = [
    ("normalize", lambda f, a, b: f.normalize(a)),
    ("normalize_p1_dim0", lambda f, a, b: f.normalize(a, p=1, dim=0)),
    ("cosine_similarity", lambda f, a, b: f.cosine_similarity(a, b)),
    ("cosine_similarity_dim0", lambda f, a, b: f.cosine_similarity(a, b, dim=0)),
    ("pairwise_distance", lambda f, a, b: f.pairwise_distance(a, b)),
    ("pairwise_distance_p1_keepdim", lambda f, a, b: f.pairwise_distance(a, b, p=1,
                                                                         keepdim=True)),
]


@pytest.mark.parametrize("name,fn", DIST, ids=[d[0] for d in DIST])
def test_distances(name, fn):
    _run(lambda a, b: fn(F, a, b), lambda a, b: fn(TF, a, b), [X1, _arr((4, 6), 7)])


def test_layer_norm():
    _run(lambda x, w, b: F.layer_norm(x, (6,), w, b), lambda x, w, b: TF.layer_norm(x, (6,), w, b),
         [X1, _arr((6,), 1), _arr((6,), 2)])


@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_with_running_stats(training):
    rm, rv = np.zeros(3), np.ones(3) * 2
    gm, gv = gn.tensor(rm.copy(), dtype=gn.float64), gn.tensor(rv.copy(), dtype=gn.float64)
    tm, tv = torch.tensor(rm.copy()), torch.tensor(rv.copy())
    _run(lambda x, w, b: F.batch_norm(x, gm, gv, w, b, training=training, momentum=0.3),
         lambda x, w, b: TF.batch_norm(x, tm, tv, w, b, training=training, momentum=0.3),
         [X4, _arr((3,), 1), _arr((3,), 2)])
    if training:
        assert_same(gm, tm)
        assert_same(gv, tv)


@pytest.mark.parametrize("groups", [1, 3])
def test_group_norm(groups):
    x = _arr((2, 6, 4, 3))
    _run(lambda x, w, b: F.group_norm(x, groups, w, b),
         lambda x, w, b: TF.group_norm(x, groups, w, b), [x, _arr((6,), 1), _arr((6,), 2)])


def test_instance_norm_updates_running_stats():
    gm, gv = gn.zeros(3, dtype=gn.float64), gn.ones(3, dtype=gn.float64)
    tm, tv = torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64)
    _run(lambda x: F.instance_norm(x, gm, gv), lambda x: TF.instance_norm(x, tm, tv), [X4])
    assert_same(gm, tm)
    assert_same(gv, tv)


LOGITS = _arr((6, 4))
TARGET = np.array([0, 3, 1, 1, 2, 0])
CE = [
    dict(), dict(reduction="sum"), dict(reduction="none"), dict(label_smoothing=0.1),
    dict(ignore_index=1), dict(weight="w"), dict(weight="w", reduction="none"),
    dict(weight="w", label_smoothing=0.2), dict(ignore_index=1, reduction="sum"),
]


@pytest.mark.parametrize("kw", CE, ids=[str(k) for k in CE])
def test_cross_entropy_class_indices(kw):
    w = np.array([1.0, 2.0, 0.5, 1.5])

    def call(f, x, lib):
        k = dict(kw)
        if k.get("weight") == "w":
            k["weight"] = lib.tensor(w)
        return f.cross_entropy(x, lib.tensor(TARGET), **k)
    _run(lambda x: call(F, x, gn), lambda x: call(TF, x, torch), [LOGITS])


def test_cross_entropy_probability_targets_and_spatial_input():
    p = np.random.default_rng(3).dirichlet(np.ones(4), size=6)
    _run(lambda x: F.cross_entropy(x, gn.tensor(p)), lambda x: TF.cross_entropy(
        x, torch.tensor(p)), [LOGITS])
    _run(lambda x: F.cross_entropy(x, gn.tensor(p), label_smoothing=0.3),
         lambda x: TF.cross_entropy(x, torch.tensor(p), label_smoothing=0.3), [LOGITS])
    x = _arr((2, 4, 3, 5))
    t = np.random.default_rng(4).integers(0, 4, size=(2, 3, 5))
    _run(lambda x: F.cross_entropy(x, gn.tensor(t)), lambda x: TF.cross_entropy(
        x, torch.tensor(t)), [x])
    _run(lambda x: F.cross_entropy(x, gn.tensor(t), reduction="none"),
         lambda x: TF.cross_entropy(x, torch.tensor(t), reduction="none"), [x])


def test_cross_entropy_unbatched():
    _run(lambda x: F.cross_entropy(x, gn.tensor(2)), lambda x: TF.cross_entropy(
        x, torch.tensor(2)), [_arr((4,))])


NLL = [dict(), dict(reduction="sum"), dict(reduction="none"), dict(ignore_index=0),
       dict(weight=[1.0, 2.0, 3.0, 4.0])]


@pytest.mark.parametrize("kw", NLL, ids=[str(k) for k in NLL])
def test_nll_loss(kw):
    def call(f, x, lib):
        k = dict(kw)
        if "weight" in k:
            k["weight"] = lib.tensor(np.array(k["weight"]))
        return f.nll_loss(f.log_softmax(x, dim=1), lib.tensor(TARGET), **k)
    _run(lambda x: call(F, x, gn), lambda x: call(TF, x, torch), [LOGITS])


def test_legacy_size_average_maps_to_sum():
    _run(lambda x: F.nll_loss(x, gn.tensor(TARGET), size_average=False),
         lambda x: TF.nll_loss(x, torch.tensor(TARGET), size_average=False), [LOGITS])


T1 = _arr((4, 6), seed=9)
REG = [
    ("mse", lambda f, x, t: f.mse_loss(x, t)),
    ("mse_sum", lambda f, x, t: f.mse_loss(x, t, reduction="sum")),
    ("mse_none", lambda f, x, t: f.mse_loss(x, t, reduction="none")),
    ("l1", lambda f, x, t: f.l1_loss(x, t)),
    ("l1_none", lambda f, x, t: f.l1_loss(x, t, reduction="none")),
    ("smooth_l1", lambda f, x, t: f.smooth_l1_loss(x, t)),
    ("smooth_l1_beta", lambda f, x, t: f.smooth_l1_loss(x, t, beta=2.5, reduction="sum")),
    ("huber", lambda f, x, t: f.huber_loss(x, t)),
    ("huber_delta", lambda f, x, t: f.huber_loss(x, t, delta=0.5, reduction="none")),
    ("kl_div_batchmean", lambda f, x, t: f.kl_div(f.log_softmax(x, dim=1),
                                                  f.softmax(t, dim=1), reduction="batchmean")),
    ("kl_div_mean", lambda f, x, t: f.kl_div(f.log_softmax(x, dim=1), f.softmax(t, dim=1))),
    ("kl_div_log_target", lambda f, x, t: f.kl_div(f.log_softmax(x, dim=1),
                                                   f.log_softmax(t, dim=1), reduction="sum",
                                                   log_target=True)),
    ("bce", lambda f, x, t: f.binary_cross_entropy(f.sigmoid(x), f.sigmoid(t))),
    ("bce_none", lambda f, x, t: f.binary_cross_entropy(f.sigmoid(x), f.sigmoid(t),
                                                        reduction="none")),
    ("bce_logits", lambda f, x, t: f.binary_cross_entropy_with_logits(x, f.sigmoid(t))),
    ("margin_ranking", lambda f, x, t: f.margin_ranking_loss(x[0], t[0], x[1].sign(), 0.3)
     if hasattr(x[1], "sign") else None),
]


@pytest.mark.parametrize("name,fn", REG[:-1], ids=[r[0] for r in REG[:-1]])
def test_regression_losses(name, fn):
    _run(lambda x, t: fn(F, x, t), lambda x, t: fn(TF, x, t), [X1, T1])


def test_mse_target_of_another_shape_broadcasts_with_a_warning():
    x, t = _arr((4, 1)), _arr((4,), 2)
    with pytest.warns(UserWarning, match="different to the input size"):
        F.mse_loss(gn.tensor(x), gn.tensor(t))
    _run(F.mse_loss, TF.mse_loss, [x, t])


def test_bce_weight_and_pos_weight():
    w = _arr((6,), 3, 0.1, 2)
    pw = _arr((6,), 4, 0.5, 3)
    tg = (T1 > 0).astype(np.float64)
    _run(lambda x: F.binary_cross_entropy(F.sigmoid(x), gn.tensor(tg), weight=gn.tensor(w)),
         lambda x: TF.binary_cross_entropy(TF.sigmoid(x), torch.tensor(tg),
                                           weight=torch.tensor(w)), [X1])
    _run(lambda x: F.binary_cross_entropy_with_logits(x, gn.tensor(tg),
                                                      pos_weight=gn.tensor(pw)),
         lambda x: TF.binary_cross_entropy_with_logits(x, torch.tensor(tg),
                                                       pos_weight=torch.tensor(pw)), [X1])


def test_bce_target_of_another_shape_is_an_error():
    with pytest.raises(ValueError):
        TF.binary_cross_entropy_with_logits(torch.zeros(4, 1), torch.zeros(4))
    with pytest.raises(ValueError, match="must be the same as input size"):
        F.binary_cross_entropy_with_logits(gn.zeros(4, 1), gn.zeros(4))


def test_margin_losses():
    y = np.sign(_arr((6,), 5))
    _run(lambda a, b: F.margin_ranking_loss(a, b, gn.tensor(y), margin=0.5),
         lambda a, b: TF.margin_ranking_loss(a, b, torch.tensor(y), margin=0.5),
         [_arr((6,), 1), _arr((6,), 2)])
    _run(lambda a: F.hinge_embedding_loss(a, gn.tensor(y), margin=2.0),
         lambda a: TF.hinge_embedding_loss(a, torch.tensor(y), margin=2.0), [_arr((6,), 1)])
    _run(lambda x: F.multi_margin_loss(x, gn.tensor(TARGET)),
         lambda x: TF.multi_margin_loss(x, torch.tensor(TARGET)), [LOGITS])
    _run(lambda x: F.multi_margin_loss(x, gn.tensor(TARGET), p=2, margin=0.5),
         lambda x: TF.multi_margin_loss(x, torch.tensor(TARGET), p=2, margin=0.5), [LOGITS])


def test_cosine_embedding_and_triplet_losses():
    y = np.array([1, -1, 1, -1])
    _run(lambda a, b: F.cosine_embedding_loss(a, b, gn.tensor(y), margin=0.1),
         lambda a, b: TF.cosine_embedding_loss(a, b, torch.tensor(y), margin=0.1),
         [X1, T1])
    _run(lambda a, p, n: F.triplet_margin_loss(a, p, n, margin=2.0),
         lambda a, p, n: TF.triplet_margin_loss(a, p, n, margin=2.0),
         [X1, T1, _arr((4, 6), 11)])
    _run(lambda a, p, n: F.triplet_margin_loss(a, p, n, swap=True, reduction="none"),
         lambda a, p, n: TF.triplet_margin_loss(a, p, n, swap=True, reduction="none"),
         [X1, T1, _arr((4, 6), 11)])


def test_bad_reduction_is_an_error():
    with pytest.raises(ValueError, match="reduction"):
        F.mse_loss(gn.tensor(X1), gn.tensor(T1), reduction="avg")


def test_module_is_importable_the_torch_way():
    import importlib
    mod = importlib.import_module("glassnet.nn.functional")
    assert mod is F and gn.nn.functional is F
    assert F is not gn.functional


@pytest.mark.parametrize("ignore_index", [0, 1, 2, -100, -1])
def test_glassnet_functional_cross_entropy_ignores_a_class_index(ignore_index):
    # glassnet.functional's fast path used to skip only negative ignore_index values
    torch = pytest.importorskip("torch")
    import glassnet.functional as GF
    z = np.random.RandomState(0).randn(6, 3).astype(np.float32)
    y = np.array([0, 1, 2, 1, 0, 2])
    zg = gn.tensor(z, requires_grad=True)
    zt = torch.tensor(z, requires_grad=True)
    lg = GF.cross_entropy(zg, y, ignore_index=ignore_index)
    lt = torch.nn.functional.cross_entropy(zt, torch.tensor(y), ignore_index=ignore_index)
    lg.backward()
    lt.backward()
    np.testing.assert_allclose(lg.item(), lt.item(), rtol=1e-6)
    np.testing.assert_allclose(zg.grad.numpy(), zt.grad.numpy(), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_matches_torch_at_a_decoder_size_on_two_threads(reduction):
    """A language-model decoder's logits (700 rows x 10,000 classes, float32): the softmax
    runs over many blocks of rows split over two threads; loss and gradient equal
    torch.nn.functional.cross_entropy's, with ignored rows too."""
    from glassnet.functional import losses as FL
    n, c = 700, 10_000
    assert -(-n // (FL._ROW_BLOCK_ELEMENTS // c)) > 1
    rng = np.random.default_rng(5)
    z = (rng.standard_normal((n, c)) * 3).astype(np.float32)
    t = rng.integers(0, c, n)
    t[::7] = -100
    prev = gn.get_num_threads()
    gn.set_num_threads(2)
    try:
        gz = gn.tensor(z, requires_grad=True)
        tz = torch.tensor(z, requires_grad=True)
        yg = F.cross_entropy(gz, gn.tensor(t), reduction=reduction)
        yt = TF.cross_entropy(tz, torch.tensor(t), reduction=reduction)
        np.testing.assert_allclose(yg.numpy(), yt.detach().numpy(), rtol=2e-5, atol=2e-5)
        w = rng.standard_normal(tuple(yt.shape)).astype(np.float32)
        (yg * gn.tensor(w)).sum().backward()
        (yt * torch.tensor(w)).sum().backward()
        np.testing.assert_allclose(gz.grad.numpy(), tz.grad.numpy(), rtol=1e-4, atol=1e-7)
    finally:
        gn.set_num_threads(prev)


def test_relu_matches_torch_on_a_conv_activation_on_two_threads():
    """ReLU on a (64, 32, 28, 28) float32 activation (1.6M values: the compiled passes in
    chunks on two threads when Numba is there): output and input gradient equal torch's,
    bit for bit (one comparison and one select per value)."""
    rng = np.random.default_rng(6)
    z = rng.standard_normal((64, 32, 28, 28)).astype(np.float32)
    w = rng.standard_normal(z.shape).astype(np.float32)
    assert z.size >= gn.backend.ELEMENTWISE_MIN_ELEMENTS
    prev = gn.get_num_threads()
    gn.set_num_threads(2)
    try:
        gz, tz = gn.tensor(z, requires_grad=True), torch.tensor(z, requires_grad=True)
        yg, yt = F.relu(gz), TF.relu(tz)
        np.testing.assert_array_equal(yg.numpy(), yt.detach().numpy())
        yg.backward(gn.tensor(w))
        yt.backward(torch.tensor(w))
        np.testing.assert_array_equal(gz.grad.numpy(), tz.grad.numpy())
    finally:
        gn.set_num_threads(prev)


@pytest.mark.parametrize("vocab", [1000, 33278])
def test_embedding_gradient_matches_torch_with_repeated_ids(vocab):
    """F.embedding's weight gradient for 700 ids (35 x 20, repeats, a padding row) into a
    (V, 200) float32 table, the compiled scatter or NumPy's, equals torch's."""
    rng = np.random.default_rng(7)
    W = rng.standard_normal((vocab, 200)).astype(np.float32)
    ids = rng.integers(0, vocab, (35, 20))
    ids[0, :6] = 3
    ids[1, :4] = 0
    g = rng.standard_normal((35, 20, 200)).astype(np.float32)
    gw = gn.tensor(W, requires_grad=True)
    tw = torch.tensor(W, requires_grad=True)
    F.embedding(gn.tensor(ids), gw, padding_idx=0).backward(gn.tensor(g))
    TF.embedding(torch.tensor(ids), tw, padding_idx=0).backward(torch.tensor(g))
    np.testing.assert_allclose(gw.grad.numpy(), tw.grad.numpy(), rtol=1e-5, atol=1e-5)
