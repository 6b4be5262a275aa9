"""nn.Conv2d / nn.Conv1d: output sizes, shape errors that name the layer, strict shapes, and
PyTorch parity of outputs and gradients."""
from __future__ import annotations

import numpy as np
import pytest

import glassnet as gn
from glassnet import nn

from ._layer_parity import layer_parity


R = np.random.default_rng(0)


def test_output_size_and_parameter_count_32x32x3():
    conv = nn.Conv2d(3, 10, 5, stride=1, padding=2)
    assert conv.output_shape((1, 3, 32, 32)) == (1, 10, 32, 32)
    assert conv.num_parameters() == 760
    assert conv(gn.randn(1, 3, 32, 32)).shape == (1, 10, 32, 32)


def test_strict_shapes_error_shows_the_arithmetic():
    layer = nn.Conv2d(1, 2, 3, stride=3, strict=True)
    with pytest.raises(ValueError, match=r"Conv2d\(.*\(7 - 3 \+ 0\) / 3 \+ 1 = 2\.33"):
        layer(gn.randn(1, 1, 7, 7))
    loose = nn.Conv2d(1, 2, 3, stride=3)
    assert loose(gn.randn(1, 1, 7, 7)).shape == (1, 2, 2, 2)   # floor, as PyTorch
    nn.set_strict_shapes(True)
    try:
        with pytest.raises(ValueError, match="2.33"):
            loose(gn.randn(1, 1, 7, 7))
        with pytest.raises(ValueError, match="MaxPool2d"):
            nn.MaxPool2d(2)(gn.randn(1, 1, 5, 5))
    finally:
        nn.set_strict_shapes(False)


def test_input_too_small_names_the_layer():
    with pytest.raises(ValueError, match=r"Conv2d\(1, 4, kernel_size=\(5, 5\).*too small"):
        nn.Conv2d(1, 4, 5)(gn.randn(1, 1, 3, 8))
    with pytest.raises(ValueError, match="Conv1d.*too small"):
        nn.Conv1d(1, 4, 5)(gn.randn(1, 1, 3))
    with pytest.raises(ValueError, match="expected input shape"):
        nn.Conv2d(3, 4, 3)(gn.randn(1, 1, 8, 8))


@pytest.mark.parametrize("kw", [dict(padding=0), dict(padding=1, stride=2), dict(padding="same"),
                                dict(padding="full", dilation=2), dict(padding=(1, 2), stride=(2, 1))])
def test_output_shape_matches_forward(kw):
    conv = nn.Conv2d(2, 3, (3, 2), **kw)
    x = gn.randn(2, 2, 9, 8)
    assert conv.output_shape(x.shape) == conv(x).shape


@pytest.mark.parametrize("kw", [dict(padding=0), dict(padding=1), dict(padding=(2, 1)),
                                dict(padding="valid"), dict(padding="same"), dict(stride=2),
                                dict(dilation=2, padding="same"), dict(stride=2, padding=1,
                                                                       dilation=2)])
def test_conv2d_matches_torch(torch, kw):
    x = R.standard_normal((3, 4, 11, 10)).astype(np.float32)
    layer = nn.Conv2d(4, 5, (3, 4) if "same" not in kw.values() else 3, **kw)
    tl = torch.nn.Conv2d(4, 5, layer.kernel_size, stride=layer.stride, dilation=layer.dilation,
                         padding=kw.get("padding", 0))
    layer_parity(torch, layer, tl, x)


@pytest.mark.parametrize("dilation", [1, 2])
def test_conv2d_full_padding_matches_torch(torch, dilation):
    # 'full' is torch's padding d*(k-1) on both sides
    x = R.standard_normal((2, 3, 6, 7)).astype(np.float32)
    layer = nn.Conv2d(3, 4, (3, 2), padding="full", dilation=dilation)
    assert layer.output_shape(x.shape) == (2, 4, 6 + 2 * dilation, 7 + dilation)
    tl = torch.nn.Conv2d(3, 4, (3, 2), padding=(2 * dilation, dilation), dilation=dilation)
    layer_parity(torch, layer, tl, x)


def test_conv2d_without_bias_matches_torch(torch):
    layer = nn.Conv2d(3, 6, 3, stride=2, padding=1, bias=False)
    assert layer.bias is None and layer.num_parameters() == 6 * 3 * 9
    tl = torch.nn.Conv2d(3, 6, 3, stride=2, padding=1, bias=False)
    layer_parity(torch, layer, tl, R.standard_normal((4, 3, 9, 9)).astype(np.float32))


@pytest.mark.parametrize("kw", [dict(), dict(padding=2), dict(padding="same"), dict(stride=2),
                                dict(dilation=2), dict(padding="valid"),
                                dict(padding="full"), dict(padding="full", dilation=2),
                                dict(padding="same", dilation=2), dict(stride=2, padding=1,
                                                                       dilation=2)])
