"""Sequence-to-sequence with attention on generated tasks: reverse digit strings, or
translate dates written in many human formats into ISO 8601.

An RNN encoder-decoder with Bahdanau (or Luong) attention and a Transformer are trained
with teacher forcing (``glassnet.models.RNNSeq2Seq`` / ``TransformerSeq2Seq``), then
decode held-out inputs greedily and by beam search; the script prints the exact-match
accuracy of both, the time, how monotonic the attention is, and draws the attention
weights of a few examples as heat maps (``glassnet.inspect.plot_attention``).

    python examples/seq2seq_reverse.py                                  # reverse, both models
    python examples/seq2seq_reverse.py --task dates --models rnn --epochs 12
    python examples/seq2seq_reverse.py --out docs/images/seq2seq_attention.png
"""
from __future__ import annotations

import argparse
import datetime as dt
import time

import numpy as np

import glassnet as gn
from glassnet import inspect
from glassnet.models import RNNSeq2Seq, TransformerSeq2Seq

PAD, BOS, EOS = 0, 1, 2
SPECIALS = ["<pad>", "<s>", "</s>"]


# ------------------------------------------------------------------- tasks
def reverse_task(n: int, lo: int = 3, hi: int = 10, seed: int = 0
                 ) -> tuple[np.ndarray, np.ndarray, list[str], list[str]]:
    """Digit strings of length lo..hi and their reversals (+ eos); ids 3..12 are 0..9."""
    rng = np.random.default_rng(seed)
    L = rng.integers(lo, hi + 1, n)
    digits = rng.integers(3, 13, (n, hi))
    pos = np.arange(hi)
    real = pos < L[:, None]
    src = np.where(real, digits, PAD)
    rev = np.take_along_axis(digits, np.clip(L[:, None] - 1 - pos, 0, hi - 1), axis=1)
    tgt = np.concatenate([np.where(real, rev, PAD), np.zeros((n, 1), np.int64)], axis=1)
    tgt[np.arange(n), L] = EOS
    vocab = SPECIALS + [str(d) for d in range(10)]
    return src, tgt, vocab, vocab


MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December"]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def _human(d: dt.date, f: int) -> str:
    m, mon = MONTHS[d.month - 1], MONTHS[d.month - 1][:3]
    forms = [f"{d.day} {m} {d.year}", f"{m} {d.day}, {d.year}", f"{mon} {d.day} {d.year}",
             f"{d.day:02d}-{mon}-{d.year}", f"{DAYS[d.weekday()]}, {m} {d.day}, {d.year}",
             f"{d.year}/{d.month:02d}/{d.day:02d}", f"{d.day}.{d.month}.{d.year}",
             f"{mon.lower()} {d.day:02d} {d.year}", f"the {d.day} of {m}, {d.year}",
             f"{d.year}, {m} {d.day}"]
    return forms[f]


def dates_task(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, list[str], list[str]]:
    """Dates from 1950 to 2049 in ten human formats (characters) -> YYYY-MM-DD."""
    rng = np.random.default_rng(seed)
    start = dt.date(1950, 1, 1).toordinal()
    days = rng.integers(0, dt.date(2049, 12, 31).toordinal() - start + 1, n)
    fmt = rng.integers(0, 10, n)
    dates = [dt.date.fromordinal(start + int(k)) for k in days]
    texts = [_human(d, int(f)) for d, f in zip(dates, fmt)]
    isos = [d.isoformat() for d in dates]
    chars = sorted({c for t in texts for c in t})
    src_vocab = SPECIALS + chars
    tgt_vocab = SPECIALS + list("0123456789-")
    si = {c: i for i, c in enumerate(src_vocab)}
    ti = {c: i for i, c in enumerate(tgt_vocab)}
    S = max(len(t) for t in texts)
    src = np.zeros((n, S), np.int64)
    tgt = np.zeros((n, 11), np.int64)
    for i, (t, iso) in enumerate(zip(texts, isos)):   # building the data, not the model
        src[i, :len(t)] = [si[c] for c in t]
        tgt[i, :10] = [ti[c] for c in iso]
    tgt[:, 10] = EOS
    return src, tgt, src_vocab, tgt_vocab


