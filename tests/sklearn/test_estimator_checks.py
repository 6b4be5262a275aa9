"""scikit-learn's own estimator checks on the three glassnet wrappers, and on glassnet's
scalers and encoders (which do not import scikit-learn, yet follow its estimator protocol)."""
from __future__ import annotations

import warnings

import pytest

pytest.importorskip("sklearn")
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

from glassnet import data  # noqa: E402
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
    data.StandardScaler(),
    data.StandardScaler(with_mean=False),
    data.MinMaxScaler(feature_range=(-1, 1)),
    data.OneHotEncoder(),
    data.OneHotEncoder(handle_unknown="ignore"),
    data.BinaryEncoder(),
]

# Every check passes, so no estimator needs an `expected_failed_checks` entry. (The
# array-API checks skip unless SCIPY_ARRAY_API=1; glassnet claims no array-API support.)


# glassnet's scalers and encoders do not derive from sklearn.base.BaseEstimator (glassnet does not import
# scikit-learn), which scikit-learn notes with a warning when it collects the checks; what
# it checks they pass
NOT_BASE_ESTIMATOR = "Estimator .* does not inherit from `sklearn.base.BaseEstimator`"
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", NOT_BASE_ESTIMATOR, UserWarning)
    checks = parametrize_with_checks(ESTIMATORS)


@pytest.mark.filterwarnings(f"ignore:{NOT_BASE_ESTIMATOR}:UserWarning")
@checks
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
