"""RBFNetwork and kmeans: known clusters, the Gaussian units by hand, gradcheck of the whole
network, two-stage training and gradient fine-tuning on the digits."""
import numpy as np
import pytest

import glassnet as gn
from glassnet.autograd.gradcheck import gradcheck, numerical_grad
from glassnet.models.classic import RBFNetwork, kmeans


def test_kmeans_finds_separated_clusters():
    rng = np.random.default_rng(0)
    true = np.array([[0, 0], [10, 0], [0, 10]], float)
    X = np.vstack([c + rng.normal(0, 0.1, (50, 2)) for c in true])
    C, lab, inertia = kmeans(X, 3, seed=1)
    order = np.argsort(C[:, 0] + 2 * C[:, 1])
    np.testing.assert_allclose(C[order], true, atol=0.05)
    assert len(np.unique(lab)) == 3
    # inertia is the sum of squared distances to the nearest centre
    assert inertia == pytest.approx(((X - C[lab]) ** 2).sum())


def test_features_by_hand():
    net = RBFNetwork(2, 2, 1)
    net.centres._data[...] = [[0, 0], [1, 1]]
    net.log_gamma._data[...] = np.log([0.5, 2.0])
    phi = net.features(gn.tensor(np.array([[1.0, 0.0]], np.float32))).numpy()
    np.testing.assert_allclose(phi, [[np.exp(-0.5), np.exp(-2.0)]], rtol=1e-6)


def test_gradients_match_finite_differences():
    """Backward through the Gaussian units reaches the input, the centres and the widths
    with the right values (float64 central differences)."""
    rng = np.random.default_rng(0)
    net = RBFNetwork(3, 4, 2).double()
    net.centres._data[...] = rng.normal(size=(4, 3))
    net.log_gamma._data[...] = rng.normal(size=4) * 0.3
    x0 = rng.normal(size=(5, 3))
    w = rng.normal(size=(5, 2))

    def loss(x, c, lg):
        net.centres._data[...], net.log_gamma._data[...] = c, lg
        with gn.no_grad():
            return float((net(gn.tensor(x)).numpy() * w).sum())
    c0, lg0 = net.centres.numpy().copy(), net.log_gamma.numpy().copy()
    arrays = [x0.copy(), c0.copy(), lg0.copy()]
    want = [numerical_grad(loss, arrays, i) for i in range(3)]
    net.centres._data[...], net.log_gamma._data[...] = c0, lg0
    x = gn.tensor(x0, requires_grad=True)
    net.zero_grad()
    (net(x) * gn.tensor(w)).sum().backward()
    for got, exp in zip((x.grad, net.centres.grad, net.log_gamma.grad), want):
        np.testing.assert_allclose(got.numpy(), exp, rtol=1e-5, atol=1e-8)
    gradcheck(lambda x: net.features(x), [x0])


def test_two_stage_and_fine_tune_on_digits():
    X, y = gn.data.load_digits()
    X = X / 16
    p = np.random.default_rng(0).permutation(len(X))
    tr, te = p[:1300], p[1300:]
    net = RBFNetwork(64, 40, 10).fit(X[tr], y[tr], seed=0)
    two_stage = net.score(X[te], y[te])
    assert two_stage > 0.9
    losses = net.fine_tune(X[tr], y[tr], epochs=10, seed=0)
    assert losses[-1] < losses[0]
    assert net.score(X[te], y[te]) > 0.93


def test_regression_fits_a_smooth_function():
    x = np.linspace(-3, 3, 200)[:, None]
    net = RBFNetwork(1, 12, 1, task="regression").fit(x, np.sin(x), ridge=1e-8, seed=0,
                                                     width_scale=2.0)
    assert net.score(x, np.sin(x)) > 0.999


def test_errors():
    with pytest.raises(ValueError, match=r"shape \(N, 3\)"):
        RBFNetwork(3, 2, 1)(gn.tensor(np.zeros((2, 4), np.float32)))
    with pytest.raises(ValueError, match="class 12"):
        RBFNetwork(1, 2, 3).fit(np.zeros((3, 1)), np.array([0, 1, 12]))
