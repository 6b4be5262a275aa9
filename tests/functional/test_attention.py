"""scaled_dot_product_attention: the formula, gradcheck in float64, masks, PyTorch parity."""
from __future__ import annotations

import numpy as np
import pytest

import glassnet as gn
import glassnet.nn.functional as F
from glassnet.autograd import gradcheck
from glassnet.errors import ArgumentError
from glassnet.functional.attention import attention


def rand(*shape, seed=0, dtype=gn.float64, grad=True):
    a = np.random.default_rng(seed).normal(size=shape)
    return gn.tensor(a, dtype=dtype, requires_grad=grad)


def reference(q, k, v, mask=None, scale=None):
    s = q @ np.swapaxes(k, -1, -2) * (scale if scale is not None else 1 / np.sqrt(q.shape[-1]))
    if mask is not None:
        s = s + mask
    s = s - s.max(-1, keepdims=True)
    p = np.exp(s)
    p /= p.sum(-1, keepdims=True)
    return p @ v, p


def test_forward_is_the_formula():
    q, k, v = rand(2, 3, 4, 5), rand(2, 3, 6, 5, seed=1), rand(2, 3, 6, 7, seed=2)
    out = F.scaled_dot_product_attention(q, k, v)
    ref, _ = reference(q.detach().numpy(), k.detach().numpy(), v.detach().numpy())
    np.testing.assert_allclose(out.detach().numpy(), ref, rtol=1e-12, atol=1e-12)


def test_gradcheck_float64_plain_mask_scale_and_weights_output():
    q, k, v = rand(2, 3, 4), rand(2, 5, 4, seed=1), rand(2, 5, 3, seed=2)
    mask = rand(3, 5, seed=3)                       # a learnable additive mask
    assert gradcheck(lambda q, k, v: F.scaled_dot_product_attention(q, k, v), (q, k, v))
    assert gradcheck(lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, attn_mask=m,
                                                                         scale=0.3),
                     (q, k, v, mask))
    # the weights output is differentiable too (a loss on them reaches q and k)
    assert gradcheck(lambda q, k, v: attention(q, k, v, None, scale=0.5)[1] * 1.0, (q, k, v))
    assert gradcheck(lambda q, k, v: sum_both(attention(q, k, v, None, scale=0.5)), (q, k, v))


def sum_both(pair):
    o, w = pair
    return o.sum() + (w * w).sum()


def test_gradcheck_with_dropout_uses_the_saved_mask():
    q, k, v = rand(2, 3, 4), rand(2, 5, 4, seed=1), rand(2, 5, 3, seed=2)

    def f(q, k, v):
        gn.manual_seed(7)                           # the same dropout mask at every probe
        return F.scaled_dot_product_attention(q, k, v, dropout_p=0.3)

    assert gradcheck(f, (q, k, v))


def test_bool_mask_keeps_true_and_causal_is_top_left():
    q, k, v = rand(1, 4, 3, grad=False), rand(1, 6, 3, seed=1, grad=False), rand(1, 6, 2, seed=2, grad=False)
    keep = np.tril(np.ones((4, 6), dtype=bool))
    a = F.scaled_dot_product_attention(q, k, v, attn_mask=gn.tensor(keep)).numpy()
    b = F.scaled_dot_product_attention(q, k, v, is_causal=True).numpy()
    add = np.where(keep, 0.0, -np.inf)
    ref, _ = reference(q.numpy(), k.numpy(), v.numpy(), add)
    np.testing.assert_allclose(a, ref, rtol=1e-12)
    np.testing.assert_allclose(b, ref, rtol=1e-12)


def test_fully_masked_row_gives_zeros_and_zero_gradient():
    q, k, v = rand(1, 3, 4), rand(1, 5, 4, seed=1), rand(1, 5, 2, seed=2)
    keep = np.ones((3, 5), dtype=bool)
    keep[1] = False
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=gn.tensor(keep))
    assert np.all(out.detach().numpy()[0, 1] == 0)
    out.sum().backward()
    assert np.all(np.isfinite(q.grad.numpy())) and np.all(q.grad.numpy()[0, 1] == 0)


def test_grouped_query_attention_shares_heads():
    q, k, v = rand(1, 4, 3, 5), rand(1, 2, 6, 5, seed=1), rand(1, 2, 6, 5, seed=2)
    out = F.scaled_dot_product_attention(q, k, v, enable_gqa=True).detach().numpy()
    kr = np.repeat(k.detach().numpy(), 2, axis=1)
    vr = np.repeat(v.detach().numpy(), 2, axis=1)
    ref, _ = reference(q.detach().numpy(), kr, vr)
    np.testing.assert_allclose(out, ref, rtol=1e-12)


