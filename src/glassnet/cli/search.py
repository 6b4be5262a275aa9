"""``glassnet search CONFIG.toml``: a hyper-parameter search described by a TOML file.

    glassnet search search.toml                      # the executor the file names
    glassnet search search.toml --executor dask --n-workers 2 --out runs/search1

The file (every table optional except ``[search.grid]`` or ``[search.distributions]``)::

    [data]
    dataset = "digits"        # digits (embedded), mnist, fashion-mnist
    limit = 600               # at most this many training samples
    # data_dir = "..."        # mnist / fashion-mnist folder

    [model]
    family = "mlp"            # mlp, cnn, lenet, vgg (the models of `glassnet train`)
    activation = "relu"       # fixed settings; any of them may be searched instead:
    dropout = 0.2             #   hidden, activation, dropout, optimizer, lr
    optimizer = "adam"

    [train]
    epochs = 20
    batch_size = 32

    [search]
    kind = "grid"             # grid, or random (then n_iter)
    cv = 3
    scoring = "accuracy"      # or "loss"
    seed = 0
    refit = true

    [search.grid]             # kind = "grid": lists of values
    hidden = [64, 128]
    lr = [0.01, 0.001]

    # [search.distributions]  # kind = "random": a list (one value drawn uniformly), or
    # lr = {log_uniform = [1e-4, 1e-1]}      # {uniform = [a, b]}, {log_uniform = [a, b]},
    # hidden = {int_uniform = [32, 256]}     # {int_uniform = [a, b]} (a and b included)

    [executor]
    kind = "processes"        # serial, processes (joblib, loky), dask
    n_workers = 2
    # scheduler = "tcp://127.0.0.1:8786"     # dask: an existing cluster; without it a
    blas_threads = 1          #   LocalCluster of n_workers single-threaded processes
    retries = 2

It shows a progress bar over the trials and writes into the run folder (``runs/<time>``
unless ``--out``): ``results.csv`` and ``results.md`` (the table, best first),
``search.toml`` (the file as read), ``metrics.json`` (best parameters and score, the test
score of the refit model, the trial count and what was sent to the workers) and, with
``refit``, the best model refit on all the training data, ``model.safetensors``
(``glassnet evaluate`` / ``predict`` read it).
"""
from __future__ import annotations

import argparse
import math
import shutil
import sys
import time
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10: the same parser as the tomli package
    import tomli as tomllib

import numpy as np

from .. import io, nn, optim, selection, training
from ..errors import ArgumentError
from . import classify, runs

__all__ = ["add_parser", "run", "read_config", "ConfigBuild", "Uniform", "LogUniform",
           "IntUniform"]

_TABLES = {"data": {"dataset", "limit", "data_dir"},
           "model": {"family", "hidden", "activation", "dropout", "optimizer", "lr"},
           "train": {"epochs", "batch_size"},
           "search": {"kind", "cv", "scoring", "seed", "refit", "n_iter", "grid",
                      "distributions"},
           "executor": {"kind", "n_workers", "scheduler", "blas_threads", "retries"}}
SEARCHABLE = ("hidden", "activation", "dropout", "optimizer", "lr")
EXECUTORS = ("serial", "processes", "dask")


class Uniform:
    """A float drawn uniformly from [low, high] (``rvs`` as scipy.stats has it)."""

    def __init__(self, low: float, high: float):
        self.low, self.high = float(low), float(high)

    def rvs(self, random_state: np.random.Generator) -> float:
        return float(random_state.uniform(self.low, self.high))


class LogUniform(Uniform):
    """A float whose logarithm is uniform in [log low, log high] (learning rates)."""

    def rvs(self, random_state: np.random.Generator) -> float:
        return float(math.exp(random_state.uniform(math.log(self.low), math.log(self.high))))


class IntUniform(Uniform):
    """An integer drawn uniformly from low..high, both included."""

    def rvs(self, random_state: np.random.Generator) -> int:
        return int(random_state.integers(int(self.low), int(self.high) + 1))


_DISTRIBUTIONS = {"uniform": Uniform, "log_uniform": LogUniform, "int_uniform": IntUniform}


