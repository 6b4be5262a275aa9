"""Row kernels of the Transformer's elementwise work (imported only with Numba): GELU,
the attention softmax and its backward, LayerNorm and its backward.

Each kernel works on flat C-ordered arrays, over the rows ``lo:hi`` (or the elements
``lo:hi``) it is given, so that :func:`glassnet.backend.threads.parallel_chunks` can run
chunks on two threads (the kernels release the GIL). NumPy needs 5-8 passes over memory
for each of these (a softmax: scale, add mask, max, subtract, exp, sum, divide); a kernel
makes one or two, on a row that stays in cache.

Sums and maxima along a row go through :func:`_rsum`, :func:`_rdot` and :func:`_rmax`,
compiled with ``reassoc`` so that LLVM may split them into vector lanes (a sum in a
different order: the result differs from NumPy's pairwise sum by a few float ulp);
everything else keeps the IEEE order of ``_numba_kernels``. float32 uses the vectorised
``_exp`` of ``_numba_kernels``; float64 uses libm, so gradcheck sees exact functions.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit, types
from numba.extending import overload

from ._erfc import ERFC_FIT
from ._numba_kernels import _OPTS, _OVERLOAD_OPTS, _exp

from typing import Any

_RED: dict[str, Any] = dict(nogil=True, cache=True, fastmath={"contract", "reassoc"},
                            error_model="numpy")

_F = np.float32
(_P0, _P1, _P2, _P3, _P4, _P5, _P6, _P7, _P8, _P9) = (_F(c) for c in ERFC_FIT)  # erfc fit
_S2 = _F(1.0 / math.sqrt(2.0))
_S2PI = _F(1.0 / math.sqrt(2.0 * math.pi))
_S2_64 = 1.0 / math.sqrt(2.0)
_S2PI_64 = 1.0 / math.sqrt(2.0 * math.pi)


@njit(**_RED)
def _rsum(a: np.ndarray, n: int) -> Any:
    s = a[0] - a[0]
    for j in range(n):
        s += a[j]
    return s


@njit(**_RED)
def _rdot(a: np.ndarray, b: np.ndarray, n: int) -> Any:
    s = a[0] - a[0]
    for j in range(n):
        s += a[j] * b[j]
    return s


@njit(**_RED)
def _rmax(a: np.ndarray, n: int) -> Any:
    m = a[0]
    for j in range(1, n):
        v = a[j]
        m = v if v > m else m
    return m


@njit(**_RED)
def _rcsum(a: np.ndarray, m: Any, n: int) -> Any:
    s = a[0] - a[0]
    for j in range(n):
        d = a[j] - m
        s += d * d
    return s


_LO32 = _F(-87.0)


def _exp0(x: Any) -> Any:  # pragma: no cover - replaced by the overload inside compiled code
    return math.exp(x)


@overload(_exp0, **_OVERLOAD_OPTS)
def _exp0_impl(x):
    """float32: ``_exp``, and exactly 0 below e^-87 (``_exp`` clamps there to stay a
    normal float; a softmax must give a hidden key, e^-inf, a weight of exactly 0; NaN
    stays NaN); float64: libm's exp, as NumPy."""
    if x != types.float32:
        return lambda x: math.exp(x)

    def exp0(x):
        y = _exp(x)
        return y if x > _LO32 else y - y
    return exp0


# ---------------------------------------------------------------- GELU (exact)
@njit(**_OPTS)
def gelu32(x: np.ndarray, d: np.ndarray, out: np.ndarray) -> None:
    """out = x Phi(x) and its derivative d = Phi(x) + x phi(x) (flat float32 arrays):
    backward is then one product g * d."""
    half, one = _F(0.5), _F(1.0)
    for j in range(x.shape[0]):
        v = x[j]
        a = np.abs(v) * _S2
        t = one / (one + half * a)
        p = _P8 + t * _P9
        p = _P7 + t * p
        p = _P6 + t * p
        p = _P5 + t * p
        p = _P4 + t * p
        p = _P3 + t * p
        p = _P2 + t * p
        p = _P1 + t * p
        p = _P0 + t * p
        e = _exp0(-(a * a))                      # e^{-x^2 / 2}
        y = half * t * _exp(p) * e              # erfc(|x| / sqrt 2) / 2
        c = y if v < 0 else one - y             # Phi(x)
        out[j] = v * c
        d[j] = c + v * (_S2PI * e)


