"""Variational autoencoders: the KL term, the reparameterisation trick, the ELBO terms per
epoch, learning on the embedded digits, sampling, interpolation and the pictures."""
import numpy as np
import pytest

import glassnet as gn
from glassnet.autograd.gradcheck import gradcheck
from glassnet.data import load_digits
from glassnet.models import VAE, ConvVAE
from glassnet.models.vae import (bernoulli_nll, kl_divergence, plot_latent_manifold,
                                 plot_samples, reparameterize)


def _digits():
    X, _ = load_digits()
    return (X / 16.0).astype(np.float32)


def test_kl_equals_closed_form_and_monte_carlo():
    rng = np.random.default_rng(0)
    mu = rng.standard_normal((3, 4))
    logvar = rng.uniform(-1.5, 1.0, (3, 4))
    kl = kl_divergence(gn.tensor(mu), gn.tensor(logvar)).numpy()
    var = np.exp(logvar)
    closed = 0.5 * np.sum(var + mu ** 2 - 1.0 - logvar, axis=1)
    np.testing.assert_allclose(kl, closed, rtol=1e-12)
    # Monte Carlo: E_q[log q(z) - log p(z)] with z ~ q
    z = mu + np.sqrt(var) * rng.standard_normal((200_000, 3, 4))
    logq = -0.5 * (np.log(2 * np.pi) + logvar + (z - mu) ** 2 / var)
    logp = -0.5 * (np.log(2 * np.pi) + z ** 2)
    mc = (logq - logp).sum(axis=2).mean(axis=0)
    np.testing.assert_allclose(kl, mc, atol=0.03)
    assert np.all(kl > 0)


def test_bernoulli_nll_is_summed_binary_cross_entropy():
    rng = np.random.default_rng(1)
    logits = rng.standard_normal((5, 7))
    x = rng.uniform(0, 1, (5, 7))
    p = 1 / (1 + np.exp(-logits))
    ref = -(x * np.log(p) + (1 - x) * np.log(1 - p)).sum(axis=1)
    np.testing.assert_allclose(bernoulli_nll(gn.tensor(logits), x).numpy(), ref, rtol=1e-10)


def test_reparameterised_sample_has_the_right_moments_and_is_seeded():
    mu = gn.tensor(np.tile([[1.0, -2.0, 0.5]], (100_000, 1)))
    logvar = gn.tensor(np.tile(np.log([[1.0, 4.0, 0.25]]), (100_000, 1)))
    gn.manual_seed(0)
    z = reparameterize(mu, logvar).numpy()
    np.testing.assert_allclose(z.mean(axis=0), [1.0, -2.0, 0.5], atol=0.02)
    np.testing.assert_allclose(z.var(axis=0), [1.0, 4.0, 0.25], rtol=0.02)
    gn.manual_seed(0)
    np.testing.assert_array_equal(reparameterize(mu, logvar).numpy(), z)
    a = reparameterize(mu[:4], logvar[:4], gn.Generator().manual_seed(3)).numpy()
    b = reparameterize(mu[:4], logvar[:4], gn.Generator().manual_seed(3)).numpy()
    np.testing.assert_array_equal(a, b)


def test_gradients_flow_to_mean_and_log_variance():
    rng = np.random.default_rng(2)
    mu0, lv0 = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    # float64 gradcheck of the reparameterised draw (the same eps at every evaluation)
    gradcheck(lambda m, lv: reparameterize(m, lv, gn.Generator().manual_seed(5)), [mu0, lv0])
    gradcheck(lambda m, lv: kl_divergence(m, lv), [mu0, lv0])
    # through the whole model: the encoder's heads get gradients from both terms
    gn.manual_seed(0)
    vae = VAE(64, hidden=[16], latent=3)
    x = gn.tensor(_digits()[:32])
    logits = vae(x)
    mu, logvar = vae.mu_, vae.logvar_
    mu.retain_grad()
    logvar.retain_grad()
    loss = (bernoulli_nll(logits, x) + kl_divergence(mu, logvar)).mean()
    loss.backward()
    for t in (mu, logvar, vae.mu.weight, vae.logvar.weight, vae.encoder[0].weight):
        assert t.grad is not None and np.abs(t.grad.numpy()).sum() > 0


