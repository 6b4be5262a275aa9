"""functional.conv: conv2d / conv1d on a known example and float64 gradient checks (every
padding mode, stride, dilation, with and without bias)."""
from __future__ import annotations

import numpy as np
import pytest

from glassnet import functional as F
from glassnet.autograd import gradcheck


R = np.random.default_rng(0)


def rnd(*shape):
    return R.standard_normal(shape)


# ------------------------------------------------------------- known values
def test_course_convolution_example():
    img = np.array([[0, 10, 10, 0], [20, 30, 30, 20], [10, 20, 20, 10], [0, 5, 5, 0]], float)
    out = F.conv2d(img, np.array([[1.0, 0], [0, 2]])).numpy()
    np.testing.assert_array_equal(out, [[60, 70, 50], [60, 70, 50], [20, 30, 20]])


# --------------------------------------------------------- gradient checks
CONV2D_CASES = [dict(), dict(stride=2), dict(dilation=2), dict(padding="same"),
                dict(padding="full"), dict(padding=(1, 2), stride=(2, 1)),
                dict(padding="same", dilation=2)]


@pytest.mark.parametrize("kw", CONV2D_CASES)
def test_gradcheck_conv2d(kw):
    x, w, b = rnd(2, 2, 6, 5), rnd(3, 2, 3, 2), rnd(3)
    gradcheck(lambda x, w, b: F.conv2d(x, w, b, **kw), [x, w, b])


def test_gradcheck_conv2d_no_bias_and_1x1():
    gradcheck(lambda x, w: F.conv2d(x, w, stride=2, padding=1), [rnd(2, 2, 5, 5), rnd(3, 2, 2, 2)])
    gradcheck(lambda x, w: F.conv2d(x, w), [rnd(2, 3, 4, 4), rnd(2, 3, 1, 1)])


@pytest.mark.parametrize("kw", [dict(), dict(stride=2), dict(dilation=2), dict(padding="same"),
                                dict(padding="full"), dict(padding=2, stride=2)])
def test_gradcheck_conv1d(kw):
    gradcheck(lambda x, w, b: F.conv1d(x, w, b, **kw), [rnd(2, 2, 9), rnd(3, 2, 3), rnd(3)])
