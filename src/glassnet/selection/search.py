"""Grid and random search over hyper-parameters, scored by cross-validation."""
from __future__ import annotations

import itertools
import math
import os
from collections.abc import Iterator, Sequence
from typing import Any, Callable

import numpy as np

from .. import backend
from .cv import _split
from ..data import KFold, StratifiedKFold
from ..errors import ArgumentError
from ..validation import check_int
from ._runner import Trial, check_xy, run_trials, trial_seed

__all__ = ["ParameterGrid", "ParameterSampler", "GridSearch", "RandomSearch"]


class ParameterGrid:
    """Every combination of a dict of lists: ``{"lr": [0.1, 0.01], "hidden": [16, 32]}``."""

    def __init__(self, grid: dict[str, Any]) -> None:
        if not isinstance(grid, dict) or not grid:
            raise ValueError(f"ParameterGrid: grid must be a non-empty dict of lists, got {grid!r}")
        for k, v in grid.items():
            if isinstance(v, (str, bytes)) or not hasattr(v, "__iter__"):
                raise ValueError(f"ParameterGrid: values for {k!r} must be a list, got {v!r}")
        self.grid = {k: list(v) for k, v in grid.items()}

    def __iter__(self) -> Iterator[dict[str, Any]]:
        keys = list(self.grid)
        for combo in itertools.product(*(self.grid[k] for k in keys)):
            yield dict(zip(keys, combo))

    def __len__(self) -> int:
        return math.prod(len(v) for v in self.grid.values())


class ParameterSampler:
    """``n_iter`` random draws: each value is a list (sampled uniformly) or an object with
    ``rvs(random_state=...)`` (scipy.stats distributions) or a callable ``f(rng)``."""

    def __init__(self, distributions: dict[str, Any], n_iter: int, seed: int = 0) -> None:
        self.distributions = distributions
        self.n_iter = check_int(n_iter, "n_iter", "ParameterSampler")
        self.seed = seed

    def __iter__(self) -> Iterator[dict[str, Any]]:
        rng = np.random.default_rng(self.seed)
        for _ in range(self.n_iter):
            p: dict[str, Any] = {}
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

    def __len__(self) -> int:
        return self.n_iter


