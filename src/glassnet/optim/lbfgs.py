"""L-BFGS: a quasi-Newton method from a short history of steps and gradient changes."""
from __future__ import annotations

import numpy as np

from ..errors import ArgumentError, ArgumentTypeError
from ..autograd import enable_grad
from ..validation import check_choice, check_int, check_real
from .optimizer import Optimizer, _state_value

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, SupportsFloat, TypeVar

if TYPE_CHECKING:  # annotations only
    from ..autograd.tensor import Tensor
    from .optimizer import ParamsT

_T = TypeVar("_T", bound=SupportsFloat)   # the closure's loss (a Tensor, a float)

__all__ = ["LBFGS"]


def _cubic_min(x1: float, f1: float, g1: float, x2: float, f2: float, g2: float,
               bounds: tuple[float, float] | None = None) -> float:
    """The minimiser of the cubic through (x1, f1, slope g1) and (x2, f2, slope g2),
    clamped to ``bounds`` (default: between x1 and x2); the middle where it has none."""
    lo, hi = bounds if bounds is not None else ((x1, x2) if x1 <= x2 else (x2, x1))
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    disc = d1 * d1 - g1 * g2
    if disc >= 0:
        d2 = np.sqrt(disc)
        if x1 <= x2:
            x = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
        else:
            x = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
        return min(max(x, lo), hi)
    return (lo + hi) / 2.0


