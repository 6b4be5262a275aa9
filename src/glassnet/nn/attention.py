"""Multi-head attention with PyTorch's names, arguments and parameter layout."""
from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import backend
from .. import functional as Fn
from ..autograd import factories
from ..autograd.tensor import Tensor
from ..errors import ArgumentError
from ..functional.attention import attention, attention_mask_to_additive
from . import init
from .linear import Linear
from .module import Module, Parameter

if TYPE_CHECKING:  # annotations only
    from glassnet._typing import DeviceLike, DTypeLike

__all__ = ["MultiheadAttention"]


class MultiheadAttention(Module):
    """Attention with ``num_heads`` heads over ``embed_dim`` features (Vaswani et al. 2017).

    ``out = concat(head_1, ..., head_h) W_o^T + b_o`` with
    ``head_i = softmax(q_i k_i^T / sqrt(d) + mask) v_i``, ``d = embed_dim / num_heads`` and
    ``q, k, v`` the input projections of query, key and value.

    Parameters follow ``torch.nn.MultiheadAttention``: ``in_proj_weight`` (3E, E) stacks
    the query, key and value projections (or ``q_proj_weight``, ``k_proj_weight``,
    ``v_proj_weight`` when ``kdim`` / ``vdim`` differ from ``embed_dim``),
    ``in_proj_bias`` (3E,), ``out_proj`` a Linear(E, E), and with ``add_bias_kv`` the
    (1, 1, E) ``bias_k`` / ``bias_v`` appended to the keys and values. A state dict
    moves between the two libraries unchanged.

    ``forward(query, key, value, key_padding_mask=None, need_weights=True,
    attn_mask=None, average_attn_weights=True, is_causal=False)`` returns
    ``(attn_output, attn_weights)``: inputs are (L, N, E), or (N, L, E) with
    ``batch_first``, or unbatched (L, E); a bool ``key_padding_mask`` (N, S) or
    ``attn_mask`` (L, S) / (N * num_heads, L, S) is True where a key must be *ignored*
    (a float mask is added to the scores); the weights are (N, L, S) averaged over the
    heads, (N, num_heads, L, S) with ``average_attn_weights=False``, or None without
    ``need_weights``. As in PyTorch, a query all of whose keys are masked gets NaN when
    the weights are asked for and a zero output otherwise.

    >>> mha = nn.MultiheadAttention(8, 2, batch_first=True)
    >>> x = gn.randn(3, 5, 8)
    >>> out, w = mha(x, x, x)
    >>> tuple(out.shape), tuple(w.shape)
    ((3, 5, 8), (3, 5, 5))
    """

    in_proj_weight: Parameter | None
    q_proj_weight: Parameter | None
    k_proj_weight: Parameter | None
    v_proj_weight: Parameter | None
    in_proj_bias: Parameter | None
    bias_k: Parameter | None
    bias_v: Parameter | None

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 add_bias_kv: bool = False, add_zero_attn: bool = False,
                 kdim: int | None = None, vdim: int | None = None, batch_first: bool = False,
                 device: DeviceLike = None, dtype: DTypeLike = None) -> None:
        super().__init__()
        who = "MultiheadAttention"
        for name, val in (("embed_dim", embed_dim), ("num_heads", num_heads)):
            if isinstance(val, bool) or not isinstance(val, (int, np.integer)) or val <= 0:
                raise ArgumentError(f"{who}: {name} must be a positive int, got {val!r}")
        if embed_dim % num_heads:
            raise ArgumentError(f"{who}: embed_dim must be divisible by num_heads, got "
                                f"embed_dim={embed_dim}, num_heads={num_heads}")
        if not 0.0 <= float(dropout) < 1.0:
            raise ArgumentError(f"{who}: dropout must be in [0, 1), got {dropout}")
        self.embed_dim, self.num_heads = int(embed_dim), int(num_heads)
        self.kdim = int(kdim) if kdim is not None else self.embed_dim
        self.vdim = int(vdim) if vdim is not None else self.embed_dim
        self._qkv_same_embed_dim = self.kdim == self.embed_dim and self.vdim == self.embed_dim
        self.head_dim = self.embed_dim // self.num_heads
        self.dropout, self.batch_first = float(dropout), bool(batch_first)
        self.add_zero_attn = bool(add_zero_attn)
        E = self.embed_dim
        if device is not None:
            backend.devices.check(device, "device", who)
        dt = backend.dtypes.resolve(dtype) if dtype is not None else backend.get_default_dtype()

        def param(*shape: int) -> Parameter:
            return Parameter(backend.allocate(shape, dt, f"{who}.parameter"))

        if self._qkv_same_embed_dim:
            self.in_proj_weight = param(3 * E, E)
            self.q_proj_weight = self.k_proj_weight = self.v_proj_weight = None
        else:
            self.q_proj_weight = param(E, E)
            self.k_proj_weight = param(E, self.kdim)
            self.v_proj_weight = param(E, self.vdim)
            self.in_proj_weight = None
        self.in_proj_bias = param(3 * E) if bias else None
        self.out_proj = Linear(E, E, bias=bias, device=device, dtype=dtype)
        if add_bias_kv:
            self.bias_k = param(1, 1, E)
            self.bias_v = param(1, 1, E)
        else:
            self.bias_k = self.bias_v = None
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        """PyTorch's initialisation: Xavier-uniform projections, zero biases."""
        for w in (self.in_proj_weight, self.q_proj_weight, self.k_proj_weight,
                  self.v_proj_weight):
            if w is not None:
                init.xavier_uniform_(w)
        if self.in_proj_bias is not None and self.out_proj.bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)
        if self.bias_k is not None and self.bias_v is not None:
            init.xavier_normal_(self.bias_k)
            init.xavier_normal_(self.bias_v)

    # ------------------------------------------------------------------ forward
    def _project(self, query: Tensor, key: Tensor, value: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        E = self.embed_dim
        b = self.in_proj_bias
        bq = bk = bv = None
        if b is not None:
            bq, bk, bv = b[:E], b[E:2 * E], b[2 * E:]
        if self.in_proj_weight is not None:
            W = self.in_proj_weight
            # one GEMM for the projections of the same input, then one split node (its
            # backward joins the three gradients in one copy; three slices would each
            # scatter into zeros of the whole width, then be summed)
            if key is query and value is query:      # self-attention
                q, k, v = Fn.split(Fn.linear(query, W, b), E, dim=-1)
                return q, k, v
            if value is key:
                q = Fn.linear(query, W[:E], bq)
                k, v = Fn.split(Fn.linear(key, W[E:], None if b is None else b[E:]), E, dim=-1)
                return q, k, v
            return (Fn.linear(query, W[:E], bq), Fn.linear(key, W[E:2 * E], bk),
                    Fn.linear(value, W[2 * E:], bv))
        assert self.q_proj_weight is not None and self.k_proj_weight is not None \
            and self.v_proj_weight is not None
        return (Fn.linear(query, self.q_proj_weight, bq), Fn.linear(key, self.k_proj_weight, bk),
                Fn.linear(value, self.v_proj_weight, bv))

    def forward(self, query: Tensor, key: Tensor, value: Tensor,
                key_padding_mask: Tensor | None = None, need_weights: bool = True,
                attn_mask: Tensor | None = None, average_attn_weights: bool = True,
                is_causal: bool = False) -> tuple[Tensor, Tensor | None]:
        who = "MultiheadAttention"
        for name, t in (("query", query), ("key", key), ("value", value)):
            if not isinstance(t, Tensor):
                raise ArgumentError(f"{who}: {name} must be a Tensor, got {type(t).__name__}")
        if query.ndim not in (2, 3) or key.ndim != query.ndim or value.ndim != query.ndim:
            raise ArgumentError(f"{who}: query, key and value must all be 3-D (batched) or "
                                f"2-D (unbatched), got shapes {tuple(query.shape)}, "
                                f"{tuple(key.shape)}, {tuple(value.shape)}")
        if query.shape[-1] != self.embed_dim:
            raise ArgumentError(f"{who}: query has {query.shape[-1]} features, expected "
                                f"embed_dim={self.embed_dim}")
        if key.shape[-1] != self.kdim or value.shape[-1] != self.vdim:
            raise ArgumentError(f"{who}: key and value have {key.shape[-1]} and "
                                f"{value.shape[-1]} features, expected kdim={self.kdim} and "
                                f"vdim={self.vdim}")
        if is_causal and attn_mask is None:
            raise ArgumentError(f"{who}: is_causal=True is a hint about attn_mask: give the "
                                "causal attn_mask too (nn.Transformer.generate_square_"
                                "subsequent_mask(L))")
        unbatched = query.ndim == 2
        same_kv = value is key
        self_attn = same_kv and key is query
        if unbatched:
            query = query.unsqueeze(0)
            key = query if self_attn else key.unsqueeze(0)
            value = key if same_kv else value.unsqueeze(0)
            if key_padding_mask is not None:
                key_padding_mask = _unsqueeze0(key_padding_mask)
        elif not self.batch_first:                     # (L, N, E) -> (N, L, E)
            query = query.transpose(0, 1)
            key = query if self_attn else key.transpose(0, 1)
            value = key if same_kv else value.transpose(0, 1)
        N, L = query.shape[0], query.shape[1]
        if key.shape[0] != N or value.shape[0] != N:
            raise ArgumentError(f"{who}: query, key and value must have the same batch size, "
                                f"got {N}, {key.shape[0]}, {value.shape[0]}")
        if key.shape[1] != value.shape[1]:
            raise ArgumentError(f"{who}: key and value must have the same length, got "
                                f"{key.shape[1]} and {value.shape[1]}")
        # PyTorch's rule: with is_causal, no key padding mask and no weights asked for, the
        # attn_mask is only a hint and the causal pattern itself is used
        causal = is_causal and key_padding_mask is None and not need_weights
        if causal:
            attn_mask = None
        q, k, v = self._project(query, key, value)       # (N, L, E), (N, S, E), (N, S, E)
        dt = np.result_type(q._data.dtype)
        H, D = self.num_heads, self.head_dim
        S = k.shape[1]
        kpm = attention_mask_to_additive(key_padding_mask, dt, False, who, "key_padding_mask")
        am = attention_mask_to_additive(attn_mask, dt, False, who, "attn_mask")
        if kpm is not None and kpm.shape != (N, S):
            raise ArgumentError(f"{who}: key_padding_mask must have shape (batch, source "
                                f"length) = {(N, S)}, got {kpm.shape}")
        if am is not None:
            if am.ndim == 2:
                if am.shape != (L, S):
                    raise ArgumentError(f"{who}: a 2-D attn_mask must have shape (target, "
                                        f"source length) = {(L, S)}, got {am.shape}")
            elif am.ndim == 3:
                if am.shape != (N * H, L, S):
                    raise ArgumentError(f"{who}: a 3-D attn_mask must have shape (batch * "
                                        f"num_heads, L, S) = {(N * H, L, S)}, got {am.shape}")
                am = am.reshape(N, H, L, S)
            else:
                raise ArgumentError(f"{who}: attn_mask must be 2-D or 3-D, got {am.ndim}-D")
        if self.bias_k is not None and self.bias_v is not None:   # one more key and value
            k = Fn.cat([k, self.bias_k.expand(N, 1, self.embed_dim)], axis=1)
            v = Fn.cat([v, self.bias_v.expand(N, 1, self.embed_dim)], axis=1)
            am = _pad_last(am)
            kpm = _pad_last(kpm)
        if self.add_zero_attn:                          # and a zero key and value
            zeros = factories.zeros(N, 1, self.embed_dim, dtype=q.dtype)
            k = Fn.cat([k, zeros], axis=1)
            v = Fn.cat([v, zeros], axis=1)
            am = _pad_last(am)
            kpm = _pad_last(kpm)
        S = k.shape[1]
        mask = None
        if am is not None:
            mask = am if am.ndim == 4 else am[None, None]
        if kpm is not None:
            kp = kpm[:, None, None, :]
            mask = kp if mask is None else mask + kp
        qh = q.reshape(N, L, H, D).transpose(1, 2)      # (N, H, L, D)
        kh = k.reshape(N, S, H, D).transpose(1, 2)
        vh = v.reshape(N, S, H, D).transpose(1, 2)
        p = self.dropout if self.training else 0.0
        out, w = attention(qh, kh, vh, mask, scale=1.0 / math.sqrt(D), dropout_p=p,
                           empty_rows="nan" if need_weights else "zero", causal=causal)
        out = out.transpose(1, 2).reshape(N, L, self.embed_dim)
        out = self.out_proj(out)
        if unbatched:
            out = out.squeeze(0)
        elif not self.batch_first:
            out = out.transpose(0, 1)
        if not need_weights:
            return out, None
        if average_attn_weights:
            w = w.mean(dim=1)
        if unbatched:
            w = w.squeeze(0)
        return out, w

    def extra_repr(self) -> str:
        return (f"embed_dim={self.embed_dim}, num_heads={self.num_heads}, "
                f"dropout={self.dropout}, batch_first={self.batch_first}")


def _unsqueeze0(m: Any) -> Any:
    return m.unsqueeze(0) if isinstance(m, Tensor) else np.asarray(m)[None]


def _pad_last(m: np.ndarray | None) -> np.ndarray | None:
    """A mask with one more key column, visible (0)."""
    if m is None:
        return None
    pad = np.zeros(m.shape[:-1] + (1,), dtype=m.dtype)
    return np.concatenate([m, pad], axis=-1)
