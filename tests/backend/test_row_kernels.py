"""The Transformer's fused row kernels (GELU, attention softmax, LayerNorm) against the
NumPy code they stand in for: same outputs and gradients with the kernels on and off, in
float32 and float64, gradcheck in float64 through the kernels, PyTorch's special cases
(hidden keys weigh exactly 0, all-hidden rows, NaN, causal rows)."""
import math

import numpy as np
import pytest

import glassnet as gn
from glassnet import nn
from glassnet.autograd import gradcheck
from glassnet.backend import kernels
from glassnet.nn import functional as F

pytestmark = pytest.mark.skipif(not kernels.available(),
                                reason="Numba is not installed (pip install 'glassnet[jit]')")


def _run(enabled, fn, arrays, dtype):
    """Output and input gradients of fn(*tensors) with the kernels on or off."""
    prev = kernels.set_enabled(enabled)
    try:
        ts = [gn.Tensor(a.astype(dtype), requires_grad=True) for a in arrays]
        out = fn(*ts)
        rng = np.random.default_rng(1)
        w = rng.standard_normal(out.shape).astype(dtype)
        (out * gn.Tensor(w)).sum().backward()
        return out.numpy(), [t.grad.numpy() for t in ts]
    finally:
        kernels.set_enabled(prev)


def _both(fn, arrays, dtype, rtol, atol):
    on, off = _run(True, fn, arrays, dtype), _run(False, fn, arrays, dtype)
    np.testing.assert_allclose(on[0], off[0], rtol=rtol, atol=atol, equal_nan=True)
    for a, b in zip(on[1], off[1]):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


TOL = {np.float32: (1e-5, 2e-6), np.float64: (1e-12, 1e-13)}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gelu_kernel_equals_numpy(dtype):
    x = np.random.default_rng(0).standard_normal((3, 70, 11)) * 4
    _both(lambda t: F.gelu(t), [x], dtype, *TOL[dtype])


