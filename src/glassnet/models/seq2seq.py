"""Sequence-to-sequence models: an RNN encoder-decoder with Bahdanau or Luong attention,
and a Transformer one; both trained with teacher forcing and decoded greedily or by beam
search (``glassnet.models.decoding``).

Token conventions shared by both: ``src`` (N, S) and ``tgt`` (N, T) are int ids padded on
the right with ``pad_idx``; every target ends with ``eos_idx``; the decoder is fed
``bos_idx`` followed by the target shifted right (teacher forcing), and the loss is the
cross-entropy of the (N, T, V) logits against ``tgt``, padded positions ignored.
"""
from __future__ import annotations

import math
import time
from typing import Any, Callable

import numpy as np

from .. import nn, optim
from ..autograd import no_grad
from ..autograd.tensor import Tensor, as_array
from ..errors import ArgumentError
from ..functional import losses as L
from ..functional import math as M
from ..nn.module import Module, Parameter
from ..validation import check_choice, check_int, check_real
from .decoding import Decoded, beam_search, greedy_search

__all__ = ["BahdanauAttention", "LuongAttention", "Seq2Seq", "RNNSeq2Seq",
           "TransformerSeq2Seq", "exact_match"]


# ----------------------------------------------------------------- attention
def _attend(scores: Tensor, values: Tensor, key_padding_mask: Any, squeeze: bool,
            who: str) -> tuple[Tensor, Tensor]:
    """softmax over the source of (N, L, S) scores, padded keys excluded; the context is
    the weighted sum of the values (N, S, Dv) -> (N, L, Dv)."""
    if key_padding_mask is not None:
        m = np.asarray(as_array(key_padding_mask), dtype=bool)
        N, _, S = scores.shape
        if m.shape != (N, S):
            raise ArgumentError(f"{who}: key_padding_mask must have shape (batch, source "
                                f"length) = {(N, S)}, got {m.shape}")
        if m.all(axis=1).any():
            raise ArgumentError(f"{who}: key_padding_mask hides every source position of "
                                f"sample {int(np.flatnonzero(m.all(axis=1))[0])}")
        scores = scores.masked_fill(m[:, None, :], float("-inf"))
    weights = scores.softmax(dim=-1)
    context = weights @ values
    if squeeze:
        return context.squeeze(1), weights.squeeze(1)
    return context, weights


def _check_qkv(query: Any, keys: Any, values: Any, dq: int, dk: int, who: str
               ) -> tuple[Tensor, Tensor, Tensor, bool]:
    for name, t in (("query", query), ("keys", keys), ("values", values)):
        if not isinstance(t, Tensor):
            raise ArgumentError(f"{who}: {name} must be a Tensor, got {type(t).__name__}")
    if query.ndim not in (2, 3) or query.shape[-1] != dq:
        raise ArgumentError(f"{who}: query must be (N, {dq}) or (N, L, {dq}), got "
                            f"{tuple(query.shape)}")
    if keys.ndim != 3 or keys.shape[-1] != dk or keys.shape[0] != query.shape[0]:
        raise ArgumentError(f"{who}: keys must be (N, S, {dk}) with the query's N="
                            f"{query.shape[0]}, got {tuple(keys.shape)}")
    if values.ndim != 3 or tuple(values.shape[:2]) != tuple(keys.shape[:2]):
        raise ArgumentError(f"{who}: values must be (N, S, Dv) with the keys' N and S, got "
                            f"{tuple(values.shape)}")
    squeeze = query.ndim == 2
    return (query.unsqueeze(1) if squeeze else query), keys, values, squeeze


