"""Sequence labelling: one label per token (part of speech, named entity, casing...).

:class:`SequenceTagger` is ``Embedding -> bidirectional LSTM -> Linear`` applied at every
step, so the label of token t sees the whole sentence on both sides.
:func:`sequence_cross_entropy` is the mean cross-entropy over the real tokens of a padded
batch, for logits laid out (N, T, C) or, as PyTorch's ``CrossEntropyLoss`` wants them,
(N, C, T); :func:`token_accuracy` and :func:`token_f1` score predictions with the padding
left out.
"""
from __future__ import annotations

import time
from typing import Any, Sequence

import numpy as np

from .. import nn, optim
from ..autograd import no_grad
from ..autograd.factories import tensor
from ..autograd.tensor import Tensor, as_array
from ..errors import ArgumentError
from ..functional import losses as L
from ..functional import math as M
from ..validation import check_choice, check_int, check_real

__all__ = ["sequence_cross_entropy", "sequence_mask", "token_accuracy", "token_f1",
           "SequenceTagger"]


def sequence_mask(lengths: Any, T: int) -> np.ndarray:
    """(N, T) bool: True at the real positions ``t < lengths[n]``.

    >>> sequence_mask([2, 0, 3], 3).astype(int).tolist()
    [[1, 1, 0], [0, 0, 0], [1, 1, 1]]
    """
    n = np.asarray(as_array(lengths)).reshape(-1)
    if n.dtype.kind not in "iu" or (n.size and (n.min() < 0 or n.max() > T)):
        raise ArgumentError(f"lengths must be integers in 0..{T}, got {n.tolist()}")
    return np.arange(T)[None, :] < n[:, None]


def _valid(target: np.ndarray, lengths: Any, mask: Any, ignore_index: int, who: str) -> np.ndarray:
    valid = target != ignore_index
    if lengths is not None:
        valid &= sequence_mask(lengths, target.shape[1])
    if mask is not None:
        m = np.asarray(as_array(mask), dtype=bool)
        if m.shape != target.shape:
            raise ArgumentError(f"{who}: mask must have the targets' shape {target.shape}, got "
                                f"{m.shape}")
        valid &= m
    return valid


def sequence_cross_entropy(logits: Tensor, targets: Any, lengths: Any = None, mask: Any = None,
                           layout: str = "NTC", ignore_index: int = -100,
                           reduction: str = "mean", label_smoothing: float = 0.0,
                           weight: Any = None) -> Tensor:
    """Cross-entropy of per-token logits against (N, T) class indices, over the real tokens.

    A token counts unless its target is ``ignore_index``, it lies at or past its
    sequence's length (``lengths`` (N,)), or ``mask`` (N, T) is False there. With
    ``layout="NCT"`` the logits are (N, C, T), and the result equals PyTorch's
    ``nn.CrossEntropyLoss(ignore_index=...)(logits, targets)``; ``"NTC"`` takes
    (N, T, C), the layout a batch-first LSTM + Linear gives. ``reduction`` "mean"
    averages over the tokens that count; "sum" adds them; "none" gives (N, T) with zeros
    at the others.

    >>> z = gn.tensor(np.zeros((1, 3, 2)))                        # (N, T, C), uniform
    >>> float(sequence_cross_entropy(z, [[0, 1, 1]], lengths=[2]).item())   # log 2
    0.693147...
    """
    who = "sequence_cross_entropy"
    check_choice(layout, "layout", who, ("NTC", "NCT"))
    check_choice(reduction, "reduction", who, ("mean", "sum", "none"))
    t = np.asarray(as_array(targets))
    if t.dtype.kind not in "iu" or t.ndim != 2:
        raise ArgumentError(f"{who}: targets must be integer class indices (N, T), got "
                            f"{t.dtype} {t.shape}")
    if logits.ndim != 3:
        raise ArgumentError(f"{who}: logits must be 3-D ({layout}), got shape {tuple(logits.shape)}")
    N, T = t.shape
    shape = tuple(logits.shape)
    fits = shape[:2] == (N, T) if layout == "NTC" else (shape[0], shape[2]) == (N, T)
    if not fits:
        raise ArgumentError(f"{who}: logits of shape {shape} do not match targets (N, T) = "
                            f"{(N, T)} in layout {layout!r}")
    valid = _valid(t, lengths, mask, ignore_index, who)
    t = np.where(valid, t, ignore_index)
    if layout == "NCT":
        z = M.transpose(logits, 0, 2, 1)
    else:
        z = logits
    C = z.shape[2]
    flat = z.reshape(N * T, C)
    if reduction == "none":
        per = L.cross_entropy(flat, tensor(t.reshape(-1)), reduction="none", ignore_index=ignore_index,
                              label_smoothing=label_smoothing, weight=weight)
        return per.reshape(N, T)
    return L.cross_entropy(flat, tensor(t.reshape(-1)), reduction=reduction, ignore_index=ignore_index,
                           label_smoothing=label_smoothing, weight=weight)


