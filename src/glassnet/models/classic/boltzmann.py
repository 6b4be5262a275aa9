"""The Boltzmann machine (Ackley, Hinton and Sejnowski, 1985): stochastic binary units, all
connected to each other, some visible and some hidden.

    E(s)            = -1/2 s^T W s - b^T s          s in {0, 1}^n, W symmetric, w_ii = 0
    P(s)            = exp(-E(s)) / Z
    P(s_i = 1 | s)  = sigmoid(sum_j w_ij s_j + b_i)        (one Gibbs update of unit i)
    learning        dW = lr (<s s^T>_data - <s s^T>_model),  db = lr (<s>_data - <s>_model)

The positive phase clamps the visible units to the data and samples the hidden ones; the
negative phase lets the whole network run freely. This rule follows the gradient of the
data's mean log-likelihood. For a few units (n <= 20) every quantity can be computed
exactly by enumerating the 2^n states: :meth:`log_partition`, :meth:`visible_distribution`,
and the exact statistics of both phases (``fit(..., method="exact")``), which the tests
use to check the sampler.

>>> bm = BoltzmannMachine(2, 0)
>>> bm.weight[...] = [[0, 1], [1, 0]]; bm.bias[...] = [-0.5, 0.0]
>>> bm.energy(np.array([[1, 1]])).tolist()                # -1/2 (1 + 1) + 0.5
[-0.5]
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ...validation import check_choice, check_int, check_real

__all__ = ["BoltzmannMachine", "all_states", "bars_and_stripes"]

_MAX_EXACT = 20


def all_states(n: int) -> np.ndarray:
    """Every binary vector of length n, (2^n, n), in counting order (first unit = high bit)."""
    n = check_int(n, "n", "all_states", min=0, max=_MAX_EXACT + 4)
    codes = np.arange(2 ** n)
    return ((codes[:, None] >> np.arange(n - 1, -1, -1)) & 1).astype(np.float64)


def bars_and_stripes(side: int = 3) -> np.ndarray:
    """The bars-and-stripes patterns of a side x side grid (MacKay's benchmark for
    Boltzmann machines): every image whose rows are all constant or whose columns are all
    constant, flattened, without duplicates; 2^(side+1) - 2 patterns."""
    side = check_int(side, "side", "bars_and_stripes", min=1, max=5)
    rows = all_states(side)
    horiz = np.repeat(rows, side, axis=1)          # each row constant
    vert = np.tile(rows, (1, side))                # each column constant
    return np.unique(np.vstack([horiz, vert]), axis=0)


def _sigmoid(a: np.ndarray) -> np.ndarray:
    return 0.5 * (1 + np.tanh(0.5 * a))


class BoltzmannMachine:
    """``n_visible`` + ``n_hidden`` stochastic binary units, fully connected.

    Units are ordered visible first. ``weight`` (n, n) is symmetric with a zero diagonal,
    ``bias`` (n,).

    Parameters
    ----------
    n_visible, n_hidden : int
    weight_std : float
        Initial weights N(0, weight_std^2) (symmetrised).
    seed : int, optional
    """

    def __init__(self, n_visible: int, n_hidden: int = 0, weight_std: float = 0.01,
                 seed: int | None = None) -> None:
        who = "BoltzmannMachine"
        self.n_visible = check_int(n_visible, "n_visible", who)
        self.n_hidden = check_int(n_hidden, "n_hidden", who, min=0)
        self.n = self.n_visible + self.n_hidden
        self.rng = np.random.default_rng(seed)
        std = check_real(weight_std, "weight_std", who, 0)
        W = self.rng.normal(0, std, (self.n, self.n))
        W = (W + W.T) / 2
        np.fill_diagonal(W, 0)
        self.weight, self.bias = W, np.zeros(self.n)
        self.history_: list[float] = []

    # -------------------------------------------------------------- the model
    def _states(self, s: Any, who: str, n: int | None = None) -> np.ndarray:
        n = self.n if n is None else n
        S = np.asarray(s, dtype=np.float64)
        if S.ndim == 1:
            S = S[None]
        if S.ndim != 2 or S.shape[1] != n:
            raise ValueError(f"{who}: expected states of shape (B, {n}), got {np.shape(s)}")
        if not np.isin(S, (0, 1)).all():
            raise ValueError(f"{who}: states must be binary (0 or 1)")
        return S

    def energy(self, states: Any) -> np.ndarray:
        """E(s) = -1/2 s^T W s - b^T s for each row of (B, n)."""
        S = self._states(states, "BoltzmannMachine.energy")
        return -0.5 * np.einsum("bi,ij,bj->b", S, self.weight, S) - S @ self.bias

    def _check_exact(self, who: str) -> None:
        if self.n > _MAX_EXACT:
            raise ValueError(f"{who}: exact enumeration needs n_visible + n_hidden <= "
                             f"{_MAX_EXACT}, got {self.n}")

    def log_partition(self) -> float:
        """log Z = log sum_s exp(-E(s)) over all 2^n states (exact)."""
        self._check_exact("BoltzmannMachine.log_partition")
        e = -self.energy(all_states(self.n))
        m = e.max()
        return float(m + np.log(np.exp(e - m).sum()))

    def distribution(self) -> np.ndarray:
        """P(s) of every state of :func:`all_states` (2^n,), exact."""
        self._check_exact("BoltzmannMachine.distribution")
        e = -self.energy(all_states(self.n))
        p = np.exp(e - e.max())
        return p / p.sum()

    def visible_distribution(self) -> np.ndarray:
        """P(v) of every visible vector of ``all_states(n_visible)``, hidden units summed
        out (exact)."""
        p = self.distribution().reshape(2 ** self.n_visible, 2 ** self.n_hidden)
        return p.sum(axis=1)

    def log_likelihood(self, data: Any) -> float:
        """Mean log P(v) of the visible vectors (N, n_visible), hidden units summed out
        (exact). The learning rule's statistics are its gradient."""
        V = self._states(data, "BoltzmannMachine.log_likelihood", self.n_visible)
        codes = (V @ (2 ** np.arange(self.n_visible - 1, -1, -1))).astype(np.int64)
        return float(np.log(self.visible_distribution()[codes]).mean())

    def kl_from(self, data: Any) -> float:
        """KL(P_data || P_model) over the visible vectors, in nats (exact)."""
        V = self._states(data, "BoltzmannMachine.kl_from", self.n_visible)
        codes = (V @ (2 ** np.arange(self.n_visible - 1, -1, -1))).astype(np.int64)
        pd = np.bincount(codes, minlength=2 ** self.n_visible) / len(V)
        pm = self.visible_distribution()
        on = pd > 0
        return float((pd[on] * np.log(pd[on] / pm[on])).sum())

    # -------------------------------------------------------------- sampling
    def gibbs(self, states: Any, sweeps: int = 1, clamp_visible: bool = False) -> np.ndarray:
        """``sweeps`` Gibbs sweeps of every chain (row) of ``states`` (B, n): each unit in
        turn is set to 1 with probability sigmoid(W_i . s + b_i) (the units are visited
        in order, every update vectorised over the B chains). With ``clamp_visible`` only
        the hidden units are updated."""
        S = self._states(states, "BoltzmannMachine.gibbs").copy()
        units = range(self.n_visible if clamp_visible else 0, self.n)
        W, b, rng = self.weight, self.bias, self.rng
        for _ in range(check_int(sweeps, "sweeps", "BoltzmannMachine.gibbs", min=0)):
            for i in units:
                p = _sigmoid(S @ W[:, i] + b[i])
                S[:, i] = rng.random(len(S)) < p
        return S

    def sample(self, n_samples: int, sweeps: int = 200) -> np.ndarray:
        """Visible vectors of ``n_samples`` independent chains after ``sweeps`` sweeps from
        random states."""
        S = (self.rng.random((check_int(n_samples, "n_samples", "sample"), self.n)) < 0.5)
        return self.gibbs(S.astype(np.float64), sweeps)[:, :self.n_visible]

    # -------------------------------------------------------------- learning
    def _exact_positive(self, V: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """<s s^T> and <s> with the visible units clamped to each row of V, hidden units
        summed over exactly."""
        H = all_states(self.n_hidden)
        Wvh, Whh = self.weight[:self.n_visible, self.n_visible:], \
            self.weight[self.n_visible:, self.n_visible:]
        # -E(v, h) = -E_v(v) + v^T Wvh h + 1/2 h^T Whh h + b_h^T h; the v-only part cancels
        logits = V @ Wvh @ H.T + (0.5 * np.einsum("ki,ij,kj->k", H, Whh, H)
                                  + H @ self.bias[self.n_visible:])[None, :]
        q = np.exp(logits - logits.max(1, keepdims=True))
        q /= q.sum(1, keepdims=True)                      # P(h | v), (N, 2^H)
        Eh = q @ H                                        # <h | v>
        Ehh = np.einsum("nk,ki,kj->ij", q, H, H)          # sum_n <h h^T | v_n>
        n = len(V)
        ss = np.empty((self.n, self.n))
        v = self.n_visible
        ss[:v, :v] = V.T @ V
        ss[:v, v:] = V.T @ Eh
        ss[v:, :v] = ss[:v, v:].T
        ss[v:, v:] = Ehh
        mean = np.concatenate([V.mean(0), Eh.mean(0)])
        return ss / n, mean

    def _exact_negative(self) -> tuple[np.ndarray, np.ndarray]:
        S, p = all_states(self.n), self.distribution()
        return (S * p[:, None]).T @ S, p @ S

    def fit(self, data: Any, epochs: int = 100, lr: float = 0.1, method: str = "gibbs",
            n_chains: int = 100, sweeps: int = 5, positive_sweeps: int = 5,
            batch_size: int | None = None, track_kl: bool = False) -> BoltzmannMachine:
        """Learn by the positive / negative phase rule.

        method "exact": both phases' statistics by enumeration (n <= 20), i.e. exact
        gradient ascent on the log-likelihood. method "gibbs": the positive phase samples
        the hidden units with the visible ones clamped (``positive_sweeps`` sweeps, one
        chain per data vector of the batch), the negative phase runs ``n_chains``
        persistent free chains for ``sweeps`` sweeps per update. ``history_`` holds the
        exact KL(data || model) after each epoch when ``track_kl`` (small machines only).
        Returns self."""
        who = "BoltzmannMachine.fit"
        V = self._states(data, who, self.n_visible)
        check_choice(method, "method", who, ("exact", "gibbs"))
        lr = check_real(lr, "lr", who, 0, low_open=True)
        epochs = check_int(epochs, "epochs", who)
        bs = len(V) if batch_size is None else check_int(batch_size, "batch_size", who)
        if method == "exact":
            self._check_exact(who)
        chains = (self.rng.random((check_int(n_chains, "n_chains", who), self.n)) < 0.5
                  ).astype(np.float64)
        self.history_ = []
        for _ in range(epochs):
            order = self.rng.permutation(len(V))
            for i in range(0, len(V), bs):
                Vb = V[order[i:i + bs]]
                if method == "exact":
                    pos_ss, pos_m = self._exact_positive(Vb)
                    neg_ss, neg_m = self._exact_negative()
                else:
                    S = np.hstack([Vb, (self.rng.random((len(Vb), self.n_hidden)) < 0.5)])
                    S = self.gibbs(S, positive_sweeps, clamp_visible=True)
                    pos_ss, pos_m = S.T @ S / len(S), S.mean(0)
                    chains = self.gibbs(chains, sweeps)
                    neg_ss, neg_m = chains.T @ chains / len(chains), chains.mean(0)
                dW = pos_ss - neg_ss
                np.fill_diagonal(dW, 0)
                self.weight += lr * dW
                self.bias += lr * (pos_m - neg_m)
            if track_kl:
                self.history_.append(self.kl_from(V))
        return self
