"""Restricted Boltzmann machines with binary units, trained by contrastive divergence.

A Bernoulli RBM has visible units v in {0, 1}^V, hidden units h in {0, 1}^H, weights W
(H, V) (``nn.Linear``'s layout, so the hidden layer is ``Linear(V, H)`` + sigmoid), a
visible bias b (V,) and a hidden bias c (H,). Its energy and free energy are::

    E(v, h) = -b.v - c.h - h.W.v
    F(v)    = -log sum_h exp(-E(v, h)) = -b.v - sum_j softplus(c_j + W_j.v)

and the two conditionals factorise: p(h_j = 1 | v) = sigmoid(c_j + W_j.v),
p(v_i = 1 | h) = sigmoid(b_i + h.W[:, i]).

The log-likelihood gradient is a positive phase (data statistics) minus a negative phase
(model statistics). CD-k estimates the negative phase from a Gibbs chain of k steps
started at the data; persistent CD (PCD, Tieleman 2008) keeps the chain's state from one
update to the next. :meth:`BernoulliRBM.contrastive_divergence` writes minus that
estimate into the parameters' ``.grad``, so any glassnet optimizer (``optim.SGD`` with
momentum and weight decay) takes the step.

>>> rbm = BernoulliRBM(64, 16)
>>> X = (gn.rand(100, 64).numpy() > 0.5).astype("float32")
>>> hist = rbm.fit(X, epochs=2, batch_size=20, lr=0.05, seed=0)
>>> sorted(k for k in hist.history if not k.startswith("lr"))
['loss', 'pseudo_likelihood', 'recon', 'seconds']
"""
from __future__ import annotations

import math
import sys
import time
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from .. import backend, nn
from ..autograd.tensor import Tensor
from ..nn.module import Module, Parameter
from ..training.history import History
from ..validation import check_int

if TYPE_CHECKING:  # annotations only
    from collections.abc import Sequence

    from glassnet._typing import TensorLike
    from glassnet.optim.optimizer import Optimizer
    from glassnet.training.callbacks import Callback
    from glassnet.training.trainer import Trainer


__all__ = ["BernoulliRBM", "DeepBeliefNet", "sigmoid", "softplus", "gibbs_chains",
           "plot_gibbs_chains", "plot_filters"]


