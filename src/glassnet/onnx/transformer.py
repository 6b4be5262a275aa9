"""ONNX converters of the attention and Transformer layers that take one input, of the
transposed convolution, and the refusals of the modules whose forward cannot be one graph
of one input (their reasons are in the messages)."""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import models as M
from .. import nn
from .converter import Exporter, converts
from .graph import Value
from .layers import _data, _x


# --------------------------------------------------------------- positions
@converts(nn.PositionalEncoding, nn.LearnedPositionalEncoding)
def _positional(ex: Exporter, m: Any, path: str, x: Any) -> Value:
    x = _x(ex, m, path, x)
    T = x.shape[1] if m.batch_first else x.shape[0]
    if x.rank != 3 or x.shape[-1] != m.d_model or T is None or T > m.max_len:
        ex.fail(m, path, f"expected input with {m.d_model} features and at most "
                f"{m.max_len} positions, got {x.shape}")
    table = _data(m.pe if isinstance(m, nn.PositionalEncoding) else m.weight)[:T]
    table = table[None] if m.batch_first else table[:, None]
    c = ex.g.const(table.astype(ex.g.dtype), ex.hint(path, "positions"))
    return ex.same(x, ex.binary("Add", x.name, c, path, "add_positions"))


# --------------------------------------------------------------- attention
def _self_attention(ex: Exporter, m: Any, path: str, x: Value, mask: np.ndarray | None
                    ) -> Value:
    """``m`` (a MultiheadAttention) on (N, L, E) ``x`` as query, key and value, with an
    additive (L, L) ``mask``; its output projection applied; (N, L, E)."""
    if not m._qkv_same_embed_dim or m.bias_k is not None or m.add_zero_attn:
        ex.fail(m, path, "only self-attention with the packed in_proj_weight exports "
                "(no kdim/vdim, add_bias_kv or add_zero_attn)")
    N, L, E = x.shape
    H, D = m.num_heads, m.head_dim
    W, b = _data(m.in_proj_weight), _data(m.in_proj_bias)
    g, h = ex.g, ex.hint(path, "attention")

    def heads(i: int) -> Value:
        proj = ex.linear(x, W[i * E:(i + 1) * E], None if b is None else b[i * E:(i + 1) * E],
                         ex.child(path, "qkv"[i]))
        r = ex.reshape(proj, (N, L, H, D), path)        # one of N, L is the dynamic axis
        return ex.transpose(r, (0, 2, 1, 3), path)                 # (N, H, L, D)

    q, k, v = heads(0), heads(1), heads(2)
    kt = ex.transpose(k, (0, 1, 3, 2), path)                         # (N, H, D, L)
    s = g.op("MatMul", [q.name, kt.name], h)
    s = g.op("Mul", [s, g.scalar(1.0 / math.sqrt(D))], h)
    if mask is not None:
        if L is None:
            ex.fail(m, path, "a mask needs a static sequence length")
        s = g.op("Add", [s, g.const(mask.astype(g.dtype), ex.hint(path, "mask"))], h)
    p = g.op("Softmax", [s], h, axis=-1)
    o = Value(g.op("MatMul", [p, v.name], h), (N, H, L, D), x.dtype)
    o = ex.reshape(ex.transpose(o, (0, 2, 1, 3), path), (N, L, E), path)
    return ex.linear(o, _data(m.out_proj.weight), _data(m.out_proj.bias),
                     ex.child(path, "out_proj"))


def _encoder_layer(ex: Exporter, m: Any, path: str, x: Value, mask: np.ndarray | None
                   ) -> Value:
    batch_first = m.batch_first
    if not batch_first:                                              # (L, N, E) -> (N, L, E)
        x = ex.transpose(x, (1, 0, 2), path)

    def sa(y: Value) -> Value:
        return _self_attention(ex, m.self_attn, ex.child(path, "self_attn"), y, mask)

    def ff(y: Value) -> Value:
        a = ex.linear(y, _data(m.linear1.weight), _data(m.linear1.bias),
                      ex.child(path, "linear1"))
        a = ex.tensor(ex.module(m.activation, ex.child(path, "activation"), a), m, path)
        return ex.linear(a, _data(m.linear2.weight), _data(m.linear2.bias),
                         ex.child(path, "linear2"))

    def add(a: Value, b: Value) -> Value:
        return ex.same(a, ex.binary("Add", a.name, b.name, path, "residual"))

    def norm(name: str, y: Value) -> Value:
        return ex.tensor(ex.module(getattr(m, name), ex.child(path, name), y), m, path)

    if m.norm_first:
        x = add(x, sa(norm("norm1", x)))
        x = add(x, ff(norm("norm2", x)))
    else:
        x = norm("norm1", add(x, sa(x)))
        x = norm("norm2", add(x, ff(x)))
    return ex.transpose(x, (1, 0, 2), path) if not batch_first else x


