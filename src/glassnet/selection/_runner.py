"""Run (params, fold) trials: shared by cross-validation, searches and learning curves.

Three executors run the same trials and give the same results, because each trial is
seeded from ``(seed, candidate, fold)`` (:func:`trial_seed`), never from the order in which
trials run, and runs with ``blas_threads`` BLAS threads (1 unless told otherwise) wherever
it runs:

* serial, in this process (``n_jobs=1``, no ``client``);
* local worker processes through joblib's loky executor (``n_jobs > 1`` or -1). X and y
  are sent once: above ``max_nbytes`` they are written to one ``.npy`` file each in a
  temporary folder and every task carries only a :class:`SharedData` reference that the
  workers open memory-mapped (read-only, shared through the page cache); a task is then a
  few hundred bytes plus its fold's indices. A worker that dies (killed, out of memory)
  breaks the pool; the trials that had not finished are resubmitted to a fresh pool, at
  most ``retries`` times each;
* a Dask cluster (``client=dask.distributed.Client``): X and y are scattered once with
  ``broadcast=True`` and each task gets their futures, never the arrays; ``retries`` goes
  to ``client.submit``, and the scheduler reruns the tasks of a worker that died; a trial
  whose task the scheduler dropped (a cancelled future, seen when a killed worker held it)
  is submitted again, with the data scattered again if it was lost, at most ``retries``
  times (counted in ``resubmitted``).
"""
from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

from .. import backend
from ..errors import ArgumentError
from ..validation import check_int

__all__ = ["Trial", "SharedData", "trial_seed", "fit_and_score", "run_trials", "check_xy",
           "task_nbytes", "pickled_nbytes"]


def trial_seed(seed: int, candidate: int, fold: int) -> int:
    """The seed of one trial: a function of ``(seed, candidate, fold)`` only.

    >>> trial_seed(0, 1, 2) == trial_seed(0, 1, 2) != trial_seed(0, 2, 1)
    True
    """
    return int(np.random.SeedSequence([int(seed), int(candidate), int(fold)])
               .generate_state(1)[0])


@dataclass
class Trial:
    """One fit: ``params`` of candidate ``candidate`` on fold ``fold`` (train / validation
    indices), seeded with ``seed``. ``key`` identifies it in the results."""
    key: tuple
    params: dict
    train_idx: np.ndarray
    val_idx: np.ndarray
    seed: int


@dataclass
class SharedData:
    """X and y for the workers: the arrays themselves (small data), or the paths of ``.npy``
    files that each worker process opens once, memory-mapped (large data)."""
    X: Any = None
    y: Any = None
    paths: tuple | None = None
    token: str = field(default_factory=lambda: uuid.uuid4().hex)

    def arrays(self) -> tuple:
        """(X, y): the arrays, or the files opened memory-mapped (once per process)."""
        if self.paths is None:
            return self.X, self.y
        got = _OPENED.get(self.token)
        if got is None:
            got = tuple(np.load(p, mmap_mode="r") for p in self.paths)
            _OPENED.clear()            # one search's data at a time per worker
            _OPENED[self.token] = got
        return got


_OPENED: dict = {}


def _task(build, trial, fit_kwargs, scoring, blas_threads, X, y):
    with backend.blas_threads(blas_threads):
        return trial.key, fit_and_score(build, trial.params, X, y, trial.train_idx,
                                        trial.val_idx, fit_kwargs, scoring, trial.seed)


def _local_task(build, trial, fit_kwargs, scoring, blas_threads, data):
    X, y = data.arrays()
    return _task(build, trial, fit_kwargs, scoring, blas_threads, X, y)


def fit_and_score(build: Callable, params: dict, X: np.ndarray, y: np.ndarray,
                  train_idx: np.ndarray, val_idx: np.ndarray, fit_kwargs: dict | None,
                  scoring: str, seed: int) -> dict:
    """Seed glassnet with ``seed``, build a Trainer from ``params``, fit it on the train
    indices and evaluate ``scoring`` on the validation ones.

    Returns
    -------
    dict
        ``params``, ``score`` (the ``scoring`` value), ``scores`` (every evaluated
        metric) and ``epochs`` (trained).
    """
    backend.manual_seed(int(seed))
    trainer = build(**params)
    if not (callable(getattr(trainer, "fit", None)) and callable(getattr(trainer, "evaluate", None))):
        raise ArgumentError(f"build(**{params!r}) returned {type(trainer).__name__}, expected a "
                            "Trainer: wrap the model, e.g. Trainer(model, loss, optimizer)")
    kw = dict(fit_kwargs or {})
    kw.setdefault("verbose", 0)
    history = trainer.fit((np.asarray(X[train_idx]), np.asarray(y[train_idx])), **kw)
    scores = trainer.evaluate(np.asarray(X[val_idx]), np.asarray(y[val_idx]))
    if scoring not in scores:
        raise ArgumentError(f"scoring={scoring!r} is not among the evaluated metrics "
                            f"{sorted(scores)}; add it to the Trainer's metrics")
    epochs = len(history.epoch) if hasattr(history, "epoch") else None
    return {"params": params, "score": float(scores[scoring]),
            "scores": {k: float(v) for k, v in scores.items()}, "epochs": epochs}