def _labels(pred: Any, target: Any, who: str) -> tuple[np.ndarray, np.ndarray]:
    p = np.asarray(as_array(pred))
    t = np.asarray(as_array(target))
    if p.ndim == t.ndim + 1:             # logits (N, T, C): the argmax label
        p = p.argmax(axis=-1)
    if p.shape != t.shape:
        raise ArgumentError(f"{who}: predictions of shape {p.shape} do not match targets of "
                            f"shape {t.shape}")
    if t.ndim == 1:
        p, t = p[None], t[None]
    return p, t


def token_accuracy(pred: Any, target: Any, lengths: Any = None, mask: Any = None,
                   ignore_index: int = -100) -> float:
    """The fraction of real tokens whose predicted label is the target (predictions as
    labels (N, T) or logits (N, T, C)); padding and ``ignore_index`` targets left out.

    >>> token_accuracy([[1, 0, 5]], [[1, 1, 2]], lengths=[2])
    0.5
    """
    p, t = _labels(pred, target, "token_accuracy")
    valid = _valid(t, lengths, mask, ignore_index, "token_accuracy")
    n = int(valid.sum())
    if n == 0:
        raise ArgumentError("token_accuracy: no token counts (all padding or ignored)")
    return float((p == t)[valid].sum() / n)


def token_f1(pred: Any, target: Any, lengths: Any = None, mask: Any = None,
             labels: Sequence[int] | None = None, average: str | None = "micro",
             ignore_index: int = -100) -> float | np.ndarray:
    """Token-level F1 = 2 P R / (P + R) over the classes in ``labels`` (default: every
    class seen in the targets or predictions), padding left out.

    For a class c: TP = tokens predicted c whose target is c, FP = predicted c otherwise,
    FN = target c predicted otherwise. ``average="micro"`` pools TP, FP and FN over the
    classes (leave the "outside" class out of ``labels`` for the usual entity-token F1);
    ``"macro"`` averages the per-class F1; ``None`` returns them (one per label). A class
    with no predicted and no true token has F1 0.

    >>> token_f1([[1, 0, 2, 2]], [[1, 0, 2, 0]], labels=[1, 2])   # TP 2, FP 1, FN 0
    0.8
    """
    who = "token_f1"
    check_choice(average, "average", who, ("micro", "macro", None))
    p, t = _labels(pred, target, who)
    valid = _valid(t, lengths, mask, ignore_index, who)
    pv, tv = p[valid].astype(np.int64), t[valid].astype(np.int64)
    if labels is None:
        labs = np.union1d(np.unique(pv), np.unique(tv))
    else:
        labs = np.asarray(list(labels), dtype=np.int64)
    if labs.size == 0:
        raise ArgumentError(f"{who}: no class to score")
    hit = pv[:, None] == labs[None, :]            # (n, L) predicted c
    true = tv[:, None] == labs[None, :]           # (n, L) target c
    tp = (hit & true).sum(0)
    fp = (hit & ~true).sum(0)
    fn = (true & ~hit).sum(0)
    if average == "micro":
        denom = 2 * tp.sum() + fp.sum() + fn.sum()
        return float(2 * tp.sum() / denom) if denom else 0.0
    denom = 2 * tp + fp + fn
    f1 = np.where(denom > 0, 2 * tp / np.maximum(denom, 1), 0.0)
    return float(f1.mean()) if average == "macro" else f1


