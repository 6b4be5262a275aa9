"""Dropout, channel dropout and DropConnect layers, and Monte-Carlo dropout prediction.

Each layer is active while the module is training, or in eval mode when its ``mc``
flag is set (``enable_mc_dropout``), so that repeated forward passes sample different
sub-networks (Gal & Ghahramani 2016); ``mc_predict`` turns those samples into a mean
prediction and a percentile confidence interval.
"""
from __future__ import annotations

import numpy as np

from ..autograd.function import no_grad
from ..autograd.tensor import Tensor, as_array
from ..functional import math as F
from ..functional.dropout import dropout as _dropout
from ..validation import check_int, check_probability, check_real
from .linear import Linear
from .module import Module

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # annotations only
    from glassnet._typing import TensorLike
    from glassnet._typing import DTypeLike
    from glassnet.autograd.tensor import Tensor


__all__ = ["Dropout", "Dropout1d", "Dropout2d", "DropConnectLinear", "enable_mc_dropout",
           "mc_predict"]


class Dropout(Module):
    """Inverted dropout: in training each element is zeroed with probability p and the
    rest scaled by 1/(1 - p); in eval the identity (unless ``mc`` is set).

    >>> y = nn.Dropout(0.5)(gn.ones(1000))     # about half zeros, the rest 2.0
    >>> sorted(set(y.tolist())), 400 < int((y == 0).sum()) < 600
    ([0.0, 2.0], True)
    """

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        self.p = check_probability(p, "p", type(self).__name__)
        self.inplace = bool(inplace)
        self.mc = False

    @property
    def active(self) -> bool:
        """Whether forward drops units now (training, or Monte-Carlo mode)."""
        return (self.training or self.mc) and self.p > 0

    def forward(self, x: Tensor) -> Tensor:
        if self.inplace and self.active:
            from .functional import dropout
            return dropout(x, self.p, True, True)
        return _dropout(x, self.p, True) if self.active else x

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout2d(Dropout):
    """Channel dropout for (N, C, H, W) feature maps: whole maps are zeroed with
    probability p (neighbouring pixels are correlated, so single-pixel dropout does
    little there), kept maps scaled by 1/(1 - p)."""

    def forward(self, x: Tensor) -> Tensor:
        from .functional import dropout2d
        return dropout2d(x, self.p, True, self.inplace) if self.active else x


class Dropout1d(Dropout):
    """Channel dropout for (N, C, L) or (C, L): whole channels zeroed with probability p."""

    def forward(self, x: Tensor) -> Tensor:
        from .functional import dropout1d
        return dropout1d(x, self.p, True, self.inplace) if self.active else x


class DropConnectLinear(Linear):
    """Linear layer with DropConnect (Wan et al. 2013): while training each *weight* is
    dropped with probability p and the kept ones scaled by 1/(1 - p); in eval it is a
    plain Linear. The bias is never dropped. One mask is drawn per forward (per
    mini-batch), shared by the samples of the batch.

    Parameters ``weight`` (out, in) and ``bias`` (out,) as in :class:`Linear`, so state
    dicts are interchangeable.

    >>> layer = nn.DropConnectLinear(64, 32, p=0.5)
    """

    def __init__(self, in_features: int, out_features: int, p: float = 0.5, bias: bool = True,
                 dtype: DTypeLike = None) -> None:
        super().__init__(in_features, out_features, bias=bias, dtype=dtype)
        self.p = check_probability(p, "p", "DropConnectLinear")
        self.mc = False

    @classmethod
    def from_linear(cls, linear: Linear, p: float = 0.5) -> "DropConnectLinear":
        """A DropConnect layer holding a copy of ``linear``'s weights."""
        m = cls(linear.in_features, linear.out_features, p, bias=linear.bias is not None,
                dtype=linear.weight.dtype)
        m.load_state_dict(linear.state_dict())
        return m

    @property
    def active(self) -> bool:
        return (self.training or self.mc) and self.p > 0

    def forward(self, x: Tensor) -> Tensor:
        if x.shape[-1] != self.in_features:
            raise ValueError(f"DropConnectLinear({self.in_features}, {self.out_features}): "
                             f"expected input with last dimension {self.in_features}, got "
                             f"shape {tuple(x.shape)}")
        w = _dropout(self.weight, self.p, True) if self.active else self.weight
        return F.linear(x, w, self.bias)

    def extra_repr(self) -> str:
        return super().extra_repr() + f", p={self.p}"


def _is_stochastic(m: Module) -> bool:
    return isinstance(m, (Dropout, DropConnectLinear))


def enable_mc_dropout(model: Module, flag: bool = True) -> list[Module]:
    """Set ``mc = flag`` on every Dropout / Dropout2d / DropConnectLinear in ``model``, so
    they keep sampling in eval mode (Monte-Carlo dropout). Returns those modules."""
    mods = [m for m in model.modules() if _is_stochastic(m)]
    for m in mods:
        m.mc = bool(flag)
    return mods


def mc_predict(model: Module, x: TensorLike, samples: int = 50, ci: float = 0.95, *,
               predict: Callable[[Any], np.ndarray] | None = None,
               return_std: bool = False) -> tuple[np.ndarray, ...]:
    """Monte-Carlo dropout prediction: run ``model`` ``samples`` times on ``x`` with
    dropout on (eval mode otherwise, no gradients).

    With draws ``y_1 .. y_S`` it returns NumPy arrays of the output's shape: the mean
    ``(1/S) sum_s y_s``, the lower and upper ends of the central ``ci`` percentile interval
    (e.g. the 2.5th and 97.5th percentiles for 0.95) and, with ``return_std``, the standard
    deviation ``sqrt((1/S) sum_s (y_s - mean)^2)`` as a fourth value.

    ``predict(x) -> array`` computes one draw (``Trainer.predict`` passes its batched,
    optionally softmaxed prediction); by default one batched forward pass of ``x`` in the
    model's dtype. The loop runs over the samples only.

    >>> model = nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Dropout(0.3), nn.Linear(8, 1))
    >>> X = np.ones((5, 3), np.float32)
    >>> mean, lo, hi = mc_predict(model, X, samples=100)
    >>> mean, lo, hi, std = mc_predict(model, X, samples=100, return_std=True)
    >>> mean.shape, bool((lo <= mean).all() and (mean <= hi).all()), bool((std >= 0).all())
    ((5, 1), True, True)
    """
    samples = check_int(samples, "samples", "mc_predict", min=2)
    ci = check_real(ci, "ci", "mc_predict", 0, 1, low_open=True, high_open=True)
    mods = [m for m in model.modules() if _is_stochastic(m)]
    if not mods:
        raise ValueError("mc_predict: the model has no Dropout or DropConnectLinear layer, "
                         "so every sample would be the same (MC dropout needs dropout layers)")
    if predict is None:
        xa = as_array(x)
        if xa.dtype.kind == "f" and xa.dtype != model.dtype:
            xa = xa.astype(model.dtype)
        xt = Tensor(xa)

        def predict(_: Any) -> np.ndarray:
            return model(xt)._data
    was_training = model.training
    flags = [m.mc for m in mods]
    model.eval()
    enable_mc_dropout(model, True)
    try:
        with no_grad():
            draws = np.stack([predict(x) for _ in range(int(samples))])
    finally:
        for m, f in zip(mods, flags):
            m.mc = f
        model.train(was_training)
    lower, upper = np.percentile(draws, [50.0 * (1 - ci), 50.0 * (1 + ci)], axis=0)
    out = (draws.mean(axis=0), lower.astype(draws.dtype), upper.astype(draws.dtype))
    return out + (draws.std(axis=0),) if return_std else out