def _nbytes(limit) -> int:
    if isinstance(limit, str):
        units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
        t = limit.strip().upper()
        if t and t[-1] in units and t[:-1].isdigit():
            return int(t[:-1]) * units[t[-1]]
    if isinstance(limit, (int, np.integer)) and not isinstance(limit, bool) and limit >= 0:
        return int(limit)
    raise ArgumentError(f"max_nbytes: expected a number of bytes or a string like '1M', "
                        f"got {limit!r}")


def pickled_nbytes(*task: Any) -> int:
    """Bytes of ``task`` (a function and its arguments) pickled as loky's and Dask's
    pickler (cloudpickle, at its default protocol, the highest one) sends it to a worker;
    nothing is ever unpickled here."""
    try:
        import cloudpickle  # loky's (and Dask's) pickler
    except ImportError:
        from joblib.externals import cloudpickle  # joblib's own copy
    return len(cloudpickle.dumps(task))


def task_nbytes(build: Callable, trial: Trial, fit_kwargs: dict | None, scoring: str,
                blas_threads: int, data: SharedData) -> int:
    """Bytes of one pickled local task (what every task sends to a worker)."""
    return pickled_nbytes(_local_task, build, trial, fit_kwargs, scoring, blas_threads, data)


def _n_workers(n_jobs) -> int:
    if n_jobs == -1:
        return os.cpu_count() or 1
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, (int, np.integer)) or n_jobs < 1:
        raise ArgumentError(f"n_jobs: expected a positive integer or -1, got {n_jobs!r}")
    return int(n_jobs)


def run_trials(build: Callable, X, y, trials: Sequence[Trial], *, fit_kwargs=None,
               scoring: str = "accuracy", n_jobs: int | None = 1, client=None,
               blas_threads: int = 1, retries: int = 2, max_nbytes="1M",
               on_result: Callable[[tuple, dict], None] | None = None,
               stats: dict | None = None) -> list[dict]:
    """Run ``trials`` and return their results (:func:`fit_and_score`'s dicts) in the order
    of ``trials``, serially, in ``n_jobs`` local processes or on the Dask ``client``.

    ``on_result(key, result)`` is called as each finishes (a progress bar); ``stats``, when
    a dict, receives what was sent: ``task_bytes`` (one pickled task), ``data`` ("inline",
    "memmap" or "scatter") and ``resubmitted`` (trials run again after a worker died).
    """
    if not isinstance(retries, int) or isinstance(retries, bool) or retries < 0:
        raise ArgumentError(f"retries: expected an integer >= 0, got {retries!r}")
    blas_threads = check_int(blas_threads, "blas_threads", "run_trials")
    if n_jobs is not None:
        _n_workers(n_jobs)
    trials = list(trials)
    stats = {} if stats is None else stats
    stats.setdefault("resubmitted", 0)
    if client is not None:
        out = _run_dask(client, build, X, y, trials, fit_kwargs, scoring, blas_threads,
                        retries, on_result, stats)
    elif n_jobs is None or n_jobs == 1 or len(trials) <= 1:
        stats["data"] = "inline"
        out = {}
        for t in trials:
            key, res = _task(build, t, fit_kwargs, scoring, blas_threads, X, y)
            out[key] = res
            if on_result is not None:
                on_result(key, res)
    else:
        out = _run_loky(_n_workers(n_jobs), build, X, y, trials, fit_kwargs, scoring,
                        blas_threads, retries, _nbytes(max_nbytes), on_result, stats)
    return [out[t.key] for t in trials]