class BahdanauAttention(Module):
    """Additive attention (Bahdanau, Cho and Bengio, 2015).

    score(q, k_s) = v^T tanh(W_q q + W_k k_s + b);  a = softmax_s(score) over the source
    positions that are not padding;  context = sum_s a_s v_s (the values, by default the
    keys).

    ``forward(query, keys, values=None, key_padding_mask=None) -> (context, weights)`` with
    query (N, Dq) or (N, L, Dq), keys (N, S, Dk), values (N, S, Dv), key_padding_mask (N, S)
    bool (True = padding, ignored, as in ``nn.MultiheadAttention``); context (N, Dv) or
    (N, L, Dv), weights (N, S) or (N, L, S). Parameters: ``query_proj`` (Linear Dq -> A, no
    bias), ``key_proj`` (Linear Dk -> A), ``v`` (Linear A -> 1, no bias).

    >>> att = BahdanauAttention(4, 6, 8)
    >>> ctx, w = att(gn.randn(2, 4), gn.randn(2, 5, 6))
    >>> tuple(ctx.shape), tuple(w.shape), bool(np.allclose(w.numpy().sum(1), 1))
    ((2, 6), (2, 5), True)
    """

    def __init__(self, query_size: int, key_size: int, hidden_size: int | None = None) -> None:
        super().__init__()
        who = "BahdanauAttention"
        self.query_size = check_int(query_size, "query_size", who, min=1)
        self.key_size = check_int(key_size, "key_size", who, min=1)
        self.hidden_size = check_int(hidden_size if hidden_size is not None else query_size,
                                     "hidden_size", who, min=1)
        self.query_proj = nn.Linear(self.query_size, self.hidden_size, bias=False)
        self.key_proj = nn.Linear(self.key_size, self.hidden_size)
        self.v = nn.Linear(self.hidden_size, 1, bias=False)

    def forward(self, query: Tensor, keys: Tensor, values: Tensor | None = None,
                key_padding_mask: Any = None) -> tuple[Tensor, Tensor]:
        who = "BahdanauAttention"
        q, k, v, squeeze = _check_qkv(query, keys, keys if values is None else values,
                                      self.query_size, self.key_size, who)
        h = (self.query_proj(q).unsqueeze(2) + self.key_proj(k).unsqueeze(1)).tanh()
        scores = self.v(h).squeeze(-1)                       # (N, L, S)
        return _attend(scores, v, key_padding_mask, squeeze, who)

    def extra_repr(self) -> str:
        return f"query_size={self.query_size}, key_size={self.key_size}, " \
               f"hidden_size={self.hidden_size}"


class LuongAttention(Module):
    """Multiplicative attention (Luong, Pham and Manning, 2015), three scores:

    - ``"dot"``: score(q, k_s) = q^T k_s (needs Dq == Dk; no parameters);
    - ``"general"``: score = q^T W_a k_s, ``weight`` W_a of shape (Dq, Dk);
    - ``"concat"``: score = v^T tanh(W [q; k_s]), ``W`` (Linear Dq + Dk -> A, no bias) and
      ``v`` (Linear A -> 1, no bias).

    Then a = softmax_s(score) over the non-padded positions and context = sum_s a_s v_s, with
    the same ``forward`` as :class:`BahdanauAttention`.

    >>> att = LuongAttention(4, 4, "dot")
    >>> ctx, w = att(gn.randn(3, 4), gn.randn(3, 7, 4))
    >>> tuple(ctx.shape), tuple(w.shape)
    ((3, 4), (3, 7))
    """

    def __init__(self, query_size: int, key_size: int, method: str = "general",
                 hidden_size: int | None = None) -> None:
        super().__init__()
        who = "LuongAttention"
        self.query_size = check_int(query_size, "query_size", who, min=1)
        self.key_size = check_int(key_size, "key_size", who, min=1)
        self.method = check_choice(method, "method", who, ("dot", "general", "concat"))
        self.hidden_size = None
        if self.method == "dot" and self.query_size != self.key_size:
            raise ArgumentError(f"{who}: method='dot' needs query_size == key_size, got "
                                f"{self.query_size} and {self.key_size} (use 'general')")
        if self.method == "general":
            self.weight = Parameter(np.zeros((self.query_size, self.key_size), np.float32))
            bound = 1.0 / math.sqrt(self.key_size)
            nn.init.uniform_(self.weight, -bound, bound)
        elif self.method == "concat":
            self.hidden_size = check_int(hidden_size if hidden_size is not None else query_size,
                                         "hidden_size", who, min=1)
            self.W = nn.Linear(self.query_size + self.key_size, self.hidden_size, bias=False)
            self.v = nn.Linear(self.hidden_size, 1, bias=False)

    def forward(self, query: Tensor, keys: Tensor, values: Tensor | None = None,
                key_padding_mask: Any = None) -> tuple[Tensor, Tensor]:
        who = "LuongAttention"
        q, k, v, squeeze = _check_qkv(query, keys, keys if values is None else values,
                                      self.query_size, self.key_size, who)
        if self.method == "dot":
            scores = q @ k.transpose(1, 2)
        elif self.method == "general":                   # (q^T W_a) k: W_a applied once per query
            scores = (q @ self.weight) @ k.transpose(1, 2)
        else:                                            # W [q; k] = W_q q + W_k k
            Wm = self.W.weight
            Dq = self.query_size
            h = ((q @ Wm[:, :Dq].t()).unsqueeze(2) + (k @ Wm[:, Dq:].t()).unsqueeze(1)).tanh()
            scores = self.v(h).squeeze(-1)
        return _attend(scores, v, key_padding_mask, squeeze, who)

    def extra_repr(self) -> str:
        return f"query_size={self.query_size}, key_size={self.key_size}, method={self.method!r}"


