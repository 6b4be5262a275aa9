"""Word-level language models (LSTM and causal Transformer) on Tiny Shakespeare lines.

    python examples/word_lm_shakespeare.py                       # both models, 3 minutes each
    python examples/word_lm_shakespeare.py --model transformer --minutes 1 --out runs/wordlm

Each non-empty line is a sentence (lower-cased, words and punctuation marks); the last 10%
of the lines are held out. Words seen fewer than --min-count times in the training lines are
<unk>. Reported per model: held-out perplexity (per predicted token, <eos> included), the
share of held-out lines (3+ distinct tokens) that score above a random shuffle of their own
tokens, and the deck's pair log p("the cat is small") vs log p("small the cat is").
Writes results.json (and, with --out, vocab.json, history per model and the word-vector
picture) into --out. Figures measured with this script are in docs/text.md.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

import glassnet as gn
from glassnet.data import load_text
from glassnet.text import (Tokenizer, Vocabulary, WordLSTMLM, WordTransformerLM,
                           nearest_neighbors, plot_embeddings)


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", choices=["lstm", "transformer", "both"], default="both")
    ap.add_argument("--minutes", type=float, default=3.0, help="training time per model")
    ap.add_argument("--steps", type=int, default=100000, help="at most this many steps")
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--min-count", type=int, default=3)
    ap.add_argument("--width", type=int, default=128, help="embedding / model width")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)

    lines = [ln for ln in load_text().splitlines() if ln.strip()]
    n_val = len(lines) // 10
    train, held = lines[:-n_val], lines[-n_val:]
    tok = Tokenizer(lower=True)
    vocab = Vocabulary.build(train, min_count=args.min_count, tokenizer=tok,
                             specials=("<bos>", "<eos>"))
    print(f"{len(train)} training lines, {len(held)} held out, vocabulary {len(vocab)}")
    rng = np.random.default_rng(args.seed)
    ranked = [s for s in held if len(set(tok(s))) >= 3]
    shuffled = [" ".join(rng.permutation(tok(s))) for s in ranked]

    results: dict = {"vocabulary": len(vocab), "train_lines": len(train), "held_lines": len(held)}
    kinds = ["lstm", "transformer"] if args.model == "both" else [args.model]
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        vocab.save(args.out / "vocab.json")
    for kind in kinds:
        gn.manual_seed(args.seed)
        W = args.width
        lm = (WordLSTMLM(vocab, embedding_dim=W, hidden_size=W) if kind == "lstm" else
              WordTransformerLM(vocab, d_model=W, nhead=4, num_layers=2, context=64))
        lr = 3e-3 if kind == "lstm" else 1e-3
        t0 = time.perf_counter()
        hist = lm.fit(train, steps=args.steps, batch_size=args.batch_size, lr=lr,
                      validation=held[:1000], eval_every=500, time_limit=60 * args.minutes,
                      seed=args.seed, verbose=1)
        seconds = time.perf_counter() - t0
        ppl = lm.perplexity(held)
        a, b = lm.log_probs(ranked), lm.log_probs(shuffled)
        cat, shuf = lm.log_prob("the cat is small"), lm.log_prob("small the cat is")
        emb = lm.embedding if kind == "lstm" else lm.tok
        near = {w: [t for t, _ in nearest_neighbors(w, vocab, emb, k=5)]
                for w in ("king", "love", "death", "good") if w in vocab}
        r = {"steps": hist["step"][-1], "seconds": round(seconds, 1),
             "held_perplexity": round(ppl, 2), "original_above_shuffled": round(float(np.mean(a > b)), 4),
             "ranked_lines": len(ranked), "log_p_the_cat_is_small": round(cat, 3),
             "log_p_small_the_cat_is": round(shuf, 3), "neighbours": near,
             "history": hist}
        results[kind] = r
        print(f"{kind}: {r['steps']} steps in {seconds:.0f} s, held-out perplexity {ppl:.1f}, "
              f"original > shuffled for {100 * r['original_above_shuffled']:.1f}% of "
              f"{len(ranked)} lines; log p(the cat is small) = {cat:.2f} vs "
              f"log p(small the cat is) = {shuf:.2f}")
        print(f"  nearest neighbours: {near}")
        if args.out:
            words = [w for w in ("king", "queen", "duke", "lord", "love", "hate", "death", "life",
                                 "good", "bad", "sweet", "fair", "day", "night", "man", "woman")
                     if w in vocab]
            plot_embeddings(words, vocab, emb, path=args.out / f"embeddings_{kind}.png",
                            title=f"{kind} word vectors (PCA)")
    if args.out:
        (args.out / "results.json").write_text(json.dumps(results, indent=1))
    return results


if __name__ == "__main__":
    main()
