"""ExtremeLearningMachine: the closed form, exact interpolation, digits accuracy."""
import numpy as np
import pytest

import glassnet as gn
from glassnet.models.classic import ExtremeLearningMachine
from glassnet.models.classic._common import ridge_solve


def test_ridge_solve_primal_and_dual_agree():
    rng = np.random.default_rng(0)
    for n, m in ((30, 5), (5, 30)):
        H, T = rng.normal(size=(n, m)), rng.normal(size=(n, 2))
        B = ridge_solve(H, T, 0.3)
        np.testing.assert_allclose(B, np.linalg.solve(H.T @ H + 0.3 * np.eye(m), H.T @ T),
                                   rtol=1e-8, atol=1e-10)


def test_output_is_the_ridge_solution():
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(40, 3)), rng.integers(0, 3, 40)
    elm = ExtremeLearningMachine(3, 10, ridge=0.5, seed=0).fit(X, y)
    H = np.tanh(X @ elm.input_weight.T + elm.input_bias)
    T = np.eye(3)[y]
    np.testing.assert_allclose(elm.output_weight,
                               np.linalg.solve(H.T @ H + 0.5 * np.eye(10), H.T @ T), rtol=1e-8)


def test_interpolates_with_as_many_units_as_samples():
    rng = np.random.default_rng(2)
    X, t = rng.normal(size=(25, 2)), rng.normal(size=25)
    elm = ExtremeLearningMachine(2, 25, ridge=0.0, task="regression", seed=0).fit(X, t)
    np.testing.assert_allclose(elm.predict(X), t, atol=1e-6)


def test_digits():
    X, y = gn.data.load_digits()
    X = X / 16
    p = np.random.default_rng(0).permutation(len(X))
    tr, te = p[:1300], p[1300:]
    acc = ExtremeLearningMachine(64, 400, seed=0).fit(X[tr], y[tr]).score(X[te], y[te])
    assert acc > 0.97
    few = ExtremeLearningMachine(64, 10, seed=0).fit(X[tr], y[tr]).score(X[te], y[te])
    assert few < acc            # the random features matter: 10 units are not enough


def test_errors():
    with pytest.raises(RuntimeError, match="call fit"):
        ExtremeLearningMachine(2, 3).predict(np.zeros((1, 2)))
    with pytest.raises(ValueError, match="features"):
        ExtremeLearningMachine(2, 3).fit(np.zeros((4, 3)), np.zeros(4, int))