def _run_loky(n, build, X, y, trials, fit_kwargs, scoring, blas_threads, retries,
              max_nbytes, on_result, stats):
    try:
        from joblib.externals.loky import get_reusable_executor
        from joblib.externals.loky.process_executor import (BrokenProcessPool,
                                                            TerminatedWorkerError)
    except ImportError:  # pragma: no cover - joblib comes with the [parallel] extra
        raise ImportError("n_jobs > 1 runs trials in local processes through joblib: "
                          "pip install joblib (or glassnet[parallel])") from None
    import concurrent.futures as cf
    folder = None
    try:
        if X.nbytes + y.nbytes > max_nbytes:
            folder = tempfile.mkdtemp(prefix="glassnet-search-")
            paths = (os.path.join(folder, "X.npy"), os.path.join(folder, "y.npy"))
            np.save(paths[0], np.ascontiguousarray(X))
            np.save(paths[1], np.ascontiguousarray(y))
            data, stats["data"] = SharedData(paths=paths), "memmap"
        else:
            data, stats["data"] = SharedData(X, y), "inline"
        stats["task_bytes"] = task_nbytes(build, trials[0], fit_kwargs, scoring, blas_threads,
                                          data)
        out, tries = {}, {t.key: 0 for t in trials}
        pending = list(trials)
        while pending:
            broken = []
            # loky's reusable executor keeps its workers (glassnet imported) for the next
            # search; after a worker died it is broken, and this call starts a fresh one
            ex = get_reusable_executor(max_workers=n, timeout=300)
            futs = {ex.submit(_local_task, build, t, fit_kwargs, scoring, blas_threads,
                              data): t for t in pending}
            for f in cf.as_completed(futs):
                t = futs[f]
                try:
                    key, res = f.result()
                except (TerminatedWorkerError, BrokenProcessPool) as e:
                    broken.append((t, e))
                    continue
                except Exception:
                    tries[t.key] += 1
                    if tries[t.key] > retries:
                        for other in futs:
                            other.cancel()
                        raise
                    broken.append((t, None))
                    continue
                out[key] = res
                if on_result is not None:
                    on_result(key, res)
            pending = []
            for t, err in broken:
                if err is not None:
                    tries[t.key] += 1
                    if tries[t.key] > retries:
                        raise RuntimeError(f"trial {t.key} failed {tries[t.key]} times: a "
                                           f"worker process died each time ({err})") from err
                pending.append(t)
            stats["resubmitted"] += len(pending)
        return out
    finally:
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)


def _dask_task(build, trial, fit_kwargs, scoring, blas_threads, X, y):
    return _task(build, trial, fit_kwargs, scoring, blas_threads, X, y)


def _run_dask(client, build, X, y, trials, fit_kwargs, scoring, blas_threads, retries,
              on_result, stats):
    from concurrent.futures import CancelledError

    from distributed import as_completed

    def scatter():
        # unique keys (hash=False): a later search of the same arrays never shares them
        return client.scatter([np.asarray(X), np.asarray(y)], broadcast=True, hash=False)

    def submit(t):
        return client.submit(_dask_task, build, t, fit_kwargs, scoring, blas_threads, xf, yf,
                             key=f"glassnet-trial-{uuid.uuid4().hex}", pure=False,
                             retries=retries)

    xf, yf = scatter()
    stats["data"] = "scatter"
    stats["task_bytes"] = pickled_nbytes(_dask_task, build, trials[0], fit_kwargs, scoring,
                                         blas_threads, xf, yf)
    futs = {submit(t): t for t in trials}
    data = [xf, yf]
    out = {}
    lost: dict[str, int] = {}
    try:
        done = as_completed(list(futs))
        for f in done:
            try:
                key, res = f.result()
            except CancelledError:
                # the scheduler dropped the task (seen when a worker was killed while it
                # held the task or the only copy of the data): run it again, with the data
                # scattered again if it is gone too, at most ``retries`` times a trial
                t = futs[f]
                lost[t.key] = lost.get(t.key, 0) + 1
                if lost[t.key] > retries:
                    raise
                if xf.status != "finished" or yf.status != "finished":
                    xf, yf = scatter()
                    data += [xf, yf]
                nf = submit(t)
                futs[nf] = t
                done.add(nf)
                stats["resubmitted"] += 1
                continue
            out[key] = res
            if on_result is not None:
                on_result(key, res)
    finally:
        client.cancel(list(futs) + data)
    return out


def check_xy(X, y, who: str) -> tuple[np.ndarray, np.ndarray]:
    """X and y as arrays of the same length (an ArgumentError naming ``who`` otherwise)."""
    X = np.asarray(X)
    y = np.asarray(y)
    if len(X) != len(y):
        raise ArgumentError(f"{who}: X has {len(X)} samples but y has {len(y)}")
    return X, y