def test_gelu_float32_exact_erf_accuracy_and_tails():
    x = np.concatenate([np.linspace(-13, 13, 20001), [0.0, -0.0, np.inf, -np.inf]])
    with np.errstate(invalid="ignore"):
        ref = x * 0.5 * np.array([math.erfc(-v / math.sqrt(2)) for v in x])
    prev = kernels.set_enabled(True)
    try:
        y = F.gelu(gn.Tensor(x.astype(np.float32))).numpy().astype(np.float64)
        n = F.gelu(gn.Tensor(np.array([np.nan], np.float32))).numpy()
    finally:
        kernels.set_enabled(prev)
    finite = np.isfinite(ref)
    assert np.abs(y[finite] - ref[finite]).max() < 2e-6
    left = (x < -1) & (np.abs(ref) > 1e-37)     # relative accuracy where x Phi(x) is tiny
    assert (np.abs(y[left] - ref[left]) / np.abs(ref[left])).max() < 2e-5
    # -inf Phi(-inf) = -inf * 0: NaN, as PyTorch and the NumPy code; +inf stays +inf
    assert y[-2] == np.inf and np.isnan(y[-1]) and np.isnan(n[0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", ["plain", "causal", "mask", "causal_rect"])
def test_attention_kernel_equals_numpy(dtype, case):
    rng = np.random.default_rng(2)
    L, S = (5, 9) if case == "causal_rect" else (7, 7)
    q, k, v = (rng.standard_normal((2, 3, n, 4)) for n in (L, S, S))
    mask = None
    if case == "mask":
        mask = np.where(rng.random((L, S)) < 0.3, -np.inf, rng.standard_normal((L, S)))
        mask[:, 0] = 0.0                                 # every query sees a key
    causal = case.startswith("causal")
    fn = (lambda q, k, v: F.scaled_dot_product_attention(
        q, k, v, attn_mask=None if mask is None else gn.Tensor(mask.astype(dtype)),
        is_causal=causal))
    _both(fn, [q, k, v], dtype, *TOL[dtype])


def test_hidden_keys_weigh_exactly_zero_and_all_hidden_rows():
    rng = np.random.default_rng(3)
    q, k, v = (gn.Tensor(rng.standard_normal((1, 4, 3)).astype(np.float32)) for _ in range(3))
    keep = np.array([[1, 0, 1, 0], [0, 0, 0, 0], [1, 1, 1, 1], [0, 1, 0, 0]], bool)
    mha_like = F.scaled_dot_product_attention
    prev = kernels.set_enabled(True)
    try:
        out = mha_like(q, k, v, attn_mask=gn.Tensor(keep)).numpy()
        from glassnet.functional.attention import attention, attention_mask_to_additive
        add = attention_mask_to_additive(keep, np.float32, True, "t")
        _, w = attention(q, k, v, add, empty_rows="zero")
        _, wn = attention(q, k, v, add, empty_rows="nan")
    finally:
        kernels.set_enabled(prev)
    w = w.numpy()[0]
    assert np.all(w[~keep] == 0)                       # e^-inf is 0, not e^-87
    assert np.all(out[0, 1] == 0)                      # a row with no key: zeros
    assert np.all(np.isnan(wn.numpy()[0, 1])) and np.isfinite(wn.numpy()[0, 0]).all()
    np.testing.assert_allclose(w.sum(-1)[[0, 2, 3]], 1, rtol=1e-6)


def test_nan_scores_give_nan_rows():
    q = np.ones((1, 3, 2), np.float32)
    q[0, 1, 0] = np.nan
    prev = kernels.set_enabled(True)
    try:
        out = F.scaled_dot_product_attention(gn.Tensor(q), gn.Tensor(q), gn.Tensor(q)).numpy()
    finally:
        kernels.set_enabled(prev)
    assert np.isnan(out).all()       # key 1 is NaN, so every query's scores include a NaN


@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_layernorm_kernel_equals_numpy(dtype, affine):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((5, 6, 24)) * 3 + 1
    if affine:
        arrays = [x, rng.standard_normal(24), rng.standard_normal(24)]
        fn = lambda x, w, b: F.layer_norm(x, (24,), w, b)  # noqa: E731
    else:
        arrays = [x]
        fn = lambda x: F.layer_norm(x, (24,))  # noqa: E731
    _both(fn, arrays, dtype, *TOL[dtype])


def test_layernorm_over_two_axes_and_large_rows_on_threads():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((600, 4, 64))       # 150k elements: the chunks run on threads
    w, b = rng.standard_normal((4, 64)), rng.standard_normal((4, 64))
    # dL/dw sums 600 rows in float32 in another order (per chunk, then the chunks): the
    # bound is float32 accumulation over 600 terms, not the 1e-5 of one row
    _both(lambda x, w, b: F.layer_norm(x, (4, 64), w, b), [x, w, b], np.float32, 1e-4, 1e-4)


def test_gradcheck_float64_through_the_kernels():
    rng = np.random.default_rng(6)
    prev = kernels.set_enabled(True)
    try:
        x = gn.Tensor(rng.standard_normal((3, 5)) * 2, requires_grad=True)
        assert gradcheck(lambda t: F.gelu(t), (x,))
        q, k, v = (gn.Tensor(rng.standard_normal((2, 4, 3)), requires_grad=True)
                   for _ in range(3))
        assert gradcheck(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True),
                         (q, k, v))
        m = gn.Tensor(rng.standard_normal((4, 4)), requires_grad=True)   # a learned mask
        assert gradcheck(lambda q, m: F.scaled_dot_product_attention(q, k, v, attn_mask=m),
                         (q, m))
        w, b = (gn.Tensor(rng.standard_normal(5), requires_grad=True) for _ in range(2))
        assert gradcheck(lambda x, w, b: F.layer_norm(x, (5,), w, b), (x, w, b))
    finally:
        kernels.set_enabled(prev)


def test_multihead_causal_hint_equals_the_explicit_mask():
    """PyTorch's rule: is_causal with no key padding mask and need_weights=False uses the
    causal pattern itself; the result equals the explicit causal attn_mask."""
    gn.manual_seed(0)
    mha = nn.MultiheadAttention(8, 2, batch_first=True)
    x = gn.randn(3, 6, 8)
    mask = nn.Transformer.generate_square_subsequent_mask(6)
    a, _ = mha(x, x, x, attn_mask=mask, need_weights=False, is_causal=True)
    b, _ = mha(x, x, x, attn_mask=mask, need_weights=False)
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6)
