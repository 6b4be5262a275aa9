"""nn pooling layers: block maxima by hand and PyTorch parity of outputs and gradients."""
from __future__ import annotations

import numpy as np
import pytest

from glassnet import nn

from ._layer_parity import layer_parity


R = np.random.default_rng(0)


def test_max_pool_gives_block_maxima():
    # the course's (CS231n) example: 2x2 max pool, stride 2
    x = np.array([[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]], np.float32)
    out = nn.MaxPool2d(2, stride=2)(x[None, None]).numpy()[0, 0]
    np.testing.assert_array_equal(out, [[6, 8], [3, 4]])
    x = R.permutation(16).reshape(1, 1, 4, 4).astype(np.float32)
    out = nn.MaxPool2d(2, stride=2)(x).numpy()[0, 0]
    want = x[0, 0].reshape(2, 2, 2, 2).max(axis=(1, 3))
    np.testing.assert_array_equal(out, want)


@pytest.mark.parametrize("ours,theirs", [
    (lambda: nn.MaxPool2d(2), lambda t: t.nn.MaxPool2d(2)),
    (lambda: nn.MaxPool2d(3, 2, 1), lambda t: t.nn.MaxPool2d(3, 2, 1)),
    (lambda: nn.AvgPool2d(2), lambda t: t.nn.AvgPool2d(2)),
    (lambda: nn.AvgPool2d(3, 2, 1), lambda t: t.nn.AvgPool2d(3, 2, 1)),
    (lambda: nn.LPPool2d(2, 2), lambda t: t.nn.LPPool2d(2, 2)),
    (lambda: nn.AdaptiveAvgPool2d(1), lambda t: t.nn.AdaptiveAvgPool2d(1)),
    # non-overlapping max pools (the separable path), with a cropped border
    (lambda: nn.MaxPool2d(3), lambda t: t.nn.MaxPool2d(3)),
    (lambda: nn.MaxPool2d((2, 3)), lambda t: t.nn.MaxPool2d((2, 3))),
    (lambda: nn.MaxPool2d((1, 2)), lambda t: t.nn.MaxPool2d((1, 2))),
    (lambda: nn.MaxPool2d((2, 1)), lambda t: t.nn.MaxPool2d((2, 1))),
])
def test_pool2d_matches_torch(torch, ours, theirs):
    x = np.abs(R.standard_normal((2, 3, 9, 8))).astype(np.float32) + 0.05
    layer_parity(torch, ours(), theirs(torch), x)


@pytest.mark.parametrize("ours,theirs", [
    (lambda: nn.MaxPool1d(2), lambda t: t.nn.MaxPool1d(2)),
    (lambda: nn.MaxPool1d(3), lambda t: t.nn.MaxPool1d(3)),
    (lambda: nn.MaxPool1d(3, 2, 1), lambda t: t.nn.MaxPool1d(3, 2, 1)),
    (lambda: nn.AvgPool1d(2), lambda t: t.nn.AvgPool1d(2)),
])
def test_pool1d_matches_torch(torch, ours, theirs):
    layer_parity(torch, ours(), theirs(torch), R.standard_normal((2, 3, 11)).astype(np.float32))


def test_max_avg_pool_layer_default_is_the_decks_sum_and_alpha_mixes():
    x = R.standard_normal((2, 3, 6, 6)).astype(np.float64)
    m = nn.MaxPool2d(2)(x).numpy()
    a = nn.AvgPool2d(2)(x).numpy()
    np.testing.assert_allclose(nn.MaxAvgPool2d(2)(x).numpy(), m + a)
    np.testing.assert_allclose(nn.MaxAvgPool2d(2, alpha=0.25)(x).numpy(), 0.25 * m + 0.75 * a)
    assert "alpha=None" in repr(nn.MaxAvgPool2d(2))
    with pytest.raises(ValueError, match="alpha"):
        nn.MaxAvgPool2d(2, alpha=-0.1)
