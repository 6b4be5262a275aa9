"""AnomalyDetector: threshold from held-out normal data, scores, predictions; a short
one-class run of the Ruff et al. (2018) protocol."""
import numpy as np
import pytest

import glassnet as gn
from glassnet import data, io, metrics
from glassnet.models import AnomalyDetector, Autoencoder, ConvAutoencoder


@pytest.fixture(scope="module")
def digits():
    X, y = data.load_digits()
    return (X / 16.0).astype(np.float32), y


def test_threshold_is_quantile_of_held_out_errors(digits):
    X, y = digits
    normal = X[y == 0]
    det = AnomalyDetector(Autoencoder(64, 8, activation="relu"), quantile=0.9, holdout=0.2)
    with pytest.raises(RuntimeError, match="no threshold yet"):
        det.predict(X)
    det.fit(normal, epochs=30, batch_size=16, lr=3e-3, seed=0)
    nh = int(round(0.2 * len(normal)))
    assert det.holdout_errors_.shape == (nh,)
    hist = det.autoencoder.history_
    assert hist.params["samples"] == len(normal) - nh   # the held-out part is not trained on
    assert float(det.threshold) == pytest.approx(np.quantile(det.holdout_errors_, 0.9))
    np.testing.assert_allclose(det.score(X), det.autoencoder.reconstruction_error(X))
    pred = det.predict(X)
    assert pred.dtype == np.int64 and set(np.unique(pred)) <= {0, 1}
    np.testing.assert_array_equal(pred, (det.score(X) > float(det.threshold)).astype(int))
    # one-class on digit 0: the other digits score higher
    assert metrics.roc_auc((y != 0).astype(int), det.score(X)) > 0.95
    assert pred[y != 0].mean() > 0.8


def test_given_threshold_is_kept_and_saved(digits, tmp_path):
    X, y = digits
    det = AnomalyDetector(Autoencoder(64, 8), threshold=0.05)
    det.fit(X[y == 1], epochs=1, seed=0)
    assert float(det.threshold) == 0.05
    io.save(det, tmp_path / "det.safetensors")
    det2 = io.load(tmp_path / "det.safetensors")
    assert float(det2.threshold) == 0.05
    np.testing.assert_allclose(det2.score(X), det.score(X), rtol=1e-5)
    np.testing.assert_array_equal(det2.predict(X), det.predict(X))


def test_argument_errors():
    with pytest.raises(TypeError, match="autoencoder module"):
        AnomalyDetector(gn.nn.Linear(3, 3))
    with pytest.raises(ValueError, match="quantile"):
        AnomalyDetector(Autoencoder(4, 2), quantile=1.0)
    with pytest.raises(ValueError, match="holdout"):
        AnomalyDetector(Autoencoder(4, 2), holdout=0)


def _one_class(loader, data_dir, cls, make, n_test=3000, epochs=3):
    Xtr, ytr = loader(data_dir, "train", flatten=True)
    Xte, yte = loader(data_dir, "test", flatten=True)
    gn.manual_seed(0)
    det = AnomalyDetector(make()).fit(Xtr[ytr == cls][:3000], epochs=epochs, batch_size=64,
                                      seed=0)
    return metrics.roc_auc((yte[:n_test] != cls).astype(int), det.score(Xte[:n_test]))


def test_one_class_fashion_trouser_dense(data_dir):
    """Short version of benchmarks/bench_anomaly.py: train on trousers only, the other nine
    classes are the anomalies."""
    auc = _one_class(data.load_fashion_mnist, data_dir / "fashion-mnist", 1,
                     lambda: Autoencoder(784, [64, 16], activation="relu"))
    assert auc > 0.95


def test_one_class_mnist_digit1_conv(data_dir):
    auc = _one_class(data.load_mnist, data_dir / "mnist", 1,
                     lambda: ConvAutoencoder(1, 28, channels=[8, 4], code=16),
                     n_test=2000, epochs=2)
    assert auc > 0.95
