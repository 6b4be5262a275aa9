"""Sequence labelling and the window classifier on Tiny Shakespeare (the last 10% of lines held out).

    python examples/text_tagging_shakespeare.py                 # about 4 minutes
    python examples/text_tagging_shakespeare.py --minutes 0.5 --out runs/tagging

1. Restoring capitalisation and punctuation: the input is each line's words lower-cased with
   the punctuation removed; each word's label is its casing (lower, Capitalised, UPPER)
   times the mark that followed it (none , . ? other), 15 classes, all derived from the
   original text. A bidirectional LSTM tagger is scored against the majority class and
   against each word's most frequent training label; token F1 is micro-averaged over the
   14 classes other than "lower, no mark". The window classifier (k = 2) takes the binary
   part "is the word capitalised".
2. Spotting character names in the running text: the names are the upper-case words of the
   speaker tags ("ROMEO:", "KING RICHARD III:" gives RICHARD), titles and numerals left out;
   a word of a speech line is a name when it is one of them. The window classifier (k = 2)
   is trained with the margin loss against corrupted and real non-name windows; precision,
   recall and F1 on the held-out lines, beside the look-up of the names seen in the
   training lines.
Writes results.json into --out when given. Figures measured with it are in docs/text.md.
"""
from __future__ import annotations

import argparse
import json
import re
import time
from pathlib import Path

import numpy as np

import glassnet as gn
from glassnet.data import load_text
from glassnet.text import (SequenceTagger, Tokenizer, Vocabulary, WindowClassifier,
                           make_windows, sequence_mask, token_accuracy, token_f1)

MARKS = {",": 1, ".": 2, "?": 3}          # anything else after a word: 4
TITLES = {"KING", "QUEEN", "DUKE", "DUCHESS", "LADY", "LORD", "PRINCE", "PRINCESS", "EARL",
          "BISHOP", "ARCHBISHOP", "MARQUESS", "SIR", "OF", "THE", "AND", "FRIAR", "PROVOST",
          "GAOLER", "NURSE", "SERVANT", "CLOWN", "ALL", "BOTH", "YOUNG", "LIEUTENANT"}


def case_and_mark_labels(lines: list[str]) -> tuple[list[list[str]], list[list[int]]]:
    """Per line: its lower-cased words, and each word's label casing * 5 + mark."""
    tok = Tokenizer()
    words_out, labels_out = [], []
    for line in lines:
        words: list[str] = []
        labels: list[int] = []
        for t in tok(line):
            if t[0].isalnum() or t[0] == "_":
                case = 2 if len(t) > 1 and t.isupper() else 1 if t[0].isupper() else 0
                words.append(t.lower())
                labels.append(case * 5)
            elif words and labels[-1] % 5 == 0:
                labels[-1] += MARKS.get(t, 4)
        if words:
            words_out.append(words)
            labels_out.append(labels)
    return words_out, labels_out


def padded(vocab: Vocabulary, words: list[list[str]], labels: list[list[int]]):
    ids, lengths = vocab.encode_batch(words)
    y, _ = vocab.pad(labels, padding_value=-100)
    return ids.numpy(), y.numpy(), lengths.numpy()


