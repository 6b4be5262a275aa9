"""Scaled dot-product attention as one node.

The formula (Vaswani et al. 2017), for queries Q (..., L, E), keys K (..., S, E) and
values V (..., S, Ev):

    S = scale * Q K^T + M          (M: the additive mask, -inf where a key is hidden)
    P = softmax(S) over the keys   (one row of weights per query)
    O = dropout(P) V

and its backward, written from the same three lines:

    dV = dropout(P)^T dO
    dP = (dO V^T + dW) * dropout mask / (1 - p)      (dW: a gradient on the returned weights)
    dS = P * (dP - sum_j dP_j P_j)                    (the softmax Jacobian, row by row)
    dQ = scale * dS K,   dK = scale * dS^T Q,   dM = dS

One node keeps P (the only (L, S) array backward needs) instead of the four a chain of
matmul / softmax / dropout / matmul nodes would save. Every operand of a batched matmul
is made C-contiguous first: NumPy multiplies a stack of transposed or strided matrices
without BLAS, 100x slower (565 ms against 4 ms for 64 products of 128x32 by 32x128).

The fast path (compiled row kernels, no mask array, no dropout, one batch shape for Q, K
and V) runs the three lines per block of a few (L, S) score matrices, on the thread pool
with one BLAS thread per chunk: the scores of a block are multiplied, normalised and used
while they are in cache, and backward's dP and dS never exist for the whole batch. A
block's matrices are C-contiguous slices, and their transposes are views BLAS reads as
transposed operands (no copy).
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..autograd.function import Function, unbroadcast
from ..autograd.tensor import Tensor, as_array
from ..backend import kernels, threads
from ..errors import ArgumentError
from .dropout import dropout_mask

__all__ = ["scaled_dot_product_attention", "AttentionFunction",
           "attention_mask_to_additive"]


class AttentionFunction(Function):
    """``(O, dropout(P)) = attention(Q, K, V, M)``; see the module docstring.

    ``mask`` is None or an additive float array broadcastable to (..., L, S) (-inf hides a
    key). ``empty_rows`` says what a query whose keys are all hidden gets: ``"zero"`` (a
    zero output and zero weights, as PyTorch's fused kernel) or ``"nan"`` (0/0, as its
    math path).
    """

    n_outputs = 2

    def forward(self, q: np.ndarray, k: np.ndarray, v: np.ndarray,
                mask: np.ndarray | None = None, scale: float = 1.0, dropout_p: float = 0.0,
                empty_rows: str = "zero", causal: bool = False) -> tuple[np.ndarray, np.ndarray]:
        dt = np.result_type(q.dtype, k.dtype, v.dtype)
        q, k, v = _c(q), _c(k), _c(v)
        L, S = q.shape[-2], k.shape[-2]
        kr = kernels.row_kernels(dt) if q.size and k.size else None
        if causal and (kr is None or mask is not None):
            c = _causal(L, S, dt)
            mask, causal = (c if mask is None else mask + c), False
        self.causal, self.kr = causal, kr
        self.blocked = (kr is not None and mask is None and dropout_p == 0.0
                        and q.ndim >= 2 and q.shape[:-2] == k.shape[:-2] == v.shape[:-2]
                        and k.shape[-2] == v.shape[-2])
        if self.blocked:
            assert kr is not None
            self.d, self.scale, self.mask_shape = None, scale, None
            self.q, self.k, self.v = q, k, v
            out, p = _blocked_forward(q, k, v, scale, causal, empty_rows == "nan", kr)
            self.p = self.pd = p
            return out, p
        if kr is not None:       # one compiled pass over the scores (the scale goes on Q)
            qs = q * dt.type(scale) if scale != 1.0 else q
            s = np.matmul(qs, _t(k))
            if mask is not None:
                m = mask.astype(dt, copy=False)
                if np.broadcast_shapes(s.shape, m.shape) == s.shape:
                    s += m
                else:
                    s = s + m
            flat, nan_rows = s.reshape(-1), empty_rows == "nan"
            threads.parallel_chunks(
                flat.size // S, lambda lo, hi: kr.softmax(flat, S, L, causal, nan_rows, lo, hi,
                                                          kr.one), flat.size)
            p = s
        else:
            s = np.matmul(q, _t(k))
            if scale != 1.0:
                s *= dt.type(scale)
            if mask is not None:
                s = s + mask.astype(dt, copy=False)
            m = s.max(axis=-1, keepdims=True)
            if empty_rows == "zero":
                m = np.where(np.isneginf(m), dt.type(0), m)
            with np.errstate(invalid="ignore"):        # -inf - -inf: the NaN rows asked for
                s -= m
                p = np.exp(s, out=s)
                z = p.sum(axis=-1, keepdims=True)
                if empty_rows == "zero":
                    z[z == 0] = 1
                p /= z
        if dropout_p > 0.0:
            d = dropout_mask(p.shape, dropout_p, p.dtype)
            pd = p * d
        else:
            d, pd = None, p
        self.p, self.d, self.scale = p, d, scale
        self.q, self.k, self.v, self.pd = q, k, v, pd
        self.mask_shape = None if mask is None else mask.shape
        return np.matmul(pd, v), pd

    def backward(self, g_out: np.ndarray | None, g_w: np.ndarray | None = None
                 ) -> tuple[np.ndarray | None, ...]:
        q, k, v, p, pd, d = self.q, self.k, self.v, self.p, self.pd, self.d
        need = self.needs_input_grad
        if self.blocked:
            if g_out is None and g_w is None:
                return None, None, None, None
            assert p is not None
            return (*_blocked_backward(q, k, v, p, g_out, g_w, self.scale, self.causal,
                                       self.kr, need[:3]), None)
        gv = None
        if g_out is not None:
            g_out = _c(g_out)
            gpd = np.matmul(g_out, _t(v))
            if need[2]:
                gv = unbroadcast(np.matmul(_t(pd), g_out), v.shape)
            if g_w is not None:
                gpd += g_w
        elif g_w is not None:
            gpd = g_w.copy()
        else:
            return None, None, None, None
        if d is not None:
            gpd *= d
        mask_shape = self.mask_shape
        want_gm = len(need) > 3 and need[3] and mask_shape is not None
        kr, gm = self.kr, None
        scaled = False
        if kr is not None:       # gs = P (dP - <dP, P>), times the scale unless dM is wanted
            gs = np.ascontiguousarray(gpd)
            flat, pf, S, L = gs.reshape(-1), p.reshape(-1), p.shape[-1], p.shape[-2]
            scaled = not want_gm
            sc = gs.dtype.type(self.scale if scaled else 1.0)
            threads.parallel_chunks(
                flat.size // S, lambda lo, hi: kr.softmax_backward(flat, pf, S, L, self.causal,
                                                                   sc, lo, hi), flat.size)
        else:
            gs = p * (gpd - (gpd * p).sum(axis=-1, keepdims=True))
        if want_gm:
            gm = unbroadcast(gs, mask_shape)  # type: ignore[arg-type]  # want_gm: not None
        if not scaled and self.scale != 1.0:
            gs *= gs.dtype.type(self.scale)
        gq = unbroadcast(np.matmul(gs, k), q.shape) if need[0] else None
        gk = unbroadcast(np.matmul(_t(gs), q), k.shape) if need[1] else None
        return gq, gk, gv, gm


def _block_items(L: int, S: int, itemsize: int) -> int:
    """Score matrices per block: about 256 KB of scores, so a block stays in L2."""
    return max(1, (1 << 18) // max(1, L * S * itemsize))


def _blocked_forward(q: np.ndarray, k: np.ndarray, v: np.ndarray, scale: float,
                     causal: bool, nan_rows: bool, kr: Any) -> tuple[np.ndarray, np.ndarray]:
    """O and P of the three lines (no mask, no dropout), block by block on the pool."""
    dt = np.result_type(q.dtype, k.dtype, v.dtype)
    L, S, E, Ev = q.shape[-2], k.shape[-2], q.shape[-1], v.shape[-1]
    batch = q.shape[:-2]
    nb = math.prod(batch)
    q3, k3, v3 = (q.reshape(nb, L, E), k.reshape(nb, S, E), v.reshape(nb, S, Ev))
    p = np.empty((nb, L, S), dtype=dt)
    out = np.empty((nb, L, Ev), dtype=dt)
    flat, blk, sc = p.reshape(-1), _block_items(L, S, dt.itemsize), dt.type(scale)

    def run(lo: int, hi: int) -> None:
        qs = np.empty((min(blk, hi - lo), L, E), dtype=dt)
        for b0 in range(lo, hi, blk):
            b1 = min(hi, b0 + blk)
            qb = np.multiply(q3[b0:b1], sc, out=qs[:b1 - b0]) if scale != 1.0 else q3[b0:b1]
            np.matmul(qb, k3[b0:b1].swapaxes(-1, -2), out=p[b0:b1])
            kr.softmax(flat, S, L, causal, nan_rows, b0 * L, b1 * L, kr.one)
            np.matmul(p[b0:b1], v3[b0:b1], out=out[b0:b1])

    threads.parallel_chunks(nb, run, p.size, gemm=True)
    return out.reshape(*batch, L, Ev), p.reshape(*batch, L, S)


def _blocked_backward(q: np.ndarray, k: np.ndarray, v: np.ndarray, p: np.ndarray,
                      g_out: np.ndarray | None, g_w: np.ndarray | None, scale: float,
                      causal: bool, kr: Any, need: tuple[bool, ...]
                      ) -> tuple[np.ndarray | None, np.ndarray | None, np.ndarray | None]:
    """dQ, dK, dV of the three lines, block by block: dP and dS of one block at a time."""
    dt = p.dtype
    L, S, E, Ev = q.shape[-2], k.shape[-2], q.shape[-1], v.shape[-1]
    nb = math.prod(q.shape[:-2])
    q3, k3, v3, p3 = (q.reshape(nb, L, E), k.reshape(nb, S, E), v.reshape(nb, S, Ev),
                      p.reshape(nb, L, S))
    g3 = None if g_out is None else np.ascontiguousarray(g_out).reshape(nb, L, Ev)
    w3 = None if g_w is None else np.ascontiguousarray(g_w).reshape(nb, L, S)
    gq = np.empty_like(q3) if need[0] else None
    gk = np.empty_like(k3) if need[1] else None
    gv = np.empty_like(v3) if need[2] and g3 is not None else None
    blk, sc = _block_items(L, S, dt.itemsize), dt.type(scale)

    def run(lo: int, hi: int) -> None:
        buf = np.empty((min(blk, hi - lo), L, S), dtype=dt)
        for b0 in range(lo, hi, blk):
            b1 = min(hi, b0 + blk)
            gs, pb = buf[:b1 - b0], p3[b0:b1]
            if g3 is not None:
                np.matmul(g3[b0:b1], v3[b0:b1].swapaxes(-1, -2), out=gs)   # dP = dO V^T
                if gv is not None:
                    np.matmul(pb.swapaxes(-1, -2), g3[b0:b1], out=gv[b0:b1])
                if w3 is not None:
                    gs += w3[b0:b1]
            else:
                assert w3 is not None
                gs[...] = w3[b0:b1]
            # dS (times the scale), in place
            kr.softmax_backward(gs.reshape(-1), pb.reshape(-1), S, L, causal, sc, 0,
                                (b1 - b0) * L)
            if gq is not None:
                np.matmul(gs, k3[b0:b1], out=gq[b0:b1])
            if gk is not None:
                np.matmul(gs.swapaxes(-1, -2), q3[b0:b1], out=gk[b0:b1])

    threads.parallel_chunks(nb, run, p.size, gemm=True)
    return (None if gq is None else gq.reshape(q.shape),
            None if gk is None else gk.reshape(k.shape),
            None if gv is None else gv.reshape(v.shape))


def _c(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a)


def _t(a: np.ndarray) -> np.ndarray:
    """The last two axes swapped, as a C-contiguous copy (see the module docstring)."""
    return np.ascontiguousarray(np.swapaxes(a, -1, -2))


def attention_mask_to_additive(mask: Any, dtype: Any, keep: bool, who: str,
                               name: str = "attn_mask") -> np.ndarray | None:
    """A user's mask as the additive float array the node takes.

    A boolean mask marks keys to *keep* when ``keep`` (``scaled_dot_product_attention``) or
    keys to *hide* otherwise (``nn.MultiheadAttention``'s ``attn_mask`` and
    ``key_padding_mask``), as PyTorch does; a float mask is added as it is.
    """
    if mask is None:
        return None
    a = as_array(mask)
    if a.dtype == np.bool_:
        hide = ~a if keep else a
        out = np.zeros(a.shape, dtype=dtype)
        out[hide] = -np.inf
        return out
    if a.dtype.kind in "iu":
        raise ArgumentError(f"{who}: {name} must be a bool or float tensor, got {a.dtype} "
                            "(a bool mask marks positions, a float mask is added to the scores)")
    return a.astype(dtype, copy=False)


def _causal(L: int, S: int, dtype: Any) -> np.ndarray:
    """-inf above the diagonal (query i sees keys 0..i), aligned to the top left as PyTorch."""
    out = np.zeros((L, S), dtype=dtype)
    out[np.triu(np.ones((L, S), dtype=bool), k=1)] = -np.inf
    return out


def attention(query: Tensor, key: Tensor, value: Tensor, mask: Any = None, scale: float = 1.0,
              dropout_p: float = 0.0, empty_rows: str = "zero",
              causal: bool = False) -> tuple[Tensor, Tensor]:
    """The node itself: ``(output, weights)`` for an additive ``mask`` (a Tensor or array,
    or None). The weights are those the values were mixed with (after dropout).
    ``causal``: query i sees keys 0..i only (aligned to the top left, as PyTorch), on top
    of ``mask``; the compiled kernels then skip the hidden scores instead of adding a mask."""
    return AttentionFunction.apply(query, key, value, mask, scale=float(scale),
                                   dropout_p=float(dropout_p), empty_rows=empty_rows,
                                   causal=bool(causal))


def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor,
                                 attn_mask: Any = None, dropout_p: float = 0.0,
                                 is_causal: bool = False, scale: float | None = None,
                                 enable_gqa: bool = False) -> Tensor:
    """PyTorch's ``F.scaled_dot_product_attention``: softmax(Q K^T * scale + mask) V.

    Parameters
    ----------
    query, key, value : Tensor
        (..., L, E), (..., S, E), (..., S, Ev).
    attn_mask : Tensor, optional
        Broadcastable to (..., L, S): bool (True = this query may look at this key) or
        float (added to the scores).
    dropout_p : float
        Dropout on the attention weights (applied whenever > 0, as PyTorch's function:
        pass ``dropout_p=0.0`` in evaluation).
    is_causal : bool
        Query i sees keys 0..i (a mask aligned to the top-left corner); not together with
        ``attn_mask``.
    scale : float, optional
        Default 1 / sqrt(E).
    enable_gqa : bool
        Grouped-query attention: key and value may have fewer heads (dim -3) than the
        query, a divisor of its count; each is shared by consecutive query heads.

    Notes
    -----
    A query whose keys are all masked gets a zero output (PyTorch's CPU kernel does too).

    Examples
    --------
    >>> q = gn.ones(1, 2, 4)
    >>> F.scaled_dot_product_attention(q, q, gn.arange(8.).reshape(1, 2, 4)).numpy()
    array([[[2., 3., 4., 5.],
            [2., 3., 4., 5.]]], dtype=float32)
    """
    who = "scaled_dot_product_attention"
    for name, t in (("query", query), ("key", key), ("value", value)):
        if not isinstance(t, Tensor):
            raise ArgumentError(f"{who}: {name} must be a Tensor, got {type(t).__name__}")
        if t.ndim < 2:
            raise ArgumentError(f"{who}: {name} must have at least 2 dimensions (..., seq, "
                                f"features), got shape {tuple(t.shape)}")
    if query.shape[-1] != key.shape[-1]:
        raise ArgumentError(f"{who}: query and key must have the same feature size, got "
                            f"{query.shape[-1]} and {key.shape[-1]}")
    if key.shape[-2] != value.shape[-2]:
        raise ArgumentError(f"{who}: key and value must have the same sequence length, got "
                            f"{key.shape[-2]} and {value.shape[-2]}")
    if not 0.0 <= float(dropout_p) < 1.0:
        raise ArgumentError(f"{who}: dropout_p must be in [0, 1), got {dropout_p}")
    if enable_gqa and query.ndim >= 3 and key.shape[-3] != query.shape[-3]:
        hq, hk = query.shape[-3], key.shape[-3]
        if hq % hk or value.shape[-3] != hk:
            raise ArgumentError(f"{who}: with enable_gqa the query's {hq} heads must be a "
                                f"multiple of the key's and value's, got {hk} and "
                                f"{value.shape[-3]}")
        rep = hq // hk
        key = _repeat_heads(key, rep)
        value = _repeat_heads(value, rep)
    L, S = query.shape[-2], key.shape[-2]
    dt = np.result_type(query._data.dtype, key._data.dtype)
    mask: Any = None
    if is_causal:
        if attn_mask is not None:
            raise ArgumentError(f"{who}: give attn_mask or is_causal=True, not both")
    elif attn_mask is not None:
        if isinstance(attn_mask, Tensor) and attn_mask.requires_grad and \
                attn_mask._data.dtype != np.bool_:
            mask = attn_mask            # a learnable additive mask keeps its gradient
        else:
            mask = attention_mask_to_additive(attn_mask, dt, True, who)
        ms = tuple(mask.shape)
        try:
            np.broadcast_shapes(ms, tuple(query.shape[:-2]) + (L, S))
        except ValueError:
            raise ArgumentError(f"{who}: attn_mask of shape {ms} does not broadcast to the "
                                f"scores' shape {tuple(query.shape[:-2]) + (L, S)}") from None
    sc = 1.0 / math.sqrt(query.shape[-1]) if scale is None else float(scale)
    out, _ = attention(query, key, value, mask, scale=sc, dropout_p=float(dropout_p),
                       empty_rows="zero", causal=bool(is_causal))
    return out


def _repeat_heads(t: Tensor, rep: int) -> Tensor:
    """(..., H, S, E) -> (..., H * rep, S, E), each head repeated ``rep`` times in place."""
    shape = tuple(t.shape)
    lead, (h, s, e) = shape[:-3], shape[-3:]
    x = t.reshape(*lead, h, 1, s, e).expand(*lead, h, rep, s, e)
    return x.reshape(*lead, h * rep, s, e)
