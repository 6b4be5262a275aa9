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


@pytest.mark.integration
def test_one_class_fashion_trouser_dense(data_dir):
    """Short version of benchmarks/bench_anomaly.py: train on trousers only, the other nine
    classes are the anomalies."""
    auc = _one_class(data.load_fashion_mnist, data_dir / "fashion-mnist", 1,
                     lambda: Autoencoder(784, [64, 16], activation="relu"))
    assert auc > 0.95


@pytest.mark.integration
def test_one_class_mnist_digit1_conv(data_dir):
    auc = _one_class(data.load_mnist, data_dir / "mnist", 1,
                     lambda: ConvAutoencoder(1, 28, channels=[8, 4], code=16),
                     n_test=2000, epochs=2)
    assert auc > 0.95


def _split(X, holdout, seed):
    perm = np.random.default_rng(seed).permutation(len(X))
    nh = int(round(holdout * len(X)))
    return X[perm[:nh]], X[perm[nh:]]


def test_standardized_error_is_per_feature_scaled_residual(digits):
    X, y = digits
    normal = X[y == 3]
    det = AnomalyDetector(Autoencoder(64, 8, activation="relu"), quantile=0.9, holdout=0.2,
                          error="standardized", eps=0.05)
    with pytest.raises(RuntimeError, match="call fit"):
        det.score(X)
    det.fit(normal, epochs=20, batch_size=16, lr=3e-3, seed=1)
    held, train = _split(normal, 0.2, 1)
    ae = det.autoencoder
    var = ((ae.reconstruct(train) - train) ** 2).mean(axis=0) + 0.05 ** 2
    np.testing.assert_allclose(det.feature_var[0], var, rtol=1e-5)
    expect = (((ae.reconstruct(X) - X) ** 2) / var).mean(axis=1)
    np.testing.assert_allclose(det.score(X, batch_size=100), expect, rtol=1e-5)
    np.testing.assert_allclose(det.holdout_errors_, det.score(held), rtol=1e-6)
    assert float(det.threshold) == pytest.approx(np.quantile(det.score(held), 0.9))
    # not the plain MSE (a different ranking), and still a good one-class detector
    mse = ae.reconstruction_error(X)
    assert not np.allclose(np.argsort(expect), np.argsort(mse))
    assert metrics.roc_auc((y != 3).astype(int), det.score(X)) > 0.9
    mse_det = AnomalyDetector(Autoencoder(64, 8, activation="relu"), error="mse")
    mse_det.autoencoder.load_state_dict(ae.state_dict())
    np.testing.assert_allclose(mse_det.score(X), mse, rtol=1e-5)