# ------------------------------------------------------------ the common base
def _ids(x: Any, name: str, who: str) -> np.ndarray:
    a = np.asarray(as_array(x))
    if a.ndim != 2 or a.dtype.kind not in "iu":
        raise ArgumentError(f"{who}: {name} must be integer ids of shape (N, length), got "
                            f"{a.dtype} {a.shape}")
    return a.astype(np.int64, copy=False)


def exact_match(pred: Any, target: Any, pad_idx: int = 0) -> float:
    """Fraction of rows whose tokens equal the target's, padding aside (both are compared
    up to the longer of the two, the shorter padded with ``pad_idx``).

    >>> exact_match([[5, 2, 0]], [[5, 2]]), exact_match([[5, 2]], [[5, 6]])
    (1.0, 0.0)
    """
    p, t = np.asarray(pred), np.asarray(target)
    if p.ndim != 2 or t.ndim != 2 or len(p) != len(t):
        raise ArgumentError(f"exact_match: pred and target must be (N, length) with the same "
                            f"N, got {p.shape} and {t.shape}")
    T = max(p.shape[1], t.shape[1])
    p = np.pad(p, ((0, 0), (0, T - p.shape[1])), constant_values=pad_idx)
    t = np.pad(t, ((0, 0), (0, T - t.shape[1])), constant_values=pad_idx)
    return float((p == t).all(axis=1).mean())