@converts(nn.TransformerEncoderLayer)
def _transformer_encoder_layer(ex: Exporter, m: Any, path: str, x: Any) -> Value:
    x = _x(ex, m, path, x)
    if x.rank != 3 or x.shape[-1] != m.self_attn.embed_dim:
        ex.fail(m, path, f"expected batched input (.., .., {m.self_attn.embed_dim}), got "
                f"{x.shape} (no masks: export src alone)")
    return _encoder_layer(ex, m, path, x, None)


@converts(nn.TransformerEncoder)
def _transformer_encoder(ex: Exporter, m: Any, path: str, x: Any) -> Value:
    x = _x(ex, m, path, x)
    for i, layer in enumerate(m.layers):
        x = ex.tensor(ex.module(layer, ex.child(ex.child(path, "layers"), str(i)), x), m, path)
    if m.norm is not None:
        x = ex.tensor(ex.module(m.norm, ex.child(path, "norm"), x), m, path)
    return x


@converts(M.CharTransformer)
def _char_transformer(ex: Exporter, m: Any, path: str, x: Any) -> Value:
    x = _x(ex, m, path, x)
    if x.rank != 2 or np.dtype(x.dtype).kind not in "iu":
        ex.fail(m, path, f"expected integer ids (N, T), got {x.shape} of {np.dtype(x.dtype)}")
    T = x.shape[1]
    if T is None or T > m.context:
        ex.fail(m, path, f"the window of {T} characters is longer than context={m.context}")
    tok = ex.tensor(ex.module(m.tok, ex.child(path, "tok"), x), m, path)      # (N, T, d)
    pos = ex.g.const(_data(m.pos.weight)[:T][None].astype(ex.g.dtype), ex.hint(path, "pos"))
    h = ex.same(tok, ex.binary("Add", tok.name, pos, path, "add_pos"))
    mask = np.triu(np.full((T, T), -np.inf), k=1)
    for i, layer in enumerate(m.blocks.layers):
        h = _encoder_layer(ex, layer, ex.child(ex.child(ex.child(path, "blocks"), "layers"),
                                               str(i)), h, mask)
    h = ex.tensor(ex.module(m.ln_f, ex.child(path, "ln_f"), h), m, path)
    return ex.linear(h, _data(m.head.weight), _data(m.head.bias), ex.child(path, "head"))


# --------------------------------------------------------- transposed conv
@converts(nn.ConvTranspose2d)
def _conv_transpose2d(ex: Exporter, m: Any, path: str, x: Any) -> Value:
    x = _x(ex, m, path, x)
    if x.rank != 4 or x.shape[1] != m.in_channels:
        ex.fail(m, path, f"expected (N, {m.in_channels}, H, W), got {x.shape}")
    w, b = _data(m.weight), _data(m.bias)
    ins = [x.name, ex.g.const(w, ex.hint(path, "weight"))]
    if b is not None:
        ins.append(ex.g.const(b, ex.hint(path, "bias")))
    (kh, kw), (sh, sw), (ph, pw) = m.kernel_size, m.stride, m.padding
    (dh, dw), (oh, ow) = m.dilation, m.output_padding
    name = ex.g.op("ConvTranspose", ins, ex.hint(path, "conv_transpose"),
                   kernel_shape=[kh, kw], strides=[sh, sw], dilations=[dh, dw],
                   pads=[ph, pw, ph, pw], output_padding=[oh, ow], group=m.groups)
    H = (x.shape[2] - 1) * sh - 2 * ph + dh * (kh - 1) + oh + 1
    Wd = (x.shape[3] - 1) * sw - 2 * pw + dw * (kw - 1) + ow + 1
    return Value(name, (x.shape[0], m.out_channels, H, Wd), x.dtype)


# ------------------------------------------------------------------ refusals
@converts(M.VAE, M.ConvVAE)
def _vae(ex: Exporter, m: Any, path: str, x: Any) -> Value:
    ex.fail(m, path, "its forward draws z ~ q(z | x) at every call (a random graph); export "
            "its encoder, or its decoder on a code, instead")
