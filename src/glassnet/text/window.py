"""The course's window classifier for named entities, with its margin objective.

A word is judged by its window: the vectors of the k words on each side and its own,
concatenated into x in R^{(2k+1) d} ("museums in Paris are amazing" for "Paris", k = 2).
One hidden layer scores it,

    s = U^T f(W x + b),   W (H, (2k+1) d), b (H,), U (H,),

and training asks each window with an entity at its centre to score at least 1 more than
a window without one, the same window with its centre word replaced at random (a
corrupted window x_c) or a real window with no entity:

    J = max(0, 1 + s_c - s).

Where J > 0, with z = W x + b, delta = U * f'(z) (and likewise z_c, delta_c for x_c):

    dJ/dU = f(z_c) - f(z),  dJ/dW = delta_c x_c^T - delta x^T,  dJ/db = delta_c - delta,
    dJ/dx = -W^T delta,     dJ/dx_c = W^T delta_c,

and every derivative is 0 where J = 0. :func:`window_gradients` computes exactly these;
the tests check them against autograd in float64.
"""
from __future__ import annotations

import time
from typing import Any

import numpy as np

from .. import backend, nn, optim
from ..autograd import no_grad
from ..autograd.tensor import Tensor, as_array
from ..errors import ArgumentError, NotFittedError
from ..functional import activations as A
from ..validation import check_choice, check_int

__all__ = ["make_windows", "corrupt_windows", "window_gradients", "WindowClassifier"]

_ACTIVATIONS = ("sigmoid", "tanh", "relu")


def make_windows(ids: Any, k: int, lengths: Any = None, pad_id: int = 0) -> np.ndarray:
    """The (2k+1)-word windows around every real token of ``ids`` (T,) or (N, T), in row
    order, padded with ``pad_id`` beyond the sentence ends: (M, 2k+1) int64 with M the
    number of real tokens (all of them, or ``sum(lengths)``). Built with one gather.

    >>> make_windows([5, 6, 7], k=1).tolist()
    [[0, 5, 6], [5, 6, 7], [6, 7, 0]]
    """
    k = check_int(k, "k", "make_windows", min=0)
    a = np.asarray(as_array(ids))
    if a.ndim == 1:
        a = a[None]
    if a.ndim != 2 or a.dtype.kind not in "iu":
        raise ArgumentError(f"make_windows: ids must be integer (T,) or (N, T), got "
                            f"{a.dtype} {a.shape}")
    N, T = a.shape
    n = np.full(N, T) if lengths is None else np.asarray(as_array(lengths)).reshape(-1)
    valid = np.arange(T)[None, :] < n[:, None]
    padded = np.full((N, T + 2 * k), pad_id, dtype=np.int64)
    padded[:, k:k + T] = np.where(valid, a, pad_id)
    rows, cols = np.nonzero(valid)
    return padded[rows[:, None], cols[:, None] + np.arange(2 * k + 1)]


def corrupt_windows(windows: Any, vocab_size: int, rng: np.random.Generator | None = None,
                    low: int = 0) -> np.ndarray:
    """A copy of ``windows`` (M, 2k+1) with each centre word replaced by a random id in
    ``low..vocab_size-1`` other than the original (pass ``low`` past the special ids)."""
    w = np.array(np.asarray(as_array(windows)), dtype=np.int64)
    if w.ndim != 2 or w.shape[1] % 2 != 1:
        raise ArgumentError(f"corrupt_windows: windows must be (M, 2k+1), got shape {w.shape}")
    if vocab_size - low < 2:
        raise ArgumentError(f"corrupt_windows: need at least 2 ids in {low}..{vocab_size - 1}")
    rng = rng if rng is not None else backend.rng()
    c = w.shape[1] // 2
    orig = w[:, c]
    inside = (orig >= low) & (orig < vocab_size)
    # a centre inside the range: a uniform draw from the other ids (skip over the original);
    # outside it (e.g. padding below ``low``): a uniform draw from the whole range
    r = rng.integers(low, vocab_size - 1, len(w))
    w[:, c] = np.where(r >= orig, r + 1, r)
    if not inside.all():
        out = np.flatnonzero(~inside)
        w[out, c] = rng.integers(low, vocab_size, len(out))
    return w


def _f(z: np.ndarray, activation: str) -> tuple[np.ndarray, np.ndarray]:
    """f(z) and f'(z)."""
    if activation == "sigmoid":
        a = 1.0 / (1.0 + np.exp(-z))
        return a, a * (1.0 - a)
    if activation == "tanh":
        a = np.tanh(z)
        return a, 1.0 - a * a
    return np.maximum(z, 0.0), (z > 0).astype(z.dtype)


