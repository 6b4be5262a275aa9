"""DeconvNetwork: shapes, gradients to every layer, and images rebuilt from PCA codes."""
import numpy as np
import pytest

import glassnet as gn
from glassnet.models.classic import DeconvNetwork


def test_shapes_and_gradients():
    net = DeconvNetwork(5, image_size=12, out_channels=3, channels=(4, 2))
    out = net(gn.randn(2, 5))
    assert out.shape == (2, 3, 12, 12)
    assert 0 < out.numpy().min() and out.numpy().max() < 1          # sigmoid output
    out.sum().backward()
    assert all(p.grad is not None for p in net.parameters())


def test_rebuilds_digits_from_pca_codes():
    X, _ = gn.data.load_digits()
    X = X / 16
    tr, te = X[:1400], X[1400:]
    mu = tr.mean(0)
    V = np.linalg.svd(tr - mu, full_matrices=False)[2][:16]
    ctr, cte = (tr - mu) @ V.T, (te - mu) @ V.T
    scale = ctr.std(0)
    net = DeconvNetwork(16, channels=(16, 8)).fit(ctr / scale, tr, epochs=6, seed=0)
    assert net.losses_[-1] < 0.5 * net.losses_[0]
    mse = ((net.generate(cte / scale).reshape(len(te), -1) - te) ** 2).mean()
    mean_image = ((te - mu) ** 2).mean()
    assert mse < 0.5 * mean_image


def test_errors():
    with pytest.raises(ValueError, match="multiple of 4"):
        DeconvNetwork(3, image_size=10)
    with pytest.raises(ValueError, match=r"codes of shape \(N, 3\)"):
        DeconvNetwork(3)(gn.randn(2, 4))
    with pytest.raises(ValueError, match="images must be"):
        DeconvNetwork(3).fit(np.zeros((4, 3)), np.zeros((4, 10)))