def _strong_wolfe(evaluate: Callable[[float], tuple[float, np.ndarray]], t: float,
                  d: np.ndarray, f: float, g: np.ndarray, gtd: float, c1: float = 1e-4,
                  c2: float = 0.9, tolerance_change: float = 1e-9,
                  max_ls: int = 25) -> tuple[float, np.ndarray, float, int]:
    """A step length ``t`` along ``d`` meeting the strong Wolfe conditions (sufficient
    decrease with ``c1``, curvature with ``c2``): bracketing, then zooming by cubic
    interpolation. ``evaluate(t)`` returns the loss and flat gradient at ``x + t d``.
    Returns ``(f, g, t, evaluations)``."""
    d_norm = np.abs(d).max()
    g = g.copy()
    f_new, g_new = evaluate(t)
    evals = 1
    gtd_new = float(g_new @ d)
    t_prev: float
    t_prev, f_prev, g_prev, gtd_prev = 0, f, g, gtd
    done = False
    it = 0
    # phase 1: find an interval that holds an acceptable step
    while it < max_ls:
        if f_new > f + c1 * t * gtd or (it > 1 and f_new >= f_prev):
            br, br_f, br_g, br_gtd = [t_prev, t], [f_prev, f_new], [g_prev, g_new.copy()], \
                [gtd_prev, gtd_new]
            break
        if abs(gtd_new) <= -c2 * gtd:
            br, br_f, br_g = [t], [f_new], [g_new]
            done = True
            break
        if gtd_new >= 0:
            br, br_f, br_g, br_gtd = [t_prev, t], [f_prev, f_new], [g_prev, g_new.copy()], \
                [gtd_prev, gtd_new]
            break
        lo_step, hi_step = t + 0.01 * (t - t_prev), t * 10
        t_old = t
        t = _cubic_min(t_prev, f_prev, gtd_prev, t, f_new, gtd_new, bounds=(lo_step, hi_step))
        t_prev, f_prev, g_prev, gtd_prev = t_old, f_new, g_new.copy(), gtd_new
        f_new, g_new = evaluate(t)
        evals += 1
        gtd_new = float(g_new @ d)
        it += 1
    if it == max_ls:
        br, br_f, br_g = [0, t], [f, f_new], [g, g_new]
    # phase 2: shrink the interval until a step satisfies both conditions
    stuck = False
    low, high = (0, 1) if br_f[0] <= br_f[-1] else (1, 0)
    while not done and it < max_ls:
        if abs(br[1] - br[0]) * d_norm < tolerance_change:
            break
        t = _cubic_min(br[0], br_f[0], br_gtd[0], br[1], br_f[1], br_gtd[1])
        a, b = min(br), max(br)
        margin = 0.1 * (b - a)
        if min(b - t, t - a) < margin:          # too close to an end of the interval
            if stuck or t >= b or t <= a:
                t = b - margin if abs(t - b) < abs(t - a) else a + margin
                stuck = False
            else:
                stuck = True
        else:
            stuck = False
        f_new, g_new = evaluate(t)
        evals += 1
        gtd_new = float(g_new @ d)
        it += 1
        if f_new > f + c1 * t * gtd or f_new >= br_f[low]:
            br[high], br_f[high], br_g[high], br_gtd[high] = t, f_new, g_new.copy(), gtd_new
            low, high = (0, 1) if br_f[0] <= br_f[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True
            elif gtd_new * (br[high] - br[low]) >= 0:
                br[high], br_f[high], br_g[high], br_gtd[high] = \
                    br[low], br_f[low], br_g[low], br_gtd[low]
            br[low], br_f[low], br_g[low], br_gtd[low] = t, f_new, g_new.copy(), gtd_new
    return br_f[low], br_g[low], br[low], evals


class LBFGS(Optimizer):
    r"""L-BFGS (Nocedal, 1980; Liu & Nocedal, 1989), PyTorch's algorithm.

    ``step(closure)`` runs up to ``max_iter`` iterations (and ``max_eval`` evaluations of
    ``closure``, which must clear the gradients, compute the loss, call ``backward`` and
    return the loss). Each iteration takes the direction :math:`d = -H g` from the two-loop
    recursion over the last ``history_size`` pairs :math:`(s, y)` (steps and gradient
    changes, kept when :math:`y^\top s > 10^{-10}`; :math:`H_0 = y^\top s / y^\top y`),
    and moves by :math:`t\,d` with :math:`t` = ``lr`` (the first iteration ever:
    :math:`\min(1, 1/\lVert g\rVert_1)\,\mathrm{lr}`), or the step of a strong-Wolfe line
    search with ``line_search_fn="strong_wolfe"``. It stops early when
    :math:`\max|g| \le` ``tolerance_grad``, or the step or the change of the loss is below
    ``tolerance_change``. Returns the loss of the first evaluation.

    One parameter group only (as in PyTorch). The state (history, direction, counters)
    lives in ``state[first parameter]``.

    Example
    -------
    >>> x = gn.tensor([[1.0], [2.0], [3.0]]); y = 2 * x + 1
    >>> model, loss_fn = nn.Linear(1, 1), nn.MSELoss()
    >>> opt = LBFGS(model.parameters(), lr=0.8)
    >>> def closure():
    ...     opt.zero_grad(); loss = loss_fn(model(x), y); loss.backward(); return loss
    >>> for _ in range(5): _ = opt.step(closure)
    >>> float(loss_fn(model(x), y)) < 1e-6
    True
    """

    def __init__(self, params: ParamsT, lr: float = 1, max_iter: int = 20,
                 max_eval: int | None = None, tolerance_grad: float = 1e-7,
                 tolerance_change: float = 1e-9, history_size: int = 100,
                 line_search_fn: str | None = None) -> None:
        who = "LBFGS"
        check_real(lr, "lr", who, 0)
        max_iter = check_int(max_iter, "max_iter", who)
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        check_int(max_eval, "max_eval", who)
        check_int(history_size, "history_size", who)
        if line_search_fn is not None:
            check_choice(line_search_fn, "line_search_fn", who, ("strong_wolfe",))
        super().__init__(params, dict(lr=lr, max_iter=max_iter, max_eval=max_eval,
                                      tolerance_grad=tolerance_grad,
                                      tolerance_change=tolerance_change,
                                      history_size=history_size,
                                      line_search_fn=line_search_fn))
        del self.defaults["foreach"]
        for g in self.param_groups:
            g.pop("foreach", None)
        if len(self.param_groups) != 1:
            raise ArgumentError("LBFGS: parameter groups are not supported (one group only, as "
                                "in PyTorch)")
        self._params = self.param_groups[0]["params"]

    # ------------------------------------------------------------ flat views
    def _flat_grad(self) -> np.ndarray:
        parts = [np.zeros(p._data.size, p._data.dtype) if p.grad is None
                 else p.grad._data.reshape(-1) for p in self._params]
        return np.concatenate(parts)

    def _add(self, t: float, d: np.ndarray) -> None:
        """``params += t * d`` (``d`` flat, in the parameters' order), in place."""
        k = 0
        for p in self._params:
            n = p._data.size
            p._data += t * d[k:k + n].reshape(p._data.shape)
            k += n

    def _evaluate(self, closure: Callable[[], _T]) -> _T:
        with enable_grad():
            loss = closure()
        return loss

    # ------------------------------------------------------------------ step
    # PyTorch's signature: the closure is required (PyTorch marks it type: ignore[override] too)
    def step(self, closure: Callable[[], _T]) -> _T:  # type: ignore[override]
        """Up to ``max_iter`` L-BFGS iterations; returns the first loss ``closure`` gave."""
        if closure is None or not callable(closure):
            raise ArgumentTypeError("LBFGS.step: needs a closure that re-evaluates the model and "
                                    "returns the loss (clear the gradients and call backward "
                                    "in it)")
        group = self.param_groups[0]
        self._check_step_group(0, group)
        lr, max_iter, max_eval = group["lr"], group["max_iter"], group["max_eval"]
        tol_grad, tol_change = group["tolerance_grad"], group["tolerance_change"]
        history = group["history_size"]
        # counters, vectors and the lists of the history: read back as they were stored
        state: Any = self.state.setdefault(self._params[0], {})
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        orig_loss = self._evaluate(closure)
        loss = float(orig_loss)
        evals = 1
        state["func_evals"] += 1
        g = self._flat_grad()
        if np.abs(g).max() <= tol_grad:
            return orig_loss

        d, t = state.get("d"), state.get("t")
        dirs, steps, ro = state.get("old_dirs"), state.get("old_stps"), state.get("ro")
        h_diag = state.get("H_diag")
        prev_g, prev_loss = state.get("prev_flat_grad"), state.get("prev_loss")

        n = 0
        while n < max_iter:
            n += 1
            state["n_iter"] += 1
            if state["n_iter"] == 1:
                d = -g
                dirs, steps, ro = [], [], []
                h_diag = 1
            else:
                y = g - prev_g
                s = d * t
                ys = float(y @ s)
                if ys > 1e-10:                 # keep the pair only with positive curvature
                    if len(dirs) == history:
                        dirs.pop(0)
                        steps.pop(0)
                        ro.pop(0)
                    dirs.append(y)
                    steps.append(s)
                    ro.append(1.0 / ys)
                    h_diag = ys / float(y @ y)
                # two-loop recursion: d = -H g
                al = state.setdefault("al", [None] * history)
                q = -g
                for i in range(len(dirs) - 1, -1, -1):
                    al[i] = float(steps[i] @ q) * ro[i]
                    q -= al[i] * dirs[i]
                r = q * h_diag
                for i in range(len(dirs)):
                    be = float(dirs[i] @ r) * ro[i]
                    r += (al[i] - be) * steps[i]
                d = r
            prev_g = g.copy()
            prev_loss = loss
            if state["n_iter"] == 1:
                t = min(1.0, 1.0 / float(np.abs(g).sum())) * lr
            else:
                t = lr
            gtd = float(g @ d)
            if gtd > -tol_change:              # not a descent direction
                break

            ls_evals = 0
            if group["line_search_fn"] is not None:
                x0 = [p._data.copy() for p in self._params]

                def evaluate(step_len: float) -> tuple[float, np.ndarray]:
                    self._add(step_len, d)
                    f_new = float(self._evaluate(closure))
                    g_new = self._flat_grad()
                    for p, a in zip(self._params, x0):
                        p._data[...] = a
                    return f_new, g_new

                loss, g, t, ls_evals = _strong_wolfe(evaluate, t, d, loss, g, gtd,
                                                     max_ls=max_eval - evals)
                self._add(t, d)
                converged = np.abs(g).max() <= tol_grad
            else:
                self._add(t, d)
                converged = False
                if n != max_iter:
                    loss = float(self._evaluate(closure))
                    g = self._flat_grad()
                    converged = np.abs(g).max() <= tol_grad
                    ls_evals = 1
            evals += ls_evals
            state["func_evals"] += ls_evals
            if n == max_iter or evals >= max_eval or converged:
                break
            if np.abs(d * t).max() <= tol_change:
                break
            if abs(loss - prev_loss) < tol_change:
                break

        state.update(d=d, t=t, old_dirs=dirs, old_stps=steps, ro=ro, H_diag=h_diag,
                     prev_flat_grad=prev_g, prev_loss=prev_loss)
        return orig_loss

    # ----------------------------------------------------------------- state
    def state_dict(self) -> dict[str, Any]:
        """PyTorch's layout: ``{"state": {0: {...}}, "param_groups": [...]}``, the history
        as lists of flat arrays (copies)."""
        out = super().state_dict()
        for st in out["state"].values():
            for k, v in st.items():
                if isinstance(v, list):
                    st[k] = [np.array(x, copy=True) if isinstance(x, np.ndarray) else x
                             for x in v]
        return out

    def _restore_state(self, idx: int, p: Tensor, st: dict[str, Any],
                       where: str) -> dict[str, Any]:
        d: dict[str, Any] = {}
        for k, v in st.items():
            if isinstance(v, (list, tuple)):      # the history: lists of vectors, numbers
                v = [_state_value(x) for x in v]
                v = [np.array(x, dtype=p._data.dtype, copy=True)
                     if isinstance(x, np.ndarray) else x for x in v]
            else:
                v = _state_value(v)
                if isinstance(v, np.ndarray):
                    v = np.array(v, dtype=p._data.dtype, copy=True)
            if v is not None:
                d[k] = v
        return d
