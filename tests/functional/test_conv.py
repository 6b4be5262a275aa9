"""functional.conv: conv2d / conv1d on a known example and float64 gradient checks (every
padding mode, stride, dilation, with and without bias)."""
from __future__ import annotations

import contextlib

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


# ------------------------------------------------- the blocked convolution
def _reference(x, w, b, stride, pad, dil):
    """conv2d by its definition (einsum over kernel offsets), float64."""
    N, C, H, W = x.shape
    O, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    Ho = (H + 2 * pad - dil * (kh - 1) - 1) // stride + 1
    Wo = (W + 2 * pad - dil * (kw - 1) - 1) // stride + 1
    y = np.zeros((N, O, Ho, Wo)) + b[None, :, None, None]
    for i in range(kh):
        for j in range(kw):
            patch = xp[:, :, i * dil:i * dil + stride * (Ho - 1) + 1:stride,
                       j * dil:j * dil + stride * (Wo - 1) + 1:stride]
            y += np.einsum("nchw,oc->nohw", patch, w[:, :, i, j])
    return y


def _check_exact(x, w, b, stride, pad, dil, seed=3):
    """The forward of conv2d equals the definition, and every gradient equals the exact
    derivative of sum(g * conv): conv is linear in x and in w, so a unit step of one
    weight (or one input pixel) changes that sum by exactly its partial derivative."""
    import glassnet as gn
    r = np.random.default_rng(seed)
    xt, wt, bt = (gn.tensor(a, requires_grad=True) for a in (x, w, b))
    y = F.conv2d(xt, wt, bt, stride=stride, padding=pad, dilation=dil)
    ref = _reference(x, w, b, stride, pad, dil)
    np.testing.assert_allclose(y.numpy(), ref, rtol=1e-12, atol=1e-12)
    g = r.standard_normal(ref.shape)
    y.backward(gn.tensor(g))
    gw_num = np.zeros_like(w)
    for idx in np.ndindex(w.shape):
        d = np.zeros_like(w)
        d[idx] = 1.0
        gw_num[idx] = np.sum(g * (_reference(x, w + d, b, stride, pad, dil) - ref))
    np.testing.assert_allclose(wt.grad.numpy(), gw_num, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(bt.grad.numpy(), g.sum(axis=(0, 2, 3)), rtol=1e-12)
    gx_num = np.zeros_like(x)
    zero_b = np.zeros_like(b)
    for c in range(x.shape[1]):
        for i in range(x.shape[2]):
            for j in range(x.shape[3]):
                d = np.zeros_like(x)
                d[:, c, i, j] = 1.0   # every sample at once: samples do not interact
                gx_num[:, c, i, j] = np.sum(
                    g * _reference(d, w, zero_b, stride, pad, dil), axis=(1, 2, 3))
    np.testing.assert_allclose(xt.grad.numpy(), gx_num, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("geom", [(1, 1, 1), (2, 0, 1), (1, 2, 2), (3, 1, 1)])
def test_blocked_conv_equals_definition_over_many_blocks(monkeypatch, threads, geom):
    """Blocks of 2 samples (the last one ragged), on one or two threads."""
    from glassnet.functional import conv as C
    monkeypatch.setattr(C, "_BLOCK_COLUMNS", 2 * 7 * 7)
    with _split_always(monkeypatch, threads):
        r = np.random.default_rng(3)
        x, w, b = r.standard_normal((7, 3, 9, 8)), r.standard_normal((4, 3, 3, 2)), r.standard_normal(4)
        _check_exact(x, w, b, *geom)


@contextlib.contextmanager
def _split_always(monkeypatch, threads):
    """glassnet's pool at ``threads`` threads, splitting work of any size."""
    from glassnet.backend import threads as T
    monkeypatch.setattr(T, "PARALLEL_MIN_ELEMENTS", 0)
    monkeypatch.setattr(T, "ELEMENTWISE_MIN_ELEMENTS", 0)
    prev = T.get_num_threads()
    T.set_num_threads(threads)
    try:
        yield
    finally:
        T.set_num_threads(prev)


def test_few_blocks_are_balanced_over_the_threads(monkeypatch):
    """Few blocks are re-cut (down to half their size) so that the busiest thread has as
    few samples as can be; many blocks, one thread, or one sample keep the plain cut."""
    from glassnet.backend import threads as T
    from glassnet.functional import conv as C

    def blocks(n, hw, threads):
        monkeypatch.setattr(C.backend, "get_num_threads", lambda: threads)
        geo = C._Geometry.of((n, 1, hw, hw), (1, 1, 1, 1), (1, 1), (0, 0, 0, 0), (1, 1))
        return C._blocks(geo)

    assert blocks(32, 8, 1) == (32, 1)          # 2048 columns: one block on one thread
    assert blocks(32, 8, 2) == (16, 2)          # ... two of 16 on two
    assert blocks(64, 14, 2) == (8, 8)          # 7 blocks of 10 -> 8 of 8
    assert blocks(64, 14, 3) == (8, 8)          # busiest thread 30 samples -> 24
    assert blocks(64, 28, 2) == (2, 32)         # 32 blocks: unchanged
    assert blocks(1, 8, 2) == (1, 1)            # one sample: nothing to cut
    assert T.get_num_threads() >= 1


@pytest.mark.parametrize("threads", [2, 3])
def test_balanced_blocks_equal_definition(monkeypatch, threads):
    """7 samples in blocks of 3 (3 blocks), re-cut on 2 threads, kept on 3: exact values."""
    from glassnet.functional import conv as C
    with _split_always(monkeypatch, threads):
        r = np.random.default_rng(4)
        x, w, b = r.standard_normal((7, 3, 9, 8)), r.standard_normal((4, 3, 3, 2)), r.standard_normal(4)
        for stride, pad, dil in ((1, 1, 1), (2, 0, 1)):
            geo = C._Geometry.of(x.shape, w.shape, (stride, stride), (pad,) * 4, (dil, dil))
            monkeypatch.setattr(C, "_BLOCK_COLUMNS", 3 * geo.Ho * geo.Wo)
            # 2 threads: 3 blocks of 3 -> 4 of 2 (the last ragged); 3 threads: kept
            assert C._blocks(geo) == {2: (2, 4), 3: (3, 3)}[threads]
            _check_exact(x, w, b, stride, pad, dil)


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("layout", ["wide", "blocked"])
@pytest.mark.parametrize("case", [((3, 3), 0), ((3, 2), 1), ((5, 5), 2), ((1, 3), 0)])
def test_stride1_conv_in_both_layouts_equals_definition(monkeypatch, threads, layout, case):
    """Stride-1 convolutions forced into the wide layout (output on the padded width,
    junk columns) and out of it, forward and backward, ragged blocks of 2 samples, one
    and two threads: the same exact values either way."""
    from glassnet.backend import threads as T
    from glassnet.functional import conv as C
    ratio = 100.0 if layout == "wide" else 0.0
    monkeypatch.setattr(C, "_WIDE_FORWARD_RATIO", ratio)
    monkeypatch.setattr(C, "_WIDE_BACKWARD_RATIO", ratio)
    monkeypatch.setattr(C, "_BLOCK_COLUMNS", 2 * 9 * 8)
    monkeypatch.setattr(T, "PARALLEL_MIN_ELEMENTS", 0)
    monkeypatch.setattr(T, "ELEMENTWISE_MIN_ELEMENTS", 0)
    (kh, kw), pad = case
    prev = T.get_num_threads()
    T.set_num_threads(threads)
    try:
        r = np.random.default_rng(5)
        x, w, b = (r.standard_normal((7, 3, 9, 8)), r.standard_normal((4, 3, kh, kw)),
                   r.standard_normal(4))
        geo = C._Geometry.of(x.shape, w.shape, (1, 1), (pad,) * 4, (1, 1))
        assert C._wide(geo, ratio) is C._wide(geo, ratio, backward=True) is (layout == "wide")
        _check_exact(x, w, b, 1, pad, 1)
    finally:
        T.set_num_threads(prev)


def test_wide_layout_is_chosen_only_where_it_pays():
    from glassnet.functional import conv as C
    def geo(h, k, pad, stride=1, dil=1):
        return C._Geometry.of((64, 16, h, h), (32, 16, k, k), (stride, stride), (pad,) * 4,
                              (dil, dil))
    fwd, bwd = C._WIDE_FORWARD_RATIO, C._WIDE_BACKWARD_RATIO
    assert C._wide(geo(28, 3, 1), fwd)                        # 28*30 / 28*28 = 1.07
    assert C._wide(geo(28, 3, 1), bwd, backward=True)         # (30*30 + 2) / 28*28 = 1.15
    assert C._wide(geo(28, 3, 0), bwd, backward=True)         # (28*28 + 2) / 26*26 = 1.16
    assert C._wide(geo(28, 3, 0), fwd)                        # 28 / 26 = 1.077
    assert not C._wide(geo(14, 3, 1), fwd)                    # 16 / 14
    assert C._wide(geo(14, 3, 1), bwd, backward=True)         # 258 / 196 = 1.32
    assert C._wide(geo(8, 3, 1), bwd, backward=True)          # 102 / 64 = 1.59
    assert not C._wide(geo(6, 3, 1), bwd, backward=True)      # 66 / 36 = 1.83
    assert not C._wide(geo(28, 3, 1, stride=2), bwd, backward=True)
    assert not C._wide(geo(28, 3, 2, dil=2), bwd, backward=True)


def test_gradcheck_conv2d_wide_layout(monkeypatch):
    from glassnet.functional import conv as C
    monkeypatch.setattr(C, "_WIDE_FORWARD_RATIO", 100.0)
    monkeypatch.setattr(C, "_WIDE_BACKWARD_RATIO", 100.0)
    monkeypatch.setattr(C, "_BLOCK_COLUMNS", 2 * 5 * 5)
    x, w, b = rnd(5, 2, 5, 5), rnd(3, 2, 3, 3), rnd(3)
    gradcheck(lambda x, w, b: F.conv2d(x, w, b, padding=1), [x, w, b])


def test_blocked_conv_gradcheck_many_blocks(monkeypatch):
    from glassnet.functional import conv as C
    monkeypatch.setattr(C, "_BLOCK_COLUMNS", 2 * 4 * 3)
    x, w, b = rnd(5, 2, 6, 5), rnd(3, 2, 3, 3), rnd(3)
    gradcheck(lambda x, w, b: F.conv2d(x, w, b, padding=1, stride=(2, 2)), [x, w, b])


def test_blocked_conv_second_backward_with_retain_graph():
    import glassnet as gn
    x = gn.tensor(rnd(3, 2, 5, 5), requires_grad=True)
    w = gn.tensor(rnd(2, 2, 3, 3), requires_grad=True)
    y = F.conv2d(x, w, padding=1).sum()
    y.backward(retain_graph=True)
    g1 = w.grad.numpy().copy()
    y.backward()
    np.testing.assert_allclose(w.grad.numpy(), 2 * g1, rtol=1e-12)
