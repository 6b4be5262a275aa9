"""Searches that scale: the same results table from the serial, joblib (loky) and Dask
executors; data sent once (memmap / scatter); a killed worker's trial is rerun; refit."""
from __future__ import annotations

import os
import signal
from pathlib import Path

import numpy as np
import pytest

from glassnet import data, nn, optim, selection
from glassnet.selection import _runner
from glassnet.training import Trainer

GRID = {"hidden": [8, 16], "lr": [1e-2]}
FIT = {"epochs": 2, "batch_size": 64}


def build(hidden=16, lr=1e-2):
    m = nn.Sequential(nn.Linear(64, hidden), nn.ReLU(), nn.Linear(hidden, 10))
    return Trainer(m, nn.CrossEntropyLoss(), optim.Adam(m.parameters(), lr=lr),
                   metrics=["accuracy"])


class KillOnce:
    """A build that kills its own worker process (SIGKILL) the first time it runs in a
    process other than the test's, marked by a file; later calls build normally."""

    def __init__(self, marker: str, parent: int):
        self.marker, self.parent = marker, parent

    def __call__(self, **params):
        if os.getpid() != self.parent and not os.path.exists(self.marker):
            Path(self.marker).write_text(str(os.getpid()))
            os.kill(os.getpid(), signal.SIGKILL)
        return build(**params)


class CancelOnce:
    """A build whose first run on a worker cancels its own task (as the scheduler does
    when it forgets a task), marked by a file; later calls build normally."""

    def __init__(self, marker: str):
        self.marker = marker

    def __call__(self, **params):
        import time

        import distributed
        if not os.path.exists(self.marker):
            Path(self.marker).write_text("cancelled")
            client = distributed.get_client()
            key = distributed.get_worker().get_current_task()
            client.cancel([distributed.Future(key, client)], force=True)
            time.sleep(0.5)
        return build(**params)


@pytest.fixture(scope="module")
def digits():
    X, y = data.load_digits()
    return (X[:300] / 16).astype(np.float32), y[:300]


@pytest.fixture(scope="module")
def serial(digits):
    return selection.GridSearch(build, GRID, cv=2, fit_kwargs=FIT, refit=False).fit(*digits)


def test_results_do_not_depend_on_order_or_executor(digits, serial):
    X, y = digits
    assert serial.stats_["data"] == "inline"
    # the trials in reverse order give the same scores: each is seeded from its key
    trials = [_runner.Trial((i, j), p, tr, va, _runner.trial_seed(0, i, j))
              for i, p in enumerate(selection.ParameterGrid(GRID))
              for j, (tr, va) in enumerate(selection.cv._split(
                  data.StratifiedKFold(2, shuffle=True, seed=0), X, y))]
    fwd = _runner.run_trials(build, X, y, trials, fit_kwargs=FIT)
    back = _runner.run_trials(build, X, y, trials[::-1], fit_kwargs=FIT)[::-1]
    assert [r["score"] for r in fwd] == [r["score"] for r in back]
    assert [r["score"] for r in fwd] == [s for r in serial.results_ for s in r["scores"]]


def test_joblib_processes_give_the_same_table_and_memmap_large_data(digits, serial):
    X, y = digits
    gs = selection.GridSearch(build, GRID, cv=2, fit_kwargs=FIT, refit=False, n_jobs=2,
                              max_nbytes=0).fit(X, y)
    assert gs.stats_["data"] == "memmap"
    assert gs.table() == serial.table() and gs.table("csv") == serial.table("csv")
    assert gs.results_ == serial.results_
    # a task references the data: its size does not grow with X
    trial = _runner.Trial((0, 0), {}, np.arange(10), np.arange(10), 0)
    inline = _runner.task_nbytes(build, trial, FIT, "accuracy", 1, _runner.SharedData(X, y))
    ref = _runner.task_nbytes(build, trial, FIT, "accuracy", 1,
                              _runner.SharedData(paths=("X.npy", "y.npy")))
    assert inline > X.nbytes > 50 * ref