class _Search:
    def __init__(self, build: Callable, cv: Any = 3, fit_kwargs: dict | None = None,
                 scoring: str = "accuracy", greater_is_better: bool | None = None,
                 stratify: bool = True, seed: int = 0, n_jobs: int | None = 1,
                 client: Any = None, refit: bool = True, blas_threads: int = 1,
                 retries: int = 2, max_nbytes: int | str = "1M",
                 progress: bool | None = None):
        self.build = build
        self.cv = cv
        self.fit_kwargs = fit_kwargs
        self.scoring = scoring
        self.greater_is_better = (not scoring.endswith("loss")) if greater_is_better is None \
            else greater_is_better
        self.stratify = stratify
        self.seed = check_int(seed, "seed", type(self).__name__, min=0)
        self.n_jobs = n_jobs
        self.client = client
        if not isinstance(refit, bool):
            raise ArgumentError(f"{type(self).__name__}: refit must be True or False, got "
                                f"{refit!r}")
        self.refit = refit
        self.blas_threads = check_int(blas_threads, "blas_threads", type(self).__name__)
        self.retries = check_int(retries, "retries", type(self).__name__, min=0)
        self.max_nbytes = max_nbytes
        self.progress = progress

    def _candidates(self) -> Iterator[dict[str, Any]]:  # pragma: no cover - abstract
        raise NotImplementedError

    def fit(self, X: Any, y: Any) -> "_Search":
        """Cross-validate every candidate, then (``refit=True``) train the best on all data.

        Sets ``results_`` (one dict per candidate: ``params``, ``mean``, ``std``,
        ``scores``, ``rank``), ``cv_results_`` (the same as columns, scikit-learn's
        layout: ``params``, ``param_<name>``, ``mean_test_score``, ``std_test_score``,
        ``split<k>_test_score``, ``rank_test_score``), ``best_index_``, ``best_params_``,
        ``best_score_``, ``n_splits_``, ``stats_`` (what was sent to the workers) and, with
        ``refit``, ``best_estimator_``: a Trainer built from ``best_params_`` and fitted on
        all of X, y (seeded from the search's seed).
        """
        who = type(self).__name__
        X, y = check_xy(X, y, who)
        splitter = (StratifiedKFold(self.cv, shuffle=True, seed=self.seed) if self.stratify
                    else KFold(self.cv, shuffle=True, seed=self.seed)) \
            if isinstance(self.cv, int) else self.cv
        splits = _split(splitter, X, y)
        cands = list(self._candidates())
        trials = [Trial((i, j), p, tr, va, trial_seed(self.seed, i, j))
                  for i, p in enumerate(cands) for j, (tr, va) in enumerate(splits)]
        self.stats_: dict = {}
        bar = None
        if self.progress:
            from tqdm.auto import tqdm
            bar = tqdm(total=len(trials), desc=f"{who}: trials", unit="trial",
                       leave=True)

        def done(key: Any, res: dict[str, Any]) -> None:
            if bar is not None:
                bar.update(1)
                bar.set_postfix({self.scoring: f"{res['score']:.4f}"}, refresh=False)
        try:
            out = run_trials(self.build, X, y, trials, fit_kwargs=self.fit_kwargs,
                             scoring=self.scoring, n_jobs=self.n_jobs, client=self.client,
                             blas_threads=self.blas_threads, retries=self.retries,
                             max_nbytes=self.max_nbytes, on_result=done, stats=self.stats_)
        finally:
            if bar is not None:
                bar.close()
        k = len(splits)
        self.n_splits_ = k
        self.results_ = []
        for i, p in enumerate(cands):
            s = np.array([o["score"] for o in out[i * k:(i + 1) * k]])
            self.results_.append({"params": p, "mean": float(s.mean()), "std": float(s.std()),
                                  "scores": s.tolist()})
        sign = 1 if self.greater_is_better else -1
        order = sorted(range(len(cands)), key=lambda i: (-sign * self.results_[i]["mean"], i))
        for rank, i in enumerate(order, 1):
            self.results_[i]["rank"] = rank
        self.best_index_ = order[0]
        best = self.results_[self.best_index_]
        self.best_params_ = best["params"]
        self.best_score_ = best["mean"]
        self.cv_results_ = self._cv_results()
        if self.refit:
            backend.manual_seed(trial_seed(self.seed, len(cands), 0))
            est = self.build(**self.best_params_)
            kw = dict(self.fit_kwargs or {})
            kw.setdefault("verbose", 0)
            with backend.blas_threads(self.blas_threads):
                est.fit((X, y), **kw)
            self.best_estimator_ = est
        return self

    def _cv_results(self) -> dict:
        names = []
        for r in self.results_:
            names += [n for n in r["params"] if n not in names]
        res: dict = {"params": [r["params"] for r in self.results_]}
        for n in names:
            res[f"param_{n}"] = [r["params"].get(n) for r in self.results_]
        res["mean_test_score"] = np.array([r["mean"] for r in self.results_])
        res["std_test_score"] = np.array([r["std"] for r in self.results_])
        for j in range(self.n_splits_):
            res[f"split{j}_test_score"] = np.array([r["scores"][j] for r in self.results_])
        res["rank_test_score"] = np.array([r["rank"] for r in self.results_])
        return res

    def _rows(self) -> tuple[list, list]:
        """(header, rows) of the results table, best first."""
        if not hasattr(self, "results_"):
            raise AttributeError(f"{type(self).__name__} has no results yet: call "
                                 "fit(X, y) first")
        names = [k[len("param_"):] for k in self.cv_results_ if k.startswith("param_")]
        head = (["rank"] + names + [f"mean_{self.scoring}", f"std_{self.scoring}"]
                + [f"split{j}" for j in range(self.n_splits_)])
        rows = []
        for r in sorted(self.results_, key=lambda r: r["rank"]):
            rows.append([r["rank"]] + [r["params"].get(n) for n in names]
                        + [r["mean"], r["std"]] + list(r["scores"]))
        return head, rows

    def table(self, fmt: str = "text") -> str:
        """The results, best first: ``fmt`` "text" (aligned columns), "markdown" or "csv".

        Scores are written with 6 decimals (text: 4), the same whichever executor ran
        the trials."""
        head, rows = self._rows()
        if fmt not in ("text", "markdown", "csv"):
            raise ArgumentError(f"table: fmt must be 'text', 'markdown' or 'csv', got {fmt!r}")

        n_params = len(head) - 3 - self.n_splits_

        # parameters as given (repr-like), scores rounded
        def cells(r: Sequence[Any], digits: int) -> list[str]:
            return [str(v) if i <= n_params or not isinstance(v, float) else f"{v:.{digits}f}"
                    for i, v in enumerate(r)]
        if fmt == "csv":
            import csv
            import io as _io
            buf = _io.StringIO()
            w = csv.writer(buf, lineterminator="\n")
            w.writerow(head)
            for r in rows:
                w.writerow(cells(r, 6))
            return buf.getvalue()
        if fmt == "markdown":
            lines = ["| " + " | ".join(head) + " |",
                     "|" + "|".join("---:" if i == 0 else "---" for i in range(len(head))) + "|"]
            lines += ["| " + " | ".join(cells(r, 6)) + " |" for r in rows]
            return "\n".join(lines) + "\n"
        grid = [head] + [cells(r, 4) for r in rows]
        widths = [max(len(c[i]) for c in grid) for i in range(len(head))]
        return "\n".join("  ".join(c[i].rjust(widths[i]) for i in range(len(head)))
                         for c in grid)

    def write_results(self, folder: str | os.PathLike) -> tuple:
        """Write ``results.csv`` and ``results.md`` into ``folder`` (created); returns their
        paths."""
        from pathlib import Path
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        csv_path, md_path = folder / "results.csv", folder / "results.md"
        csv_path.write_text(self.table("csv"))
        md_path.write_text(f"# {type(self).__name__}: {self.scoring}, {self.n_splits_}-fold "
                           f"CV\n\nbest: {self.best_params_} ({self.scoring} "
                           f"{self.best_score_:.6f})\n\n" + self.table("markdown"))
        return csv_path, md_path


