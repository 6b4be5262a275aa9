"""models/conv_autoencoder.py: image and flattened inputs, evaluation mode."""
import numpy as np
import pytest

from glassnet import data
from glassnet.models import ConvAutoencoder


@pytest.fixture(scope="module")
def digits():
    X, y = data.load_digits()
    return (X / 16.0).astype(np.float32), y


def test_conv_autoencoder_flat_and_image_inputs(digits):
    X = digits[0][:200]
    cae = ConvAutoencoder(1, 8, channels=[4, 4], code=8, noise_level=0.2)
    assert cae(X.reshape(-1, 1, 8, 8)).shape == (200, 1, 8, 8)
    assert cae(X).shape == (200, 64)
    with pytest.raises(ValueError, match=r"expected input \(N, 1, 8, 8\)"):
        cae(np.zeros((2, 1, 7, 7), np.float32))
    cae.eval()
    np.testing.assert_allclose(cae.reconstruct(X).reshape(200, 1, 8, 8),
                               cae.reconstruct(X.reshape(-1, 1, 8, 8)), rtol=1e-6)
    hist = cae.fit(X, epochs=6, batch_size=32, lr=3e-3, seed=0)
    assert hist["loss"][-1] < hist["loss"][0]


def test_encode_decode_use_evaluation_mode(digits):
    X = digits[0][:40]
    cae = ConvAutoencoder(1, 8, channels=[4, 2], code=6, batch_norm=True, noise_level=0.3)
    cae.fit(X, epochs=1, batch_size=20)
    cae.train()
    z = cae.decode(cae.encode(X))        # BatchNorm running statistics, no corruption
    assert cae.training                  # the mode is restored
    np.testing.assert_allclose(z.reshape(40, -1), cae.reconstruct(X), rtol=1e-5, atol=1e-6)
