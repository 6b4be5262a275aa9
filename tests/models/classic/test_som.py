"""SelfOrganizingMap: errors by hand, ordering of a 1-D map, the digits map."""
import numpy as np
import pytest

import glassnet as gn
from glassnet.models.classic import SelfOrganizingMap


def test_errors_by_hand():
    som = SelfOrganizingMap(1, 3)
    som.weight = np.array([[0.0], [1.0], [2.0]])
    X = np.array([[0.1], [2.0], [0.9]])
    # distances to the best units: 0.1, 0, 0.1
    assert som.quantization_error(X) == pytest.approx(0.2 / 3)
    np.testing.assert_array_equal(som.bmu(X), [0, 2, 1])
    # second-best units: 1 (adjacent), 1 (adjacent), 0 (adjacent) -> no topographic error
    assert som.topographic_error(X) == 0
    som.weight = np.array([[0.0], [2.0], [1.0]])       # a twisted map
    assert som.topographic_error(np.array([[0.4]])) == 1.0   # best 0, second 2: not adjacent


def test_one_dimensional_map_orders_itself():
    x = np.random.default_rng(0).random((300, 1))
    som = SelfOrganizingMap(1, 10, seed=1).fit(x, epochs=40)
    w = som.weight.ravel()
    assert np.all(np.diff(w) > 0) or np.all(np.diff(w) < 0)
    assert som.topographic_error(x) == 0
    assert som.quantization_error(x) < 0.05         # about 1 / (4 * 10) for uniform data


def test_digits_map():
    X, y = gn.data.load_digits()
    X = X / 16
    som = SelfOrganizingMap(8, 8, seed=0).fit(X, epochs=15)
    q = [qe for _, qe in som.history_]
    assert q[-1] < q[0]
    assert som.topographic_error(X) < 0.2
    lm = som.label_map(X, y)
    purity = (lm.ravel()[som.bmu(X)] == y).mean()
    assert purity > 0.85
    assert set(lm.ravel()) >= set(range(10))        # every digit has its region


def test_errors():
    with pytest.raises(RuntimeError, match="call fit"):
        SelfOrganizingMap(2, 2).bmu(np.zeros((1, 3)))
    with pytest.raises(ValueError, match="rows"):
        SelfOrganizingMap(0, 2)