class Seq2Seq(Module):
    """What both encoder-decoders share: the token conventions, the teacher-forced loss,
    greedy and beam-search decoding, a small training loop and exact-match scoring.

    A subclass defines ``encode(src) -> state`` (the decoder's starting state, rows on
    axis 0), ``step(state, tokens) -> (logits (B, V), state, weights (B, S))`` (one decoding
    step) and ``forward(src, tgt_in, return_attention=False) -> logits (N, T, V)``.
    """

    def __init__(self, src_vocab_size: int, tgt_vocab_size: int, pad_idx: int, bos_idx: int,
                 eos_idx: int, who: str) -> None:
        super().__init__()
        self.src_vocab_size = check_int(src_vocab_size, "src_vocab_size", who, min=1)
        self.tgt_vocab_size = check_int(tgt_vocab_size, "tgt_vocab_size", who, min=1)
        for name, v in (("pad_idx", pad_idx), ("bos_idx", bos_idx), ("eos_idx", eos_idx)):
            check_int(v, name, who, min=0, max=self.tgt_vocab_size - 1)
        if len({pad_idx, bos_idx, eos_idx}) != 3:
            raise ArgumentError(f"{who}: pad_idx, bos_idx and eos_idx must differ, got "
                                f"{pad_idx}, {bos_idx}, {eos_idx}")
        self.pad_idx, self.bos_idx, self.eos_idx = int(pad_idx), int(bos_idx), int(eos_idx)
        self._who = who

    # subclasses
    def encode(self, src: Any) -> Any:
        raise NotImplementedError

    def step(self, state: Any, tokens: np.ndarray) -> tuple[Tensor, Any, Tensor | None]:
        raise NotImplementedError

    # ----------------------------------------------------------- teacher forcing
    def shift_right(self, tgt: Any) -> np.ndarray:
        """The decoder's input under teacher forcing: ``bos`` then ``tgt[:, :-1]``."""
        t = _ids(tgt, "tgt", self._who)
        return np.concatenate([np.full((len(t), 1), self.bos_idx, np.int64), t[:, :-1]], 1)

    def loss(self, src: Any, tgt: Any, label_smoothing: float = 0.0) -> Tensor:
        """Mean cross-entropy (nats / token) of the teacher-forced logits against ``tgt``
        (N, T), padding ignored."""
        t = _ids(tgt, "tgt", self._who)
        logits = self(src, self.shift_right(t))
        return L.cross_entropy(logits.reshape(-1, self.tgt_vocab_size), Tensor(t.reshape(-1)),
                               ignore_index=self.pad_idx, label_smoothing=label_smoothing)

    def _src_mask(self, src: np.ndarray) -> np.ndarray:
        mask = src == self.pad_idx
        if mask.all(axis=1).any():
            raise ArgumentError(f"{self._who}: source row "
                                f"{int(np.flatnonzero(mask.all(axis=1))[0])} is all padding")
        return mask

    # ----------------------------------------------------------------- decoding
    def _log_prob_step(self, state: Any, tokens: np.ndarray
                       ) -> tuple[np.ndarray, Any, np.ndarray | None]:
        logits, state, w = self.step(state, tokens)
        logp = logits.log_softmax(dim=-1).numpy()
        return logp, state, None if w is None else w.numpy()

    def _decode(self, src: Any, search: Callable[..., Decoded], **kw: Any) -> Decoded:
        s = _ids(src, "src", self._who)
        was = self.training
        self.eval()
        try:
            with no_grad():
                out: Decoded = search(self._log_prob_step, self.encode(s), len(s),
                                      self.bos_idx, self.eos_idx, self.pad_idx, **kw)
        finally:
            self.train(was)
        return out

    def greedy(self, src: Any, max_len: int = 50) -> Decoded:
        """Greedy decoding of a batch of sources (eval mode, no graph); see
        :func:`~glassnet.models.decoding.greedy_search`."""
        return self._decode(src, greedy_search, max_len=max_len)

    def beam_search(self, src: Any, beam_width: int = 4, max_len: int = 50,
                    length_penalty: float = 1.0) -> Decoded:
        """Beam-search decoding of a batch of sources (all samples and beams in one batched
        step); see :func:`~glassnet.models.decoding.beam_search`."""
        return self._decode(src, beam_search, max_len=max_len, beam_width=beam_width,
                            length_penalty=length_penalty)

    def exact_match(self, src: Any, tgt: Any, method: str = "greedy", beam_width: int = 4,
                    max_len: int | None = None, batch_size: int = 256) -> float:
        """Fraction of sources decoded exactly into their target (``method`` "greedy" or
        "beam"), decoded in batches of ``batch_size``."""
        check_choice(method, "method", f"{self._who}.exact_match", ("greedy", "beam"))
        s, t = _ids(src, "src", self._who), _ids(tgt, "tgt", self._who)
        limit = max_len or t.shape[1] + 5
        hits = 0.0
        for i in range(0, len(s), batch_size):
            sb = s[i:i + batch_size]
            out = self.greedy(sb, limit) if method == "greedy" else \
                self.beam_search(sb, beam_width, limit)
            hits += exact_match(out.tokens, t[i:i + batch_size], self.pad_idx) * len(sb)
        return hits / len(s)

    # ----------------------------------------------------------------- training
    def fit(self, src: Any, tgt: Any, epochs: int = 10, batch_size: int = 64, lr: float = 1e-3,
            clip_grad_norm: float | None = 1.0, label_smoothing: float = 0.0,
            lr_schedule: str = "constant", seed: int = 0, verbose: int = 0, callback: Callable[[int, float], None] | None = None
            ) -> dict[str, list[float]]:
        """Teacher-forced training with Adam on shuffled mini-batches; returns
        ``{"epoch", "loss", "seconds"}`` (the mean training loss of each epoch). The order of
        the batches comes from ``np.random.default_rng(seed)``. ``lr_schedule="cosine"``
        anneals the learning rate from ``lr`` to 0 over all the steps (one batch, one step);
        each batch is cut to its longest source and target."""
        who = f"{self._who}.fit"
        check_int(epochs, "epochs", who, min=1)
        check_int(batch_size, "batch_size", who, min=1)
        s, t = _ids(src, "src", self._who), _ids(tgt, "tgt", self._who)
        if len(s) != len(t):
            raise ArgumentError(f"{who}: src and tgt have {len(s)} and {len(t)} rows")
        opt = optim.Adam(self.parameters(), lr=check_real(lr, "lr", who, 0, low_open=True))
        check_choice(lr_schedule, "lr_schedule", who, ("constant", "cosine"))
        sched = None
        if lr_schedule == "cosine":
            total_steps = epochs * ((len(s) + batch_size - 1) // batch_size)
            sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=total_steps)
        rng = np.random.default_rng(seed)
        hist: dict[str, list[float]] = {"epoch": [], "loss": [], "seconds": []}
        t0 = time.perf_counter()
        self.train()
        step = 0
        for epoch in range(1, epochs + 1):
            order = rng.permutation(len(s))
            total = 0.0
            for i in range(0, len(s), batch_size):
                b = order[i:i + batch_size]
                sb, tb = s[b], t[b]
                keep = int((sb != self.pad_idx).any(0).nonzero()[0].max()) + 1
                keep_t = int((tb != self.pad_idx).any(0).nonzero()[0].max()) + 1
                opt.zero_grad()
                loss = self.loss(sb[:, :keep], tb[:, :keep_t], label_smoothing)
                loss.backward()
                if clip_grad_norm:
                    nn.utils.clip_grad_norm_(self.parameters(), clip_grad_norm)
                opt.step()
                if sched is not None:
                    sched.step()
                step += 1
                total += float(loss.item()) * len(b)
                if callback is not None:
                    callback(step, float(loss.item()))
            hist["epoch"].append(epoch)
            hist["loss"].append(total / len(s))
            hist["seconds"].append(time.perf_counter() - t0)
            if verbose:
                print(f"epoch {epoch}/{epochs}: loss {total / len(s):.4f}, "
                      f"{time.perf_counter() - t0:.1f} s", flush=True)
        self.eval()
        return hist


