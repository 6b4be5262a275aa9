"""The Hopfield network (Hopfield, 1982): an associative memory of bipolar patterns.

    storage (Hebb):        W = (1/N) sum_p xi_p xi_p^T with w_ii = 0        xi_p in {-1, +1}^N
    storage (projection):  W = X^T (X X^T)^-1 X with w_ii = 0   (recalls correlated patterns)
    update of unit i:      s_i <- sign(sum_j w_ij s_j)   (kept as it is when the field is 0)
    energy:                E(s) = -1/2 s^T W s

With symmetric W and a zero diagonal every asynchronous update (one unit at a time) keeps E
or lowers it, so recall ends in a fixed point; a synchronous update (all units at once) may
also end in a 2-cycle. With Hebbian storage of P random patterns the starting bit-error
rate is about Phi(-sqrt(N / P)) and recall collapses near P = 0.138 N (Amit, Gutfreund and
Sompolinsky, 1985).

>>> net = HopfieldNetwork(4).store(np.array([[1, -1, 1, -1]]))
>>> net.recall(np.array([[1, 1, 1, -1]]))[0].tolist()      # one flipped bit repaired
[[1, -1, 1, -1]]
"""
from __future__ import annotations

from math import erf, sqrt
from typing import Any

import numpy as np

from ...validation import check_choice, check_int

__all__ = ["HopfieldNetwork", "random_patterns", "hebbian_error_rate"]


def _bipolar(states: Any, n: int, who: str, name: str = "states") -> np.ndarray:
    s = np.asarray(states)
    if s.ndim == 1:
        s = s[None, :]
    if s.ndim != 2 or s.shape[1] != n:
        raise ValueError(f"{who}: {name} must have shape (P, {n}) or ({n},), got "
                         f"{np.shape(states)}")
    if not np.isin(s, (-1, 1)).all():
        raise ValueError(f"{who}: {name} must hold bipolar values -1 and +1 (map a binary "
                         f"image b to 2 b - 1)")
    return s.astype(np.float64)


def random_patterns(p: int, n: int, seed: int | None = None) -> np.ndarray:
    """P random bipolar patterns of N units, each bit +-1 with probability 1/2."""
    rng = np.random.default_rng(seed)
    return np.where(rng.random((check_int(p, "p", "random_patterns"),
                                check_int(n, "n", "random_patterns"))) < 0.5, -1.0, 1.0)


def hebbian_error_rate(p: int, n: int) -> float:
    """Expected fraction of unstable bits of a stored pattern, Phi(-sqrt(N / (P - 1)))
    (the cross-talk of the other P - 1 random patterns as a Gaussian of variance (P-1)/N)."""
    if p <= 1:
        return 0.0
    return 0.5 * (1 - erf(sqrt(n / (p - 1)) / sqrt(2)))


class HopfieldNetwork:
    """N bipolar units with symmetric weights and no self-connections.

    Parameters
    ----------
    n_units : int
    """

    def __init__(self, n_units: int) -> None:
        self.n_units = check_int(n_units, "n_units", "HopfieldNetwork")
        self.weight = np.zeros((self.n_units, self.n_units))
        self.n_patterns = 0

    def store(self, patterns: Any, rule: str = "hebbian") -> HopfieldNetwork:
        """Set W from the patterns (P, N) in {-1, +1}; ``rule`` "hebbian" or "projection"
        (the pseudo-inverse rule, exact for any P < N linearly independent patterns).
        Returns self."""
        who = "HopfieldNetwork.store"
        X = _bipolar(patterns, self.n_units, who, "patterns")
        check_choice(rule, "rule", who, ("hebbian", "projection"))
        if rule == "hebbian":
            W = X.T @ X / self.n_units
        else:
            W = X.T @ np.linalg.pinv(X @ X.T) @ X
        np.fill_diagonal(W, 0)
        self.weight, self.n_patterns, self.rule = W, len(X), rule
        return self

    def energy(self, states: Any) -> np.ndarray:
        """E(s) = -1/2 s^T W s for each row, shape (B,)."""
        S = _bipolar(states, self.n_units, "HopfieldNetwork.energy")
        return -0.5 * np.einsum("bi,ij,bj->b", S, self.weight, S)

    def step(self, states: Any) -> np.ndarray:
        """One synchronous update of every unit of every row."""
        S = _bipolar(states, self.n_units, "HopfieldNetwork.step")
        return self._sync(S)

    def _sync(self, S: np.ndarray) -> np.ndarray:
        h = S @ self.weight
        return np.where(h > 0, 1.0, np.where(h < 0, -1.0, S))

    def recall(self, states: Any, mode: str = "async", max_sweeps: int = 50,
               seed: int | None = None, record_energy: bool = False
               ) -> tuple[np.ndarray, int] | tuple[np.ndarray, int, np.ndarray]:
        """Run the dynamics from ``states`` (B, N) until no unit changes.

        mode "async": sweeps over the units in a random order, one unit at a time (the
        order is the same for all rows, each unit's update is vectorised over the batch);
        "sync": all units at once. Returns ``(states, sweeps)`` (and the energies (sweeps+1,
        B) after each sweep when ``record_energy``)."""
        who = "HopfieldNetwork.recall"
        S = _bipolar(states, self.n_units, who).copy()
        check_choice(mode, "mode", who, ("async", "sync"))
        max_sweeps = check_int(max_sweeps, "max_sweeps", who)
        rng = np.random.default_rng(seed)
        W = self.weight
        energies = [self.energy(S)] if record_energy else []
        sweeps = 0
        for sweeps in range(1, max_sweeps + 1):
            old = S.copy()
            if mode == "sync":
                S = self._sync(S)
            else:
                for i in rng.permutation(self.n_units):   # sequential by definition
                    h = S @ W[:, i]
                    S[:, i] = np.where(h > 0, 1.0, np.where(h < 0, -1.0, S[:, i]))
            if record_energy:
                energies.append(self.energy(S))
            if np.array_equal(S, old):
                break
        out = S.astype(np.int64)
        if record_energy:
            return out, sweeps, np.array(energies)
        return out, sweeps

    def overlap(self, states: Any, patterns: Any) -> np.ndarray:
        """m = (1/N) s . xi for every state and pattern, (B, P); 1 means recalled exactly."""
        S = _bipolar(states, self.n_units, "HopfieldNetwork.overlap")
        X = _bipolar(patterns, self.n_units, "HopfieldNetwork.overlap", "patterns")
        return S @ X.T / self.n_units
