"""Sequence-to-sequence: attention against the formulas, masking, greedy and beam search,
and learning a synthetic task with both encoder-decoders."""
from __future__ import annotations

import numpy as np
import pytest

import glassnet as gn
from glassnet.autograd import gradcheck
from glassnet.errors import ArgumentError
from glassnet.models.decoding import beam_search, greedy_search, index_state
from glassnet.models.seq2seq import (BahdanauAttention, LuongAttention, RNNSeq2Seq,
                                     TransformerSeq2Seq, exact_match)

PAD, BOS, EOS = 0, 1, 2


def _softmax(s: np.ndarray) -> np.ndarray:
    e = np.exp(s - s.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def _double(m: gn.nn.Module) -> gn.nn.Module:
    return m.double()


def _data(rng: np.random.Generator, N: int = 3, S: int = 5, dq: int = 4, dk: int = 6
          ) -> tuple[gn.Tensor, gn.Tensor, np.ndarray]:
    q = gn.tensor(rng.standard_normal((N, dq)), dtype=gn.float64, requires_grad=True)
    k = gn.tensor(rng.standard_normal((N, S, dk)), dtype=gn.float64, requires_grad=True)
    mask = np.zeros((N, S), bool)
    mask[1, 3:] = True                     # sample 1 has 3 real positions
    mask[2, 4:] = True
    return q, k, mask


# --------------------------------------------------------------- attention
def test_bahdanau_equals_the_additive_formula() -> None:
    rng = np.random.default_rng(0)
    att = _double(BahdanauAttention(4, 6, 5))
    q, k, mask = _data(rng)
    ctx, w = att(q, k, key_padding_mask=mask)
    Wq, Wk = att.query_proj.weight.numpy(), att.key_proj.weight.numpy()
    b, v = att.key_proj.bias.numpy(), att.v.weight.numpy()[0]
    Q, K = q.numpy(), k.numpy()
    score = np.tanh((Q @ Wq.T)[:, None, :] + K @ Wk.T + b) @ v          # (N, S)
    score = np.where(mask, -np.inf, score)
    a = _softmax(score)
    np.testing.assert_allclose(w.numpy(), a, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(ctx.numpy(), np.einsum("ns,nsd->nd", a, K), rtol=1e-12)
    assert w.dtype == gn.float64 and np.all(w.numpy()[mask] == 0)


@pytest.mark.parametrize("method", ["dot", "general", "concat"])
def test_luong_equals_its_formulas(method: str) -> None:
    rng = np.random.default_rng(1)
    dk = 4 if method == "dot" else 6
    att = _double(LuongAttention(4, dk, method, hidden_size=5))
    q, k, mask = _data(rng, dk=dk)
    vals = gn.tensor(rng.standard_normal((3, 5, 2)), dtype=gn.float64)
    ctx, w = att(q, k, vals, key_padding_mask=mask)
    Q, K = q.numpy(), k.numpy()
    if method == "dot":
        score = np.einsum("nd,nsd->ns", Q, K)
    elif method == "general":
        score = np.einsum("nd,de,nse->ns", Q, att.weight.numpy(), K)
    else:
        W, v = att.W.weight.numpy(), att.v.weight.numpy()[0]
        cat = np.concatenate([np.broadcast_to(Q[:, None], (3, 5, 4)), K], axis=2)
        score = np.tanh(cat @ W.T) @ v
    a = _softmax(np.where(mask, -np.inf, score))
    np.testing.assert_allclose(w.numpy(), a, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(ctx.numpy(), np.einsum("ns,nsd->nd", a, vals.numpy()),
                               rtol=1e-12)


@pytest.mark.parametrize("make", [lambda: BahdanauAttention(4, 6, 5),
                                  lambda: LuongAttention(4, 6, "general"),
                                  lambda: LuongAttention(4, 6, "concat", 3)])
def test_attention_gradients_match_finite_differences(make) -> None:
    rng = np.random.default_rng(2)
    att = _double(make())
    q, k, mask = _data(rng)

    def f(q: gn.Tensor, k: gn.Tensor) -> gn.Tensor:
        ctx, w = att(q, k, key_padding_mask=mask)
        return (ctx * ctx).sum() + (w * w).sum()

    assert gradcheck(f, (q, k), eps=1e-6, atol=1e-6)


def test_padded_positions_change_nothing() -> None:
    """Whatever sits at a padded source position, the weights and context are the same."""
    rng = np.random.default_rng(3)
    for make in (BahdanauAttention(4, 6), LuongAttention(4, 6, "general"),
                 LuongAttention(4, 6, "concat")):
        att = _double(make)
        q, k, mask = _data(rng)
        k2 = k.numpy().copy()
        k2[mask] = 1e3 * rng.standard_normal((int(mask.sum()), 6))
        c1, w1 = att(q, k, key_padding_mask=mask)
        c2, w2 = att(q, gn.tensor(k2), key_padding_mask=mask)
        np.testing.assert_allclose(w1.numpy(), w2.numpy(), rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(c1.numpy(), c2.numpy(), rtol=1e-12)


def test_attention_refuses_bad_input() -> None:
    att = BahdanauAttention(4, 6)
    with pytest.raises(ArgumentError, match="keys must be"):
        att(gn.randn(2, 4), gn.randn(2, 5, 7))
    with pytest.raises(ArgumentError, match="key_padding_mask must have shape"):
        att(gn.randn(2, 4), gn.randn(2, 5, 6), key_padding_mask=np.zeros((2, 4), bool))
    with pytest.raises(ArgumentError, match="hides every source position"):
        att(gn.randn(2, 4), gn.randn(2, 5, 6), key_padding_mask=np.ones((2, 5), bool))
    with pytest.raises(ArgumentError, match="query_size == key_size"):
        LuongAttention(4, 6, "dot")
    with pytest.raises(ArgumentError, match="method"):
        LuongAttention(4, 6, "cosine")


def test_batched_queries_give_each_query_its_own_row() -> None:
    att = _double(BahdanauAttention(4, 6))
    q = gn.tensor(np.random.default_rng(4).standard_normal((2, 3, 4)))
    k = gn.randn(2, 5, 6, dtype=gn.float64)
    ctx, w = att(q, k)
    assert tuple(ctx.shape) == (2, 3, 6) and tuple(w.shape) == (2, 3, 5)
    for t in range(3):
        c1, w1 = att(q[:, t], k)
        np.testing.assert_allclose(w.numpy()[:, t], w1.numpy(), rtol=1e-12)


# ------------------------------------------------------------------ search
def _toy_step(state: np.ndarray, tok: np.ndarray) -> tuple[np.ndarray, np.ndarray, None]:
    """A hand-built decoder over {pad, bos, eos, a=3, b=4} where greedy is suboptimal:
    first p(a) = 0.6, p(b) = 0.4; after a the next token is spread thin (eos 0.3, a 0.35,
    b 0.35, then eos for sure); after b it is eos with 0.9. Greedy takes a (0.6) and ends
    with probability at most 0.6 * 0.35; the best sequence is b eos: 0.4 * 0.9 = 0.36."""
    B, V = len(tok), 5
    p = np.full((B, V), 1e-9)
    t = state                                    # steps taken so far
    first = t == 0
    p[first, 3], p[first, 4] = 0.6, 0.4
    after_a = (t == 1) & (tok == 3)
    p[after_a, 2], p[after_a, 3], p[after_a, 4] = 0.3, 0.35, 0.35
    after_b = (t == 1) & (tok == 4)
    p[after_b, 2], p[after_b, 3] = 0.9, 0.1
    late = t >= 2
    p[late, 2] = 1.0
    p /= p.sum(1, keepdims=True)
    return np.log(p), t + 1, None


def test_beam_search_beats_greedy_on_a_toy_decoder() -> None:
    N = 3
    g = greedy_search(_toy_step, np.zeros(N, int), N, BOS, EOS, PAD, max_len=6)
    b = beam_search(_toy_step, np.zeros(N, int), N, BOS, EOS, PAD, max_len=6, beam_width=2,
                    length_penalty=0.0)
    assert g.tokens[0].tolist() == [3, 3, 2]           # a a eos: 0.6 * 0.35 * 1
    np.testing.assert_allclose(np.exp(g.scores), 0.6 * 0.35 * (1 - 4e-9), rtol=1e-6)
    assert b.tokens.tolist() == [[4, 2]] * N           # b eos: 0.4 * 0.9
    np.testing.assert_allclose(np.exp(b.scores), 0.36, rtol=1e-6)
    assert np.all(b.scores > g.scores) and b.lengths.tolist() == [2] * N


def test_length_penalty_normalises_by_length() -> None:
    # with length_penalty=1 the score is the mean log-probability of the chosen row
    b = beam_search(_toy_step, np.zeros(2, int), 2, BOS, EOS, PAD, max_len=6, beam_width=3,
                    length_penalty=1.0)
    np.testing.assert_allclose(b.scores, np.log(0.36) / 2, rtol=1e-6)


def _random_step(V: int, S: int, seed: int):
    """A deterministic random decoder whose next-token distribution depends on the state
    (a running hash of the prefix), with attention weights."""
    table = np.random.default_rng(seed).standard_normal((97, V)) * 2
    att = np.random.default_rng(seed + 1).random((97, S))

    def step(state: np.ndarray, tok: np.ndarray):
        h = (state * 31 + tok * 7 + 3) % 97
        z = table[h]
        logp = z - np.log(np.exp(z).sum(1, keepdims=True))
        return logp, h, att[h] / att[h].sum(1, keepdims=True)

    return step


def test_beam_width_one_is_greedy() -> None:
    step = _random_step(V=7, S=4, seed=5)
    s0 = np.arange(6)
    g = greedy_search(step, s0, 6, BOS, EOS, PAD, max_len=9)
    b = beam_search(step, s0, 6, BOS, EOS, PAD, max_len=9, beam_width=1, length_penalty=0.0)
    np.testing.assert_array_equal(g.tokens, b.tokens)
    np.testing.assert_allclose(g.scores, b.scores, rtol=1e-12)
    np.testing.assert_array_equal(g.lengths, b.lengths)
    assert g.attention is not None and b.attention is not None
    np.testing.assert_allclose(g.attention, b.attention, rtol=1e-12)


def test_beam_search_output_is_consistent() -> None:
    """The returned score is the step function's log-probability of the returned tokens,
    every row ends at its first eos and is padded after it, and the attention rows are the
    weights the decoder gave along that row."""
    V, S, N = 7, 4, 5
    step = _random_step(V, S, seed=6)
    b = beam_search(step, np.arange(N), N, BOS, EOS, PAD, max_len=8, beam_width=4,
                    length_penalty=0.0)
    g = greedy_search(step, np.arange(N), N, BOS, EOS, PAD, max_len=8)
    assert np.all(b.scores >= g.scores - 1e-12) and b.attention is not None
    for n in range(N):                     # re-score each row by replaying it (checking only)
        state, prev, total = np.array([n]), np.array([BOS]), 0.0
        for t in range(b.lengths[n]):
            logp, state, w = step(state, prev)
            tok = b.tokens[n, t]
            total += logp[0, tok]
            np.testing.assert_allclose(b.attention[n, t], w[0], rtol=1e-12)
            prev = np.array([tok])
        np.testing.assert_allclose(b.scores[n], total, rtol=1e-10)
        row = b.tokens[n]
        if b.lengths[n] < row.shape[0] or row[-1] == EOS:
            assert row[b.lengths[n] - 1] == EOS and np.all(row[b.lengths[n]:] == PAD)
            assert EOS not in row[:b.lengths[n] - 1]


def test_index_state_walks_containers() -> None:
    s = {"a": np.arange(4), "b": (gn.arange(4), [np.arange(8).reshape(4, 2)]), "c": None}
    out = index_state(s, np.array([2, 2, 0]))
    assert out["a"].tolist() == [2, 2, 0] and out["b"][0].tolist() == [2, 2, 0]
    assert out["b"][1][0].tolist() == [[4, 5], [4, 5], [0, 1]] and out["c"] is None


def test_exact_match_ignores_padding() -> None:
    assert exact_match([[3, 2, 0], [4, 2, 0]], [[3, 2], [4, 4]]) == 0.5


# ------------------------------------------------------------------ models
def _reverse_task(n: int, lo: int, hi: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Digits 3..12 of length lo..hi, padded with 0; the target is the reversal then eos."""
    rng = np.random.default_rng(seed)
    L = rng.integers(lo, hi + 1, n)
    digits = rng.integers(3, 13, (n, hi))
    pos = np.arange(hi)
    real = pos < L[:, None]
    src = np.where(real, digits, PAD)
    rev = np.take_along_axis(digits, np.clip(L[:, None] - 1 - pos, 0, hi - 1), axis=1)
    tgt = np.concatenate([np.where(real, rev, PAD), np.zeros((n, 1), np.int64)], axis=1)
    tgt[np.arange(n), L] = EOS
    return src, tgt


def test_reverse_task_is_what_it_says() -> None:
    src, tgt = _reverse_task(4, 2, 4, 0)
    for s, t in zip(src, tgt):
        real = s[s != PAD]
        assert t[:len(real)].tolist() == real[::-1].tolist() and t[len(real)] == EOS


@pytest.mark.parametrize("attention,cell,bi", [("bahdanau", "lstm", True),
                                               ("general", "gru", True),
                                               ("dot", "lstm", False),
                                               ("concat", "gru", False)])
def test_rnn_seq2seq_shapes_padding_and_decoding(attention: str, cell: str, bi: bool) -> None:
    gn.manual_seed(0)
    m = RNNSeq2Seq(13, 13, embedding_dim=8, hidden_size=12, cell=cell, bidirectional=bi,
                   attention=attention)
    src, tgt = _reverse_task(5, 2, 5, 1)
    logits, w = m(src, m.shift_right(tgt), return_attention=True)
    assert tuple(logits.shape) == (5, tgt.shape[1], 13) and tuple(w.shape) == (5, 6, 5)
    np.testing.assert_allclose(w.numpy().sum(-1), 1, rtol=1e-5)
    assert np.all(w.numpy()[np.broadcast_to((src == PAD)[:, None], w.shape)] == 0)
    # padding more on the right changes nothing for a sample
    wide = np.pad(src, ((0, 0), (0, 3)))
    np.testing.assert_allclose(m(wide, m.shift_right(tgt)).numpy(), logits.numpy(),
                               rtol=1e-4, atol=1e-5)
    loss = m.loss(src, tgt)
    loss.backward()
    assert all(p.grad is not None for p in m.parameters())
    g = m.greedy(src, max_len=7)
    b = m.beam_search(src, beam_width=1, max_len=7, length_penalty=0.0)
    np.testing.assert_array_equal(g.tokens, b.tokens)
    assert g.attention is not None and g.attention.shape == (5, g.tokens.shape[1], 5)


def test_transformer_seq2seq_shapes_padding_and_weights() -> None:
    gn.manual_seed(0)
    m = TransformerSeq2Seq(13, 13, d_model=16, nhead=2, num_encoder_layers=1,
                           num_decoder_layers=2, dim_feedforward=32, dropout=0.0)
    m.eval()
    src, tgt = _reverse_task(4, 2, 5, 2)
    tin = m.shift_right(tgt)
    plain = m(src, tin)
    logits, w = m(src, tin, return_attention=True)
    # the decoder run that keeps the weights is the decoder's own forward
    np.testing.assert_allclose(logits.numpy(), plain.numpy(), rtol=1e-5, atol=1e-6)
    assert tuple(w.shape) == (4, tgt.shape[1], 5)
    assert np.all(w.numpy()[np.broadcast_to((src == PAD)[:, None], w.shape)] == 0)
    wide = np.pad(src, ((0, 0), (0, 2)))
    np.testing.assert_allclose(m(wide, tin).numpy(), plain.numpy(), rtol=1e-4, atol=1e-5)
    # decoding step by step gives the teacher-forced logits of the same prefix
    state = m.encode(src)
    with gn.no_grad():
        for t in range(3):
            z, state, wt = m.step(state, tin[:, t])
            assert wt is not None
            np.testing.assert_allclose(z.numpy(), plain.numpy()[:, t], rtol=1e-4, atol=1e-5)
            np.testing.assert_allclose(wt.numpy(), w.numpy()[:, t], rtol=1e-4, atol=1e-6)
    g = m.greedy(src, max_len=6)
    b = m.beam_search(src, beam_width=1, max_len=6, length_penalty=0.0)
    np.testing.assert_array_equal(g.tokens, b.tokens)


def test_models_refuse_bad_input() -> None:
    with pytest.raises(ArgumentError, match="attention='dot'"):
        RNNSeq2Seq(5, 5, hidden_size=8, bidirectional=True, attention="dot")
    with pytest.raises(ArgumentError, match="must differ"):
        RNNSeq2Seq(5, 5, pad_idx=0, bos_idx=0, eos_idx=2)
    m = RNNSeq2Seq(5, 5, embedding_dim=4, hidden_size=4)
    with pytest.raises(ArgumentError, match="integer ids"):
        m(np.zeros((2, 3)), np.zeros((2, 3), int))
    with pytest.raises(ArgumentError, match="all padding"):
        m.greedy(np.array([[3, 4], [0, 0]]))


def test_rnn_with_attention_learns_to_reverse() -> None:
    gn.manual_seed(0)
    src, tgt = _reverse_task(1500, 3, 6, 10)
    vs, vt = _reverse_task(200, 3, 6, 11)
    m = RNNSeq2Seq(13, 13, embedding_dim=16, hidden_size=32, cell="gru", attention="bahdanau")
    m.fit(src, tgt, epochs=4, batch_size=32, lr=3e-3, seed=0)
    assert m.exact_match(vs, vt) >= 0.95
    assert m.exact_match(vs, vt, "beam", beam_width=3) >= 0.95


def test_transformer_learns_to_reverse() -> None:
    gn.manual_seed(0)
    src, tgt = _reverse_task(1500, 3, 6, 10)
    vs, vt = _reverse_task(200, 3, 6, 11)
    m = TransformerSeq2Seq(13, 13, d_model=32, nhead=2, num_encoder_layers=1,
                           num_decoder_layers=1, dim_feedforward=64, dropout=0.0,
                           norm_first=True)
    m.fit(src, tgt, epochs=15, batch_size=32, lr=3e-3, lr_schedule="cosine", seed=0)
    assert m.exact_match(vs, vt) >= 0.95
    assert m.exact_match(vs, vt, "beam", beam_width=3) >= 0.95