def tagging(train_lines, held_lines, minutes: float, seed: int) -> dict:
    tw, tl = case_and_mark_labels(train_lines)
    hw, hl = case_and_mark_labels(held_lines)
    vocab = Vocabulary.build(tw, min_count=2)
    X, Y, n = padded(vocab, tw, tl)
    Xh, Yh, nh = padded(vocab, hw, hl)
    others = list(range(1, 15))
    out: dict = {"train_lines": len(tw), "held_lines": len(hw), "vocabulary": len(vocab),
                 "held_tokens": int(nh.sum())}
    # baselines: the majority class; each word's most frequent training label
    m, mh = sequence_mask(n, X.shape[1]), sequence_mask(nh, Xh.shape[1])
    counts = np.zeros((len(vocab), 15), np.int64)
    np.add.at(counts, (X[m], Y[m]), 1)
    majority = int(np.bincount(Y[m], minlength=15).argmax())
    per_word = np.where(counts.sum(1) > 0, counts.argmax(1), majority)
    for name, pred in (("majority", np.full_like(Yh, majority)), ("per_word", per_word[Xh])):
        out[name] = {"accuracy": token_accuracy(pred, Yh, lengths=nh),
                     "f1": token_f1(pred, Yh, lengths=nh, labels=others),
                     "capital_f1": token_f1((pred >= 5).astype(int), (Yh >= 5).astype(int),
                                            mask=mh, labels=[1])}
    gn.manual_seed(seed)
    tagger = SequenceTagger(len(vocab), 15, embedding_dim=64, hidden_size=64)
    t0 = time.perf_counter()
    hist = tagger.fit(X, Y, n, epochs=50, batch_size=64, lr=5e-3, seed=seed,
                      time_limit=60 * minutes, verbose=1)
    pred = tagger.predict(Xh, nh)
    out["bilstm_tagger"] = {"epochs": len(hist["epoch"]), "seconds": time.perf_counter() - t0,
                            "accuracy": token_accuracy(pred, Yh, lengths=nh),
                            "f1": token_f1(pred, Yh, lengths=nh, labels=others),
                            "capital_f1": token_f1((pred >= 5).astype(int), (Yh >= 5).astype(int),
                                                   mask=mh, labels=[1])}
    # the window classifier on the binary part: is the centre word capitalised?
    win, cap = make_windows(X, 2, n), (Y[m] >= 5)
    hwin, hcap = make_windows(Xh, 2, nh), (Yh[mh] >= 5)
    gn.manual_seed(seed)
    clf = WindowClassifier(len(vocab), k=2, embedding_dim=32, hidden_size=64)
    t0 = time.perf_counter()
    clf.fit(win[cap], negatives=win[~cap], epochs=50, batch_size=256, lr=3e-3, seed=seed,
            time_limit=30 * minutes)
    p = clf.predict(hwin)
    out["window_classifier_capital_f1"] = token_f1(p, hcap.astype(int), labels=[1])
    out["window_classifier_seconds"] = time.perf_counter() - t0
    return out


def names(text: str, train_lines: list[str], held_lines: list[str], minutes: float,
          seed: int) -> dict:
    tags = re.findall(r"^([A-Za-z' ]+):$", text, flags=re.M)
    lexicon = {w.lower() for t in tags for w in t.split()
               if w.isupper() and len(w) > 2 and w not in TITLES and not re.fullmatch("[IVX]+", w)}
    tok = Tokenizer(lower=True)

    def speech(lines):
        rows = [tok(ln) for ln in lines if not re.fullmatch(r"[A-Za-z' ]+:", ln.strip())]
        return [r for r in rows if r]
    tr, he = speech(train_lines), speech(held_lines)
    vocab = Vocabulary.build(tr, min_count=2)
    X, n = (a.numpy() for a in vocab.encode_batch(tr))
    Xh, nh = (a.numpy() for a in vocab.encode_batch(he))
    y = np.array([w in lexicon for r in tr for w in r])
    yh = np.array([w in lexicon for r in he for w in r])
    win, hwin = make_windows(X, 2, n), make_windows(Xh, 2, nh)
    rng = np.random.default_rng(seed)
    neg = win[~y]
    neg = neg[rng.choice(len(neg), min(len(neg), 20 * int(y.sum())), replace=False)]
    gn.manual_seed(seed)
    clf = WindowClassifier(len(vocab), k=2, embedding_dim=32, hidden_size=64)
    t0 = time.perf_counter()
    clf.fit(win[y], negatives=neg, epochs=100, batch_size=128, lr=3e-3, seed=seed,
            time_limit=60 * minutes)
    p = clf.predict(hwin)

    def prf(pred):
        tp = int(((pred == 1) & yh).sum())
        P, R = tp / max(int(pred.sum()), 1), tp / max(int(yh.sum()), 1)
        return {"precision": P, "recall": R, "f1": 2 * P * R / (P + R) if P + R else 0.0}
    seen = {w for r, lab in zip(tr, np.split(y, np.cumsum([len(r) for r in tr])[:-1]))
            for w, is_name in zip(r, lab) if is_name}
    lookup = np.array([w in seen for r in he for w in r]).astype(int)
    return {"names": len(lexicon), "train_name_tokens": int(y.sum()),
            "held_name_tokens": int(yh.sum()), "held_tokens": int(len(yh)),
            "window_classifier": {**prf(p), "seconds": time.perf_counter() - t0},
            "lookup_of_training_names": prf(lookup)}


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=1.5, help="training time of each model")
    ap.add_argument("--max-lines", type=int, default=None, help="only the first lines (a quick run)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)
    text = load_text()
    lines = [ln for ln in text.splitlines() if ln.strip()][:args.max_lines]
    text = "\n".join(lines)
    n_val = len(lines) // 10
    train, held = lines[:-n_val], lines[-n_val:]
    results = {"tagging": tagging(train, held, args.minutes, args.seed),
               "names": names(text, train, held, args.minutes, args.seed)}
    print(json.dumps(results, indent=1))
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "results.json").write_text(json.dumps(results, indent=1))
    return results


if __name__ == "__main__":
    main()
