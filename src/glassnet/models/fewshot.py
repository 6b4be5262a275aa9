"""Few-shot classification with a prototypical network (Snell, Swersky & Zemel 2017).

An encoder f maps every sample to an embedding. Given a *support set* of a few labelled
samples per class, the prototype of class k is the mean embedding of its support samples,

    c_k = (1 / |S_k|) sum_{x in S_k} f(x),

and a query x is classified by the nearest prototype in squared Euclidean distance,
with the class probabilities softmax_k(-||f(x) - c_k||^2). New classes need no training:
only a support set. The encoder is either pre-trained on other classes by plain
classification (then used as it is), or trained *episodically*: every step samples an
N-way K-shot task from the training classes, builds its prototypes from the support
samples and minimises the cross-entropy of the query samples (``train_episodes``).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import optim
from ..autograd.tensor import Tensor
from ..errors import ArgumentError, ArgumentTypeError
from ..nn import functional as F
from ..nn.module import Module
from .autoencoder import run_in_batches

__all__ = ["PrototypicalNetwork", "prototypes", "squared_distances"]


def squared_distances(queries: Tensor, protos: Tensor) -> Tensor:
    """||q_i - c_k||^2 for every query row i and prototype row k, shape (N, K), as
    |q|^2 - 2 q.c + |c|^2 (one matrix product; differentiable in both arguments)."""
    qq = (queries * queries).sum(1, keepdim=True)
    cc = (protos * protos).sum(1, keepdim=True).T
    return qq - 2.0 * (queries @ protos.T) + cc


def prototypes(embeddings: Tensor, labels: Any, n_classes: int) -> Tensor:
    """The mean embedding of each class 0..n_classes-1, (n_classes, D), differentiable in
    ``embeddings`` (N, D): one-hot(labels)^T @ embeddings divided by the class counts."""
    lab = np.asarray(labels).reshape(-1)
    counts = np.bincount(lab, minlength=n_classes)
    if len(counts) > n_classes or (counts == 0).any():
        raise ArgumentError(f"prototypes: labels must cover every class 0..{n_classes - 1}, "
                            f"got counts {counts.tolist()}")
    dt = embeddings.numpy().dtype
    weights = np.eye(n_classes, dtype=dt)[lab].T / counts[:, None].astype(dt)   # (K, N)
    return Tensor(weights) @ embeddings


class PrototypicalNetwork(Module):
    """Nearest class prototype in an encoder's embedding space.

    ``fit(X, y)`` stores the prototypes of a support set (``classes_``, ``prototypes_``)
    without training; ``forward(x)`` gives the logits -||f(x) - c_k||^2 (N, K) against
    them, ``predict_proba`` their softmax and ``predict`` the nearest prototype's class.
    ``train_episodes`` trains the encoder on N-way K-shot episodes.

    Parameters
    ----------
    encoder : nn.Module
        Maps a batch of samples to embeddings (N, D) (higher-rank outputs are flattened).

    Examples
    --------
    >>> import numpy as np
    >>> proto = PrototypicalNetwork(nn.Identity())
    >>> X = np.array([[0.0, 0.0], [0.0, 2.0], [4.0, 0.0], [4.0, 2.0]])
    >>> proto.fit(X, ["a", "a", "b", "b"]).prototypes_.tolist()
    [[0.0, 1.0], [4.0, 1.0]]
    >>> proto.predict(np.array([[1.0, 1.0], [3.5, 0.0]])).tolist()
    ['a', 'b']
    """

    def __init__(self, encoder: Module) -> None:
        super().__init__()
        if not isinstance(encoder, Module):
            raise ArgumentTypeError(f"PrototypicalNetwork: encoder must be an nn.Module, got "
                                    f"{type(encoder).__name__}")
        self.encoder = encoder

    def embed(self, x: Tensor) -> Tensor:
        """f(x) as (N, D)."""
        out = self.encoder(x)
        return out.reshape(out.shape[0], -1)

    def embed_array(self, X: Any, batch_size: int = 512) -> np.ndarray:
        """f(X) for an array of samples, in eval mode and batches, as an (N, D) array."""
        out = run_in_batches(self, self.embed, np.asarray(X), batch_size)
        return out.reshape(len(out), -1)

    # ------------------------------------------------------------ support set
    def fit(self, X: Any, y: Any, batch_size: int = 512) -> "PrototypicalNetwork":
        """Store the prototypes of the support set (X, y): the mean embedding of each
        class (no training). Returns self."""
        y = np.asarray(y).reshape(-1)
        if len(y) != len(X):
            raise ArgumentError(f"PrototypicalNetwork.fit: X has {len(X)} samples but y has "
                                f"{len(y)}")
        if len(y) == 0:
            raise ArgumentError("PrototypicalNetwork.fit: the support set is empty")
        self.classes_, index = np.unique(y, return_inverse=True)
        E = self.embed_array(X, batch_size)
        self.prototypes_ = prototypes(Tensor(E), index, len(self.classes_)).numpy()
        return self

    def _check_fitted(self, who: str) -> None:
        if not hasattr(self, "prototypes_"):
            raise ArgumentError(f"PrototypicalNetwork.{who}: call fit(support_X, support_y) "
                                f"first")

    def forward(self, x: Tensor) -> Tensor:
        """Logits -||f(x) - c_k||^2 against the stored prototypes, (N, K)."""
        self._check_fitted("forward")
        emb = self.embed(x)
        return -squared_distances(emb, Tensor(self.prototypes_.astype(emb.numpy().dtype)))

    def decision_function(self, X: Any, batch_size: int = 512) -> np.ndarray:
        """Negative squared distances of each sample to each prototype, (N, K)."""
        self._check_fitted("decision_function")
        E = self.embed_array(X, batch_size).astype(np.float64)
        C = self.prototypes_.astype(np.float64)
        return -(np.sum(E * E, 1)[:, None] - 2 * E @ C.T + np.sum(C * C, 1)[None])

    def predict_proba(self, X: Any, batch_size: int = 512) -> np.ndarray:
        """softmax over the classes of -||f(x) - c_k||^2, (N, K)."""
        D = self.decision_function(X, batch_size)
        D -= D.max(1, keepdims=True)
        P = np.exp(D)
        return P / P.sum(1, keepdims=True)

    def predict(self, X: Any, batch_size: int = 512) -> np.ndarray:
        """The class of the nearest prototype for each sample."""
        D = self.decision_function(X, batch_size)
        return self.classes_[np.argmax(D, axis=1)]

    def score(self, X: Any, y: Any) -> float:
        """Accuracy of ``predict(X)`` against ``y``."""
        return float(np.mean(self.predict(X) == np.asarray(y)))

    # ------------------------------------------------------------ episodes
    def episode_loss(self, support: Tensor, support_labels: Any, query: Tensor,
                     query_labels: Any, n_way: int) -> Tensor:
        """Cross-entropy of the queries against the prototypes of the support set; labels
        are 0..n_way-1 within the episode. Differentiable in the encoder's parameters."""
        protos = prototypes(self.embed(support), support_labels, n_way)
        logits = -squared_distances(self.embed(query), protos)
        return F.cross_entropy(logits, Tensor(np.asarray(query_labels, dtype=np.int64)))

    def train_episodes(self, X: Any, y: Any, episodes: int = 100, n_way: int = 5,
                       k_shot: int = 5, n_query: int = 10, lr: float = 1e-3,
                       optimizer: str = "adam", seed: int | None = None) -> list[float]:
        """Train the encoder on ``episodes`` random N-way K-shot tasks drawn from (X, y):
        each picks ``n_way`` classes, ``k_shot`` support and ``n_query`` query samples of
        each (without replacement), and takes one optimizer step on :meth:`episode_loss`.
        Returns the loss of every episode."""
        X = np.asarray(X)
        y = np.asarray(y).reshape(-1)
        classes = np.unique(y)
        if n_way < 2 or n_way > len(classes):
            raise ArgumentError(f"PrototypicalNetwork.train_episodes: n_way must be in "
                                f"2..{len(classes)} (the classes of y), got {n_way}")
        counts = np.array([(y == c).sum() for c in classes])
        if counts.min() < k_shot + n_query:
            raise ArgumentError(f"PrototypicalNetwork.train_episodes: every class needs "
                                f"k_shot + n_query = {k_shot + n_query} samples, the smallest "
                                f"has {int(counts.min())}")
        members = [np.flatnonzero(y == c) for c in classes]
        rng = np.random.default_rng(seed)
        opt = optim.get(optimizer, [p for p in self.encoder.parameters() if p.requires_grad],
                        lr=lr)
        dt = np.dtype(self.encoder.dtype) if any(True for _ in self.encoder.parameters()) \
            else X.dtype
        was = self.training
        self.train()
        losses = []
        for _ in range(int(episodes)):
            picked = rng.choice(len(classes), size=n_way, replace=False)
            idx = np.stack([rng.choice(members[c], size=k_shot + n_query, replace=False)
                            for c in picked])                    # (n_way, k + q)
            s_idx, q_idx = idx[:, :k_shot].reshape(-1), idx[:, k_shot:].reshape(-1)
            s_lab = np.repeat(np.arange(n_way), k_shot)
            q_lab = np.repeat(np.arange(n_way), n_query)
            loss = self.episode_loss(Tensor(X[s_idx].astype(dt)), s_lab,
                                     Tensor(X[q_idx].astype(dt)), q_lab, n_way)
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(float(loss.item()))
        self.train(was)
        return losses

