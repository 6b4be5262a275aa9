"""models/noise.py: masking, Gaussian and salt-and-pepper corruption."""
import numpy as np

import glassnet as gn
from glassnet import models
from glassnet.models.noise import corrupt


def test_corruption_statistics():
    X = np.full((400, 250), 0.5, np.float32)
    m = corrupt(X, "mask", 0.3, seed=0)
    assert abs((m == 0).mean() - 0.3) < 0.01 and set(np.unique(m)) == {0.0, 0.5}
    g = corrupt(X, "gaussian", 0.2, seed=0)
    assert abs((g - X).std() - 0.2) < 0.005 and abs((g - X).mean()) < 0.005
    s = corrupt(X, "salt_pepper", 0.4, seed=0)
    assert abs((s == 0).mean() - 0.2) < 0.01 and abs((s == 1).mean() - 0.2) < 0.01
    assert abs((s == 0.5).mean() - 0.6) < 0.01
    np.testing.assert_array_equal(corrupt(X, "mask", 0.3, seed=5), corrupt(X, "mask", 0.3,
                                                                          seed=5))
    assert X.min() == 0.5   # the input is not modified


def test_corruption_keeps_gradient():
    x = gn.tensor(np.ones((3, 8)), requires_grad=True)
    gn.manual_seed(0)
    y = corrupt(x, "mask", 0.5)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), (y.numpy() != 0).astype(float))


def test_corrupt_is_still_reached_at_its_old_path():
    # glassnet.models.autoencoder.corrupt was its home before the split (cli/autoencoder.py)
    assert models.autoencoder.corrupt is corrupt
    assert models.autoencoder.NOISES is models.noise.NOISES