# ------------------------------------------------------------------- main
def build(kind: str, V_src: int, V_tgt: int, args: argparse.Namespace) -> gn.nn.Module:
    if kind == "rnn":
        return RNNSeq2Seq(V_src, V_tgt, embedding_dim=32, hidden_size=args.hidden,
                          cell=args.cell, attention=args.attention)
    return TransformerSeq2Seq(V_src, V_tgt, d_model=args.d_model, nhead=args.heads,
                              num_encoder_layers=args.layers, num_decoder_layers=args.layers,
                              dim_feedforward=2 * args.d_model, dropout=0.0, norm_first=True)


def main(argv: list[str] | None = None) -> dict[str, dict[str, float]]:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--task", default="reverse", choices=["reverse", "dates"])
    ap.add_argument("--models", default="rnn,transformer")
    ap.add_argument("--train", type=int, default=3000)
    ap.add_argument("--test", type=int, default=500)
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--hidden", type=int, default=64)
    ap.add_argument("--d-model", type=int, default=64)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--layers", type=int, default=1, help="Transformer layers per stack")
    ap.add_argument("--max-digits", type=int, default=8, help="reverse: longest string")
    ap.add_argument("--cell", default="gru", choices=["lstm", "gru"])
    ap.add_argument("--attention", default="bahdanau",
                    choices=["bahdanau", "dot", "general", "concat"])
    ap.add_argument("--beam", type=int, default=4)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=None, help="write the attention heat maps here (PNG)")
    args = ap.parse_args(argv)
    gn.manual_seed(args.seed)
    if args.task == "reverse":
        src, tgt, sv, tv = reverse_task(args.train + args.test, hi=args.max_digits,
                                      seed=args.seed)
    else:
        src, tgt, sv, tv = dates_task(args.train + args.test, seed=args.seed)
    (s_tr, s_te), (t_tr, t_te) = np.split(src, [args.train]), np.split(tgt, [args.train])
    results: dict[str, dict[str, float]] = {}
    maps = []
    for kind in args.models.split(","):
        model = build(kind, len(sv), len(tv), args)
        t0 = time.perf_counter()
        hist = model.fit(s_tr, t_tr, epochs=args.epochs, batch_size=args.batch_size,
                         lr=args.lr, lr_schedule="cosine", seed=args.seed)
        secs = time.perf_counter() - t0
        g = model.exact_match(s_te, t_te)
        b = model.exact_match(s_te, t_te, "beam", beam_width=args.beam)
        k = min(200, len(s_te))
        dec = model.greedy(s_te[:k], max_len=t_te.shape[1] + 5)
        assert dec.attention is not None
        mono = []
        for i in range(k):   # each example's own (length, source length) block
            n_src = int((s_te[i] != PAD).sum())
            n_tgt = max(int(dec.lengths[i]) - 1, 1)          # without the eos step
            mono.append(inspect.attention_monotonicity(dec.attention[i, :n_tgt, :n_src],
                                                       reverse=args.task == "reverse"))
        results[kind] = {"greedy": g, "beam": b, "seconds": secs,
                         "final_loss": hist["loss"][-1], "monotonic": float(np.mean(mono))}
        print(f"{args.task} {kind}: final train loss {hist['loss'][-1]:.4f} after "
              f"{args.epochs} epochs in {secs:.1f} s; held-out exact match greedy {g:.4f}, "
              f"beam({args.beam}) {b:.4f}; attention argmax "
              f"{'non-increasing' if args.task == 'reverse' else 'non-decreasing'} on "
              f"{np.mean(mono):.3f} of steps", flush=True)
        i = int(np.argmax((s_te[:k] != PAD).sum(axis=1)))      # the longest of them
        n_src = int((s_te[i] != PAD).sum())
        n_tgt = int(dec.lengths[i])
        maps.append((kind, dec.attention[i, :n_tgt, :n_src],
                     [sv[k] for k in s_te[i, :n_src]],
                     [tv[k] for k in dec.tokens[i, :n_tgt]]))
    if args.out:
        from matplotlib.figure import Figure
        fig = Figure(figsize=(5.0 * len(maps), 4.2))
        axes = np.atleast_1d(fig.subplots(1, len(maps)))
        for ax, (kind, w, s_lab, t_lab) in zip(axes, maps):
            inspect.plot_attention(w, s_lab, t_lab, ax=ax,
                                   title=f"{kind}: attention, {args.task} (greedy)")
        fig.tight_layout()
        fig.savefig(args.out, dpi=100, bbox_inches="tight")
        print(f"wrote {args.out}")
    return results


if __name__ == "__main__":
    main()