def sigmoid(x: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-x)), without overflow for large |x|."""
    out = np.empty_like(x)
    pos = x >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-x[pos]))
    e = np.exp(x[~pos])
    out[~pos] = e / (1.0 + e)
    return out


def softplus(x: np.ndarray) -> np.ndarray:
    """log(1 + exp(x)), stable."""
    return np.logaddexp(0.0, x)


def _array(X: TensorLike, dtype: Any, n: int, who: str) -> np.ndarray:
    a = X.numpy() if isinstance(X, Tensor) else np.asarray(X)
    if a.ndim == 1:
        a = a[None]
    if a.ndim != 2 or a.shape[1] != n:
        raise ValueError(f"{who}: expected an array (N, {n}), got shape {a.shape}")
    if not np.issubdtype(a.dtype, np.number) and a.dtype != np.bool_:
        raise TypeError(f"{who}: expected numbers, got dtype {a.dtype}")
    return np.asarray(a, dtype=dtype)


def _random(rng: Any, shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    """Uniform draws in [0, 1) from ``rng`` (an object with ``random(shape)``, e.g. a
    ``np.random.Generator``; default glassnet's generator, seeded by ``gn.manual_seed``)."""
    r = backend.rng() if rng is None else rng
    return np.asarray(r.random(shape), dtype=dtype)


class _Run:
    """What callbacks see of a running :meth:`BernoulliRBM.fit` (the attributes of
    ``Trainer`` that glassnet's ProgressBar and user callbacks read)."""

    def __init__(self, model: Module, history: History) -> None:
        self.model = model
        self.history = history
        self.stop_training = False
        self.stop_reason: str | None = None
        self.epoch = 0


class BernoulliRBM(nn.Module):
    """A restricted Boltzmann machine with binary visible and hidden units.

    Parameters: ``weight`` (n_hidden, n_visible), ``visible_bias`` (n_visible,),
    ``hidden_bias`` (n_hidden,); the weights start N(0, 0.01^2), the biases at zero.
    Visible values in [0, 1] (e.g. pixel intensities) are used as given: as the data's
    probabilities in the positive phase.

    ``forward(v)`` is ``prob_h(v)`` as a Tensor (the RBM as a feature layer).

    Example
    -------
    >>> rbm = BernoulliRBM(3, 2)
    >>> rbm.free_energy(np.ones((1, 3))).shape
    (1,)
    """

    def __init__(self, n_visible: int, n_hidden: int) -> None:
        super().__init__()
        self.n_visible = check_int(n_visible, "n_visible", "BernoulliRBM", min=1)
        self.n_hidden = check_int(n_hidden, "n_hidden", "BernoulliRBM", min=1)
        dt = backend.get_default_dtype()
        self.weight = Parameter(Tensor((0.01 * backend.rng().standard_normal(
            (self.n_hidden, self.n_visible))).astype(dt)))
        self.visible_bias = Parameter(Tensor(np.zeros(self.n_visible, dt)))
        self.hidden_bias = Parameter(Tensor(np.zeros(self.n_hidden, dt)))
        object.__setattr__(self, "chain_", None)

    # ------------------------------------------------------------ raw arrays
    @property
    def W(self) -> np.ndarray:
        return self.weight._data

    @property
    def b(self) -> np.ndarray:
        return self.visible_bias._data

    @property
    def c(self) -> np.ndarray:
        return self.hidden_bias._data

    def _v(self, v: TensorLike, who: str) -> np.ndarray:
        return _array(v, self.W.dtype, self.n_visible, f"BernoulliRBM.{who}")

    def _h(self, h: TensorLike, who: str) -> np.ndarray:
        return _array(h, self.W.dtype, self.n_hidden, f"BernoulliRBM.{who}")

    # ------------------------------------------------------------ conditionals
    def prob_h(self, v: TensorLike) -> np.ndarray:
        """p(h = 1 | v) = sigmoid(v W^T + c): (N, n_hidden)."""
        return sigmoid(self._v(v, "prob_h") @ self.W.T + self.c)

    def prob_v(self, h: TensorLike) -> np.ndarray:
        """p(v = 1 | h) = sigmoid(h W + b): (N, n_visible)."""
        return sigmoid(self._h(h, "prob_v") @ self.W + self.b)

    def sample_h(self, v: TensorLike, rng: Any = None) -> tuple[np.ndarray, np.ndarray]:
        """(p(h | v), a binary draw h ~ p(h | v)); ``rng`` as :func:`_random`."""
        p = self.prob_h(v)
        return p, (_random(rng, p.shape, p.dtype) < p).astype(p.dtype)

    def sample_v(self, h: TensorLike, rng: Any = None) -> tuple[np.ndarray, np.ndarray]:
        """(p(v | h), a binary draw v ~ p(v | h))."""
        p = self.prob_v(h)
        return p, (_random(rng, p.shape, p.dtype) < p).astype(p.dtype)

    def gibbs(self, v: TensorLike, k: int = 1, rng: Any = None,
              mean_visible: bool = False) -> np.ndarray:
        """k steps of block Gibbs sampling v -> h -> v' from each row of v; returns the
        last visible state (binary draws; with ``mean_visible`` the last step returns
        p(v | h) instead, the usual picture of a sample)."""
        k = check_int(k, "k", "BernoulliRBM.gibbs", min=1)
        x = self._v(v, "gibbs")
        for step in range(k):
            _, h = self.sample_h(x, rng)
            p, s = self.sample_v(h, rng)
            x = p if (mean_visible and step == k - 1) else s
        return x

    # ------------------------------------------------------------ energies
    def energy(self, v: TensorLike, h: TensorLike) -> np.ndarray:
        """E(v, h) = -b.v - c.h - h W v per row: (N,)."""
        vv, hh = self._v(v, "energy"), self._h(h, "energy")
        return -(vv @ self.b) - (hh @ self.c) - np.einsum("nj,ji,ni->n", hh, self.W, vv)

    def free_energy(self, v: TensorLike) -> np.ndarray:
        """F(v) = -b.v - sum_j softplus(c_j + W_j.v) per row: (N,)."""
        vv = self._v(v, "free_energy")
        return -(vv @ self.b) - softplus(vv @ self.W.T + self.c).sum(axis=1)

    def pseudo_likelihood(self, v: TensorLike, rng: Any = None,
                          index: np.ndarray | None = None) -> np.ndarray:
        """Stochastic pseudo-log-likelihood per row, (N,): for one visible unit i per row
        (``index``, default drawn uniformly), with v~ equal to v with unit i flipped,

            V * log sigmoid(F(v~) - F(v))

        an unbiased estimate (up to the factor) of sum_i log p(v_i | v_-i) for binary v
        (scikit-learn's ``BernoulliRBM.score_samples`` computes the same)."""
        vv = self._v(v, "pseudo_likelihood")
        n = len(vv)
        if index is None:
            r = backend.rng() if rng is None else rng
            index = r.integers(0, self.n_visible, n)
        index = np.asarray(index)
        if index.shape != (n,) or not np.issubdtype(index.dtype, np.integer) or \
                (n and (index.min() < 0 or index.max() >= self.n_visible)):
            raise ValueError(f"BernoulliRBM.pseudo_likelihood: index must hold one int in "
                             f"[0, {self.n_visible}) per row ({n}), got shape {index.shape}")
        flipped = vv.copy()
        rows = np.arange(n)
        flipped[rows, index] = 1 - flipped[rows, index]
        return -self.n_visible * softplus(self.free_energy(vv) - self.free_energy(flipped))

    def reconstruct(self, v: TensorLike) -> np.ndarray:
        """The mean-field reconstruction p(v | p(h | v))."""
        return self.prob_v(self.prob_h(v))

    def reconstruction_error(self, v: TensorLike) -> np.ndarray:
        """Mean squared error per row between v and :meth:`reconstruct` (v): (N,)."""
        vv = self._v(v, "reconstruction_error")
        return ((vv - self.reconstruct(vv)) ** 2).mean(axis=1)

    def forward(self, v: Tensor) -> Tensor:
        return Tensor(self.prob_h(v))

    # ------------------------------------------------------------ learning
    def contrastive_divergence(self, v0: TensorLike, k: int = 1, persistent: bool = False,
                               rng: Any = None, sample_visible: bool = True) -> dict[str, float]:
        """Write the CD-k (or PCD-k) gradient estimate into ``.grad`` and return batch
        statistics.

        positive phase: ph0 = p(h | v0); negative phase: a Gibbs chain of k steps,
        h ~ p(h | v), v ~ p(v | h), started at v0 (CD) or at the persistent chain's
        state (PCD: ``self.chain_``, as many chains as the first batch has rows, kept
        between calls, also across a smaller last batch), ending
        at vk with phk = p(h | vk). The gradient of the negative log-likelihood, averaged
        over the batch, is estimated as::

            dW = -(ph0^T v0 / N - phk^T vk / M),  db = -(mean v0 - mean vk),
            dc = -(mean ph0 - mean phk)     (N rows, M chains; M = N for CD)

        With ``sample_visible=False`` the chain's visible states are the probabilities
        p(v | h) rather than binary draws (Hinton's practical guide). The gradients are
        *set*, not accumulated. Returns ``{"recon": mean squared error of the mean-field
        reconstruction of v0}``.
        """
        k = check_int(k, "k", "BernoulliRBM.contrastive_divergence", min=1)
        v0 = self._v(v0, "contrastive_divergence")
        n = len(v0)
        ph0, h = self.sample_h(v0, rng)
        recon = float(((v0 - self.prob_v(ph0)) ** 2).mean())
        if persistent:
            chain = getattr(self, "chain_", None)
            if chain is None or chain.shape[1:] != v0.shape[1:]:
                chain = v0.copy()
            _, h = self.sample_h(chain, rng)
        vk = v0
        for _ in range(k):
            pv, sv = self.sample_v(h, rng)
            vk = sv if sample_visible else pv
            phk, h = self.sample_h(vk, rng)
        if persistent:
            object.__setattr__(self, "chain_", vk)
        m = len(vk)   # the number of chains (PCD keeps its first batch's count)
        grads = {"weight": -(ph0.T @ v0 / n - phk.T @ vk / m),
                 "visible_bias": -(v0.mean(axis=0) - vk.mean(axis=0)),
                 "hidden_bias": -(ph0.mean(axis=0) - phk.mean(axis=0))}
        for name, g in grads.items():
            p = getattr(self, name)
            p.grad = Tensor(np.asarray(g, dtype=p._data.dtype))
        return {"recon": recon}

    def configure_optimizer(self, lr: float = 0.1, momentum: float = 0.5,
                            weight_decay: float = 0.0) -> Optimizer:
        """``optim.SGD`` with ``momentum``, weight decay on ``weight`` only (not on the
        biases, as is usual for RBMs)."""
        from .. import optim
        return optim.SGD([{"params": [self.weight], "weight_decay": weight_decay},
                          {"params": [self.visible_bias, self.hidden_bias],
                           "weight_decay": 0.0}], lr=lr, momentum=momentum)

    def fit(self, X: TensorLike, epochs: int = 10, batch_size: int = 64, lr: float = 0.1,
            k: int = 1, persistent: bool = False, momentum: float = 0.5,
            weight_decay: float = 1e-4, optimizer: Optimizer | None = None,
            validation: TensorLike | None = None, monitor_size: int = 2000,
            callbacks: Sequence[Callback] | None = None, verbose: int = 0,
            seed: int | None = None, sample_visible: bool = True) -> History:
        """Train by CD-k (``persistent=False``) or PCD-k on the rows of X (values in [0, 1]).

        Each mini-batch (shuffled every epoch) gets :meth:`contrastive_divergence`, then
        ``optimizer.step()`` (default :meth:`configure_optimizer` (lr, momentum,
        weight_decay)). Per epoch the History records ``loss`` and ``recon`` (the mean
        reconstruction error of the training batches, before their update),
        ``pseudo_likelihood`` (mean over at most ``monitor_size`` training rows), with
        ``validation`` also ``val_recon``, ``val_pseudo_likelihood`` and
        ``free_energy_gap`` (mean F(validation) - mean F(training rows): growing means
        overfitting), and ``lr``, ``seconds``.

        ``callbacks`` are glassnet Callbacks; they receive a run object with ``model``,
        ``history``, ``stop_training`` (set it to stop) and ``stop_reason``. ``verbose``:
        0 silent, 1 a progress bar per epoch, 2 a line per epoch. Returns the History
        (also ``self.history_``).
        """
        from ..training.callbacks import CallbackList, ProgressBar
        who = "BernoulliRBM.fit"
        epochs = check_int(epochs, "epochs", who, min=1)
        batch_size = check_int(batch_size, "batch_size", who, min=1)
        X = self._v(X, "fit")
        if X.size and (X.min() < 0 or X.max() > 1):
            raise ValueError(f"{who}: X must hold values in [0, 1] (binary units), got "
                             f"[{X.min():g}, {X.max():g}]")
        V = None if validation is None else self._v(validation, "fit (validation)")
        rng = np.random.default_rng(seed) if seed is not None else backend.rng()
        opt = optimizer if optimizer is not None else \
            self.configure_optimizer(lr, momentum, weight_decay)
        history = History()
        steps = math.ceil(len(X) / batch_size)
        history.params = {"epochs": epochs, "steps": steps, "batch_size": batch_size, "k": k,
                          "persistent": bool(persistent), "samples": len(X)}
        run = _Run(self, history)
        tr = cast("Trainer", run)   # the attributes of a Trainer that callbacks read
        cbs = list(callbacks or [])
        if verbose:
            cbs.append(ProgressBar(verbose))
        cb = CallbackList(cbs) if cbs else None
        object.__setattr__(self, "chain_", None)
        mon = X[rng.permutation(len(X))[:monitor_size]]
        if cb:
            cb.on_train_begin(tr)
        for epoch in range(epochs):
            run.epoch = epoch
            if cb:
                cb.on_epoch_begin(tr, epoch)
            t0 = time.perf_counter()
            order = rng.permutation(len(X))
            tot = 0.0
            for step in range(steps):
                idx = order[step * batch_size:(step + 1) * batch_size]
                stats = self.contrastive_divergence(X[idx], k=k, persistent=persistent,
                                                    rng=rng, sample_visible=sample_visible)
                opt.step()
                opt.zero_grad()
                tot += stats["recon"] * len(idx)
                if cb:
                    cb.on_batch_end(tr, step, {"loss": stats["recon"]})
            if not np.all(np.isfinite(self.W)):
                raise FloatingPointError(f"{who}: the weights became NaN or Inf in epoch "
                                         f"{epoch + 1}; lower lr ({lr:g})")
            logs: dict[str, Any] = {"loss": tot / len(X), "recon": tot / len(X),
                                    "pseudo_likelihood":
                                        float(self.pseudo_likelihood(mon, rng).mean())}
            if V is not None:
                logs["val_recon"] = float(self.reconstruction_error(V).mean())
                logs["val_pseudo_likelihood"] = float(self.pseudo_likelihood(V, rng).mean())
                logs["free_energy_gap"] = float(self.free_energy(V).mean()
                                                - self.free_energy(mon).mean())
            logs["lr"] = float(opt.param_groups[0]["lr"])
            logs["seconds"] = time.perf_counter() - t0
            history.append(epoch, logs)
            if cb:
                cb.on_epoch_end(tr, epoch, logs)
            if run.stop_training:
                history.stop_reason = run.stop_reason
                break
        if cb:
            cb.on_train_end(tr)
        object.__setattr__(self, "history_", history)
        return history

    def extra_repr(self) -> str:
        return f"n_visible={self.n_visible}, n_hidden={self.n_hidden}"


class DeepBeliefNet(nn.Module):
    """A stack of Bernoulli RBMs ``sizes[0] - sizes[1] - ... - sizes[-1]`` trained greedily
    layer by layer (Hinton, Osindero & Teh, 2006), then unrolled into a classifier.

    :meth:`pretrain` trains RBM 1 on the data, maps the data to its hidden probabilities
    p(h | v), trains RBM 2 on those, and so on. :meth:`to_classifier` returns an
    ``nn.Sequential`` of ``Linear`` + ``Sigmoid`` per RBM holding copies of its weight and
    hidden bias (so its hidden layers compute exactly the stack's p(h | v)), then a new
    ``Linear`` head producing class logits, for fine-tuning with backpropagation.

    >>> dbn = DeepBeliefNet([64, 32, 16])
    >>> clf = dbn.to_classifier(10)
    >>> [type(m).__name__ for m in clf]
    ['Linear', 'Sigmoid', 'Linear', 'Sigmoid', 'Linear']
    """

    def __init__(self, sizes: Sequence[int]) -> None:
        super().__init__()
        sizes = [int(s) for s in sizes]
        if len(sizes) < 2 or any(s < 1 for s in sizes):
            raise ValueError(f"DeepBeliefNet: sizes must list at least two positive ints "
                             f"(visible and hidden sizes), got {sizes!r}")
        self.sizes = sizes
        self.rbms = nn.ModuleList([BernoulliRBM(a, b) for a, b in zip(sizes[:-1], sizes[1:])])

    def transform(self, X: TensorLike, levels: int | None = None) -> np.ndarray:
        """The hidden probabilities of RBM ``levels`` (default the top one), propagated
        up the stack by p(h | v)."""
        H = X.numpy() if isinstance(X, Tensor) else np.asarray(X)
        for rbm in list(self.rbms)[:len(self.rbms) if levels is None else levels]:
            H = rbm.prob_h(H)
        return H

    def forward(self, x: Tensor) -> Tensor:
        return Tensor(self.transform(x))

    def pretrain(self, X: TensorLike, epochs: int | Sequence[int] = 10, batch_size: int = 64,
                 lr: float = 0.1, validation: TensorLike | None = None, verbose: int = 0,
                 seed: int | None = None, **fit: Any) -> list[History]:
        """Greedy layer-wise training; ``epochs`` one int or one per RBM; other keyword
        arguments go to :meth:`BernoulliRBM.fit`. Returns one History per RBM (also
        ``self.pretrain_history_``)."""
        n = len(self.rbms)
        eps = [int(e) for e in epochs] if isinstance(epochs, (list, tuple)) else \
            [int(cast(int, epochs))] * n
        if len(eps) != n:
            raise ValueError(f"DeepBeliefNet.pretrain: epochs has {len(eps)} entries for "
                             f"{n} RBMs")
        H = X.numpy() if isinstance(X, Tensor) else np.asarray(X)
        Vh = None if validation is None else np.asarray(validation)
        hists = []
        for i, rbm in enumerate(self.rbms):
            if verbose:
                print(f"DeepBeliefNet: RBM {i + 1}/{n}: {rbm.n_visible} -> {rbm.n_hidden}",
                      file=sys.stderr)
            hists.append(rbm.fit(H, epochs=int(eps[i]), batch_size=batch_size, lr=lr,
                                 validation=Vh, verbose=verbose,
                                 seed=None if seed is None else seed + i, **fit))
            if i + 1 < n:
                H = rbm.prob_h(H)
                Vh = None if Vh is None else rbm.prob_h(Vh)
        object.__setattr__(self, "pretrain_history_", hists)
        return hists

    def to_classifier(self, n_classes: int) -> nn.Sequential:
        """``Linear(sizes[k], sizes[k+1]) + Sigmoid`` per RBM (its weight and hidden bias
        copied) and a new ``Linear(sizes[-1], n_classes)`` head (logits; train with
        ``nn.CrossEntropyLoss``)."""
        n_classes = check_int(n_classes, "n_classes", "DeepBeliefNet.to_classifier", min=2)
        layers: list[Module] = []
        for rbm in self.rbms:
            lin = nn.Linear(rbm.n_visible, rbm.n_hidden).to_dtype(rbm.W.dtype)
            lin.weight._data[...] = rbm.W
            lin.bias._data[...] = rbm.c
            layers += [lin, nn.Sigmoid()]
        head = nn.Linear(self.sizes[-1], n_classes).to_dtype(self.rbms[0].W.dtype)
        nn.init.xavier_uniform_(head.weight)
        nn.init.zeros_(head.bias)
        return nn.Sequential(*layers, head)

    def extra_repr(self) -> str:
        return "sizes=" + "-".join(map(str, self.sizes))


# ------------------------------------------------------------------ pictures
def gibbs_chains(rbm: BernoulliRBM, v0: TensorLike, steps: Sequence[int] = (0, 1, 10, 100),
                 seed: int | None = None) -> np.ndarray:
    """Gibbs chains started at the rows of v0: (n, len(steps), n_visible), the visible
    probabilities p(v | h) after each number of ``steps`` (0: v0 itself)."""
    rng = np.random.default_rng(seed) if seed is not None else backend.rng()
    x = rbm._v(v0, "gibbs_chains")
    out = np.empty((len(x), len(steps), rbm.n_visible), x.dtype)
    done = 0
    for j, s in enumerate(steps):
        s = check_int(s, "steps", "gibbs_chains", min=0)
        if s < done:
            raise ValueError(f"gibbs_chains: steps must increase, got {list(steps)}")
        if s == 0:
            out[:, j] = x
            continue
        if s == done:
            raise ValueError(f"gibbs_chains: steps must increase, got {list(steps)}")
        x = rbm.gibbs(x, s - done - 1, rng) if s - done > 1 else x
        _, h = rbm.sample_h(x, rng)
        p, x = rbm.sample_v(h, rng)
        out[:, j] = p
        done = s
    return out


def plot_gibbs_chains(rbm: BernoulliRBM, v0: TensorLike, steps: Sequence[int] = (0, 1, 10, 100),
                      path: Any = None, seed: int | None = None, title: str | None = None) -> Any:
    """One row per chain of :func:`gibbs_chains` (square images), one column per step
    count; returns the Figure (written to ``path`` when given)."""
    from .vae import plot_samples
    ch = gibbs_chains(rbm, v0, steps, seed)
    return plot_samples(ch.reshape(-1, rbm.n_visible), path, ncols=len(steps),
                        title=title or "Gibbs chains: steps " + ", ".join(map(str, steps)))


def plot_filters(rbm: BernoulliRBM, path: Any = None, n: int = 100,
                 title: str | None = None) -> Any:
    """The first ``n`` rows of W as square images, each scaled to [0, 1]."""
    from .vae import plot_samples
    W = rbm.W[:n].astype(float)
    lo, hi = W.min(axis=1, keepdims=True), W.max(axis=1, keepdims=True)
    return plot_samples((W - lo) / np.maximum(hi - lo, 1e-12), path,
                        ncols=int(math.ceil(math.sqrt(len(W)))), title=title)
