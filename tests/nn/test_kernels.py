"""nn.kernels: the fixed kernels (Sobel, lines, blur, sharpen, Gabor) and FixedConv2d."""
from __future__ import annotations

import numpy as np
import pytest

import glassnet as gn
from glassnet import functional as F
from glassnet import nn

# ------------------------------------------------------------- fixed kernels
def test_fixed_kernels_find_edges_and_lines():
    img = np.zeros((8, 8), np.float32)
    img[:, 4:] = 1.0                       # a vertical edge between columns 3 and 4
    gx = F.conv2d(img, nn.kernels.sobel_x()).numpy()
    gy = F.conv2d(img, nn.kernels.sobel_y()).numpy()
    assert gx.shape == (6, 6) and np.abs(gy).max() == 0
    np.testing.assert_array_equal(gx.max(axis=0), [0, 0, 4, 4, 0, 0])
    line = np.zeros((5, 5), np.float32)
    line[:, 2] = 1.0
    v = F.conv2d(line, nn.kernels.vertical_line()).numpy()
    h = F.conv2d(line, nn.kernels.horizontal_line()).numpy()
    assert v.max() == 6 and h.max() < v.max()
    flat = np.full((5, 5), 2.0, np.float32)
    np.testing.assert_allclose(F.conv2d(flat, nn.kernels.blur()).numpy(), 2.0, rtol=1e-6)
    np.testing.assert_allclose(F.conv2d(flat, nn.kernels.sharpen()).numpy(), 2.0, rtol=1e-6)
    g = nn.kernels.gabor(theta=0.0, sigma=2.0, lambd=4.0, psi=0.0, gamma=0.5, size=7)
    assert g.shape == (7, 7) and g[3, 3] == pytest.approx(1.0)
    np.testing.assert_allclose(nn.kernels.gabor(theta=np.pi / 2, size=7), g.T, atol=1e-6)


def test_fixed_conv_layer():
    layer = nn.FixedConv2d(["sobel_x", "sobel_y", "gabor"], padding=1, params={"size": 3})
    x = gn.randn(2, 1, 10, 10)
    y = layer(x)
    assert y.shape == (2, 3, 10, 10)
    assert layer.num_parameters() == 0 and "weight" in layer.state_dict()
    ref = F.conv2d(x.numpy()[0, 0], nn.kernels.sobel_x(), padding=1).numpy()
    np.testing.assert_allclose(y.numpy()[0, 0], ref, rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="unknown kernel"):
        nn.FixedConv2d("emboss")