def test_a_killed_local_worker_is_replaced_and_the_search_completes(digits, serial, tmp_path):
    marker = tmp_path / "killed"
    gs = selection.GridSearch(KillOnce(str(marker), os.getpid()), GRID, cv=2, fit_kwargs=FIT,
                              refit=False, n_jobs=2).fit(*digits)
    assert marker.exists()                       # a worker really died
    assert gs.stats_["resubmitted"] >= 1
    assert gs.table() == serial.table()


def test_dask_cluster_gives_the_same_table_and_survives_a_killed_worker(digits, serial,
                                                                        tmp_path):
    distributed = pytest.importorskip("distributed")
    marker = tmp_path / "killed"
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None, silence_logs=40) as cluster, \
            distributed.Client(cluster) as client:
        gs = selection.GridSearch(build, GRID, cv=2, fit_kwargs=FIT, refit=False,
                                  client=client).fit(*digits)
        assert gs.stats_["data"] == "scatter" and gs.stats_["task_bytes"] < 20_000
        assert gs.table() == serial.table() and gs.results_ == serial.results_
        killed = selection.GridSearch(KillOnce(str(marker), os.getpid()), GRID, cv=2,
                                      fit_kwargs=FIT, refit=False, client=client).fit(*digits)
        assert marker.exists()
        assert killed.table() == serial.table()


def test_dask_resubmits_a_trial_whose_task_was_dropped(digits, serial, tmp_path):
    distributed = pytest.importorskip("distributed")
    marker = tmp_path / "cancelled"
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                  dashboard_address=None, silence_logs=40) as cluster, \
            distributed.Client(cluster) as client:
        gs = selection.GridSearch(CancelOnce(str(marker)), GRID, cv=2, fit_kwargs=FIT,
                                  refit=False, client=client).fit(*digits)
    assert marker.exists()
    assert gs.stats_["resubmitted"] == 1
    assert gs.table() == serial.table()


def test_refit_trains_the_best_on_all_data_and_tables(digits, tmp_path):
    X, y = digits
    gs = selection.GridSearch(build, {"hidden": [16], "lr": [1e-6, 1e-2]}, cv=2,
                              fit_kwargs={"epochs": 10, "batch_size": 32}).fit(X, y)
    assert gs.best_index_ == 1 and gs.best_params_ == {"hidden": 16, "lr": 1e-2}
    assert isinstance(gs.best_estimator_, Trainer)
    assert gs.best_estimator_.evaluate(X, y)["accuracy"] > 0.85    # trained on all of X
    cv = gs.cv_results_
    assert list(cv["param_lr"]) == [1e-6, 1e-2] and list(cv["rank_test_score"]) == [2, 1]
    np.testing.assert_allclose(cv["mean_test_score"],
                               (cv["split0_test_score"] + cv["split1_test_score"]) / 2)
    md = gs.table("markdown").splitlines()
    assert md[0] == ("| rank | hidden | lr | mean_accuracy | std_accuracy | split0 | "
                     "split1 |") and md[2].startswith("| 1 | 16 | 0.01 |")
    csv_path, md_path = gs.write_results(tmp_path)
    assert csv_path.read_text().splitlines()[1].startswith("1,16,0.01,")
    assert "best: {'hidden': 16, 'lr': 0.01}" in md_path.read_text()
    assert not hasattr(selection.GridSearch(build, GRID, refit=False).fit(X, y),
                       "best_estimator_")
    with pytest.raises(ValueError, match="refit must be True or False"):
        selection.GridSearch(build, GRID, refit="yes")
    with pytest.raises(ValueError, match="n_jobs"):
        selection.GridSearch(build, GRID, n_jobs=0, refit=False).fit(X, y)
    with pytest.raises(AttributeError, match="call fit"):
        selection.GridSearch(build, GRID).table()