class SequenceTagger(nn.Module):
    """``Embedding -> (bidirectional) LSTM -> Linear`` at every step: logits (N, T, C).

    Parameters
    ----------
    vocab_size, num_tags : int
        Token ids are in ``0..vocab_size-1``; labels in ``0..num_tags-1``.
    embedding_dim, hidden_size, num_layers : int
    bidirectional : bool
        Read the sentence both ways (the output concatenates the two, 2 * hidden_size).
    dropout : float
        On the embeddings and on the LSTM outputs (training only).
    padding_idx : int or None
        The padding id (its embedding row stays zero).
    embedding : nn.Embedding, optional
        Pretrained vectors (e.g. from :func:`glassnet.text.load_glove`) instead of a new
        table; ``vocab_size`` and ``embedding_dim`` are then taken from it.

    Examples
    --------
    >>> tagger = SequenceTagger(10, 3, embedding_dim=4, hidden_size=5)
    >>> tuple(tagger(np.array([[1, 2, 3], [4, 5, 0]]), lengths=[3, 2]).shape)
    (2, 3, 3)
    """

    def __init__(self, vocab_size: int, num_tags: int, embedding_dim: int = 64,
                 hidden_size: int = 64, num_layers: int = 1, bidirectional: bool = True,
                 dropout: float = 0.0, padding_idx: int | None = 0,
                 embedding: nn.Embedding | None = None) -> None:
        super().__init__()
        who = "SequenceTagger"
        if embedding is not None:
            if not isinstance(embedding, nn.Embedding):
                raise ArgumentError(f"{who}: embedding must be an nn.Embedding, got "
                                    f"{type(embedding).__name__}")
            self.embedding = embedding
            vocab_size, embedding_dim = embedding.num_embeddings, embedding.embedding_dim
        else:
            vocab_size = check_int(vocab_size, "vocab_size", who, min=1)
            embedding_dim = check_int(embedding_dim, "embedding_dim", who, min=1)
            self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=padding_idx)
        self.vocab_size, self.embedding_dim = vocab_size, embedding_dim
        self.num_tags = check_int(num_tags, "num_tags", who, min=1)
        self.hidden_size = check_int(hidden_size, "hidden_size", who, min=1)
        self.drop = nn.Dropout(check_real(dropout, "dropout", who, 0, 1, high_open=True))
        self.lstm = nn.LSTM(embedding_dim, self.hidden_size, num_layers, batch_first=True,
                            bidirectional=bidirectional,
                            dropout=dropout if num_layers > 1 else 0.0)
        self.head = nn.Linear(self.hidden_size * (2 if bidirectional else 1), self.num_tags)

    def forward(self, ids: Any, lengths: Any = None) -> Tensor:
        """Logits (N, T, num_tags) for token ids (N, T); with ``lengths`` the backward
        direction starts at each sentence's last real token."""
        a = as_array(ids)
        if a.dtype.kind not in "iu" or a.ndim != 2:
            raise ArgumentError(f"SequenceTagger: expected integer ids of shape (N, T), got "
                                f"{a.dtype} {a.shape}")
        n = None if lengths is None else np.asarray(as_array(lengths)).reshape(-1)
        y, _ = self.lstm(self.drop(self.embedding(a)), lengths=n)
        return self.head(self.drop(y))

    def loss(self, ids: Any, tags: Any, lengths: Any = None) -> Tensor:
        """:func:`sequence_cross_entropy` of the logits against ``tags`` (N, T)."""
        return sequence_cross_entropy(self(ids, lengths), tags, lengths=lengths)

    def predict(self, ids: Any, lengths: Any = None, batch_size: int = 256) -> np.ndarray:
        """The most likely tag of every token, (N, T) int64 (-1 at padding when
        ``lengths`` is given)."""
        a = np.asarray(as_array(ids))
        n = None if lengths is None else np.asarray(as_array(lengths)).reshape(-1)
        out = np.empty(a.shape, dtype=np.int64)
        was = self.training
        self.eval()
        try:
            with no_grad():
                for i in range(0, len(a), batch_size):
                    part = None if n is None else n[i:i + batch_size]
                    out[i:i + batch_size] = self(a[i:i + batch_size], part).numpy().argmax(-1)
        finally:
            self.train(was)
        if n is not None:
            out[~sequence_mask(n, a.shape[1])] = -1
        return out

    def fit(self, ids: Any, tags: Any, lengths: Any = None, epochs: int = 10,
            batch_size: int = 32, lr: float = 1e-2, validation: tuple[Any, ...] | None = None,
            clip_grad_norm: float | None = 5.0, seed: int = 0, verbose: int = 0,
            time_limit: float | None = None) -> dict[str, list[float]]:
        """Train with Adam on shuffled mini-batches of the padded arrays; returns
        ``{"epoch", "loss", "val_accuracy", "seconds"}`` (validation: ``(ids, tags,
        lengths)``)."""
        who = "SequenceTagger.fit"
        epochs = check_int(epochs, "epochs", who, min=1)
        batch_size = check_int(batch_size, "batch_size", who, min=1)
        X, Y = np.asarray(as_array(ids)), np.asarray(as_array(tags))
        if X.shape != Y.shape:
            raise ArgumentError(f"{who}: ids {X.shape} and tags {Y.shape} must have one shape")
        n = np.full(len(X), X.shape[1]) if lengths is None else \
            np.asarray(as_array(lengths)).reshape(-1)
        opt = optim.Adam(self.parameters(), lr=lr)
        rng = np.random.default_rng(seed)
        hist: dict[str, list[float]] = {"epoch": [], "loss": [], "val_accuracy": [], "seconds": []}
        t0 = time.perf_counter()
        for epoch in range(1, epochs + 1):
            self.train()
            order = rng.permutation(len(X))
            total, count = 0.0, 0
            for i in range(0, len(X), batch_size):
                b = order[i:i + batch_size]
                T = max(int(n[b].max()), 1)
                opt.zero_grad()
                loss = self.loss(X[b, :T], Y[b, :T], n[b])
                loss.backward()
                if clip_grad_norm:
                    nn.utils.clip_grad_norm_(self.parameters(), clip_grad_norm)
                opt.step()
                total += float(loss.item()) * len(b)
                count += len(b)
            acc = float("nan")
            if validation is not None:
                vx, vy, vn = validation
                acc = token_accuracy(self.predict(vx, vn), vy, lengths=vn)
            hist["epoch"].append(epoch)
            hist["loss"].append(total / count)
            hist["val_accuracy"].append(acc)
            hist["seconds"].append(time.perf_counter() - t0)
            if verbose:
                print(f"epoch {epoch}/{epochs}: loss {total / count:.4f}, val accuracy {acc:.4f}",
                      flush=True)
            if time_limit is not None and time.perf_counter() - t0 > time_limit:
                break
        return hist
