"""Decoding a sequence-to-sequence model: greedy search and beam search.

Both work on any decoder given as a *step function*::

    step(state, tokens) -> (log_probs, state, weights)

``tokens`` is the previous token of every row (B,) int64; ``log_probs`` (B, V) are the
log-probabilities of the next token; ``weights`` (B, S) the attention over the source at
this step (or None); ``state`` is whatever the decoder carries (a Tensor, an array, or a
dict / tuple / list of them, each with the rows on axis 0, or None). Beam search keeps
``N * K`` rows (sample-major: row ``n * K + k`` is beam k of sample n) and reorders the state
by indexing axis 0, so every step is one batched call: there is no loop over samples or
beams, only over decoding steps.
"""
from __future__ import annotations

from typing import Any, Callable, NamedTuple

import numpy as np

from ..autograd.tensor import Tensor
from ..errors import ArgumentError
from ..validation import check_int, check_real

__all__ = ["Decoded", "StepFunction", "greedy_search", "beam_search", "index_state"]

StepFunction = Callable[[Any, np.ndarray], "tuple[Any, Any, Any]"]


class Decoded(NamedTuple):
    """What a search returns.

    tokens : (N, L) int64, each row ending with ``eos`` (unless it reached ``max_len``) and
        padded with ``pad`` after it; ``L`` is the longest row.
    scores : (N,) float64, the summed log-probability of each row (beam search: divided by
        ``length ** length_penalty``, the score it was chosen by).
    lengths : (N,) int64, the tokens of each row up to and including ``eos``.
    attention : (N, L, S) float64 attention weights of each emitted token over the source
        (zeros at padded steps), or None when the step function gives none.
    """

    tokens: np.ndarray
    scores: np.ndarray
    lengths: np.ndarray
    attention: np.ndarray | None


def index_state(state: Any, index: np.ndarray) -> Any:
    """``state`` with the rows ``index`` taken along axis 0 of every Tensor / array inside
    it (dicts, tuples and lists are walked; None and scalars pass through)."""
    if state is None:
        return None
    if isinstance(state, Tensor) or isinstance(state, np.ndarray):
        return state[index]
    if isinstance(state, dict):
        return {k: index_state(v, index) for k, v in state.items()}
    if isinstance(state, tuple):
        return tuple(index_state(v, index) for v in state)
    if isinstance(state, list):
        return [index_state(v, index) for v in state]
    return state


def _as_float64(x: Any) -> np.ndarray:
    return np.asarray(x._data if isinstance(x, Tensor) else x, dtype=np.float64)


def _check(who: str, batch_size: int, bos: int, eos: int, pad: int, max_len: int) -> None:
    check_int(batch_size, "batch_size", who, min=1)
    check_int(max_len, "max_len", who, min=1)
    for name, v in (("bos", bos), ("eos", eos), ("pad", pad)):
        check_int(v, name, who, min=0)


def _step(step: StepFunction, state: Any, tokens: np.ndarray, rows: int, who: str
          ) -> tuple[np.ndarray, Any, np.ndarray | None]:
    logp, state, w = step(state, tokens)
    logp = _as_float64(logp)
    if logp.ndim != 2 or logp.shape[0] != rows:
        raise ArgumentError(f"{who}: the step function must return log-probabilities of "
                            f"shape ({rows}, vocab), got {logp.shape}")
    return logp, state, None if w is None else _as_float64(w)


def greedy_search(step: StepFunction, state: Any, batch_size: int, bos: int, eos: int,
                  pad: int = 0, max_len: int = 50) -> Decoded:
    """Emit the most probable token at every step until each row has emitted ``eos`` or
    ``max_len`` tokens. A finished row keeps being stepped (the batch stays one call) but
    its tokens are ``pad`` and add nothing to its score.

    >>> V = 4                                     # pad 0, bos 1, eos 2, 'a' 3
    >>> def step(state, tok):                     # 'a' first, then eos
    ...     logp = np.full((len(tok), V), -5.0); logp[:, 3 if state == 0 else 2] = -0.1
    ...     return logp, state + 1, None
    >>> greedy_search(step, 0, batch_size=2, bos=1, eos=2).tokens
    array([[3, 2],
           [3, 2]])
    """
    who = "greedy_search"
    _check(who, batch_size, bos, eos, pad, max_len)
    N = int(batch_size)
    prev = np.full(N, bos, dtype=np.int64)
    finished = np.zeros(N, dtype=bool)
    scores = np.zeros(N)
    lengths = np.zeros(N, dtype=np.int64)
    toks: list[np.ndarray] = []
    attn: list[np.ndarray] = []
    for _ in range(int(max_len)):
        logp, state, w = _step(step, state, prev, N, who)
        nxt = logp.argmax(axis=1)
        live = ~finished
        scores += np.where(live, logp[np.arange(N), nxt], 0.0)
        nxt = np.where(live, nxt, pad)
        lengths += live
        toks.append(nxt)
        if w is not None:
            attn.append(np.where(live[:, None], w, 0.0))
        finished |= nxt == eos
        prev = nxt
        if finished.all():
            break
    tokens = np.stack(toks, axis=1).astype(np.int64)
    return Decoded(tokens, scores, lengths, np.stack(attn, axis=1) if attn else None)


