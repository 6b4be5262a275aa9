"""A first-order Markov chain over a finite alphabet, estimated from a sequence.

    P_ij = (n_ij + alpha) / (sum_k n_ik + alpha K)       n_ij: count of symbol i followed by j
    stationary pi:  pi P = pi, sum_i pi_i = 1            (the left eigenvector for eigenvalue 1)
    log-likelihood of x_1..x_T = sum_t log P_{x_{t-1} x_t}, perplexity = exp(-LL / (T - 1))

The counts are one ``bincount`` over the pair codes i K + j (no loop over the sequence);
sampling loops over the generated steps.

>>> mc = MarkovChain().fit("abab")
>>> mc.transition_matrix_.tolist()                         # a -> b, b -> a
[[0.0, 1.0], [1.0, 0.0]]
>>> mc.stationary_distribution().round(6).tolist()
[0.5, 0.5]
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ...validation import check_int, check_real

__all__ = ["MarkovChain"]


class MarkovChain:
    """First-order Markov chain with additive (Laplace) smoothing ``alpha``.

    Attributes after fit: ``states_`` (the sorted alphabet), ``counts_`` (K, K),
    ``transition_matrix_`` (K, K) with rows summing to 1, ``initial_`` (the symbol
    frequencies).
    """

    def __init__(self, alpha: float = 0.0) -> None:
        self.alpha = check_real(alpha, "alpha", "MarkovChain", 0)
        self.states_: list[Any] = []
        self.transition_matrix_: np.ndarray | None = None

    def _codes(self, seq: str | Sequence[Any] | np.ndarray, who: str, fit: bool = False
               ) -> np.ndarray:
        arr = np.array(list(seq)) if isinstance(seq, str) else np.asarray(seq)
        if arr.ndim != 1 or len(arr) < 2:
            raise ValueError(f"{who}: expected a sequence of at least 2 symbols, got shape "
                             f"{arr.shape}")
        if fit:
            alphabet, codes = np.unique(arr, return_inverse=True)
            self.states_ = alphabet.tolist()
            return codes.ravel()
        table = np.asarray(self.states_)
        pos = np.searchsorted(table, arr)
        pos = np.clip(pos, 0, len(table) - 1)
        bad = table[pos] != arr
        if bad.any():
            raise ValueError(f"{who}: symbol {arr[bad][0]!r} was not in the training "
                             f"sequence")
        return pos

    def fit(self, seq: str | Sequence[Any] | np.ndarray) -> MarkovChain:
        """Count the transitions of ``seq`` (a string, or a 1-D sequence of symbols)."""
        codes = self._codes(seq, "MarkovChain.fit", fit=True)
        k = len(self.states_)
        self.counts_ = np.bincount(codes[:-1] * k + codes[1:], minlength=k * k
                                   ).reshape(k, k).astype(np.float64)
        self.initial_ = np.bincount(codes, minlength=k) / len(codes)
        rows = self.counts_ + self.alpha
        tot = rows.sum(1, keepdims=True)
        # a symbol seen only at the very end has no outgoing count: stay uniform
        self.transition_matrix_ = np.where(tot > 0, rows / np.where(tot > 0, tot, 1), 1 / k)
        return self

    def encode(self, seq: str | Sequence[Any] | np.ndarray) -> np.ndarray:
        """The index in ``states_`` of every symbol of ``seq`` (int64 array); a symbol not
        seen in training raises ValueError."""
        self._P("MarkovChain.encode")
        return self._codes(seq, "MarkovChain.encode").astype(np.int64)

    def _P(self, who: str) -> np.ndarray:
        if self.transition_matrix_ is None:
            raise RuntimeError(f"{who}: call fit first")
        return self.transition_matrix_

    def stationary_distribution(self) -> np.ndarray:
        """pi with pi P = pi (the eigenvector of P^T for the eigenvalue closest to 1,
        normalised to sum 1)."""
        P = self._P("MarkovChain.stationary_distribution")
        vals, vecs = np.linalg.eig(P.T)
        v = np.real(vecs[:, np.argmin(np.abs(vals - 1))])
        v = np.abs(v)
        return v / v.sum()

    def log_likelihood(self, seq: str | Sequence[Any] | np.ndarray) -> float:
        """sum_t log P(x_t | x_{t-1}) in nats (-inf for a transition of probability 0)."""
        P = self._P("MarkovChain.log_likelihood")
        c = self._codes(seq, "MarkovChain.log_likelihood")
        with np.errstate(divide="ignore"):
            return float(np.log(P[c[:-1], c[1:]]).sum())

    def perplexity(self, seq: str | Sequence[Any] | np.ndarray) -> float:
        """exp(-log-likelihood / number of transitions)."""
        n = len(seq) - 1
        return float(np.exp(-self.log_likelihood(seq) / n))

    def sample(self, n: int, start: Any = None, seed: int | None = None
               ) -> str | list[Any]:
        """n symbols: ``start`` (default one drawn from ``initial_``) then n - 1 steps of
        the chain; a string when the chain was fitted on a string."""
        P = self._P("MarkovChain.sample")
        n = check_int(n, "n", "MarkovChain.sample")
        rng = np.random.default_rng(seed)
        k = len(self.states_)
        cum = np.cumsum(P, axis=1)
        s = (rng.choice(k, p=self.initial_) if start is None
             else int(self._codes([start, start], "MarkovChain.sample")[0]))
        out = np.empty(n, dtype=np.int64)
        u = rng.random(n)
        for t in range(n):                          # a loop over generated steps
            out[t] = s
            s = min(int(np.searchsorted(cum[s], u[t], side="right")), k - 1)
        syms = [self.states_[i] for i in out]
        return "".join(syms) if all(isinstance(x, str) for x in self.states_) else syms
