"""Sparse and contractive autoencoders and their penalties (functional/code_penalties.py):
values by hand, gradcheck (also through the sigmoid encoder), the closed-form Jacobian norm
against finite differences, and learning on the digits."""
import numpy as np
import pytest

import glassnet as gn
from glassnet import functional as F
from glassnet.autograd.gradcheck import gradcheck
from glassnet.functional.code_penalties import contractive_penalty, kl_sparsity_penalty
from glassnet.models import Autoencoder
from glassnet.models.classic import ContractiveAutoencoder, SparseAutoencoder
from glassnet.models.classic.regularized_autoencoders import (encoder_jacobian,
                                                              encoder_jacobian_norm)


def test_kl_sparsity_by_hand():
    h = gn.tensor([[0.1, 0.5], [0.3, 0.5]])
    rho = 0.2              # rho_hat = (0.2, 0.5): the first unit is on target, KL = 0
    want = 0.2 * np.log(0.2 / 0.5) + 0.8 * np.log(0.8 / 0.5)
    assert kl_sparsity_penalty(h, rho).item() == pytest.approx(want, rel=1e-6)
    assert kl_sparsity_penalty(gn.tensor(np.full((3, 4), 0.05)), 0.05).item() == \
        pytest.approx(0, abs=1e-7)


def test_contractive_by_hand():
    h = gn.tensor([[0.5, 0.2]])
    W = gn.tensor([[1.0, 2.0], [0.0, 3.0]])
    # (0.25^2 * 5) + (0.16^2 * 9)
    assert contractive_penalty(h, W).item() == pytest.approx(0.0625 * 5 + 0.0256 * 9,
                                                             rel=1e-6)


def test_gradcheck_of_the_penalties():
    rng = np.random.default_rng(0)
    gradcheck(lambda h: kl_sparsity_penalty(h, 0.1), [rng.uniform(0.05, 0.95, (6, 4))])
    gradcheck(contractive_penalty, [rng.uniform(0.05, 0.95, (6, 4)), rng.normal(size=(4, 3))])
    # through the encoder: the penalty depends on W directly and through h = sigmoid(xW^T+b)
    x = rng.normal(size=(5, 3))
    gradcheck(lambda W, b: contractive_penalty(F.sigmoid(F.linear(gn.tensor(x), W, b)), W),
              [rng.normal(size=(4, 3)), rng.normal(size=4)])
    gradcheck(lambda W, b: kl_sparsity_penalty(F.sigmoid(F.linear(gn.tensor(x), W, b)), 0.2),
              [rng.normal(size=(4, 3)), rng.normal(size=4)])


def test_closed_form_equals_finite_difference_jacobian():
    gn.backend.set_default_dtype(np.float64)
    try:
        cae = ContractiveAutoencoder(6, 4)
        X = np.random.default_rng(1).random((7, 6))
        J = encoder_jacobian(cae, X)                         # (7, 4, 6) by differences
        np.testing.assert_allclose((J ** 2).sum((1, 2)), encoder_jacobian_norm(cae, X),
                                   rtol=1e-7)
        cae.train()
        cae(gn.tensor(X))
        assert cae.penalty_.item() == pytest.approx(0.1 * (J ** 2).sum((1, 2)).mean(),
                                                    rel=1e-7)
    finally:
        gn.backend.set_default_dtype(np.float32)


def test_loss_is_reconstruction_plus_penalty():
    X = np.random.default_rng(2).random((10, 8)).astype(np.float32)
    sae = SparseAutoencoder(8, 5, rho=0.1, beta=2.0)
    out = sae(gn.tensor(X))
    rec = gn.nn.MSELoss()(out, gn.tensor(X)).item()
    pen = 2.0 * kl_sparsity_penalty(sae.encoder(gn.tensor(X)), 0.1).item()
    assert sae.loss()(out, gn.tensor(X)).item() == pytest.approx(rec + pen, rel=1e-5)


@pytest.fixture(scope="module")
def digits():
    X, _ = gn.data.load_digits()
    X = (X / 16).astype(np.float32)
    baseline = ((X[1400:] - X[:1400].mean(0)) ** 2).mean()   # predict the mean image: 0.0735
    return X[:1400], X[1400:], baseline


def _fit(model, X):
    model.fit(X, epochs=8, lr=3e-2, batch_size=32, seed=0)
    return model


def test_sparse_autoencoder_meets_its_target(digits):
    Xtr, Xt, baseline = digits
    plain = _fit(Autoencoder(64, 32), Xtr)
    sae = _fit(SparseAutoencoder(64, 32, rho=0.1, beta=0.3), Xtr)
    rho_hat = sae.mean_activation(Xt)
    assert abs(rho_hat.mean() - 0.1) < 0.02
    assert rho_hat.mean() < 0.5 * plain.encode(Xt).mean()
    assert sae.reconstruction_error(Xt).mean() < 0.6 * baseline    # it still reconstructs


def test_contractive_autoencoder_is_flatter(digits):
    Xtr, Xt, baseline = digits
    plain = _fit(Autoencoder(64, 32), Xtr)
    cae = _fit(ContractiveAutoencoder(64, 32, lam=0.01), Xtr)
    assert encoder_jacobian_norm(cae, Xt).mean() < 0.5 * encoder_jacobian_norm(plain, Xt).mean()
    assert cae.reconstruction_error(Xt).mean() < 0.6 * baseline


def test_errors():
    with pytest.raises(ValueError, match=r"in \[0, 1\]"):
        kl_sparsity_penalty(gn.tensor([[2.0, 0.5]]), 0.1)
    with pytest.raises(ValueError, match="rho must be"):
        SparseAutoencoder(4, 2, rho=1.0)
    with pytest.raises(ValueError, match="weight must be"):
        contractive_penalty(gn.tensor([[0.5, 0.5]]), gn.tensor(np.ones((3, 2))))
