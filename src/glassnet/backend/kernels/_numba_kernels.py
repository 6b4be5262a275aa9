"""The Numba kernels behind :mod:`glassnet.backend.kernels` (imported only with Numba).

Module-level functions, so that Numba caches their machine code on disk. The kernels
are generic over float32 / float64: the caller passes ``one`` (1 in the array's dtype),
so no constant widens float32 arithmetic to float64, and :func:`_exp` picks its
implementation from the argument's type when the kernel is compiled.

Loops are written so that LLVM vectorises them: flat (1-D) arrays, loops over slices
from index 0 (2-D indexing, a reshape inside the kernel or a loop that starts past 0,
where Numba must allow for negative indices, each stopped vectorisation), and few
arrays per loop (LLVM vectorises only when a handful of run-time checks rule out
overlap between what a loop writes and what it reads).
"""
from __future__ import annotations

import math

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic, overload

from collections.abc import Callable
from typing import Any


# error_model="numpy": a float division by zero gives inf instead of a Python check in
# the loop (which stops vectorisation); "contract" allows fused multiply-adds and keeps
# IEEE NaN / inf semantics.
_OPTS: dict[str, Any] = dict(nogil=True, cache=True, fastmath={"contract"}, error_model="numpy")
# the same two options for the @overload implementations
_OVERLOAD_OPTS: dict[str, Any] = dict(fastmath={"contract"}, error_model="numpy")

_F = np.float32
_LOG2E, _LN2_HI, _LN2_LO = _F(1.4426950408889634), _F(0.693359375), _F(-2.12194440e-4)
_HI, _LO, _HALF = _F(88.0), _F(-87.0), _F(0.5)
_C0, _C1, _C2, _C3, _C4, _C5, _C6, _C7 = (_F(1.0 / math.factorial(n)) for n in range(8))


@intrinsic
def _pow2(typingctx: Any, n: Any) -> tuple[Any, Callable[..., Any]]:
    """2^n for a whole float32 n in [-126, 127], built from its exponent bits: int32(n)
    + 127 shifted into bits 23-30. Written in LLVM IR so that it vectorises (Numba's own
    integer arithmetic widens to int64, which AVX2 cannot convert to float)."""
    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        i32 = ir.IntType(32)
        k = builder.add(builder.fptosi(args[0], i32), ir.Constant(i32, 127))
        return builder.bitcast(builder.shl(k, ir.Constant(i32, 23)), ir.FloatType())
    return types.float32(types.float32), codegen


def _exp(x: float) -> float:  # pragma: no cover - replaced by the overload inside compiled code
    return math.exp(x)


def _tanh(x: float) -> float:  # pragma: no cover - replaced by the overload inside compiled code
    return math.tanh(x)


@overload(_exp, **_OVERLOAD_OPTS)
# The @overload typing functions and the implementations they return stay unannotated:
# Numba requires the two signatures to be identical, annotations included.
def _exp_impl(x):
    if x != types.float32:
        return lambda x: math.exp(x)   # float64: libm, exact like NumPy

    def exp32(x):
        # e^x = 2^n e^r with n = round(x / ln 2) and |r| <= ln 2 / 2 (Cody-Waite: ln 2 in
        # two parts), e^r by its Taylor polynomial of degree 7 (relative error < 2e-7).
        # x is clamped to [-87, 88] so that 2^n stays a normal float; NaN passes through.
        v = x if x < _HI else _HI
        v = v if v > _LO else _LO
        n = np.floor(v * _LOG2E + _HALF)
        r = (v - n * _LN2_HI) - n * _LN2_LO
        p = ((((((_C7 * r + _C6) * r + _C5) * r + _C4) * r + _C3) * r + _C2) * r + _C1) * r + _C0
        y = p * _pow2(n)
        return y if x == x else x
    return exp32


@overload(_tanh, **_OVERLOAD_OPTS)
def _tanh_impl(x):
    if x != types.float32:
        return lambda x: math.tanh(x)
    two, one = _F(2.0), _F(1.0)
    return lambda x: two / (one + _exp(-two * x)) - one


@njit(**_OPTS)
def lstm_forward_step(g: np.ndarray, cp: np.ndarray, c: np.ndarray, tc: np.ndarray, Zh: np.ndarray,
                      N: int, M: int, col: int, one: Any) -> None:
    """See :func:`glassnet.backend.kernels.lstm_kernels`."""
    HN = cp.shape[0]
    H = HN // N
    two = one + one
    ifg, gg, o = g[:2 * HN], g[2 * HN:3 * HN], g[3 * HN:4 * HN]
    i, f = g[:HN], g[HN:2 * HN]
    for j in range(2 * HN):                     # i, f: sigmoid
        ifg[j] = one / (one + _exp(ifg[j]))
    for j in range(HN):                         # g: tanh z = 2 sigmoid(2z) - 1
        gg[j] = two / (one + _exp(gg[j])) - one
    for j in range(HN):                         # o: sigmoid
        o[j] = one / (one + _exp(o[j]))
    for j in range(HN):
        c[j] = f[j] * cp[j] + i[j] * gg[j]
    for j in range(HN):
        tc[j] = _tanh(c[j])
    for r in range(H):
        h, orow, trow = Zh[r * M + col:r * M + col + N], o[r * N:r * N + N], tc[r * N:r * N + N]
        for k in range(N):
            h[k] = orow[k] * trow[k]