class ConfigBuild:
    """``build(**params)`` of a search file: a classifier of ``family`` (the models of
    ``glassnet train``) with the fixed settings, overridden by the searched ``params``,
    in a Trainer with Adam (or ``optimizer``) and the accuracy metric. A plain class, so
    that worker processes receive it by pickling."""

    def __init__(self, family: str, in_shape: tuple, n_classes: int, fixed: dict):
        self.family, self.in_shape, self.n_classes = family, tuple(in_shape), int(n_classes)
        self.fixed = dict(fixed)

    def __call__(self, **params) -> training.Trainer:
        p = {**self.fixed, **params}
        unknown = sorted(set(p) - set(SEARCHABLE))
        if unknown:
            raise ArgumentError(f"glassnet search: unknown model setting(s) {unknown}; the "
                                f"settings are {list(SEARCHABLE)}")
        hidden = p.get("hidden")
        if hidden is not None and not isinstance(hidden, (list, tuple)):
            hidden = [hidden]
        model = classify.build_model(self.family, self.in_shape, self.n_classes, hidden,
                                     p.get("activation", "relu"), p.get("dropout", 0.2))
        lr = p.get("lr", classify.DEFAULTS[self.family][2])
        opt = optim.get(p.get("optimizer", "adam"), model.parameters(), lr=lr)
        return training.Trainer(model, nn.CrossEntropyLoss(), opt, metrics=["accuracy"])


def _table(cfg, name) -> dict:
    t = cfg.get(name, {})
    if not isinstance(t, dict):
        raise ArgumentError(f"glassnet search: [{name}] must be a table, got {t!r}")
    extra = sorted(set(t) - _TABLES[name])
    if extra:
        raise ArgumentError(f"glassnet search: unknown key(s) {extra} in [{name}]; expected "
                            f"some of {sorted(_TABLES[name])}")
    return t


def _distribution(name, spec):
    if isinstance(spec, list) and spec:
        return spec
    if isinstance(spec, dict) and len(spec) == 1:
        (kind, bounds), = spec.items()
        if (kind in _DISTRIBUTIONS and isinstance(bounds, list) and len(bounds) == 2
                and all(isinstance(b, (int, float)) for b in bounds) and bounds[0] < bounds[1]
                and (kind != "log_uniform" or bounds[0] > 0)):
            return _DISTRIBUTIONS[kind](*bounds)
    raise ArgumentError(f"glassnet search: [search.distributions] {name} must be a list of "
                        f"values or one of {{uniform, log_uniform, int_uniform}} = [low, high] "
                        f"with low < high (log_uniform: low > 0), got {spec!r}")


def read_config(path) -> dict:
    """The search file ``path`` as a dict of its tables, checked (unknown keys and tables,
    a missing grid, a bad executor are errors naming them)."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            cfg = tomllib.load(f)
    except FileNotFoundError:
        raise FileNotFoundError(f"no search file {str(path)!r}") from None
    except tomllib.TOMLDecodeError as e:
        raise ArgumentError(f"{path} is not valid TOML: {e}") from None
    extra = sorted(set(cfg) - set(_TABLES))
    if extra:
        raise ArgumentError(f"glassnet search: unknown table(s) {extra} in {path}; expected "
                            f"some of {sorted(_TABLES)}")
    out = {name: _table(cfg, name) for name in _TABLES}
    s = out["search"]
    kind = s.get("kind", "grid")
    if kind not in ("grid", "random"):
        raise ArgumentError(f"glassnet search: [search] kind must be 'grid' or 'random', "
                            f"got {kind!r}")
    space = s.get("grid" if kind == "grid" else "distributions")
    if not isinstance(space, dict) or not space:
        raise ArgumentError(f"glassnet search: kind = {kind!r} needs a non-empty "
                            f"[search.{'grid' if kind == 'grid' else 'distributions'}] table")
    bad = sorted(set(space) - set(SEARCHABLE))
    if bad:
        raise ArgumentError(f"glassnet search: cannot search {bad}; searchable settings are "
                            f"{list(SEARCHABLE)}")
    ex = out["executor"].get("kind", "serial")
    if ex not in EXECUTORS:
        raise ArgumentError(f"glassnet search: [executor] kind must be one of {EXECUTORS}, "
                            f"got {ex!r}")
    return out


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``glassnet search`` on the subparsers ``sub`` of ``glassnet``."""
    from .argtypes import non_negative_int, positive_int
    s = sub.add_parser("search", help="hyper-parameter search from a TOML file; writes "
                       "results.csv, results.md and the refit best model")
    s.add_argument("config", type=Path, help="the search file (TOML)")
    s.add_argument("--out", type=Path, default=None, help="run folder (default runs/<time>)")
    s.add_argument("--executor", default=None, choices=EXECUTORS,
                   help="override [executor] kind")
    s.add_argument("--n-workers", type=positive_int, default=None,
                   help="override [executor] n_workers")
    s.add_argument("--scheduler", default=None, help="override [executor] scheduler (dask)")
    s.add_argument("--verbose", type=int, default=1, choices=[0, 1],
                   help="0 silent, 1 a progress bar over the trials")
    s.add_argument("--seed", type=non_negative_int, default=None,
                   help="override [search] seed")


