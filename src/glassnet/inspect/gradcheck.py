"""Check a whole model's backprop against central differences, parameter by parameter."""
from __future__ import annotations

import numpy as np

from ..autograd.function import no_grad
from ..autograd.tensor import Tensor
from ._common import copy_in_dtype, loss_target, resolve_loss, to_numpy

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # annotations only
    from collections.abc import Callable

    from glassnet._typing import TensorLike
    from glassnet.nn.module import Module


__all__ = ["gradcheck_model", "GradcheckReport"]


class GradcheckReport:
    """Worst relative error of backprop against finite differences, per parameter.

    Attributes
    ----------
    rows : list of dict
        ``name``, ``shape``, ``checked`` (elements compared), ``max_rel_error``,
        ``max_abs_error``, ``worst_index``, ``analytic`` and ``numeric`` at that index.
    """

    def __init__(self, rows: list[dict[str, Any]], rtol: float, atol: float) -> None:
        self.rows, self.rtol, self.atol = rows, rtol, atol

    @property
    def worst(self) -> float:
        return max((r["max_rel_error"] for r in self.rows), default=0.0)

    @property
    def ok(self) -> bool:
        """True when every element agrees within ``atol + rtol * |numeric|``."""
        return all(r["ok"] for r in self.rows)

    def __getitem__(self, name: str) -> dict[str, Any]:
        for r in self.rows:
            if r["name"] == name:
                return r
        raise KeyError(f"GradcheckReport: no parameter {name!r}; have "
                       f"{[r['name'] for r in self.rows]}")

    def as_dict(self) -> dict[str, float]:
        """{parameter name: worst relative error}."""
        return {r["name"]: r["max_rel_error"] for r in self.rows}

    def __str__(self) -> str:
        lines = [f"{'parameter':<24} {'shape':<14} {'checked':>8} {'max rel err':>12} "
                 f"{'max abs err':>12}  ok"]
        for r in self.rows:
            lines.append(f"{r['name']:<24} {str(r['shape']):<14} {r['checked']:>8} "
                         f"{r['max_rel_error']:>12.3e} {r['max_abs_error']:>12.3e}  "
                         f"{'yes' if r['ok'] else 'NO'}")
        lines.append(f"worst relative error {self.worst:.3e}: "
                     f"{'backprop agrees' if self.ok else 'MISMATCH'}")
        return "\n".join(lines)

    __repr__ = __str__


def gradcheck_model(model: Module, loss: str | Callable[..., Tensor], x: TensorLike,
                    y: TensorLike, eps: float = 1e-6, rtol: float = 1e-5,
                    atol: float = 1e-8, max_per_param: int | None = 200, seed: int = 0,
                    train: bool = False) -> GradcheckReport:
    """Compare every parameter's backprop gradient with central differences, in float64.

    E(w) is the loss of ``model(x)`` against ``y``; for each checked element
    ``(E(w + eps) - E(w - eps)) / (2 eps)`` is compared with autograd's ∂E/∂w. The
    relative error is ``|analytic - numeric| / max(|analytic|, |numeric|)`` (0 where both
    are below ``atol``); an element passes when ``|analytic - numeric| <= atol + rtol |numeric|``.

    Parameters
    ----------
    model : Module
        Not modified: a float64 copy is checked, in eval mode unless ``train`` (dropout
        must be off for finite differences to be meaningful).
    loss : Module, callable or str
    x, y : arrays
    max_per_param : int or None
        Check at most this many randomly chosen elements of each parameter (None: all).

    Returns
    -------
    GradcheckReport
        ``print(report)`` shows the table; ``report.ok`` and ``report.worst``.

    Example
    -------
    >>> rep = gn.inspect.gradcheck_model(model, nn.CrossEntropyLoss(),
    ...                                  X[:8], y[:8])  # doctest: +SKIP
    >>> assert rep.ok, rep  # doctest: +SKIP
    """
    loss_fn = resolve_loss(loss, "gradcheck_model")
    m = copy_in_dtype(model, np.float64)
    m.train(bool(train))
    xt = Tensor(np.array(to_numpy(x), dtype=np.float64))
    yt = loss_target(y, np.float64)

    def E() -> Tensor:
        return loss_fn(m(xt), yt)

    m.zero_grad()
    e = E()
    if e._data.size != 1:
        raise ValueError(f"gradcheck_model: the loss must be a scalar, got shape {tuple(e.shape)}")
    e.backward()
    rng = np.random.default_rng(seed)
    rows: list[dict[str, Any]] = []
    for name, p in m.named_parameters():
        if not p.requires_grad:
            continue
        analytic = np.zeros_like(p._data) if p.grad is None else p.grad._data.copy()
        idx = _chosen(p._data.size, max_per_param, rng)
        numeric = _central_differences(E, p._data.reshape(-1), idx, eps)
        rows.append(_compare(name, p.shape, idx, analytic.reshape(-1)[idx], numeric, rtol, atol))
    return GradcheckReport(rows, rtol, atol)


def _chosen(n: int, max_per_param: int | None, rng: np.random.Generator) -> np.ndarray:
    """The flat indices to check: all ``n``, or ``max_per_param`` of them drawn at random
    (sorted)."""
    if max_per_param is None or n <= max_per_param:
        return np.arange(n)
    return np.sort(rng.choice(n, size=max_per_param, replace=False))


def _central_differences(E: Callable[[], Tensor], flat: np.ndarray, idx: np.ndarray,
                         eps: float) -> np.ndarray:
    """(E(w + eps) − E(w − eps)) / (2 eps) for each flat index of ``idx``, moving one
    coordinate of the parameter ``flat`` (a view of its data) at a time: the definition."""
    numeric = np.empty(len(idx))
    with no_grad():
        for k, i in enumerate(idx):
            old = flat[i]
            flat[i] = old + eps
            fp = float(E()._data)
            flat[i] = old - eps
            fm = float(E()._data)
            flat[i] = old
            numeric[k] = (fp - fm) / (2 * eps)
    return numeric


def _compare(name: str, shape: tuple[int, ...], idx: np.ndarray, an: np.ndarray,
             numeric: np.ndarray, rtol: float, atol: float) -> dict[str, Any]:
    """The report row of one parameter: worst relative error |an − num| / max(|an|, |num|)
    (0 where both are below ``atol``), worst absolute error, where, and whether every element
    passes ``|an − num| <= atol + rtol |num|``."""
    err = np.abs(an - numeric)
    scale = np.maximum(np.abs(an), np.abs(numeric))
    rel = np.where(scale <= atol, 0.0, err / np.maximum(scale, 1e-300))
    w = int(np.argmax(rel)) if len(rel) else 0
    return {"name": name, "shape": tuple(shape), "checked": int(len(idx)),
            "max_rel_error": float(rel.max(initial=0.0)),
            "max_abs_error": float(err.max(initial=0.0)),
            "worst_index": tuple(int(v) for v in np.unravel_index(idx[w], shape)),
            "analytic": float(an[w]) if len(an) else 0.0,
            "numeric": float(numeric[w]) if len(an) else 0.0,
            "ok": bool(np.all(err <= atol + rtol * np.abs(numeric)))}