@njit(**_OPTS)
def lstm_backward_step(dh: np.ndarray, dc: np.ndarray, dy: np.ndarray, g: np.ndarray,
                       cp: np.ndarray, tc: np.ndarray, dg: np.ndarray, dG: np.ndarray, N: int,
                       M: int, col: int, one: Any) -> None:
    """See :func:`glassnet.backend.kernels.lstm_kernels`."""
    HN = dh.shape[0]
    if col >= 0:     # first store the previous step's gate gradients in dG
        for r in range(4 * HN // N):
            src, dst = dg[r * N:r * N + N], dG[r * M + col:r * M + col + N]
            for k in range(N):
                dst[k] = src[k]
    i, f, gg, o = g[:HN], g[HN:2 * HN], g[2 * HN:3 * HN], g[3 * HN:4 * HN]
    di, df, dgg, do = dg[:HN], dg[HN:2 * HN], dg[2 * HN:3 * HN], dg[3 * HN:4 * HN]
    for j in range(HN):
        dh[j] += dy[j]
    for j in range(HN):
        dc[j] += dh[j] * ((one - tc[j] * tc[j]) * o[j])
    for j in range(HN):
        di[j] = dc[j] * ((one - i[j]) * i[j] * gg[j])
    for j in range(HN):
        df[j] = dc[j] * ((one - f[j]) * f[j] * cp[j])
    for j in range(HN):
        dgg[j] = dc[j] * ((one - gg[j] * gg[j]) * i[j])
    for j in range(HN):
        do[j] = dh[j] * ((one - o[j]) * o[j] * tc[j])
    for j in range(HN):
        dc[j] *= f[j]


@njit(**_OPTS)
def exp(x: np.ndarray, out: np.ndarray) -> None:
    """out[:] = e^x (flat arrays): the kernels' exp, exposed for tests and curious readers."""
    for j in range(x.shape[0]):
        out[j] = _exp(x[j])


@njit(**_OPTS)
def gru_forward_step(g: np.ndarray, gh: np.ndarray, bh: np.ndarray, hp: np.ndarray, hn: np.ndarray,
                     h: np.ndarray, N: int, H: int, one: Any) -> None:
    """See :func:`glassnet.backend.kernels.gru_kernels`."""
    H3 = 3 * H
    for n in range(N):
        row, ghr = g[n * H3:n * H3 + H3], gh[n * H3:n * H3 + H3]
        rz, ghrz, brz = row[:2 * H], ghr[:2 * H], bh[:2 * H]
        for j in range(2 * H):                  # r, z: sigmoid (pre-activations negated)
            rz[j] = one / (one + _exp(rz[j] + (ghrz[j] + brz[j])))
        hnr, ghn, bn = hn[n * H:n * H + H], ghr[2 * H:H3], bh[2 * H:H3]
        for j in range(H):
            hnr[j] = ghn[j] + bn[j]
        r, nn = row[:H], row[2 * H:H3]
        for j in range(H):
            nn[j] = _tanh(nn[j] + r[j] * hnr[j])
        z, hpr, hr = row[H:2 * H], hp[n * H:n * H + H], h[n * H:n * H + H]
        for j in range(H):
            hr[j] = (hpr[j] - nn[j]) * z[j] + nn[j]


@njit(**_OPTS)
def gru_backward_step(dh: np.ndarray, tmp: np.ndarray, dy: np.ndarray, g: np.ndarray,
                      hp: np.ndarray, hn: np.ndarray, dgh: np.ndarray, dgn: np.ndarray, N: int,
                      H: int, one: Any) -> None:
    """See :func:`glassnet.backend.kernels.gru_kernels`."""
    H3 = 3 * H
    for j in range(N * H):
        dh[j] = (dh[j] + tmp[j]) + dy[j]
    for n in range(N):
        row, d = g[n * H3:n * H3 + H3], dgh[n * H3:n * H3 + H3]
        r, z, nn = row[:H], row[H:2 * H], row[2 * H:H3]
        dhr, dn, hpr, hnr = dh[n * H:n * H + H], dgn[n * H:n * H + H], hp[n * H:n * H + H], \
            hn[n * H:n * H + H]
        dr, dz, dgn_h = d[:H], d[H:2 * H], d[2 * H:H3]
        for j in range(H):
            dn[j] = dhr[j] * ((one - nn[j] * nn[j]) * (one - z[j]))
        for j in range(H):
            dgn_h[j] = dn[j] * r[j]
        for j in range(H):
            dr[j] = dn[j] * ((one - r[j]) * r[j] * hnr[j])
        for j in range(H):
            dz[j] = dhr[j] * ((hpr[j] - nn[j]) * z[j] * (one - z[j]))
        for j in range(H):
            dhr[j] = dhr[j] * z[j]


@njit(**_OPTS)
def add_rows_at(ids: np.ndarray, g: np.ndarray, out: np.ndarray, E: int) -> None:
    """out[ids[i]] += g[i] for every i, in order (flat C-ordered ``g`` (n, E), ``out``
    (V, E); ids in range, checked by the caller). Equal ids add up in the order they
    come, as a stable sort then a running sum would."""
    for i in range(ids.size):
        o = ids[i] * E
        row = g[i * E:i * E + E]
        dst = out[o:o + E]
        for e in range(E):
            dst[e] += row[e]


@njit(**_OPTS)
def relu_forward(z: np.ndarray, a: np.ndarray, m: np.ndarray, zero: Any) -> None:
    """a = max(z, 0) (NaN stays NaN, as np.maximum) and m = z > 0, in one pass (flat)."""
    for i in range(z.size):
        v = z[i]
        p = v > zero
        m[i] = p
        a[i] = v if p or v != v else zero


@njit(**_OPTS)
def relu_backward(g: np.ndarray, m: np.ndarray, out: np.ndarray, zero: Any) -> None:
    """out = g * m in one pass (flat): g where m, g * 0 elsewhere (so a NaN or inf gradient
    at a masked position stays NaN, as NumPy's g * mask gives)."""
    for i in range(g.size):
        v = g[i]
        out[i] = v if m[i] else v * zero