# ------------------------------------------------------------ RNN + attention
_CELLS = {"lstm": (nn.LSTM, nn.LSTMCell), "gru": (nn.GRU, nn.GRUCell)}


class RNNSeq2Seq(Seq2Seq):
    """Embedding -> LSTM/GRU encoder (optionally bidirectional) -> an LSTM/GRU decoder that
    attends over the encoder's outputs at every step.

    The decoder starts from h_0 = tanh(W_b [final encoder states of the top layer, both
    directions]) (c_0 = 0 for an LSTM). At step t, with e_t the embedding of the previous
    token:

    - ``attention="bahdanau"`` (attend, then step): c_t, a_t = att(h_{t-1}, enc);
      h_t = cell([e_t; c_t], h_{t-1});
    - Luong ``"dot"`` / ``"general"`` / ``"concat"`` (step, then attend, with input feeding):
      h_t = cell([e_t; h~_{t-1}], h_{t-1}); c_t, a_t = att(h_t, enc);

    then h~_t = tanh(W_c [h_t; c_t]) and logits_t = W_o h~_t. Padded source positions get no
    attention and do not move the encoder (its ``lengths``).

    >>> m = RNNSeq2Seq(10, 10, embedding_dim=8, hidden_size=16)
    >>> src = np.array([[5, 6, 7], [8, 9, 0]]); tgt = np.array([[7, 6, 5, 2], [9, 8, 2, 0]])
    >>> tuple(m(src, m.shift_right(tgt)).shape)
    (2, 4, 10)
    >>> m.greedy(src, max_len=6).tokens.shape[0]
    2
    """

    def __init__(self, src_vocab_size: int, tgt_vocab_size: int, embedding_dim: int = 64,
                 hidden_size: int = 128, num_layers: int = 1, cell: str = "lstm",
                 bidirectional: bool = True, attention: str = "bahdanau",
                 attention_size: int | None = None, dropout: float = 0.0, pad_idx: int = 0,
                 bos_idx: int = 1, eos_idx: int = 2) -> None:
        who = "RNNSeq2Seq"
        super().__init__(src_vocab_size, tgt_vocab_size, pad_idx, bos_idx, eos_idx, who)
        E = check_int(embedding_dim, "embedding_dim", who, min=1)
        H = self.hidden_size = check_int(hidden_size, "hidden_size", who, min=1)
        self.cell_type = check_choice(cell, "cell", who, tuple(_CELLS))
        self.attention_type = check_choice(attention, "attention", who,
                                           ("bahdanau", "dot", "general", "concat"))
        self.bidirectional = bool(bidirectional)
        D = 2 if self.bidirectional else 1
        K = self.enc_size = D * H
        layer, cell_cls = _CELLS[self.cell_type]
        self.src_embed = nn.Embedding(self.src_vocab_size, E, padding_idx=self.pad_idx)
        self.encoder = layer(E, H, num_layers=check_int(num_layers, "num_layers", who, min=1),
                             batch_first=True, bidirectional=self.bidirectional,
                             dropout=dropout)
        self.bridge = nn.Linear(K, H)
        self.tgt_embed = nn.Embedding(self.tgt_vocab_size, E, padding_idx=self.pad_idx)
        self.attention: Module
        if self.attention_type == "bahdanau":
            self.attention = BahdanauAttention(H, K, attention_size or H)
            self.cell = cell_cls(E + K, H)
        else:
            if self.attention_type == "dot" and K != H:
                raise ArgumentError(f"{who}: attention='dot' needs the encoder's output size "
                                    f"({K}) to equal hidden_size ({H}); use "
                                    "bidirectional=False or attention='general'")
            self.attention = LuongAttention(H, K, self.attention_type, attention_size)
            self.cell = cell_cls(E + H, H)
        self.combine = nn.Linear(H + K, H, bias=False)
        self.drop = nn.Dropout(dropout)
        self.out = nn.Linear(H, self.tgt_vocab_size)

    def encode(self, src: Any) -> dict[str, Any]:
        """The decoder's starting state: encoder outputs ``keys`` (N, S, D*H), the source
        padding ``mask`` (N, S), ``h`` (and ``c``), and ``feed`` (h~_{-1} = 0)."""
        s = _ids(src, "src", self._who)
        mask = self._src_mask(s)
        lengths = (~mask).sum(axis=1)
        x = self.drop(self.src_embed(s))
        out, hn = self.encoder(x, lengths=lengths if (lengths < s.shape[1]).any() else None)
        h_n = hn[0] if self.cell_type == "lstm" else hn
        D = 2 if self.bidirectional else 1
        N = s.shape[0]
        last = h_n[-D:].transpose(0, 1).reshape(N, D * self.hidden_size)
        h0 = self.bridge(last).tanh()
        state: dict[str, Any] = {"keys": out, "mask": mask, "h": h0,
                                 "feed": h0 * 0.0}
        if self.cell_type == "lstm":
            state["c"] = h0 * 0.0
        return state

    def step(self, state: dict[str, Any], tokens: np.ndarray
             ) -> tuple[Tensor, dict[str, Any], Tensor]:
        """One decoding step: logits (B, V), the new state, attention weights (B, S)."""
        e = self.drop(self.tgt_embed(np.asarray(tokens, dtype=np.int64)))
        keys, mask, h = state["keys"], state["mask"], state["h"]
        lstm = self.cell_type == "lstm"
        if self.attention_type == "bahdanau":
            ctx, w = self.attention(h, keys, key_padding_mask=mask)
            inp = M.concat([e, ctx], axis=1)
            if lstm:
                h, c = self.cell(inp, (h, state["c"]))
            else:
                h = self.cell(inp, h)
        else:
            inp = M.concat([e, state["feed"]], axis=1)
            if lstm:
                h, c = self.cell(inp, (h, state["c"]))
            else:
                h = self.cell(inp, h)
            ctx, w = self.attention(h, keys, key_padding_mask=mask)
        att = self.combine(M.concat([h, ctx], axis=1)).tanh()
        new = {"keys": keys, "mask": mask, "h": h, "feed": att}
        if lstm:
            new["c"] = c
        return self.out(self.drop(att)), new, w

    def forward(self, src: Any, tgt_in: Any, return_attention: bool = False) -> Any:
        """Teacher-forced logits (N, T, V) for decoder inputs ``tgt_in`` (N, T) (with
        ``return_attention``: also the weights (N, T, S))."""
        t = _ids(tgt_in, "tgt_in", self._who)
        state = self.encode(src)
        if len(t) != state["keys"].shape[0]:
            raise ArgumentError(f"{self._who}: src and tgt_in have {state['keys'].shape[0]} "
                                f"and {len(t)} rows")
        logits, weights = [], []
        for i in range(t.shape[1]):        # a loop over time steps, not samples
            z, state, w = self.step(state, t[:, i])
            logits.append(z)
            weights.append(w)
        out = M.stack(logits, axis=1)
        return (out, M.stack(weights, axis=1)) if return_attention else out

    def extra_repr(self) -> str:
        return f"cell={self.cell_type!r}, attention={self.attention_type!r}, " \
               f"bidirectional={self.bidirectional}"