def _load(dcfg, family):
    dataset = dcfg.get("dataset", "digits")
    Xtr, ytr, Xte, yte, shape = runs.load_images(dataset, dcfg.get("data_dir"))
    limit = dcfg.get("limit")
    if limit is not None:
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 2:
            raise ArgumentError(f"glassnet search: [data] limit must be an integer >= 2, got "
                                f"{limit!r}")
        Xtr, ytr = Xtr[:limit], ytr[:limit]
    Xtr, Xte = Xtr.astype(np.float32), Xte.astype(np.float32)
    if family != "mlp":
        Xtr, Xte = Xtr.reshape((-1,) + shape), Xte.reshape((-1,) + shape)
    return dataset, Xtr, ytr, Xte, yte, shape


def run(args: argparse.Namespace) -> int:
    """Run the search of ``args.config``; returns 0."""
    cfg = read_config(args.config)
    m, s, ex = cfg["model"], cfg["search"], dict(cfg["executor"])
    for key, opt in (("kind", "executor"), ("n_workers", "n_workers"),
                     ("scheduler", "scheduler")):
        if getattr(args, opt, None) is not None:
            ex[key] = getattr(args, opt)
    family = m.get("family", "mlp")
    if family not in classify.DEFAULTS:
        raise ArgumentError(f"glassnet search: [model] family must be one of "
                            f"{list(classify.DEFAULTS)}, got {family!r}")
    dataset, X, y, Xte, yte, shape = _load(cfg["data"], family)
    n_classes = int(max(y.max(), yte.max())) + 1
    fixed = {k: v for k, v in m.items() if k != "family"}
    build = ConfigBuild(family, shape, n_classes, fixed)
    epochs, bs, _ = classify.DEFAULTS[family]
    fit_kwargs = {"epochs": cfg["train"].get("epochs", epochs),
                  "batch_size": cfg["train"].get("batch_size", bs)}
    seed = s.get("seed", 0) if args.seed is None else args.seed
    common = dict(cv=s.get("cv", 3), fit_kwargs=fit_kwargs,
                  scoring=s.get("scoring", "accuracy"), seed=seed,
                  refit=s.get("refit", True), blas_threads=ex.get("blas_threads", 1),
                  retries=ex.get("retries", 2), progress=bool(args.verbose))
    kind = ex.get("kind", "serial")
    n_workers = ex.get("n_workers", 2)
    cluster = client = None
    out = args.out = runs.run_dir(args.out)
    try:
        if kind == "processes":
            common["n_jobs"] = n_workers
        elif kind == "dask":
            try:
                from distributed import Client, LocalCluster
            except ImportError:
                raise ImportError("executor dask needs dask.distributed: pip install "
                                  "glassnet[dask]") from None
            if ex.get("scheduler"):
                client = Client(ex["scheduler"])
            else:
                cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1,
                                       processes=True, dashboard_address=None,
                                       silence_logs=40)
                client = Client(cluster)
            common["client"] = client
        if s.get("kind", "grid") == "grid":
            search: selection.GridSearch | selection.RandomSearch = selection.GridSearch(
                build, s["grid"], **common)
        else:
            dists = {k: _distribution(k, v) for k, v in s["distributions"].items()}
            search = selection.RandomSearch(build, dists, n_iter=s.get("n_iter", 10), **common)
        n_trials = len(list(search._candidates())) * (common["cv"] if isinstance(
            common["cv"], int) else 0)
        if args.verbose:
            runs.note(f"glassnet search: {family} on {dataset}, {len(X)} samples, "
                      f"{n_trials} trials on {kind}"
                      + (f" ({n_workers} workers)" if kind != "serial" else "") + f" -> {out}")
        t0 = time.perf_counter()
        search.fit(X, y)
        seconds = time.perf_counter() - t0
    finally:
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()
    search.write_results(out)
    shutil.copyfile(args.config, out / "search.toml")
    result = {"best_params": search.best_params_, "best_score": search.best_score_,
              "scoring": search.scoring, "trials": n_trials, "executor": kind,
              "search_seconds": round(seconds, 2), "sent": search.stats_}
    if search.refit:
        best = search.best_estimator_
        test = best.evaluate(Xte, yte)
        result.update({"test_loss": test["loss"], "test_accuracy": test["accuracy"]})
        io.save(best.model, out / "model.safetensors",
                metadata={"task": "classify", "dataset": dataset, "input_shape": list(shape),
                          "flatten": family == "mlp", "seed": seed, "classes": n_classes,
                          "best_params": search.best_params_})
    runs.write_json(out / "metrics.json", result)
    print(search.table())
    line = f"best {search.best_params_}  {search.scoring} {search.best_score_:.4f}"
    if search.refit:
        line += f"  test accuracy {result['test_accuracy']:.4f}"
    print(f"{line}  ({seconds:.1f} s)  -> {out}")
    sys.stdout.flush()
    return 0