def window_gradients(x: Any, x_c: Any, W: Any, b: Any, U: Any,
                     activation: str = "sigmoid") -> dict[str, Any]:
    """The course's derivatives of J = mean_i max(0, 1 + s_c,i - s_i) by hand.

    ``x``, ``x_c``: true and corrupted window vectors, (M, D) or one (D,); ``W`` (H, D),
    ``b`` (H,), ``U`` (H,). Returns ``{"J", "U", "W", "b", "x", "x_c"}``: the loss and
    dJ/dU = mean (f(z_c) - f(z)), dJ/dW = mean (delta_c x_c^T - delta x^T),
    dJ/db = mean (delta_c - delta), and per window dJ/dx = -W^T delta / M,
    dJ/dx_c = W^T delta_c / M, each term only where 1 + s_c - s > 0 (delta = U * f'(z)).
    """
    check_choice(activation, "activation", "window_gradients", _ACTIVATIONS)
    X, Xc = np.atleast_2d(np.asarray(x, np.float64)), np.atleast_2d(np.asarray(x_c, np.float64))
    W, b, U = (np.asarray(v, np.float64) for v in (W, b, U))
    U = U.reshape(-1)
    if X.shape != Xc.shape or X.shape[1] != W.shape[1] or W.shape[0] != U.shape[0] != b.shape[0]:
        raise ArgumentError(f"window_gradients: shapes do not fit: x {X.shape}, x_c {Xc.shape}, "
                            f"W {W.shape}, b {b.shape}, U {U.shape}")
    M_ = X.shape[0]
    a, da = _f(X @ W.T + b, activation)
    ac, dac = _f(Xc @ W.T + b, activation)
    s, sc = a @ U, ac @ U
    active = (1.0 + sc - s > 0).astype(np.float64)[:, None] / M_   # (M, 1), the 1/M of the mean
    delta, delta_c = U * da * active, U * dac * active               # (M, H)
    grads = {"J": float(np.maximum(0.0, 1.0 + sc - s).mean()),
             "U": ((ac - a) * active).sum(0),
             "W": delta_c.T @ Xc - delta.T @ X,
             "b": (delta_c - delta).sum(0),
             "x": -delta @ W,
             "x_c": delta_c @ W}
    if np.ndim(x) == 1:
        grads["x"], grads["x_c"] = grads["x"][0], grads["x_c"][0]
    return grads


