"""ONNX converters of the layers of ``glassnet.nn`` (evaluation-mode semantics).

Every converter writes the operators that compute what the layer's forward computes, in the
same formula where glassnet's formula is not a single ONNX operator (softplus and its
threshold, the centered softplus, APL, Maxout, the adaptive pools' windows, ceil-mode max
pooling as -inf padding). Layers whose output cannot be expressed raise ExportError.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import nn
from ..functional import conv as C
from ..functional.activations import SELU_ALPHA, SELU_SCALE
from ..nn import functional as NF
from .converter import Exporter, converts
from .graph import Value

_LN2 = math.log(2.0)


def _data(p: Any) -> Any:
    """The array of a Parameter / buffer (None stays None)."""
    return None if p is None else np.asarray(p._data if hasattr(p, "_data") else p)


def _x(ex: Exporter, m: Any, path: str, x: Any) -> Value:
    return ex.tensor(x, m, path)


# ------------------------------------------------------------------ containers
@converts(nn.Sequential)
def _sequential(ex, m, path, x):
    for name, child in m._modules.items():
        x = ex.module(child, ex.child(path, name), x)
    return x


@converts(nn.Residual)
def _residual(ex, m, path, x):
    x = _x(ex, m, path, x)
    y = ex.tensor(ex.module(m.fn, ex.child(path, "fn"), x), m, path)
    s = x if m.projection is None else ex.tensor(
        ex.module(m.projection, ex.child(path, "projection"), x), m, path)
    if y.shape != s.shape:
        ex.fail(m, path, f"f(x) has shape {y.shape} but the shortcut {s.shape}")
    return ex.same(y, ex.binary("Add", y.name, s.name, path))


# ---------------------------------------------------------------------- linear
@converts(nn.Identity)
def _identity(ex, m, path, x):
    return x


@converts(nn.Linear, nn.DropConnectLinear)
def _linear(ex, m, path, x):
    x = _x(ex, m, path, x)
    if getattr(m, "active", False):
        ex.fail(m, path, "its DropConnect is on in evaluation mode (mc=True): each call "
                "samples new weights")
    if x.shape[-1] != m.in_features:
        ex.fail(m, path, f"expected input with last dimension {m.in_features}, got {x.shape}")
    return ex.linear(x, _data(m.weight), _data(m.bias), path)


@converts(nn.Flatten)
def _flatten(ex, m, path, x):
    x = _x(ex, m, path, x)
    n = max(x.rank, 1)
    s, e = m.start_dim % n, m.end_dim % n
    if s > e:
        ex.fail(m, path, "start_dim comes after end_dim")
    mid = x.shape[s:e + 1]
    merged = None if None in mid else int(np.prod(mid))
    return ex.reshape(x, x.shape[:s] + (merged,) + x.shape[e + 1:], path)


@converts(nn.Unflatten)
def _unflatten(ex, m, path, x):
    x = _x(ex, m, path, x)
    d = m.dim % x.rank
    if x.shape[d] is None:
        ex.fail(m, path, "it unflattens the batch axis")
    sizes = list(m.unflattened_size)
    if -1 in sizes:
        known = int(np.prod([s for s in sizes if s != -1]))
        sizes[sizes.index(-1)] = x.shape[d] // known
    return ex.reshape(x, x.shape[:d] + tuple(sizes) + x.shape[d + 1:], path)


# ----------------------------------------------------------------- activations
@converts(nn.Step)
def _step(ex, m, path, x):
    return ex.where_ge(_x(ex, m, path, x), m.threshold, m.high, m.low, path)


@converts(nn.Sign)
def _sign(ex, m, path, x):
    if not getattr(m, "three_valued", False):
        return ex.where_ge(_x(ex, m, path, x), m.threshold, 1.0, -1.0, path)
    x = _x(ex, m, path, x)                     # -1 below, 0 at, +1 above the threshold
    g, h = ex.g, ex.hint(path, "sign")
    above = g.op("Greater", [x.name, g.scalar(m.threshold)], h)
    below = g.op("Less", [x.name, g.scalar(m.threshold)], h)
    rest = g.op("Where", [below, g.scalar(-1.0), g.scalar(0.0)], h)
    return ex.same(x, g.op("Where", [above, g.scalar(1.0), rest], h))


def _simple(op_type, **attrs):
    def convert(ex, m, path, x):
        return ex.unary(op_type, _x(ex, m, path, x), path, **attrs)
    return convert


converts(nn.ReLU)(_simple("Relu"))
converts(nn.Sigmoid)(_simple("Sigmoid"))
converts(nn.Tanh)(_simple("Tanh"))
converts(nn.Softsign)(_simple("Softsign"))


@converts(nn.LeakyReLU)
def _leaky(ex, m, path, x):
    return ex.unary("LeakyRelu", _x(ex, m, path, x), path, alpha=m.negative_slope)


@converts(nn.RReLU)
def _rrelu(ex, m, path, x):
    # evaluation mode: the fixed slope (lower + upper) / 2
    return ex.unary("LeakyRelu", _x(ex, m, path, x), path, alpha=(m.lower + m.upper) / 2)


@converts(nn.PReLU)
def _prelu(ex, m, path, x):
    x = _x(ex, m, path, x)
    w = _data(m.weight)
    if w.size == 1:
        slope = ex.g.const(w.reshape(1), ex.hint(path, "slope"))
    else:
        if x.rank < 2 and x.shape[0] != w.size or x.rank >= 2 and x.shape[1] != w.size:
            ex.fail(m, path, f"{w.size} slopes for input of shape {x.shape}")
        slope = ex.channel_param(x, w, path, "slope")
    return ex.same(x, ex.g.op("PRelu", [x.name, slope], ex.hint(path, "prelu")))


@converts(nn.ELU)
def _elu(ex, m, path, x):
    return ex.unary("Elu", _x(ex, m, path, x), path, alpha=m.alpha)


@converts(nn.SELU)
def _selu(ex, m, path, x):
    return ex.unary("Selu", _x(ex, m, path, x), path, alpha=SELU_ALPHA, gamma=SELU_SCALE)


@converts(nn.CELU)
def _celu(ex, m, path, x):
    return ex.unary("Celu", _x(ex, m, path, x), path, alpha=m.alpha)


@converts(nn.Softplus)
def _softplus(ex, m, path, x):
    x = _x(ex, m, path, x)
    y = ex.softplus(x, path, m.beta, m.threshold)
    if m.centered:
        y = ex.binary("Sub", y, ex.g.scalar(_LN2 / m.beta), path)
    return ex.same(x, y)


@converts(nn.LogSigmoid)
def _logsigmoid(ex, m, path, x):
    x = _x(ex, m, path, x)
    neg = ex.same(x, ex.g.op("Neg", [x.name], ex.hint(path, "neg")))
    return ex.same(x, ex.g.op("Neg", [ex.softplus(neg, path, 1.0, 20.0)],
                              ex.hint(path, "neg")))


@converts(nn.GELU)
def _gelu(ex, m, path, x):
    x = _x(ex, m, path, x)
    g, h = ex.g, ex.hint(path, "gelu")
    if m.approximate == "tanh":
        cube = g.op("Mul", [g.op("Mul", [x.name, x.name], h), x.name], h)
        inner = g.op("Add", [x.name, g.op("Mul", [cube, g.scalar(0.044715)], h)], h)
        t = g.op("Tanh", [g.op("Mul", [inner, g.scalar(math.sqrt(2.0 / math.pi))], h)], h)
        y = g.op("Mul", [g.op("Mul", [x.name, g.scalar(0.5)], h),
                         g.op("Add", [t, g.scalar(1.0)], h)], h)
    elif m.approximate == "none":
        erf = g.op("Erf", [g.op("Mul", [x.name, g.scalar(1.0 / math.sqrt(2.0))], h)], h)
        cdf = g.op("Mul", [g.op("Add", [erf, g.scalar(1.0)], h), g.scalar(0.5)], h)
        y = g.op("Mul", [x.name, cdf], h)
    else:
        ex.fail(m, path, f"approximate={m.approximate!r} is not 'none' or 'tanh'")
    return ex.same(x, y)


@converts(nn.SiLU)
def _silu(ex, m, path, x):
    x = _x(ex, m, path, x)
    s = ex.g.op("Sigmoid", [x.name], ex.hint(path, "sigmoid"))
    return ex.same(x, ex.binary("Mul", x.name, s, path))


@converts(nn.Mish)
def _mish(ex, m, path, x):
    x = _x(ex, m, path, x)
    t = ex.g.op("Tanh", [ex.softplus(x, path, 1.0, float("inf"))], ex.hint(path, "tanh"))
    return ex.same(x, ex.binary("Mul", x.name, t, path))


@converts(nn.Hardswish)
def _hardswish(ex, m, path, x):
    return ex.unary("HardSwish", _x(ex, m, path, x), path)


@converts(nn.Hardsigmoid)
def _hardsigmoid(ex, m, path, x):
    return ex.unary("HardSigmoid", _x(ex, m, path, x), path, alpha=1.0 / 6.0, beta=0.5)


def _clip(ex, x, lo, hi, path):
    return ex.same(x, ex.g.op("Clip", [x.name, ex.g.scalar(lo), ex.g.scalar(hi)],
                              ex.hint(path, "clip")))


@converts(nn.ReLU6)
def _relu6(ex, m, path, x):
    return _clip(ex, _x(ex, m, path, x), 0.0, 6.0, path)


@converts(nn.Hardtanh)
def _hardtanh(ex, m, path, x):
    return _clip(ex, _x(ex, m, path, x), m.min_val, m.max_val, path)


@converts(nn.Threshold)
def _threshold(ex, m, path, x):
    x = _x(ex, m, path, x)
    g, h = ex.g, ex.hint(path, "threshold")
    keep = g.op("Greater", [x.name, g.scalar(m.threshold)], h)
    return ex.same(x, g.op("Where", [keep, x.name, g.scalar(m.value)], h))


@converts(nn.GLU)
def _glu(ex, m, path, x):
    x = _x(ex, m, path, x)
    d = m.dim % x.rank
    n = x.shape[d]
    if n is None or n % 2:
        ex.fail(m, path, f"cannot halve axis {m.dim} of shape {x.shape}")
    a = ex.slice(x, d, 0, n // 2, path)
    b = ex.slice(x, d, n // 2, n, path)
    s = ex.g.op("Sigmoid", [b.name], ex.hint(path, "sigmoid"))
    return ex.same(a, ex.binary("Mul", a.name, s, path))


def _softmax_axis(ex, m, path, x):
    if m.dim is None:     # PyTorch's implicit choice, as glassnet makes it
        return 0 if x.rank in (0, 1, 3) else 1
    return m.dim % max(x.rank, 1)


@converts(nn.Softmax)
def _softmax(ex, m, path, x):
    x = _x(ex, m, path, x)
    return ex.unary("Softmax", x, path, axis=_softmax_axis(ex, m, path, x))


@converts(nn.LogSoftmax)
def _log_softmax(ex, m, path, x):
    x = _x(ex, m, path, x)
    return ex.unary("LogSoftmax", x, path, axis=_softmax_axis(ex, m, path, x))


@converts(nn.Softmin)
def _softmin(ex, m, path, x):
    x = _x(ex, m, path, x)
    neg = ex.same(x, ex.g.op("Neg", [x.name], ex.hint(path, "neg")))
    return ex.unary("Softmax", neg, path, axis=_softmax_axis(ex, m, path, x))


@converts(nn.Maxout)
def _maxout(ex, m, path, x):
    x = _x(ex, m, path, x)
    if x.shape[-1] != m.in_features:
        ex.fail(m, path, f"expected input with last dimension {m.in_features}, got {x.shape}")
    y = ex.linear(x, _data(m.weight), _data(m.bias), path)
    y = ex.reshape(y, x.shape[:-1] + (m.out_features, m.pieces), path)
    name = ex.g.reduce("ReduceMax", y.name, [y.rank - 1], False, ex.hint(path, "max"))
    return Value(name, x.shape[:-1] + (m.out_features,), x.dtype)


@converts(nn.APL)
def _apl(ex, m, path, x):
    x = _x(ex, m, path, x)
    if x.rank < 2 or x.shape[1] != m.num_features:
        ex.fail(m, path, f"expected {m.num_features} features on axis 1, got {x.shape}")
    g, h = ex.g, ex.hint(path, "apl")
    a, b = _data(m.a), _data(m.b)
    out = g.op("Relu", [x.name], h)
    for s in range(a.shape[0]):     # h(x) = max(0, x) + sum_s a_s max(0, b_s - x)
        hinge = g.op("Relu", [g.op("Sub", [ex.channel_param(x, b[s], path, f"b{s}"), x.name],
                                   h)], h)
        out = g.op("Add", [out, g.op("Mul", [ex.channel_param(x, a[s], path, f"a{s}"), hinge],
                                     h)], h)
    return ex.same(x, out)


# ------------------------------------------------------------ dropout, no-ops
@converts(nn.Dropout, nn.Dropout1d, nn.Dropout2d)
def _dropout(ex, m, path, x):
    if m.active:
        ex.fail(m, path, "Monte-Carlo dropout is on (mc=True): it samples in evaluation mode")
    return x


@converts(nn.ActivityRegularization)
def _activity(ex, m, path, x):
    return x          # the identity; its penalty is a training-time side effect


# --------------------------------------------------------------- convolutions
def _conv(ex, m, path, x, weight, bias, strides, dilations, pads, spatial):
    x = _x(ex, m, path, x)
    groups = int(getattr(m, "groups", 1))
    if x.rank != spatial + 2:
        ex.fail(m, path, f"expected {spatial + 2}-D input (N, C, ...), got shape {x.shape}")
    if x.shape[1] != weight.shape[1] * groups:
        ex.fail(m, path, f"expected {weight.shape[1] * groups} input channels, got shape "
                         f"{x.shape}")
    ins = [x.name, ex.g.const(weight, ex.hint(path, "weight"))]
    if bias is not None:
        ins.append(ex.g.const(bias, ex.hint(path, "bias")))
    k = weight.shape[2:]
    # glassnet's pads are (lo, hi) per axis; ONNX lists every begin, then every end
    onnx_pads = [p[0] for p in pads] + [p[1] for p in pads]
    name = ex.g.op("Conv", ins, ex.hint(path, "conv"), kernel_shape=list(k),
                   strides=list(strides), dilations=list(dilations), pads=onnx_pads,
                   group=groups)
    out = [
        (n + lo + hi - d * (kk - 1) - 1) // s + 1
        for n, kk, s, d, (lo, hi) in zip(x.shape[2:], k, strides, dilations, pads)]
    return Value(name, (x.shape[0], weight.shape[0]) + tuple(out), x.dtype)


@converts(nn.Conv2d)
def _conv2d(ex, m, path, x):
    pt, pb, pl, pr = m._pads
    return _conv(ex, m, path, x, _data(m.weight), _data(m.bias), m.stride, m.dilation,
                 [(pt, pb), (pl, pr)], 2)


@converts(nn.Conv1d)
def _conv1d(ex, m, path, x):
    lo, hi = m._pads
    return _conv(ex, m, path, x, _data(m.weight), _data(m.bias), (m.stride,), (m.dilation,),
                 [(lo, hi)], 1)


@converts(nn.FixedConv2d)
def _fixed_conv(ex, m, path, x):
    w = _data(m.weight)
    pt, pb, pl, pr = C.resolve_padding(m.padding, w.shape[2:], (1, 1), m.stride,
                                       "FixedConv2d")
    return _conv(ex, m, path, x, w, None, m.stride, (1, 1), [(pt, pb), (pl, pr)], 2)


# -------------------------------------------------------------------- pooling
def _pool_shape(x, k, s, pads):
    return tuple(x.shape[:2]) + tuple((n + lo + hi - kk) // ss + 1 for n, kk, ss, (lo, hi)
                                      in zip(x.shape[2:], k, s, pads))


def _pool_node(ex, m, path, x, op_type, k, s, p, spatial, **attrs):
    x = _x(ex, m, path, x)
    if x.rank != spatial + 2:
        ex.fail(m, path, f"expected {spatial + 2}-D input (N, C, ...), got shape {x.shape}")
    pads = [(pp, pp) for pp in p]
    name = ex.g.op(op_type, [x.name], ex.hint(path, op_type.lower()), kernel_shape=list(k),
                   strides=list(s), pads=[pp for pp in p] * 2, **attrs)
    return Value(name, _pool_shape(x, k, s, pads), x.dtype)


def _ceil_max(ex, m, path, x, k, s, p):
    """glassnet's ceil_mode: -inf padding on the far side so the extra window fits (a last
    window must start inside the input or its left padding), then pooling without padding."""
    x = _x(ex, m, path, x)
    n = len(k)
    pads = []
    for d in range(n):
        size = x.shape[2 + d]
        out = -(-(size + 2 * p[d] - k[d]) // s[d]) + 1
        if (out - 1) * s[d] >= size + p[d]:
            out -= 1
        extra = max((out - 1) * s[d] + k[d] - (size + 2 * p[d]), 0)
        pads.append((p[d], p[d] + extra))
    onnx_pads = [0, 0] + [a for a, _ in pads] + [0, 0] + [b for _, b in pads]
    g, h = ex.g, ex.hint(path, "ceil_pad")
    padded = g.op("Pad", [x.name, g.ints(onnx_pads), g.scalar(-np.inf)], h, mode="constant")
    xp = Value(padded, tuple(x.shape[:2]) + tuple(sz + a + b for sz, (a, b)
                                                   in zip(x.shape[2:], pads)), x.dtype)
    return _pool_node(ex, m, path, xp, "MaxPool", k, s, (0,) * n, n)


@converts(nn.MaxPool2d)
def _maxpool2d(ex, m, path, x):
    if m.ceil_mode:
        return _ceil_max(ex, m, path, x, m.kernel_size, m.stride, m.padding)
    return _pool_node(ex, m, path, x, "MaxPool", m.kernel_size, m.stride, m.padding, 2)


@converts(nn.AvgPool2d)
def _avgpool2d(ex, m, path, x):
    y = _pool_node(ex, m, path, x, "AveragePool", m.kernel_size, m.stride, m.padding, 2,
              count_include_pad=int(m.count_include_pad))
    if m.divisor_override is not None:
        k = m.kernel_size
        y = ex.same(y, ex.binary("Mul", y.name, ex.g.scalar(float(k[0] * k[1]) /
                                                            float(m.divisor_override)), path))
    return y


@converts(nn.MaxPool1d)
def _maxpool1d(ex, m, path, x):
    return _pool_node(ex, m, path, x, "MaxPool", (m.kernel_size,), (m.stride,), (m.padding,), 1)


@converts(nn.AvgPool1d)
def _avgpool1d(ex, m, path, x):
    return _pool_node(ex, m, path, x, "AveragePool", (m.kernel_size,), (m.stride,), (m.padding,),
                 1, count_include_pad=1)


@converts(nn.MaxAvgPool2d)
def _maxavg(ex, m, path, x):
    a = _pool_node(ex, m, path, x, "MaxPool", m.kernel_size, m.stride, m.padding, 2)
    b = _pool_node(ex, m, path, x, "AveragePool", m.kernel_size, m.stride, m.padding, 2,
              count_include_pad=1)
    g, h = ex.g, ex.hint(path, "mix")
    wa, wb = (1.0, 1.0) if m.alpha is None else (m.alpha, 1.0 - m.alpha)   # max + mean, or the mix
    y = g.op("Add", [g.op("Mul", [a.name, g.scalar(wa)], h),
                     g.op("Mul", [b.name, g.scalar(wb)], h)], h)
    return ex.same(a, y)


@converts(nn.LPPool2d)
def _lppool(ex, m, path, x):
    x = _x(ex, m, path, x)
    g, h = ex.g, ex.hint(path, "lppool")
    p = m.norm_type
    k = m.kernel_size
    powed = ex.same(x, g.op("Pow", [x.name, g.scalar(p)], h))
    avg = _pool_node(ex, m, path, powed, "AveragePool", k, m.stride, (0, 0), 2)
    summed = g.op("Mul", [avg.name, g.scalar(float(k[0] * k[1]))], h)
    return ex.same(avg, g.op("Pow", [summed, g.scalar(1.0 / p)], h))


@converts(nn.StochasticPool2d)
def _stochastic(ex, m, path, x):
    # evaluation mode: sum a^2 / sum a over each window (0 for a window of zeros)
    x = _x(ex, m, path, x)
    g, h = ex.g, ex.hint(path, "stochastic")
    s1 = _pool_node(ex, m, path, x, "AveragePool", m.kernel_size, m.stride, (0, 0), 2)
    sq = ex.same(x, g.op("Mul", [x.name, x.name], h))
    s2 = _pool_node(ex, m, path, sq, "AveragePool", m.kernel_size, m.stride, (0, 0), 2)
    k = float(m.kernel_size[0] * m.kernel_size[1])
    s1n = g.op("Mul", [s1.name, g.scalar(k)], h)
    s2n = g.op("Mul", [s2.name, g.scalar(k)], h)
    pos = g.op("Greater", [s1n, g.scalar(0.0)], h)
    safe = g.op("Where", [pos, s1n, g.scalar(1.0)], h)
    return ex.same(s1, g.op("Where", [pos, g.op("Div", [s2n, safe], h), g.scalar(0.0)], h))


@converts(nn.GlobalAvgPool2d)
def _global_avg(ex, m, path, x):
    x = _x(ex, m, path, x)
    if x.rank != 4:
        ex.fail(m, path, f"expected (N, C, H, W), got {x.shape}")
    y = Value(ex.g.op("GlobalAveragePool", [x.name], ex.hint(path, "gap")),
              x.shape[:2] + (1, 1), x.dtype)
    return ex.reshape(y, x.shape[:2], path) if m.flatten else y


def _adaptive_sizes(m, x, spatial):
    o = m.output_size
    o = (o,) * spatial if o is None or isinstance(o, (int, np.integer)) else tuple(o)
    return tuple(int(i) if a is None else int(a) for a, i in zip(o, x.shape[2:]))


@converts(nn.AdaptiveAvgPool2d, nn.AdaptiveAvgPool1d)
def _adaptive_avg(ex, m, path, x):
    x = _x(ex, m, path, x)
    spatial = m._spatial
    if x.rank != spatial + 2:
        ex.fail(m, path, f"expected {spatial + 2}-D input (N, C, ...), got {x.shape}")
    return _average_to(ex, x, _adaptive_sizes(m, x, spatial), path)


def _average_to(ex, x, out, path):
    """Adaptive average pooling of the spatial axes of x to the sizes ``out``: the same
    averaging matrices glassnet applies (PyTorch's windows), one axis at a time."""
    y = x
    for k, n_out in enumerate(out):
        axis = 2 + k
        n_in = x.shape[axis]
        if n_in == n_out:
            continue
        A = NF._avg_matrix(n_in, n_out, np.float64).astype(x.dtype)
        if axis == y.rank - 1:        # (..., W) @ A^T
            name = ex.g.op("MatMul", [y.name, ex.g.const(np.ascontiguousarray(A.T),
                                                         ex.hint(path, "avg"))],
                           ex.hint(path, "matmul"))
        elif axis == y.rank - 2:      # A @ (..., H, W)
            name = ex.g.op("MatMul", [ex.g.const(A, ex.hint(path, "avg")), y.name],
                           ex.hint(path, "matmul"))
        else:                         # move the axis last, apply, move it back
            perm = [a for a in range(y.rank) if a != axis] + [axis]
            t = ex.transpose(y, perm, path)
            name = ex.g.op("MatMul", [t.name, ex.g.const(np.ascontiguousarray(A.T),
                                                         ex.hint(path, "avg"))],
                           ex.hint(path, "matmul"))
            back = [int(a) for a in np.argsort(perm)]
            name = ex.g.op("Transpose", [name], ex.hint(path, "transpose"), perm=back)
        shape = list(y.shape)
        shape[axis] = n_out
        y = Value(name, tuple(shape), x.dtype)
    return y


@converts(nn.AdaptiveMaxPool2d, nn.AdaptiveMaxPool1d)
def _adaptive_max(ex, m, path, x):
    x = _x(ex, m, path, x)
    if m.return_indices:
        ex.fail(m, path, "return_indices=True returns indices, which are not exported")
    spatial = m._spatial
    if x.rank != spatial + 2:
        ex.fail(m, path, f"expected {spatial + 2}-D input (N, C, ...), got {x.shape}")
    out = _adaptive_sizes(m, x, spatial)
    y = x
    for k in reversed(range(spatial)):
        axis = 2 + k
        start, end = NF._windows(x.shape[axis], out[k])
        parts = []
        for a, b in zip(start.tolist(), end.tolist()):
            piece = ex.slice(y, axis, a, b, path)
            name = ex.g.reduce("ReduceMax", piece.name, [axis], True, ex.hint(path, "max"))
            shape = list(piece.shape)
            shape[axis] = 1
            parts.append(Value(name, tuple(shape), x.dtype))
        y = parts[0] if len(parts) == 1 else ex.concat(parts, axis, path)
    return y


# -------------------------------------------------------------- normalization
def _bn_running(ex, m, path, x, weight, bias, mean, var, eps):
    C_ = mean.shape[0]
    w = np.ones(C_, x.dtype) if weight is None else weight
    b = np.zeros(C_, x.dtype) if bias is None else bias
    g = ex.g
    ins = [x.name, g.const(w, ex.hint(path, "scale")), g.const(b, ex.hint(path, "bias")),
           g.const(mean, ex.hint(path, "running_mean")),
           g.const(var, ex.hint(path, "running_var"))]
    return ex.same(x, g.op("BatchNormalization", ins, ex.hint(path, "batchnorm"),
                           epsilon=float(eps)))


def _normalize(ex, x, axes, eps, path):
    """(x - mean) / sqrt(var + eps) over ``axes`` (biased variance), as written out."""
    g, h = ex.g, ex.hint(path, "norm")
    mean = g.reduce("ReduceMean", x.name, axes, True, h)
    d = g.op("Sub", [x.name, mean], h)
    var = g.reduce("ReduceMean", g.op("Mul", [d, d], h), axes, True, h)
    return g.op("Div", [d, g.op("Sqrt", [g.op("Add", [var, g.scalar(eps)], h)], h)], h)


def _affine(ex, x, y, weight, bias, path):
    g = ex.g
    if weight is not None:
        y = g.op("Mul", [y, ex.channel_param(x, weight, path, "weight")], ex.hint(path, "mul"))
    if bias is not None:
        y = g.op("Add", [y, ex.channel_param(x, bias, path, "bias")], ex.hint(path, "add"))
    return ex.same(x, y)


@converts(nn.BatchNorm1d, nn.BatchNorm2d)
def _batchnorm(ex, m, path, x):
    x = _x(ex, m, path, x)
    if x.rank not in m._ndims or x.shape[1] != m.num_features:
        ex.fail(m, path, f"expected input {m._want} with C = {m.num_features}, got {x.shape}")
    if m.track_running_stats:
        return _bn_running(ex, m, path, x, _data(m.weight), _data(m.bias),
                           _data(m.running_mean), _data(m.running_var), m.eps)
    # no running statistics: glassnet normalises with the batch's own, in eval mode too
    axes = [0] + list(range(2, x.rank))
    return _affine(ex, x, _normalize(ex, x, axes, m.eps, path), _data(m.weight),
                   _data(m.bias), path)


@converts(nn.LayerNorm)
def _layernorm(ex, m, path, x):
    x = _x(ex, m, path, x)
    n = len(m.normalized_shape)
    if tuple(x.shape[-n:]) != tuple(m.normalized_shape):
        ex.fail(m, path, f"input {x.shape} does not end with {m.normalized_shape}")
    shape = tuple(m.normalized_shape)
    w = np.ones(shape, x.dtype) if m.weight is None else _data(m.weight)
    ins = [x.name, ex.g.const(w, ex.hint(path, "weight"))]
    if m.bias is not None:
        ins.append(ex.g.const(_data(m.bias), ex.hint(path, "bias")))
    return ex.same(x, ex.g.op("LayerNormalization", ins, ex.hint(path, "layernorm"),
                              axis=-n, epsilon=float(m.eps)))


@converts(nn.GroupNorm)
def _groupnorm(ex, m, path, x):
    x = _x(ex, m, path, x)
    if x.rank < 2 or x.shape[1] != m.num_channels:
        ex.fail(m, path, f"expected {m.num_channels} channels on axis 1, got {x.shape}")
    grouped = ex.reshape(x, (x.shape[0], m.num_groups,
                             int(np.prod(x.shape[1:])) // m.num_groups), path)
    y = ex.reshape(ex.same(grouped, _normalize(ex, grouped, [2], m.eps, path)), x.shape, path)
    return _affine(ex, x, y.name, _data(m.weight), _data(m.bias), path)


@converts(nn.InstanceNorm1d, nn.InstanceNorm2d)
def _instancenorm(ex, m, path, x):
    x = _x(ex, m, path, x)
    if x.rank != m._spatial + 2:
        ex.fail(m, path, f"expected batched {m._spatial + 2}-D input, got {x.shape}")
    if m.track_running_stats:      # evaluation mode with running statistics
        return _bn_running(ex, m, path, x, _data(m.weight), _data(m.bias),
                           _data(m.running_mean), _data(m.running_var), m.eps)
    y = _normalize(ex, x, list(range(2, x.rank)), m.eps, path)
    return _affine(ex, x, y, _data(m.weight), _data(m.bias), path)


# ------------------------------------------------------------------ embedding
@converts(nn.Embedding)
def _embedding(ex, m, path, x):
    x = _x(ex, m, path, x)
    if np.dtype(x.dtype).kind not in "iu":
        ex.fail(m, path, f"expects integer ids, got an input of dtype {np.dtype(x.dtype)}")
    if m.max_norm is not None:
        ex.fail(m, path, "max_norm renormalises the table's rows in place on each lookup")
    w = _data(m.weight)
    name = ex.g.op("Gather", [ex.g.const(w, ex.hint(path, "weight")), x.name],
                   ex.hint(path, "gather"), axis=0)
    return Value(name, tuple(x.shape) + (w.shape[1],), w.dtype)


# --------------------------------------------------------------- upsampling
@converts(nn.Upsample, nn.UpsamplingNearest2d, nn.UpsamplingBilinear2d)
def _upsample(ex, m, path, x):
    x = _x(ex, m, path, x)
    spatial = x.rank - 2
    if spatial < 1:
        ex.fail(m, path, f"expected (N, C, ...) input, got {x.shape}")
    mode = m.mode
    if mode == "area":             # adaptive average pooling to the output size
        return _average_to(ex, x, _resize_sizes(ex, m, path, x, spatial), path)
    want = {1: "linear", 2: "bilinear", 3: "trilinear"}[min(spatial, 3)]
    if mode in ("linear", "bilinear", "trilinear") and mode != want:
        ex.fail(m, path, f"mode={mode!r} on {spatial}-D data")
    if mode in ("nearest", "nearest-exact"):
        attrs = dict(mode="nearest",
                     coordinate_transformation_mode="asymmetric" if mode == "nearest"
                     else "half_pixel",
                     nearest_mode="floor" if mode == "nearest" else "round_prefer_ceil")
    else:
        attrs = dict(mode="linear", coordinate_transformation_mode="align_corners"
                     if m.align_corners else "pytorch_half_pixel")
    sizes = _resize_sizes(ex, m, path, x, spatial)
    g, h = ex.g, ex.hint(path, "resize")
    if m.scale_factor is not None and not m.recompute_scale_factor:
        f = m.scale_factor if isinstance(m.scale_factor, tuple) else (m.scale_factor,) * spatial
        scales = g.const(np.asarray((1.0, 1.0) + tuple(f), np.float32), h, np.float32)
        name = g.op("Resize", [x.name, "", scales], h, **attrs)
    else:
        lead = g.op("Slice", [g.op("Shape", [x.name], h), g.ints([0]), g.ints([2]),
                              g.ints([0])], h)
        full = g.op("Concat", [lead, g.ints(sizes)], h, axis=0)
        name = g.op("Resize", [x.name, "", "", full], h, **attrs)
    return Value(name, tuple(x.shape[:2]) + tuple(sizes), x.dtype)


def _resize_sizes(ex, m, path, x, spatial):
    if m.size is not None:
        s = m.size if isinstance(m.size, tuple) else (m.size,) * spatial
        return tuple(int(v) for v in s)
    f = m.scale_factor if isinstance(m.scale_factor, tuple) else (m.scale_factor,) * spatial
    return tuple(int(math.floor(n * float(ff))) for n, ff in zip(x.shape[2:], f))


@converts(nn.PixelShuffle)
def _pixel_shuffle(ex, m, path, x):
    x = _x(ex, m, path, x)
    r = m.upscale_factor
    if x.rank != 4 or x.shape[1] % (r * r):
        ex.fail(m, path, f"expected (N, C*r^2, H, W) with r={r}, got {x.shape}")
    name = ex.g.op("DepthToSpace", [x.name], ex.hint(path, "pixel_shuffle"), blocksize=r,
                   mode="CRD")
    return Value(name, (x.shape[0], x.shape[1] // (r * r), x.shape[2] * r, x.shape[3] * r),
                 x.dtype)


# ---------------------------------------------------------------------- padding
_PAD_MODES = {"constant": "constant", "reflect": "reflect", "replicate": "edge"}


@converts(nn.ZeroPad1d, nn.ZeroPad2d, nn.ConstantPad1d, nn.ConstantPad2d,
          nn.ReflectionPad1d, nn.ReflectionPad2d, nn.ReplicationPad1d, nn.ReplicationPad2d)
def _pad(ex, m, path, x):
    x = _x(ex, m, path, x)
    n = len(m.padding) // 2
    if n > x.rank:
        ex.fail(m, path, f"{len(m.padding)} pads for input of shape {x.shape}")
    begin, end = [0] * x.rank, [0] * x.rank
    for k in range(n):      # (left, right) of the last axis first, as PyTorch
        begin[x.rank - 1 - k], end[x.rank - 1 - k] = m.padding[2 * k], m.padding[2 * k + 1]
    for k in range(x.rank):
        if (begin[k] or end[k]) and (x.shape[k] is None or m._mode == "reflect"
                                     and max(begin[k], end[k]) >= x.shape[k]):
            ex.fail(m, path, f"pads ({begin[k]}, {end[k]}) on axis {k} of shape {x.shape} "
                    f"(the batch axis, or a reflection wider than the axis)")
    g = ex.g
    ins = [x.name, g.ints(begin + end)]
    if m._mode == "constant":
        ins.append(g.scalar(m.value))
    name = g.op("Pad", ins, ex.hint(path, "pad"), mode=_PAD_MODES[m._mode])
    shape = tuple(None if s is None else s + b + e for s, b, e in zip(x.shape, begin, end))
    return Value(name, shape, x.dtype)


# ------------------------------------------------------------------- recurrent
_ORDER = {"LSTM": [0, 3, 1, 2],    # PyTorch i, f, g, o  ->  ONNX i, o, f, c
          "GRU": [1, 0, 2],        # PyTorch r, z, n     ->  ONNX z, r, h
          "RNN": [0]}


def _gates(w: np.ndarray, mode: str, H: int) -> np.ndarray:
    blocks = [w[i * H:(i + 1) * H] for i in range(w.shape[0] // H)]
    return np.concatenate([blocks[i] for i in _ORDER[mode]], axis=0)


def recurrent(ex: Exporter, m: Any, path: str, x: Value) -> tuple:
    """Run every layer and direction of an RNN / LSTM / GRU over time-major x (T, N, I);
    returns (y (T, N, D*H), h_n (L*D, N, H), c_n or None)."""
    g = ex.g
    mode, H, D = m.mode, m.hidden_size, m.num_directions
    hs, cs = [], []
    inp = x
    for layer in range(m.num_layers):
        W, R, B = [], [], []
        for d in range(D):
            w_ih, w_hh, b_ih, b_hh = (_data(t) for t in m._weights(layer, d))
            W.append(_gates(w_ih, mode, H))
            R.append(_gates(w_hh, mode, H))
            if b_ih is None:
                b_ih = np.zeros(w_ih.shape[0], w_ih.dtype)
                b_hh = np.zeros(w_ih.shape[0], w_ih.dtype)
            B.append(np.concatenate([_gates(b_ih, mode, H), _gates(b_hh, mode, H)]))
        h = ex.hint(path, f"l{layer}")
        ins = [inp.name, g.const(np.stack(W), f"{h}/W"), g.const(np.stack(R), f"{h}/R"),
               g.const(np.stack(B), f"{h}/B")]
        attrs = dict(hidden_size=H, direction="bidirectional" if D == 2 else "forward")
        if mode == "GRU":
            attrs["linear_before_reset"] = 1      # PyTorch's n = tanh(.. + r * (W_hn h + b_hn))
        if mode == "RNN":
            attrs["activations"] = ["Relu" if m.nonlinearity == "relu" else "Tanh"] * D
        n_out = 3 if mode == "LSTM" else 2
        outs = g.op(mode, ins, h, outputs=n_out, **attrs)
        T, N = inp.shape[0], inp.shape[1]
        y = Value(outs[0], (T, D, N, H), inp.dtype)                    # (T, D, N, H)
        y = ex.transpose(y, [0, 2, 1, 3], h)
        inp = ex.reshape(y, (T, N, D * H), h)
        hs.append(outs[1])
        if mode == "LSTM":
            cs.append(outs[2])
    N = x.shape[1]
    shape = (m.num_layers * D, N, H)
    h_n = Value(hs[0] if len(hs) == 1 else g.op("Concat", hs, ex.hint(path, "h_n"), axis=0),
                shape, x.dtype)
    c_n = None
    if cs:
        c_n = Value(cs[0] if len(cs) == 1 else g.op("Concat", cs, ex.hint(path, "c_n"),
                                                     axis=0), shape, x.dtype)
    return inp, h_n, c_n


@converts(nn.RNN, nn.LSTM, nn.GRU)
def _rnn(ex, m, path, x):
    x = _x(ex, m, path, x)
    if np.dtype(x.dtype).kind != "f":
        ex.fail(m, path, "its input must be floating point (use nn.Embedding for token ids)")
    if x.rank != 3 or x.shape[-1] != m.input_size:
        ex.fail(m, path, f"expected batched input ({'N, T' if m.batch_first else 'T, N'}, "
                f"{m.input_size}) (unbatched sequences have no batch axis), got {x.shape}")
    if m.batch_first:
        x = ex.transpose(x, [1, 0, 2], path)
    y, h_n, c_n = recurrent(ex, m, path, x)
    if m.batch_first:
        y = ex.transpose(y, [1, 0, 2], path)
    return (y, (h_n, c_n)) if m.mode == "LSTM" else (y, h_n)


def _cell_gates(ex, m, path, x):
    x = _x(ex, m, path, x)
    if x.rank != 2 or x.shape[1] != m.input_size:
        ex.fail(m, path, f"expected batched input (N, {m.input_size}), got {x.shape}")
    b = None
    if m.bias_ih is not None:
        b = _data(m.bias_ih) + _data(m.bias_hh)
    return x, ex.linear(x, _data(m.weight_ih), b, path)


@converts(nn.RNNCell)
def _rnn_cell(ex, m, path, x):
    # called with x alone: h = 0, so h' = act(x W_ih^T + b_ih + b_hh)
    x, z = _cell_gates(ex, m, path, x)
    return ex.unary("Relu" if m.nonlinearity == "relu" else "Tanh", z, path)


@converts(nn.LSTMCell)
def _lstm_cell(ex, m, path, x):
    # h = c = 0: c' = i * g, h' = o * tanh(c') (the forget gate multiplies c = 0)
    x, z = _cell_gates(ex, m, path, x)
    H = m.hidden_size
    g, hh = ex.g, ex.hint(path, "lstm")
    i = g.op("Sigmoid", [ex.slice(z, 1, 0, H, path).name], hh)
    gg = g.op("Tanh", [ex.slice(z, 1, 2 * H, 3 * H, path).name], hh)
    o = g.op("Sigmoid", [ex.slice(z, 1, 3 * H, 4 * H, path).name], hh)
    c = g.op("Mul", [i, gg], hh)
    h = g.op("Mul", [o, g.op("Tanh", [c], hh)], hh)
    shape = (x.shape[0], H)
    return Value(h, shape, x.dtype), Value(c, shape, x.dtype)


@converts(nn.GRUCell)
def _gru_cell(ex, m, path, x):
    # h = 0: r, z = sigmoid(x W^T + b_i + b_h), n = tanh(x W_n^T + b_in + r * b_hn),
    # h' = (1 - z) * n
    x = _x(ex, m, path, x)
    if x.rank != 2 or x.shape[1] != m.input_size:
        ex.fail(m, path, f"expected batched input (N, {m.input_size}), got {x.shape}")
    H = m.hidden_size
    W = _data(m.weight_ih)
    b_ih = _data(m.bias_ih) if m.bias_ih is not None else np.zeros(3 * H, W.dtype)
    b_hh = _data(m.bias_hh) if m.bias_hh is not None else np.zeros(3 * H, W.dtype)
    g, hh = ex.g, ex.hint(path, "gru")
    rz = ex.linear(x, W[:2 * H], b_ih[:2 * H] + b_hh[:2 * H], path)
    r = g.op("Sigmoid", [ex.slice(rz, 1, 0, H, path).name], hh)
    z = g.op("Sigmoid", [ex.slice(rz, 1, H, 2 * H, path).name], hh)
    xn = ex.linear(x, W[2 * H:], b_ih[2 * H:], path)
    n = g.op("Tanh", [g.op("Add", [xn.name, g.op("Mul", [r, g.const(b_hh[2 * H:],
                                                                    f"{hh}/b_hn")], hh)],
                           hh)], hh)
    h = g.op("Mul", [g.op("Sub", [g.scalar(1.0), z], hh), n], hh)
    return Value(h, (x.shape[0], H), x.dtype)