class GridSearch(_Search):
    """Exhaustive search over a parameter grid, each candidate scored by k-fold CV.

    Parameters
    ----------
    build : callable
        ``build(**params)`` returns a fresh ``Trainer`` (a module-level function, so that
        worker processes can import it).
    param_grid : dict of lists

    Other Parameters
    ----------------
    cv : int or splitter
        Folds (stratified and shuffled with ``seed`` unless ``stratify=False``) or an object
        with ``split(X, y)``.
    fit_kwargs : dict, optional
        Passed to ``Trainer.fit`` (``epochs``, ``batch_size``, ...).
    scoring : str
        A key of ``Trainer.evaluate``'s result; ``greater_is_better`` defaults to False
        for names ending in "loss".
    seed : int
        Seeds the folds, and every trial from ``(seed, candidate, fold)``: the results do
        not depend on the executor or the order trials run in.
    n_jobs : int
        1 runs here; more (or -1: every CPU) runs in local processes through joblib.
    client : dask.distributed.Client, optional
        Run the trials on this Dask cluster (X, y scattered once to every worker).
    refit : bool
        Train ``best_params_`` on all of X, y afterwards: ``best_estimator_``.
    blas_threads : int
        BLAS threads of each trial, wherever it runs (default 1: parallel trials, not
        parallel GEMMs, and results that do not depend on the executor).
    retries : int
        How many times a trial whose worker died (or that raised, on a cluster) is run again.
    max_nbytes : int or str
        Local processes get X, y memory-mapped from a file above this size (default "1M").
    progress : bool
        A tqdm progress bar over the trials.

    Examples
    --------
    >>> gs = GridSearch(build, {"hidden": [16, 64], "lr": [1e-2, 1e-3]}, cv=3,  # doctest: +SKIP
    ...                 fit_kwargs={"epochs": 5}).fit(X, y)
    >>> gs.best_params_, gs.best_score_, gs.best_estimator_  # doctest: +SKIP
    """

    def __init__(self, build: Callable, param_grid: dict, **kwargs: Any):
        super().__init__(build, **kwargs)
        self.param_grid = ParameterGrid(param_grid)

    def _candidates(self) -> Iterator[dict[str, Any]]:
        return iter(self.param_grid)


class RandomSearch(_Search):
    """``n_iter`` random candidates from ``param_distributions`` (lists, scipy.stats
    distributions or callables ``f(rng)``), each scored by k-fold CV; the other parameters
    are :class:`GridSearch`'s."""

    def __init__(self, build: Callable, param_distributions: dict, n_iter: int = 10,
                 **kwargs: Any):
        super().__init__(build, **kwargs)
        self.sampler = ParameterSampler(param_distributions, n_iter, seed=kwargs.get("seed", 0))

    def _candidates(self) -> Iterator[dict[str, Any]]:
        return iter(self.sampler)