def beam_search(step: StepFunction, state: Any, batch_size: int, bos: int, eos: int,
                pad: int = 0, max_len: int = 50, beam_width: int = 4,
                length_penalty: float = 1.0) -> Decoded:
    """Keep the ``beam_width`` best partial sequences of every sample.

    At each step every live beam is extended by every token, the ``K`` best of the ``K * V``
    candidates by summed log-probability survive (one ``argsort`` over (N, K * V)), and the
    state rows follow their beams. A beam that has emitted ``eos`` stays in the beam with
    its score frozen (it can only be extended by ``pad``, at no cost), competing with the
    live ones. The search stops when every beam of every sample is finished, or after
    ``max_len`` tokens; the answer of a sample is its beam of highest
    ``score / length ** length_penalty`` (``length_penalty=0``: the raw sum, which favours
    short outputs; ``1``: the mean log-probability per token).

    At the first step all K beams are the same ``bos``: only beam 0 is expanded (the others
    start at -inf), so the K survivors are K different tokens. ``beam_width=1`` is greedy
    search exactly.
    """
    who = "beam_search"
    _check(who, batch_size, bos, eos, pad, max_len)
    K = check_int(beam_width, "beam_width", who, min=1)
    alpha = check_real(length_penalty, "length_penalty", who)
    N = int(batch_size)
    state = index_state(state, np.repeat(np.arange(N), K))
    scores = np.full((N, K), -np.inf)
    scores[:, 0] = 0.0
    finished = np.zeros((N, K), dtype=bool)
    lengths = np.zeros((N, K), dtype=np.int64)
    seqs = np.zeros((N, K, 0), dtype=np.int64)
    attn: np.ndarray | None = None
    prev = np.full(N * K, bos, dtype=np.int64)
    base = (np.arange(N) * K)[:, None]
    for t in range(int(max_len)):
        logp, state, w = _step(step, state, prev, N * K, who)
        V = logp.shape[1]
        if V <= max(pad, eos):
            raise ArgumentError(f"{who}: the vocabulary of {V} tokens has no id pad={pad} or "
                                f"eos={eos}")
        logp = logp.reshape(N, K, V)
        frozen = np.full(V, -np.inf)          # a finished beam: pad only, at no cost
        frozen[pad] = 0.0
        logp = np.where(finished[..., None], frozen, logp)
        cand = (scores[..., None] + logp).reshape(N, K * V)
        top = np.argsort(-cand, axis=1, kind="stable")[:, :K]          # (N, K)
        beam, tok = top // V, top % V
        scores = np.take_along_axis(cand, top, axis=1)
        was_finished = np.take_along_axis(finished, beam, axis=1)
        lengths = np.take_along_axis(lengths, beam, axis=1) + ~was_finished
        seqs = np.concatenate([np.take_along_axis(seqs, beam[..., None], axis=1),
                               tok[..., None]], axis=2)
        if (w is None) != (attn is None) and t > 0:
            raise ArgumentError(f"{who}: the step function gave attention weights at some "
                                "steps but not at others")
        if w is not None:                     # the weights of each survivor's parent row
            wk = w.reshape(N, K, 1, -1)[np.arange(N)[:, None], beam]
            wk = wk * ~was_finished[..., None, None]
            attn = wk if attn is None else np.concatenate(
                [np.take_along_axis(attn, beam[..., None, None], axis=1), wk], axis=2)
        finished = was_finished | (tok == eos)
        rows = (base + beam).reshape(-1)
        state = index_state(state, rows)
        prev = tok.reshape(-1)
        if finished.all():
            break
    with np.errstate(invalid="ignore"):
        norm = scores / np.maximum(lengths, 1).astype(np.float64) ** alpha
    norm = np.where(np.isfinite(scores), norm, -np.inf)
    best = norm.argmax(axis=1)
    n = np.arange(N)
    keep = max(int(lengths[n, best].max()), 1)          # drop the columns only other beams used
    out_attn = None if attn is None else attn[n, best, :keep]
    return Decoded(seqs[n, best, :keep], norm[n, best], lengths[n, best], out_attn)
