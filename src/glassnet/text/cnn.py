"""A CNN for text: filters slide over the word vectors along time.

``Embedding -> Conv1d(width w) for several widths -> ReLU -> max over time -> Linear``.
A filter of width w reads w consecutive word vectors (an n-gram detector); the maximum
over all positions keeps its strongest match wherever it is in the sentence, so the
sentence vector (one value per filter) has a fixed size for any length. Positions that
would read only padding are left out of the maximum.
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
from ..functional import activations as A
from ..functional import losses as L
from ..functional import math as M
from ..validation import check_int, check_real

__all__ = ["TextCNN"]


class TextCNN(nn.Module):
    """Sentence classifier: logits (N, num_classes) for token ids (N, T).

    Submodules: ``embedding``, ``convs`` (a ModuleList of ``Conv1d(embedding_dim,
    channels, width)``, inputs (N, embedding_dim, T)), ``drop``, ``fc`` (Linear).

    Parameters
    ----------
    vocab_size, num_classes : int
    embedding_dim : int
    widths : sequence of int
        Filter widths (words per filter), e.g. (3, 4, 5).
    channels : int
        Filters per width; the sentence vector has ``len(widths) * channels`` values.
    dropout : float
        On the sentence vector (training only).
    padding_idx : int or None
    embedding : nn.Embedding, optional
        Pretrained vectors instead of a new table.

    Examples
    --------
    >>> cnn = TextCNN(50, 3, embedding_dim=8, widths=(2, 3), channels=4)
    >>> tuple(cnn(np.array([[1, 2, 3, 4], [5, 6, 0, 0]]), lengths=[4, 2]).shape)
    (2, 3)
    """

    def __init__(self, vocab_size: int, num_classes: int, embedding_dim: int = 64,
                 widths: Sequence[int] = (3, 4, 5), channels: int = 32, dropout: float = 0.0,
                 padding_idx: int | None = 0, embedding: nn.Embedding | None = None) -> None:
        super().__init__()
        who = "TextCNN"
        if embedding is not None:
            self.embedding = embedding
            vocab_size, embedding_dim = embedding.num_embeddings, embedding.embedding_dim
        else:
            vocab_size = check_int(vocab_size, "vocab_size", who, min=1)
            embedding_dim = check_int(embedding_dim, "embedding_dim", who, min=1)
            self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=padding_idx)
        self.vocab_size, self.embedding_dim = vocab_size, embedding_dim
        ws = list(widths)
        if not ws:
            raise ArgumentError(f"{who}: widths must hold at least one filter width")
        self.widths = [check_int(w, "widths", who, min=1) for w in ws]
        self.channels = check_int(channels, "channels", who, min=1)
        self.num_classes = check_int(num_classes, "num_classes", who, min=1)
        self.convs = nn.ModuleList([nn.Conv1d(embedding_dim, self.channels, w)
                                    for w in self.widths])
        self.drop = nn.Dropout(check_real(dropout, "dropout", who, 0, 1, high_open=True))
        self.fc = nn.Linear(len(self.widths) * self.channels, self.num_classes)

    def sentence_vectors(self, ids: Any, lengths: Any = None) -> Tensor:
        """The max-pooled filter responses (N, len(widths) * channels)."""
        a = as_array(ids)
        if a.dtype.kind not in "iu" or a.ndim != 2:
            raise ArgumentError(f"TextCNN: expected integer ids of shape (N, T), got "
                                f"{a.dtype} {a.shape}")
        N, T = a.shape
        w_max = max(self.widths)
        if T < w_max:                       # every filter needs at least one full position
            a = np.concatenate([a, np.zeros((N, w_max - T), a.dtype)], axis=1)
            T = w_max
        n = np.full(N, T) if lengths is None else np.asarray(as_array(lengths)).reshape(-1)
        x = M.transpose(self.embedding(a), 0, 2, 1)               # (N, E, T)
        pooled = []
        for w, conv in zip(self.widths, self.convs):
            h = A.relu(conv(x))                                    # (N, C, T - w + 1)
            # positions that start past the last full window of a short sentence are left
            # out (one position is always kept, so a sentence shorter than w still counts)
            keep = np.arange(T - w + 1)[None, :] < np.maximum(n - w + 1, 1)[:, None]
            if not keep.all():
                h = h.masked_fill(~keep[:, None, :], -1e9)
            pooled.append(h.amax(dim=2))
        return pooled[0] if len(pooled) == 1 else M.concat(pooled, axis=1)

    def forward(self, ids: Any, lengths: Any = None) -> Tensor:
        """Logits (N, num_classes)."""
        return self.fc(self.drop(self.sentence_vectors(ids, lengths)))

    def predict(self, ids: Any, lengths: Any = None, batch_size: int = 256) -> np.ndarray:
        """The most likely class of each sentence (N,)."""
        a = np.asarray(as_array(ids))
        n = None if lengths is None else np.asarray(as_array(lengths)).reshape(-1)
        was = self.training
        self.eval()
        try:
            with no_grad():
                parts = [self(a[i:i + batch_size], None if n is None else n[i:i + batch_size])
                         .numpy().argmax(1) for i in range(0, len(a), batch_size)]
        finally:
            self.train(was)
        return np.concatenate(parts)

    def fit(self, ids: Any, labels: Any, lengths: Any = None, epochs: int = 10,
            batch_size: int = 32, lr: float = 1e-2, seed: int = 0, verbose: int = 0,
            time_limit: float | None = None) -> dict[str, list[float]]:
        """Train with Adam and cross-entropy on shuffled mini-batches; returns
        ``{"epoch", "loss", "seconds"}``."""
        who = "TextCNN.fit"
        epochs = check_int(epochs, "epochs", who, min=1)
        batch_size = check_int(batch_size, "batch_size", who, min=1)
        X, y = np.asarray(as_array(ids)), np.asarray(as_array(labels)).reshape(-1)
        if len(X) != len(y):
            raise ArgumentError(f"{who}: {len(X)} sentences but {len(y)} labels")
        n = np.full(len(X), X.shape[1]) if lengths is None else \
            np.asarray(as_array(lengths)).reshape(-1)
        opt = optim.Adam(self.parameters(), lr=lr)
        rng = np.random.default_rng(seed)
        hist: dict[str, list[float]] = {"epoch": [], "loss": [], "seconds": []}
        t0 = time.perf_counter()
        self.train()
        for epoch in range(1, epochs + 1):
            order = rng.permutation(len(X))
            total = 0.0
            for i in range(0, len(X), batch_size):
                b = order[i:i + batch_size]
                opt.zero_grad()
                loss = L.cross_entropy(self(X[b], n[b]), tensor(y[b]))
                loss.backward()
                opt.step()
                total += float(loss.item()) * len(b)
            hist["epoch"].append(epoch)
            hist["loss"].append(total / len(X))
            hist["seconds"].append(time.perf_counter() - t0)
            if verbose:
                print(f"epoch {epoch}/{epochs}: loss {hist['loss'][-1]:.4f}", flush=True)
            if time_limit is not None and time.perf_counter() - t0 > time_limit:
                break
        return hist