def test_dense_vae_learns_digits_and_reports_both_terms():
    X = _digits()
    gn.manual_seed(0)
    vae = VAE(64, hidden=[64], latent=4)
    hist = vae.fit(X[:1500], epochs=12, batch_size=64, validation=X[1500:], seed=0)
    for k in ("loss", "recon", "kl", "val_loss", "val_recon", "val_kl"):
        assert len(hist[k]) == 12
    np.testing.assert_allclose(np.add(hist["recon"], hist["kl"]), hist["loss"], rtol=1e-5)
    np.testing.assert_allclose(np.add(hist["val_recon"], hist["val_kl"]), hist["val_loss"],
                               rtol=1e-5)
    assert hist["loss"][-1] < 0.8 * hist["loss"][0]
    assert hist["val_loss"][-1] < 0.85 * hist["val_loss"][0]
    ev = vae.negative_elbo(X[1500:], generator=gn.Generator().manual_seed(0))
    assert abs(ev["loss"] - hist["val_loss"][-1]) < 0.05 * hist["val_loss"][-1]
    assert ev["kl"] > 0.5      # the code is used: the posterior is not the prior


def test_conv_vae_learns_digits_with_conv_transpose():
    X = _digits().reshape(-1, 1, 8, 8)
    gn.manual_seed(0)
    vae = ConvVAE(1, 8, channels=(8, 16), hidden=32, latent=2)
    assert any(isinstance(m, gn.nn.ConvTranspose2d) for m in vae.decoder)
    hist = vae.fit(X[:1000], epochs=8, batch_size=50, seed=0)
    assert hist["loss"][-1] < 0.85 * hist["loss"][0]
    assert vae(gn.tensor(X[:3].reshape(3, 64))).shape == (3, 64)   # flat in, flat out


def test_sample_interpolate_manifold_and_pictures(tmp_path):
    X = _digits()
    gn.manual_seed(0)
    vae = VAE(64, hidden=[32], latent=2)
    vae.fit(X[:500], epochs=2, batch_size=50, seed=0)
    s = vae.sample(9, generator=gn.Generator().manual_seed(1))
    assert s.shape == (9, 64) and s.min() >= 0 and s.max() <= 1
    np.testing.assert_array_equal(s, vae.sample(9, generator=gn.Generator().manual_seed(1)))
    path = vae.interpolate(X[0], X[1], steps=5)
    assert path.shape == (5, 64)
    np.testing.assert_allclose(path[0], vae.decode(vae.embed(X[:1]))[0], atol=1e-6)
    np.testing.assert_allclose(path[-1], vae.decode(vae.embed(X[1:2]))[0], atol=1e-6)
    grid = vae.latent_grid(6)
    assert grid.shape == (6, 6, 64)
    plot_latent_manifold(vae, 6, path=tmp_path / "manifold.png")
    plot_samples(s, path=tmp_path / "samples.png")
    assert (tmp_path / "manifold.png").stat().st_size > 0
    assert (tmp_path / "samples.png").stat().st_size > 0


def test_clear_errors():
    vae = VAE(64, hidden=[8], latent=3)
    with pytest.raises(ValueError, match=r"expected input \(N, 64\)"):
        vae(gn.rand(2, 10))
    with pytest.raises(ValueError, match="needs a 2-D latent"):
        vae.latent_grid()
    with pytest.raises(ValueError, match="steps must be >= 2"):
        vae.interpolate(np.zeros(64), np.zeros(64), steps=1)
    with pytest.raises(ValueError, match=r"expected codes \(n, 3\)"):
        vae.decode(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="multiple of 4"):
        ConvVAE(1, 10)
    with pytest.raises(ValueError, match="positive"):
        VAE(64, hidden=[0])


@pytest.mark.parametrize("make", [lambda: VAE(64, [16], 2),
                                  lambda: ConvVAE(1, 8, channels=(4, 8), hidden=16, latent=2)])
def test_save_load_round_trip(tmp_path, make):
    gn.manual_seed(0)
    vae = make()
    gn.save(vae, tmp_path / "vae.gn")
    back = gn.load(tmp_path / "vae.gn")
    assert type(back) is type(vae)
    z = np.random.default_rng(0).standard_normal((4, 2)).astype(np.float32)
    np.testing.assert_array_equal(back.decode(z), vae.decode(z))