def test_conv1d_matches_torch(torch, kw):
    layer = nn.Conv1d(4, 6, 5, **kw)
    tkw = dict(kw)
    if tkw.get("padding") == "full":      # torch has no 'full': pad d*(k-1) on both sides
        tkw["padding"] = tkw.get("dilation", 1) * 4
    layer_parity(torch, layer, torch.nn.Conv1d(4, 6, 5, **tkw),
            R.standard_normal((3, 4, 20)).astype(np.float32))


# ---------------------------------------------------------------- issue 17: strides that floor
@pytest.mark.parametrize("make", [lambda: nn.Conv2d(1, 2, 3, stride=3),
                                  lambda: nn.MaxPool2d(3, stride=3),
                                  lambda: nn.AvgPool2d(3, stride=3)])
def test_a_stride_that_does_not_fit_warns_once_with_the_arithmetic(make):
    import warnings
    from glassnet.errors import GlassnetWarning, ShapeWarning
    layer = make()
    x = np.zeros((1, 1, 7, 7), np.float32)
    with warnings.catch_warnings(record=True) as got:
        warnings.simplefilter("always")
        y = layer(x)
        layer(x)                                   # the same layer: no second warning
        layer(np.zeros((2, 1, 7, 7), np.float32))
    assert y.shape[2:] == (2, 2)                   # floored, as PyTorch
    shape = [w for w in got if issubclass(w.category, ShapeWarning)]
    assert len(shape) == 1, [str(w.message) for w in got]
    msg = str(shape[0].message)
    assert "(7 - 3 + 0) / 3 + 1 = 2.33, floored to 2" in msg and "strict=True" in msg
    assert issubclass(ShapeWarning, GlassnetWarning) and issubclass(ShapeWarning, UserWarning)
    assert shape[0].filename == __file__           # points at the caller, not at glassnet
    with warnings.catch_warnings(record=True) as again:
        warnings.simplefilter("always")
        make()(x)                                  # another layer warns for itself
    assert sum(issubclass(w.category, ShapeWarning) for w in again) == 1


def test_no_floor_warning_when_the_kernel_fits_and_strict_still_raises():
    import warnings
    from glassnet.errors import ShapeWarning
    with warnings.catch_warnings():
        warnings.simplefilter("error", ShapeWarning)
        nn.Conv2d(1, 2, 3, stride=2)(np.zeros((1, 1, 7, 7), np.float32))    # (7-3)/2+1 = 3
        nn.MaxPool2d(2)(np.zeros((1, 1, 8, 8), np.float32))
        nn.Conv2d(1, 2, 3, padding=1)(np.zeros((1, 1, 7, 7), np.float32))
        nn.Conv1d(1, 2, 3, stride=2)(np.zeros((1, 1, 9), np.float32))
    with pytest.warns(ShapeWarning, match=r"length: .*\(8 - 3 \+ 0\) / 2 \+ 1 = 3.50"):
        nn.Conv1d(1, 2, 3, stride=2)(np.zeros((1, 1, 8), np.float32))
    with pytest.warns(ShapeWarning, match=r"\(5 - 2 \+ 0\) / 2 \+ 1 = 2.50"):
        nn.MaxPool1d(2)(np.zeros((1, 1, 5), np.float32))
    with pytest.raises(ValueError, match=r"\(7 - 3 \+ 0\) / 3 \+ 1 = 2.33"):
        nn.Conv2d(1, 2, 3, stride=3, strict=True)(np.zeros((1, 1, 7, 7), np.float32))


# ---------------------------------------------------------------- issue 17: groups=
GROUPED = [  # (in, out, kernel, groups, stride, padding, dilation, input size)
    (4, 6, 3, 2, 1, 1, 1, (7, 6)),                # two groups
    (6, 6, 3, 6, 2, 1, 1, (9, 8)),                # depthwise
    (4, 8, 3, 4, 1, 2, 2, (8, 8)),                # depthwise, depth multiplier 2, dilated
    (6, 3, (2, 3), 3, (2, 1), 0, 1, (7, 9)),      # one output per group
    (8, 4, 1, 4, 1, 0, 1, (5, 5)),                # grouped 1x1 (a shuffle-net block)
]


