"""Grid and random search over hyper-parameters, scored by cross-validation."""
from __future__ import annotations

import itertools
import math

import numpy as np

from .cv import _split
from ..data import KFold, StratifiedKFold
from ..validation import check_int
from ._runner import check_xy, run_tasks

__all__ = ["ParameterGrid", "ParameterSampler", "GridSearch", "RandomSearch"]


class ParameterGrid:
    """Every combination of a dict of lists: ``{"lr": [0.1, 0.01], "hidden": [16, 32]}``."""

    def __init__(self, grid: dict):
        if not isinstance(grid, dict) or not grid:
            raise ValueError(f"ParameterGrid: grid must be a non-empty dict of lists, got {grid!r}")
        for k, v in grid.items():
            if isinstance(v, (str, bytes)) or not hasattr(v, "__iter__"):
                raise ValueError(f"ParameterGrid: values for {k!r} must be a list, got {v!r}")
        self.grid = {k: list(v) for k, v in grid.items()}

    def __iter__(self):
        keys = list(self.grid)
        for combo in itertools.product(*(self.grid[k] for k in keys)):
            yield dict(zip(keys, combo))

    def __len__(self):
        return math.prod(len(v) for v in self.grid.values())


class ParameterSampler:
    """``n_iter`` random draws: each value is a list (sampled uniformly) or an object with
    ``rvs(random_state=...)`` (scipy.stats distributions) or a callable ``f(rng)``."""

    def __init__(self, distributions: dict, n_iter: int, seed: int = 0):
        self.distributions = distributions
        self.n_iter = check_int(n_iter, "n_iter", "ParameterSampler")
        self.seed = seed

    def __iter__(self):
        rng = np.random.default_rng(self.seed)
        for _ in range(self.n_iter):
            p = {}
            for k, d in self.distributions.items():
                if hasattr(d, "rvs"):
                    p[k] = d.rvs(random_state=rng)
                elif callable(d):
                    p[k] = d(rng)
                else:
                    seq = list(d)
                    p[k] = seq[int(rng.integers(len(seq)))]
                if isinstance(p[k], np.generic):
                    p[k] = p[k].item()
            yield p

    def __len__(self):
        return self.n_iter


class _Search:
    def __init__(self, build, cv=3, fit_kwargs=None, scoring="accuracy",
                 greater_is_better=None, stratify=True, seed=0, n_jobs=1, client=None):
        self.build = build
        self.cv = cv
        self.fit_kwargs = fit_kwargs
        self.scoring = scoring
        self.greater_is_better = (not scoring.endswith("loss")) if greater_is_better is None \
            else greater_is_better
        self.stratify = stratify
        self.seed = seed
        self.n_jobs = n_jobs
        self.client = client

    def _candidates(self):  # pragma: no cover - abstract
        raise NotImplementedError

    def fit(self, X, y):
        """Cross-validate every candidate; set ``results_``, ``best_params_``, ``best_score_``."""
        X, y = check_xy(X, y, type(self).__name__)
        splitter = (StratifiedKFold(self.cv, shuffle=True, seed=self.seed) if self.stratify
                    else KFold(self.cv, shuffle=True, seed=self.seed)) \
            if isinstance(self.cv, int) else self.cv
        splits = _split(splitter, X, y)
        cands = list(self._candidates())
        tasks = [(self.build, p, X, y, tr, va, self.fit_kwargs, self.scoring, self.seed + j)
                 for p in cands for j, (tr, va) in enumerate(splits)]
        out = run_tasks(tasks, n_jobs=self.n_jobs, client=self.client)
        k = len(splits)
        self.results_ = []
        for i, p in enumerate(cands):
            s = np.array([o["score"] for o in out[i * k:(i + 1) * k]])
            self.results_.append({"params": p, "mean": float(s.mean()), "std": float(s.std()),
                                  "scores": s.tolist()})
        sign = 1 if self.greater_is_better else -1
        best = max(self.results_, key=lambda r: sign * r["mean"])
        self.best_params_ = best["params"]
        self.best_score_ = best["mean"]
        return self

    def table(self) -> str:
        """The results as a plain-text table, best first."""
        sign = 1 if self.greater_is_better else -1
        rows = sorted(self.results_, key=lambda r: -sign * r["mean"])
        lines = [f"{'rank':>4}  {self.scoring + ' (mean ± std)':>24}  params"]
        for i, r in enumerate(rows, 1):
            lines.append(f"{i:>4}  {r['mean']:>14.4f} ± {r['std']:<7.4f}  {r['params']}")
        return "\n".join(lines)


class GridSearch(_Search):
    """Exhaustive search over a parameter grid, each candidate scored by k-fold CV.

    ``build(**params)`` returns a fresh ``Trainer``; ``fit_kwargs`` go to ``Trainer.fit``.

    >>> gs = GridSearch(build, {"hidden": [16, 64], "lr": [1e-2, 1e-3]}, cv=3,  # doctest: +SKIP
    ...                 fit_kwargs={"epochs": 5}).fit(X, y)
    >>> gs.best_params_, gs.best_score_  # doctest: +SKIP
    """

    def __init__(self, build, param_grid, **kwargs):
        super().__init__(build, **kwargs)
        self.param_grid = ParameterGrid(param_grid)

    def _candidates(self):
        return iter(self.param_grid)


class RandomSearch(_Search):
    """``n_iter`` random candidates from ``param_distributions``, each scored by k-fold CV."""

    def __init__(self, build, param_distributions, n_iter=10, **kwargs):
        super().__init__(build, **kwargs)
        self.sampler = ParameterSampler(param_distributions, n_iter, seed=kwargs.get("seed", 0))

    def _candidates(self):
        return iter(self.sampler)
