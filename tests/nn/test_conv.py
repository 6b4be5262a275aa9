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