class WindowClassifier(nn.Module):
    """s = U^T f(W x + b) over windows of 2k+1 word vectors, trained with the margin loss.

    Submodules: ``embedding`` (V x d), ``hidden`` (Linear: ``weight`` is W (H, (2k+1) d),
    ``bias`` b), ``score`` (Linear H -> 1 without bias: ``weight`` is U^T (1, H)).

    Parameters
    ----------
    vocab_size : int
        Word ids are in ``0..vocab_size-1`` (0 the padding beyond sentence ends).
    k : int
        Words on each side of the centre.
    embedding_dim, hidden_size : int
        d and H.
    activation : {"sigmoid", "tanh", "relu"}
        f (the course's logistic sigmoid by default).
    embedding : nn.Embedding, optional
        Pretrained word vectors (e.g. from :func:`glassnet.text.load_glove`).
    padding_idx : int or None
        The padding id (its embedding row starts at zero).

    Examples
    --------
    >>> clf = WindowClassifier(20, k=2, embedding_dim=4, hidden_size=8)
    >>> tuple(clf(np.array([[1, 2, 3, 4, 5]])).shape)
    (1,)
    """

    def __init__(self, vocab_size: int, k: int = 2, embedding_dim: int = 50,
                 hidden_size: int = 100, activation: str = "sigmoid",
                 embedding: nn.Embedding | None = None, padding_idx: int | None = 0) -> None:
        super().__init__()
        who = "WindowClassifier"
        self.k = check_int(k, "k", who, min=0)
        self.activation = check_choice(activation, "activation", who, _ACTIVATIONS)
        if embedding is not None:
            self.embedding = embedding
            vocab_size, embedding_dim = embedding.num_embeddings, embedding.embedding_dim
        else:
            vocab_size = check_int(vocab_size, "vocab_size", who, min=2)
            embedding_dim = check_int(embedding_dim, "embedding_dim", who, min=1)
            self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=padding_idx)
            nn.init.normal_(self.embedding.weight, 0.0, 0.1)
            if padding_idx is not None:
                self.embedding.weight._data[padding_idx] = 0
        self.vocab_size, self.embedding_dim = vocab_size, embedding_dim
        self.hidden_size = check_int(hidden_size, "hidden_size", who, min=1)
        self.window = 2 * self.k + 1
        self.hidden = nn.Linear(self.window * embedding_dim, self.hidden_size)
        self.score = nn.Linear(self.hidden_size, 1, bias=False)
        self.threshold_: float | None = None

    # ----------------------------------------------------------------- scores
    def features(self, windows: Any) -> Tensor:
        """x: the concatenated word vectors of each window, (M, (2k+1) d)."""
        w = as_array(windows)
        if w.dtype.kind not in "iu" or w.ndim != 2 or w.shape[1] != self.window:
            raise ArgumentError(f"WindowClassifier(k={self.k}): windows must be integer ids of "
                                f"shape (M, {self.window}), got {w.dtype} {w.shape}")
        return self.embedding(w).reshape(w.shape[0], self.window * self.embedding_dim)

    def score_vectors(self, x: Tensor) -> Tensor:
        """s = U^T f(W x + b) for window vectors x (M, (2k+1) d): (M,)."""
        z = self.hidden(x)
        a = A.sigmoid(z) if self.activation == "sigmoid" else \
            A.tanh(z) if self.activation == "tanh" else A.relu(z)
        return self.score(a).reshape(-1)

    def forward(self, windows: Any) -> Tensor:
        """The score s of each window (M,)."""
        return self.score_vectors(self.features(windows))

    def margin_loss(self, windows: Any, corrupted: Any) -> Tensor:
        """J = mean max(0, 1 + s_c - s) over pairs (true window, window without an entity)."""
        s, sc = self(windows), self(corrupted)
        return A.relu(1.0 + sc - s).mean()

    # ----------------------------------------------------------------- training
    def fit(self, windows: Any, negatives: Any = None, epochs: int = 20, batch_size: int = 64,
            lr: float = 1e-2, seed: int = 0, low: int = 1, verbose: int = 0,
            time_limit: float | None = None) -> dict[str, list[float]]:
        """Train with Adam on the entity-centred ``windows`` (M, 2k+1): each is paired with
        a corrupted copy (its centre replaced by a random id >= ``low``) and, when
        ``negatives`` (windows whose centre is no entity) are given, with one of them at
        random; J is the mean margin loss over all the pairs. Afterwards ``threshold_`` is
        the score threshold that maximises F1 between the windows and the negatives (or
        the corrupted windows) on this training data; returns ``{"epoch", "loss",
        "seconds"}``."""
        who = "WindowClassifier.fit"
        epochs = check_int(epochs, "epochs", who, min=1)
        batch_size = check_int(batch_size, "batch_size", who, min=1)
        pos = np.asarray(as_array(windows), dtype=np.int64)
        neg = None if negatives is None else np.asarray(as_array(negatives), dtype=np.int64)
        if pos.ndim != 2 or pos.shape[1] != self.window or len(pos) == 0:
            raise ArgumentError(f"{who}: windows must be (M, {self.window}) with M >= 1, got "
                                f"shape {pos.shape}")
        if neg is not None and (neg.ndim != 2 or neg.shape[1] != self.window or len(neg) == 0):
            raise ArgumentError(f"{who}: negatives must be (M', {self.window}), got shape "
                                f"{neg.shape}")
        rng = np.random.default_rng(seed)
        opt = optim.Adam(self.parameters(), lr=lr)
        hist: dict[str, list[float]] = {"epoch": [], "loss": [], "seconds": []}
        t0 = time.perf_counter()
        self.train()
        for epoch in range(1, epochs + 1):
            order = rng.permutation(len(pos))
            total = 0.0
            for i in range(0, len(pos), batch_size):
                w = pos[order[i:i + batch_size]]
                wc = corrupt_windows(w, self.vocab_size, rng, low)
                if neg is not None:
                    w = np.concatenate([w, w])
                    wc = np.concatenate([wc, neg[rng.integers(0, len(neg), len(wc))]])
                opt.zero_grad()
                loss = self.margin_loss(w, wc)
                loss.backward()
                opt.step()
                total += float(loss.item()) * len(w)
            hist["epoch"].append(epoch)
            hist["loss"].append(total / (len(pos) * (1 if neg is None else 2)))
            hist["seconds"].append(time.perf_counter() - t0)
            if verbose:
                print(f"epoch {epoch}/{epochs}: J {hist['loss'][-1]:.4f}", flush=True)
            if time_limit is not None and time.perf_counter() - t0 > time_limit:
                break
        others = neg if neg is not None else corrupt_windows(pos, self.vocab_size, rng, low)
        self.threshold_ = _best_threshold(self.decision_function(pos),
                                          self.decision_function(others))
        return hist

    def decision_function(self, windows: Any, batch_size: int = 4096) -> np.ndarray:
        """The scores s (M,) as a NumPy array, without building a graph."""
        w = np.asarray(as_array(windows))
        was = self.training
        self.eval()
        try:
            with no_grad():
                parts = [self(w[i:i + batch_size]).numpy()
                         for i in range(0, max(len(w), 1), batch_size)]
        finally:
            self.train(was)
        return np.concatenate(parts)

    def predict(self, windows: Any, threshold: float | None = None) -> np.ndarray:
        """1 where the score exceeds ``threshold`` (default ``threshold_`` from fit)."""
        t = self.threshold_ if threshold is None else threshold
        if t is None:
            raise NotFittedError("WindowClassifier.predict: fit first, or give threshold")
        return (self.decision_function(windows) > t).astype(np.int64)


def _best_threshold(pos: np.ndarray, neg: np.ndarray) -> float:
    """The cut between sorted scores that maximises F1 of "score > cut" (pos = 1)."""
    s = np.concatenate([pos, neg])
    y = np.concatenate([np.ones(len(pos)), np.zeros(len(neg))])
    order = np.argsort(-s, kind="stable")
    s, y = s[order], y[order]
    tp = np.cumsum(y)                     # predicting the top i+1 as positive
    f1 = 2 * tp / (np.arange(1, len(s) + 1) + len(pos))
    i = int(np.argmax(f1))
    return float((s[i] + s[i + 1]) / 2) if i + 1 < len(s) else float(s[i] - 1e-6)
