"""scikit-learn's own estimator checks on the three glassnet wrappers."""
from __future__ import annotations

import pytest

pytest.importorskip("sklearn")
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

from glassnet.sklearn import (NeuralNetClassifier, NeuralNetRegressor,  # noqa: E402
                              NeuralNetTransformer)

# small nets and few epochs keep the ~50 checks per estimator fast; the defaults users see
# are unchanged. Enough training to pass the checks' score thresholds (accuracy > 0.83 on
# blobs, R^2 > 0.5).
ESTIMATORS = [
    NeuralNetClassifier(hidden_layer_sizes=(16,), max_epochs=20, lr=0.01, random_state=0),
    NeuralNetRegressor(hidden_layer_sizes=(16,), max_epochs=30, lr=0.01, random_state=0),
    NeuralNetTransformer(n_components=2, hidden_layer_sizes=(8,), max_epochs=3, lr=0.01,
                         random_state=0),
]

EXPECTED_FAILED: dict = {}


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=lambda est: EXPECTED_FAILED.get(
    type(est).__name__, {}))
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