# ---------------------------------------------------------------- Transformer
class TransformerSeq2Seq(Seq2Seq):
    """Token embeddings (times sqrt(d_model)) + sinusoidal positions -> ``nn.Transformer``
    (batch first; causal target mask; source, target and memory padding masks) -> Linear
    to the target vocabulary.

    Decoding re-runs the decoder over the prefix at every step (the state carries the
    encoder's ``memory`` and the tokens so far) and reads the next token from the last
    position; the attention weights returned are the last decoder layer's attention over
    the source, averaged over its heads.

    >>> m = TransformerSeq2Seq(10, 10, d_model=16, nhead=2, num_encoder_layers=1,
    ...                        num_decoder_layers=1, dim_feedforward=32)
    >>> src = np.array([[5, 6, 7], [8, 9, 0]]); tgt = np.array([[7, 6, 5, 2], [9, 8, 2, 0]])
    >>> tuple(m(src, m.shift_right(tgt)).shape)
    (2, 4, 10)
    """

    def __init__(self, src_vocab_size: int, tgt_vocab_size: int, d_model: int = 128,
                 nhead: int = 4, num_encoder_layers: int = 2, num_decoder_layers: int = 2,
                 dim_feedforward: int = 256, dropout: float = 0.1, activation: str = "relu",
                 norm_first: bool = False, max_len: int = 512, pad_idx: int = 0,
                 bos_idx: int = 1, eos_idx: int = 2) -> None:
        who = "TransformerSeq2Seq"
        super().__init__(src_vocab_size, tgt_vocab_size, pad_idx, bos_idx, eos_idx, who)
        self.d_model = check_int(d_model, "d_model", who, min=1)
        self.src_embed = nn.Embedding(self.src_vocab_size, self.d_model, padding_idx=self.pad_idx)
        self.tgt_embed = nn.Embedding(self.tgt_vocab_size, self.d_model, padding_idx=self.pad_idx)
        self.pos = nn.PositionalEncoding(self.d_model, dropout=dropout,
                                         max_len=check_int(max_len, "max_len", who, min=1),
                                         batch_first=True)
        self.transformer = nn.Transformer(self.d_model, nhead, num_encoder_layers,
                                          num_decoder_layers, dim_feedforward, dropout,
                                          activation, batch_first=True, norm_first=norm_first)
        self.out = nn.Linear(self.d_model, self.tgt_vocab_size)
        self._scale = math.sqrt(self.d_model)
        # N(0, 1/d) embeddings, so that times sqrt(d) they are on the scale of the positions
        # (PyTorch's N(0, 1) default would drown the positional encoding by sqrt(d))
        for emb in (self.src_embed, self.tgt_embed):
            nn.init.normal_(emb.weight, 0.0, 1.0 / self._scale)
            emb.weight.data[self.pad_idx] = 0.0
        self._causal: dict[int, Tensor] = {}

    def _mask(self, T: int) -> Tensor:
        m = self._causal.get(T)
        if m is None:
            m = self._causal[T] = nn.Transformer.generate_square_subsequent_mask(T)
        return m

    def encode(self, src: Any) -> dict[str, Any]:
        """``memory`` (N, S, d_model), the source padding ``mask`` and an empty ``prefix``."""
        s = _ids(src, "src", self._who)
        mask = self._src_mask(s)
        x = self.pos(self.src_embed(s) * self._scale)
        memory = self.transformer.encoder(x, src_key_padding_mask=Tensor(mask))
        return {"memory": memory, "mask": mask, "prefix": np.zeros((len(s), 0), np.int64)}

    def _decoder(self, tgt_in: np.ndarray, memory: Tensor, mask: np.ndarray,
                 need_weights: bool) -> tuple[Tensor, Tensor | None]:
        """The decoder stack over ``tgt_in``; with ``need_weights`` the last layer is run
        here from its own submodules so that its cross-attention weights come out too
        (``nn.TransformerDecoderLayer`` asks its attention for none)."""
        T = tgt_in.shape[1]
        y = self.pos(self.tgt_embed(tgt_in) * self._scale)
        causal = self._mask(T)
        tkpm = tgt_in == self.pad_idx
        kw: dict[str, Any] = {"tgt_mask": causal, "tgt_is_causal": True,
                              "tgt_key_padding_mask": Tensor(tkpm) if tkpm.any() else None,
                              "memory_key_padding_mask": Tensor(mask)}
        dec = self.transformer.decoder
        if not need_weights:
            return dec(y, memory, **kw), None
        layers = list(dec.layers)
        for layer in layers[:-1]:
            y = layer(y, memory, **kw)
        last = layers[-1]
        tk, mk = kw["tgt_key_padding_mask"], kw["memory_key_padding_mask"]

        def cross(x: Tensor) -> tuple[Tensor, Tensor]:
            a, w = last.multihead_attn(x, memory, memory, key_padding_mask=mk,
                                       need_weights=True)
            return last.dropout2(a), w

        if last.norm_first:
            y = y + last._sa_block(last.norm1(y), causal, tk, True)
            a, w = cross(last.norm2(y))
            y = y + a
            y = y + last._ff_block(last.norm3(y))
        else:
            y = last.norm1(y + last._sa_block(y, causal, tk, True))
            a, w = cross(y)
            y = last.norm2(y + a)
            y = last.norm3(y + last._ff_block(y))
        if dec.norm is not None:
            y = dec.norm(y)
        return y, w

    def forward(self, src: Any, tgt_in: Any, return_attention: bool = False) -> Any:
        """Teacher-forced logits (N, T, V) (with ``return_attention``: also the last
        decoder layer's head-averaged weights over the source, (N, T, S))."""
        t = _ids(tgt_in, "tgt_in", self._who)
        state = self.encode(src)
        if len(t) != state["memory"].shape[0]:
            raise ArgumentError(f"{self._who}: src and tgt_in have "
                                f"{state['memory'].shape[0]} and {len(t)} rows")
        y, w = self._decoder(t, state["memory"], state["mask"], return_attention)
        logits = self.out(y)
        return (logits, w) if return_attention else logits

    def step(self, state: dict[str, Any], tokens: np.ndarray
             ) -> tuple[Tensor, dict[str, Any], Tensor | None]:
        prefix = np.concatenate([state["prefix"], np.asarray(tokens, np.int64)[:, None]], 1)
        y, w = self._decoder(prefix, state["memory"], state["mask"], True)
        logits = self.out(y[:, -1])
        new = {"memory": state["memory"], "mask": state["mask"], "prefix": prefix}
        return logits, new, None if w is None else w[:, -1]

    def extra_repr(self) -> str:
        return f"d_model={self.d_model}"