@njit(**_OPTS)
def gelu64(x: np.ndarray, d: np.ndarray, out: np.ndarray) -> None:
    """As :func:`gelu32` for float64, with libm's erfc and exp."""
    for j in range(x.shape[0]):
        v = x[j]
        c = 0.5 * math.erfc(-v * _S2_64)
        out[j] = v * c
        d[j] = c + v * (_S2PI_64 * math.exp(-0.5 * v * v))


# ---------------------------------------------------------------- attention softmax
@njit(**_OPTS)
def softmax_rows(s: np.ndarray, S: int, L: int, causal: bool, nan_rows: bool,
                 lo: int, hi: int, one: Any) -> None:
    """Rows lo:hi of ``s`` (rows of S scores) replaced by their softmax. ``causal``: row r
    is query r % L of its block and sees keys 0..r % L only (the others get weight 0).
    A row whose scores are all -inf gets zeros, or NaN when ``nan_rows``."""
    for r in range(lo, hi):
        row = s[r * S:(r + 1) * S]
        n = min(S, r % L + 1) if causal else S
        m = _rmax(row, n)
        if m == -np.inf and not nan_rows:
            for j in range(S):
                row[j] = 0
            continue
        for j in range(n):
            row[j] = _exp0(row[j] - m)
        inv = one / _rsum(row, n)
        for j in range(n):
            row[j] *= inv
        for j in range(n, S):
            row[j] = 0


@njit(**_OPTS)
def softmax_backward_rows(gp: np.ndarray, p: np.ndarray, S: int, L: int, causal: bool,
                          scale: Any, lo: int, hi: int) -> None:
    """Rows lo:hi of ``gp`` (dL/dP) replaced by scale * dL/dS = scale P (dP - <dP, P>)."""
    for r in range(lo, hi):
        grow, prow = gp[r * S:(r + 1) * S], p[r * S:(r + 1) * S]
        n = min(S, r % L + 1) if causal else S
        d = _rdot(grow, prow, n)
        for j in range(n):
            grow[j] = scale * (prow[j] * (grow[j] - d))
        for j in range(n, S):
            grow[j] = 0


# ---------------------------------------------------------------- LayerNorm
@njit(**_OPTS)
def layernorm_rows(x: np.ndarray, w: np.ndarray, b: np.ndarray, affine: bool, eps: Any,
                   D: int, xhat: np.ndarray, inv: np.ndarray, y: np.ndarray,
                   lo: int, hi: int, one: Any) -> None:
    """Rows lo:hi (rows of D features): xhat = (x - mean) / sqrt(var + eps), inv the
    1 / sqrt(var + eps) of each row, y = xhat * w + b (y = xhat when not ``affine``)."""
    fD = one * D
    for r in range(lo, hi):
        xr, hr, yr = x[r * D:(r + 1) * D], xhat[r * D:(r + 1) * D], y[r * D:(r + 1) * D]
        mu = _rsum(xr, D) / fD
        iv = one / np.sqrt(_rcsum(xr, mu, D) / fD + eps)
        inv[r] = iv
        for j in range(D):
            hr[j] = (xr[j] - mu) * iv
        if affine:
            for j in range(D):
                yr[j] = hr[j] * w[j] + b[j]
        else:
            for j in range(D):
                yr[j] = hr[j]


@njit(**_OPTS)
def layernorm_backward_rows(g: np.ndarray, xhat: np.ndarray, inv: np.ndarray, w: np.ndarray,
                            affine: bool, D: int, gx: np.ndarray, tmp: np.ndarray,
                            gw: np.ndarray, gb: np.ndarray, lo: int, hi: int, one: Any) -> None:
    """Rows lo:hi: gx = inv (dxh - mean(dxh) - xhat mean(dxh xhat)), dxh = g * w; adds
    the rows' sum of g * xhat to ``gw`` and of g to ``gb`` (this chunk's own buffers)."""
    fD = one * D
    for r in range(lo, hi):
        gr, hr, xr = g[r * D:(r + 1) * D], xhat[r * D:(r + 1) * D], gx[r * D:(r + 1) * D]
        if affine:
            for j in range(D):
                tmp[j] = gr[j] * w[j]
        else:
            for j in range(D):
                tmp[j] = gr[j]
        a = _rsum(tmp, D) / fD
        c = _rdot(tmp, hr, D) / fD
        iv = inv[r]
        for j in range(D):
            xr[j] = iv * (tmp[j] - a - hr[j] * c)
        for j in range(D):
            gw[j] += gr[j] * hr[j]
        for j in range(D):
            gb[j] += gr[j]