def test_ensemble_scores_are_mean_standardized_member_errors(digits, tmp_path):
    X, y = digits
    normal = X[y == 0]
    members = [Autoencoder(64, 8, activation="relu") for _ in range(3)]
    det = AnomalyDetector(members, quantile=0.95, holdout=0.2)
    assert det.members == members and "members=3" in repr(det)
    with pytest.raises(RuntimeError, match="not standardized yet"):
        det.score(X)
    det.fit(normal, epochs=10, batch_size=16, lr=3e-3, seed=5)
    # members trained with seeds 5, 6, 7: different weights
    w = [m.encoder[0].weight.numpy() for m in members]
    assert not np.allclose(w[0], w[1]) and not np.allclose(w[1], w[2])
    held, _ = _split(normal, 0.2, 5)
    E = np.stack([m.reconstruction_error(X) for m in members])
    H = np.stack([m.reconstruction_error(held) for m in members])
    mu, sd = H.mean(axis=1), H.std(axis=1)
    np.testing.assert_allclose(det.member_errors(X), E, rtol=1e-5)
    np.testing.assert_allclose(det.score(X), ((E - mu[:, None]) / sd[:, None]).mean(0),
                               rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(det.holdout_errors_.mean(), 0.0, atol=1e-6)  # standardized
    assert float(det.threshold) == pytest.approx(np.quantile(det.holdout_errors_, 0.95))
    io.save(det, tmp_path / "ens.safetensors")
    det2 = io.load(tmp_path / "ens.safetensors")
    assert det2.ensemble and len(det2.members) == 3
    np.testing.assert_allclose(det2.score(X), det.score(X), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(det2.predict(X), det.predict(X))


def test_conv_standardized_ensemble_and_errors():
    rng = np.random.default_rng(0)
    X = rng.random((40, 1, 8, 8)).astype(np.float32)
    det = AnomalyDetector([ConvAutoencoder(1, 8, channels=[2, 2], code=4)] * 2,
                          error="standardized", holdout=0.25).fit(X, epochs=1, seed=0)
    assert det.feature_var.shape == (2, 64) and det.score(X).shape == (40,)
    assert det.score(X.reshape(40, -1)).shape == (40,)
    with pytest.raises(ValueError, match="error must be one of"):
        AnomalyDetector(Autoencoder(4, 2), error="l3")
    with pytest.raises(ValueError, match="empty list"):
        AnomalyDetector([])
    with pytest.raises(TypeError, match=r"autoencoder\[1\]"):
        AnomalyDetector([Autoencoder(4, 2), gn.nn.Linear(4, 4)])
    custom = Autoencoder(encoder=gn.nn.Linear(4, 2), decoder=gn.nn.Linear(2, 4))
    with pytest.raises(ValueError, match="known input size"):
        AnomalyDetector(custom, error="standardized")
    with pytest.raises(ValueError, match="eps"):
        AnomalyDetector(Autoencoder(4, 2), eps=0)


def test_pooled_error_averages_residual_blocks(digits):
    X, y = digits
    normal = X[y == 2]
    det = AnomalyDetector([Autoencoder(64, 8, activation="relu")], holdout=0.2,
                          error="standardized", pool=2, image_shape=[8, 8], eps=0.02)
    assert det.feature_var.shape == (1, 16) and "pool=2" in repr(det)
    det.fit(normal, epochs=10, batch_size=16, lr=3e-3, seed=0)
    held, train = _split(normal, 0.2, 0)
    ae = det.members[0]

    def pooled(A):   # mean over each 2x2 block of the 8x8 residual image
        r = (ae.reconstruct(A) - A).reshape(len(A), 4, 2, 4, 2)
        return r.mean(axis=(2, 4)).reshape(len(A), 16)

    var = (pooled(train) ** 2).mean(axis=0) + 0.02 ** 2
    np.testing.assert_allclose(det.feature_var[0], var, rtol=1e-5)
    e = (pooled(X) ** 2 / var).mean(axis=1)
    H = (pooled(held) ** 2 / var).mean(axis=1)
    np.testing.assert_allclose(det.member_errors(X)[0], e, rtol=1e-5)
    np.testing.assert_allclose(det.score(X), (e - H.mean()) / H.std(), rtol=1e-4, atol=1e-6)
    mse = AnomalyDetector(ae, error="mse", pool=4, image_shape=[1, 8, 8])
    r = (ae.reconstruct(X) - X).reshape(len(X), 2, 4, 2, 4).mean(axis=(2, 4))
    np.testing.assert_allclose(mse.score(X), (r.reshape(len(X), 4) ** 2).mean(1), rtol=1e-5)
    with pytest.raises(ValueError, match="needs image_shape"):
        AnomalyDetector(Autoencoder(64, 8), error="mse", pool=2)
    with pytest.raises(ValueError, match="divisible by pool=3"):
        AnomalyDetector(Autoencoder(64, 8), error="mse", pool=3, image_shape=[8, 8])
    with pytest.raises(ValueError, match="holds 49 values"):
        AnomalyDetector(Autoencoder(64, 8), error="mse", pool=7, image_shape=[7, 7])
    with pytest.raises(ValueError, match="pool > 1 needs error"):
        AnomalyDetector(Autoencoder(64, 8), pool=2, image_shape=[8, 8])
    assert AnomalyDetector(ConvAutoencoder(1, 8, channels=[2, 2], code=4), error="mse",
                           pool=2).image_shape == [1, 8, 8]