@pytest.mark.parametrize("cin,cout,k,g,s,p,d,hw", GROUPED)
def test_grouped_conv2d_matches_torch(cin, cout, k, g, s, p, d, hw):
    torch = pytest.importorskip("torch")
    gn.manual_seed(1)
    layer = nn.Conv2d(cin, cout, k, stride=s, padding=p, dilation=d, groups=g)
    kk = (k, k) if isinstance(k, int) else k
    assert layer.weight.shape == (cout, cin // g) + kk            # PyTorch's layout
    x = np.random.default_rng(2).standard_normal((3, cin) + hw).astype(np.float32)
    layer_parity(torch, layer, torch.nn.Conv2d(cin, cout, k, stride=s, padding=p, dilation=d,
                                               groups=g), x)


@pytest.mark.parametrize("cin,cout,k,g,s,p", [(4, 6, 3, 2, 1, 1), (5, 10, 3, 5, 2, 0),
                                               (6, 6, 5, 3, 1, 2)])
def test_grouped_conv1d_matches_torch(cin, cout, k, g, s, p):
    torch = pytest.importorskip("torch")
    layer = nn.Conv1d(cin, cout, k, stride=s, padding=p, groups=g)
    assert layer.weight.shape == (cout, cin // g, k)
    x = np.random.default_rng(3).standard_normal((2, cin, 17)).astype(np.float32)
    layer_parity(torch, layer, torch.nn.Conv1d(cin, cout, k, stride=s, padding=p, groups=g), x)


def test_grouped_conv_parity_at_1e5_and_initialisation_like_torch():
    torch = pytest.importorskip("torch")
    from glassnet.functional import conv as C
    r = np.random.default_rng(4)
    x = r.standard_normal((4, 6, 10, 9)).astype(np.float32)
    w = r.standard_normal((12, 2, 3, 3)).astype(np.float32)
    b = r.standard_normal(12).astype(np.float32)
    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    yt = torch.nn.functional.conv2d(xt, wt, bt, stride=2, padding=1, groups=3)
    gy = r.standard_normal(yt.shape).astype(np.float32)
    yt.backward(torch.tensor(gy))
    xg, wg, bg = (gn.tensor(a, requires_grad=True) for a in (x, w, b))
    y = C.conv2d(xg, wg, bg, stride=2, padding=1, groups=3)
    y.backward(gn.tensor(gy))
    for ours, theirs in ((y, yt), (xg.grad, xt.grad), (wg.grad, wt.grad), (bg.grad, bt.grad)):
        np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-5, atol=1e-5)
    # nn.functional (PyTorch's F) takes the same path
    np.testing.assert_allclose(nn.functional.conv2d(x, w, b, 2, 1, 1, 3).numpy(),
                               yt.detach().numpy(), rtol=1e-5, atol=1e-5)
    # Kaiming bounds from fan_in = in/groups * k * k, as PyTorch's
    gn.manual_seed(0)
    big = nn.Conv2d(64, 64, 3, groups=64)
    bound = 1 / np.sqrt(9)
    assert np.abs(big.bias.numpy()).max() <= bound and np.abs(big.bias.numpy()).max() > 0.8 * bound
    assert "groups=64" in repr(big)


def test_gradcheck_grouped_conv_float64():
    from glassnet.autograd import gradcheck
    from glassnet.functional import conv as C
    r = np.random.default_rng(5)
    x = r.standard_normal((2, 4, 6, 5))
    gradcheck(lambda x, w, b: C.conv2d(x, w, b, stride=2, padding=1, groups=2),
              [x, r.standard_normal((6, 2, 3, 3)), r.standard_normal(6)])
    gradcheck(lambda x, w: C.conv2d(x, w, padding=1, dilation=2, groups=4),    # depthwise x2
              [x, r.standard_normal((8, 1, 3, 3))])
    gradcheck(lambda x, w, b: C.conv1d(x, w, b, stride=2, groups=2),
              [r.standard_normal((2, 4, 9)), r.standard_normal((2, 2, 3)), r.standard_normal(2)])


def test_groups_errors_name_the_channels():
    from glassnet.functional import conv as C
    with pytest.raises(ValueError, match=r"in_channels \(5\) must be divisible by groups \(2\)"):
        nn.Conv2d(5, 4, 3, groups=2)
    with pytest.raises(ValueError, match=r"out_channels \(3\) must be divisible by groups \(2\)"):
        nn.Conv1d(4, 3, 3, groups=2)
    with pytest.raises(ValueError, match="groups must be a positive integer"):
        nn.Conv2d(4, 4, 3, groups=0)
    with pytest.raises(ValueError, match="groups must be a positive integer"):
        nn.Conv2d(4, 4, 3, groups=2.0)
    with pytest.raises(ValueError, match=r"expects 2 \* 2 = 4 input channels, the input has 6"):
        C.conv2d(np.zeros((1, 6, 5, 5)), np.zeros((4, 2, 3, 3)), groups=2)
    with pytest.raises(ValueError, match=r"out_channels \(5\) must be divisible"):
        C.conv2d(np.zeros((1, 4, 5, 5)), np.zeros((5, 2, 3, 3)), groups=2)


def test_grouped_conv_is_one_batched_gemm_not_a_loop(monkeypatch):
    """The grouped forward and backward call matmul a fixed number of times, whatever the
    batch size and the number of groups (no loop over samples or groups)."""
    from glassnet.functional import conv as C
    calls = []
    real = np.matmul

    def counting(*a, **k):
        calls.append(a[0].shape)
        return real(*a, **k)
    monkeypatch.setattr(C.np, "matmul", counting)
    counts = []
    for n, g in ((2, 4), (16, 16)):
        calls.clear()
        x = gn.tensor(np.ones((n, 16, 6, 6), np.float32), requires_grad=True)
        w = gn.tensor(np.ones((16, 16 // g, 3, 3), np.float32), requires_grad=True)
        C.conv2d(x, w, padding=1, groups=g).sum().backward()
        counts.append(len(calls))
    assert counts[0] == counts[1] <= 3, counts
