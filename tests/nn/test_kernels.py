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
        nn.FixedConv2d("embos")


# ---------------------------------------------------------------- issue 17: the decks' kernels
def test_the_decks_sobel_example_gives_2():
    # deck 001, "Kernel: 3x3 Example": the Sobel x kernel on this 3x3 patch
    patch = np.array([[3, 2, 1], [1, 2, 3], [1, 1, 1]], np.float32)
    assert F.conv2d(patch, nn.kernels.sobel_x()).numpy().item() == 2.0


def test_the_decks_line_detectors_and_the_zero_sum_default():
    # deck 001, "Kernels as Feature Detectors": (-1, 1, -1) in every row, and its transpose
    np.testing.assert_array_equal(nn.kernels.vertical_line(centre=1), [[-1, 1, -1]] * 3)
    np.testing.assert_array_equal(nn.kernels.horizontal_line(centre=1),
                                  [[-1, -1, -1], [1, 1, 1], [-1, -1, -1]])
    np.testing.assert_array_equal(nn.kernels.vertical_line(), [[-1, 2, -1]] * 3)  # default
    line = np.zeros((5, 5), np.float32)
    line[:, 2] = 1.0
    deck = F.conv2d(line, nn.kernels.vertical_line(1)).numpy()
    np.testing.assert_array_equal(deck[0], [-3, 3, -3])          # the line stands out
    flat = np.full((5, 5), 0.5, np.float32)
    assert F.conv2d(flat, nn.kernels.vertical_line(1)).numpy().max() == -1.5   # -3 b
    assert np.abs(F.conv2d(flat, nn.kernels.vertical_line()).numpy()).max() == 0  # zero sum
    assert nn.kernels.get_kernel("vertical_line", centre=1)[0, 1] == 1
    with pytest.raises(ValueError, match="centre must be a finite number"):
        nn.kernels.vertical_line(centre="one")


def test_emboss_and_corner_kernels():
    k = nn.kernels.emboss()
    np.testing.assert_array_equal(k, [[-2, -1, 0], [-1, 1, 1], [0, 1, 2]])
    assert k.sum() == 1
    flat = np.full((5, 5), 0.7, np.float32)
    np.testing.assert_allclose(F.conv2d(flat, k).numpy(), 0.7, rtol=1e-6)   # flat kept
    np.testing.assert_array_equal(nn.kernels.emboss("top_left"), k[::-1, ::-1])
    img = np.zeros((7, 7), np.float32)
    img[3, 3:] = 1.0                  # an L whose arms go right and down from (3, 3)
    img[3:, 3] = 1.0
    r = F.conv2d(img, nn.kernels.corner()).numpy()
    assert r.max() == 6 and np.unravel_index(r.argmax(), r.shape) == (2, 2)   # at (3, 3)
    assert nn.kernels.corner().sum() == 0
    for d in ("bottom_left", "top_left", "top_right"):
        rot = F.conv2d(img, nn.kernels.corner(d)).numpy().max()
        assert rot < 6, d              # the other corners answer less to this one
    line = np.zeros((7, 7), np.float32)
    line[:, 3] = 1.0
    assert F.conv2d(line, nn.kernels.corner()).numpy().max() == 3
    layer = nn.FixedConv2d(["emboss", "corner"], padding=1)
    assert layer(gn.randn(1, 1, 6, 6)).shape == (1, 2, 6, 6)
    with pytest.raises(ValueError, match="direction"):
        nn.kernels.corner("up")
