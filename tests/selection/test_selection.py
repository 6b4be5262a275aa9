"""Cross-validation, grid and random search, restarts."""
import numpy as np
import pytest

from glassnet import data, nn, optim, selection
from glassnet.training import Trainer


def build(hidden=16, lr=1e-2):
    m = nn.Sequential(nn.Linear(64, hidden), nn.ReLU(), nn.Linear(hidden, 10))
    return Trainer(m, nn.CrossEntropyLoss(), optim.Adam(m.parameters(), lr=lr),
                   metrics=["accuracy"])


@pytest.fixture(scope="module")
def digits():
    X, y = data.load_digits()
    return X[:600] / 16, y[:600]


def test_cross_validate_scores_each_fold(digits):
    X, y = digits
    res = selection.cross_validate(build, X, y, cv=3, fit_kwargs={"epochs": 5})
    assert len(res["scores"]) == 3 and len(res["folds"]) == 3
    assert 0.8 < res["mean"] <= 1.0
    assert res["std"] == pytest.approx(np.std(res["scores"]))
    again = selection.cross_validate(build, X, y, cv=3, fit_kwargs={"epochs": 5})
    np.testing.assert_array_equal(res["scores"], again["scores"])


def test_grid_search_prefers_a_sane_learning_rate(digits):
    X, y = digits
    gs = selection.GridSearch(build, {"lr": [1e-6, 1e-2], "hidden": [16]}, cv=2,
                              fit_kwargs={"epochs": 4}).fit(X, y)
    assert len(gs.results_) == 2
    assert gs.best_params_ == {"lr": 1e-2, "hidden": 16}
    assert gs.best_score_ > 0.8
    first = gs.table().splitlines()[1]
    assert first.strip().startswith("1") and "0.01" in first


def test_random_search_and_parameter_sampler(digits):
    X, y = digits
    dist = {"hidden": [8, 32], "lr": lambda rng: float(10 ** rng.uniform(-3, -1.5))}
    draws = list(selection.ParameterSampler(dist, 5, seed=1))
    assert draws == list(selection.ParameterSampler(dist, 5, seed=1))
    assert all(1e-3 <= d["lr"] <= 10 ** -1.5 for d in draws)
    rs = selection.RandomSearch(build, dist, n_iter=2, cv=2, fit_kwargs={"epochs": 3}).fit(X, y)
    assert len(rs.results_) == 2 and rs.best_params_ in [r["params"] for r in rs.results_]


def test_parameter_grid_validation():
    assert len(selection.ParameterGrid({"a": [1, 2], "b": [3, 4, 5]})) == 6
    with pytest.raises(ValueError, match="values for 'a' must be a list"):
        selection.ParameterGrid({"a": 1})


def xor():
    m = nn.Sequential(nn.Linear(2, 2), nn.Tanh(), nn.Linear(2, 2))
    return Trainer(m, nn.CrossEntropyLoss(), optim.SGD(m.parameters(), lr=0.5))


def test_restarts_keep_the_best_seed():
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], np.float32)
    y = np.array([0, 1, 1, 0])
    best, results = selection.best_of_restarts(xor, (X, y), (X, y), n_restarts=4,
                                               fit_kwargs={"epochs": 150, "batch_size": None})
    scores = [r["score"] for r in results]
    assert best.evaluate(X, y)["loss"] == pytest.approx(min(scores))
    assert sorted(r["rank"] for r in results) == [1, 2, 3, 4]


def test_parallel_jobs_match_serial(digits):
    X, y = digits
    a = selection.cross_validate(build, X, y, cv=2, fit_kwargs={"epochs": 2})
    b = selection.cross_validate(build, X, y, cv=2, fit_kwargs={"epochs": 2}, n_jobs=2)
    np.testing.assert_allclose(a["scores"], b["scores"])


def test_learning_curve_gap_closes_with_more_data(digits):
    X, y = digits
    lc = selection.learning_curve(build, X, y, train_sizes=(40, 1.0), cv=2,
                                  fit_kwargs={"epochs": 30})
    assert lc["train_scores"].shape == lc["val_scores"].shape == (2, 2)
    assert list(lc["train_sizes"]) == [40, 300]
    gap = lc["train_scores"].mean(1) - lc["val_scores"].mean(1)
    assert lc["val_scores"][1].mean() > lc["val_scores"][0].mean()
    assert gap[0] > gap[1]
    with pytest.raises(ValueError, match="train size"):
        selection.learning_curve(build, X, y, train_sizes=(0,), cv=2)