@pytest.mark.parametrize("bad, match", [
    (dict(attn_mask="m", is_causal=True), "not both"),
    (dict(dropout_p=1.0), "dropout_p"),
    (dict(attn_mask=np.zeros((2, 2))), "does not broadcast"),
    (dict(attn_mask=np.zeros((3, 5), dtype=np.int64)), "bool or float"),
])
def test_bad_arguments_are_named(bad, match):
    q, k, v = rand(1, 3, 4), rand(1, 5, 4, seed=1), rand(1, 5, 2, seed=2)
    if isinstance(bad.get("attn_mask"), str):
        bad = dict(bad, attn_mask=np.ones((3, 5), dtype=bool))
    with pytest.raises(ArgumentError, match=match):
        F.scaled_dot_product_attention(q, k, v, **bad)
    with pytest.raises(ArgumentError, match="same feature size"):
        F.scaled_dot_product_attention(q, rand(1, 5, 3), v)


def test_parity_with_torch_outputs_and_gradients():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    shapes = ((2, 4, 7, 16), (2, 4, 9, 16), (2, 4, 9, 8))
    arrays = [rng.normal(size=s).astype(np.float32) for s in shapes]
    masks = {
        "none": (None, None),
        "bool": (rng.random((7, 9)) > 0.3, None),
        "float": (rng.normal(size=(2, 1, 7, 9)).astype(np.float32), None),
        "causal": (None, True),
    }
    for name, (mask, causal) in masks.items():
        if mask is not None and mask.dtype == bool:
            mask[:, 0] = True                      # no fully masked rows here
        g_in = [gn.tensor(a, requires_grad=True) for a in arrays]
        t_in = [torch.tensor(a, requires_grad=True) for a in arrays]
        kw_g = dict(is_causal=bool(causal))
        kw_t = dict(is_causal=bool(causal))
        if mask is not None:
            kw_g["attn_mask"] = gn.tensor(mask)
            kw_t["attn_mask"] = torch.tensor(mask)
        og = F.scaled_dot_product_attention(*g_in, **kw_g)
        ot = torch.nn.functional.scaled_dot_product_attention(*t_in, **kw_t)
        np.testing.assert_allclose(og.detach().numpy(), ot.detach().numpy(), atol=1e-5,
                                   err_msg=name)
        w = rng.normal(size=og.shape).astype(np.float32)
        (og * gn.tensor(w)).sum().backward()
        (ot * torch.tensor(w)).sum().backward()
        for a, b in zip(g_in, t_in):
            np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), atol=1e-4, err_msg=name)


@pytest.mark.parametrize("causal,L,S", [(False, 37, 53), (True, 64, 64), (True, 20, 33)])
def test_blocked_path_equals_the_formula_path(causal, L, S):
    """The compiled, blocked path (no mask, no dropout) against the NumPy formula path,
    outputs and every gradient, including one on the returned weights, with more items
    than one block and than one thread's chunk."""
    from glassnet.backend import kernels
    if not kernels.available():
        pytest.skip("Numba is not installed (pip install 'glassnet[jit]'): no blocked path")
    r = np.random.default_rng(3)
    shapes = [(3, 5, L, 16), (3, 5, S, 16), (3, 5, S, 24)]
    arrays = [r.standard_normal(s).astype(np.float32) for s in shapes]
    go = r.standard_normal((3, 5, L, 24)).astype(np.float32)
    gw = r.standard_normal((3, 5, L, S)).astype(np.float32)

    def run(jit):
        prev = kernels.set_enabled(jit)
        try:
            q, k, v = (gn.tensor(a, requires_grad=True) for a in arrays)
            out, w = attention(q, k, v, None, scale=0.3, causal=causal)
            ((out * gn.tensor(go)).sum() + (w * gn.tensor(gw)).sum()).backward()
            return [out.numpy(), w.numpy(), q.grad.numpy(), k.grad.numpy(), v.grad.numpy()]
        finally:
            kernels.set_enabled(prev)
    for a, b in zip(run(True), run(False)):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_gradcheck_float64_blocked_causal_path():
    q, k, v = (gn.tensor(np.random.default_rng(i).standard_normal((2, 3, 6, 4)),
                         requires_grad=True) for i in range(3))
    assert gradcheck(lambda q, k, v: sum_both(attention(q, k, v, None, scale=0.7,
                                                        causal=True)), (q, k, v))
    assert gradcheck(lambda q, k, v: attention(q, k, v, None, causal=True)[0], (q, k, v))
