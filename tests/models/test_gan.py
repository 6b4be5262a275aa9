"""GAN: losses against hand computation, the gradient penalty against finite differences,
DCGAN shapes and a D step, conditioning, a 1-D Gaussian GAN, the Fréchet distance closed form."""
import numpy as np
import pytest

import glassnet as gn
from glassnet import nn
from glassnet.errors import ArgumentError
from glassnet.models.gan import (GAN, GANTrainer, DCGANGenerator, DCGANDiscriminator, dcgan_init,
                                 frechet_distance, frechet_distance_gaussians)


def _softplus(a):
    return np.log1p(np.exp(a))


class _Fixed(nn.Module):
    """A 'discriminator' returning its input's first column (the logits are chosen)."""

    def forward(self, x):
        return x[:, :1]


def _gan(loss="non_saturating", **kw):
    return GAN(nn.Linear(2, 1).double(), _Fixed(), 2, loss=loss, **kw)


def test_losses_equal_hand_computation():
    lr = np.array([[0.3], [-1.2], [2.0]])
    lf = np.array([[-0.5], [0.8], [0.1]])
    real, fake = gn.tensor(lr), gn.tensor(lf)
    d, _, _ = _gan().d_loss(real, fake)
    assert d.item() == pytest.approx(_softplus(-lr).mean() + _softplus(lf).mean())
    s = 0.1
    d, _, _ = _gan(label_smoothing=s).d_loss(real, fake)
    want = ((1 - s) * _softplus(-lr) + s * _softplus(lr)).mean() + _softplus(lf).mean()
    assert d.item() == pytest.approx(want)
    assert _gan().g_loss(fake)[0].item() == pytest.approx(_softplus(-lf).mean())
    assert _gan("minimax").g_loss(fake)[0].item() == pytest.approx(-_softplus(lf).mean())
    w = _gan("wasserstein-gp", gp_weight=0.0)
    assert w.d_loss(real, fake)[0].item() == pytest.approx(lf.mean() - lr.mean())
    assert w.g_loss(fake)[0].item() == pytest.approx(-lf.mean())


def test_gradient_penalty_value_and_gradient():
    gn.manual_seed(1)
    D = nn.Sequential(nn.Linear(3, 8), nn.LeakyReLU(0.2), nn.Linear(8, 1)).double()
    gan = GAN(nn.Linear(2, 3).double(), D, 2, loss="wasserstein-gp")
    rng = np.random.default_rng(0)
    real, fake = gn.tensor(rng.normal(size=(4, 3))), gn.tensor(rng.normal(size=(4, 3)))
    eps = np.array([0.1, 0.5, 0.7, 0.9])
    gp = gan.gradient_penalty(real, fake, eps=eps)
    # value: the critic's input gradient of a piecewise-linear net, by finite differences
    mix = eps[:, None] * real.numpy() + (1 - eps[:, None]) * fake.numpy()
    h = 1e-6
    g = np.stack([(gan.discriminate(gn.tensor(mix + h * e)).numpy() -
                   gan.discriminate(gn.tensor(mix - h * e)).numpy()) / (2 * h)
                  for e in np.eye(3)], axis=1)
    assert gp.item() == pytest.approx(((np.linalg.norm(g, axis=1) - 1) ** 2).mean(), rel=1e-6)
    gp.backward()
    for P, idx in ((D[0].weight, (0, 0)), (D[0].weight, (3, 2)), (D[2].weight, (0, 5))):
        W = P._data
        W[idx] += h
        a = gan.gradient_penalty(real, fake, eps=eps).item()
        W[idx] -= 2 * h
        b = gan.gradient_penalty(real, fake, eps=eps).item()
        W[idx] += h
        assert P.grad.numpy()[idx] == pytest.approx((a - b) / (2 * h), rel=1e-5, abs=1e-9)


def test_gradient_penalty_on_a_conv_critic_says_what_is_missing():
    gan = GAN(DCGANGenerator(8, (8, 4)), DCGANDiscriminator((4, 8)), 8, loss="wasserstein-gp")
    x = gn.rand(2, 1, 28, 28)
    with pytest.raises(NotImplementedError, match="double backward"):
        gan.gradient_penalty(x, x)


def test_dcgan_shapes_and_a_d_step_lowers_the_d_loss():
    gn.manual_seed(0)
    gan = GAN(DCGANGenerator(16, (16, 8)), DCGANDiscriminator((8, 16)), 16)
    z = gan.latent(4)
    assert gan.generate(z).shape == (4, 1, 28, 28)
    assert gan.discriminate(gan.generate(z)).shape == (4,)
    real = gn.tensor(np.random.default_rng(0).random((32, 1, 28, 28)).astype("float32"))
    fake = gan.generate(gan.latent(32)).detach()
    tr = GANTrainer(gan, lr=1e-3)
    before = gan.d_loss(real, fake)[0].item()
    for _ in range(3):
        tr._step(gan.d_loss(real, fake)[0], tr._g_params, 0)
    assert gan.d_loss(real, fake)[0].item() < before


def test_conditioning_shapes_and_label_errors():
    gan = GAN(DCGANGenerator(8, (8, 4), num_classes=10),
              DCGANDiscriminator((4, 8), num_classes=10), 8, num_classes=10)
    s = gan.sample(20)
    assert s.shape == (20, 1, 28, 28) and 0 <= s.min() and s.max() <= 1
    assert gan.discriminate(gn.tensor(s), np.arange(20) % 10).shape == (20,)
    with pytest.raises(ArgumentError, match="labels"):
        gan.generate(gan.latent(2), np.array([0, 10]))
    with pytest.raises(ArgumentError, match="give labels"):
        gan.generate(gan.latent(2))
    dense = GAN(nn.Linear(4 + 3, 5), nn.Linear(5 + 3, 1), 4, num_classes=3)
    assert dense.discriminate(dense.generate(dense.latent(6), np.arange(6) % 3),
                              np.arange(6) % 3).shape == (6,)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_1d_gaussian_gan_matches_mean_and_std(seed):
    gn.manual_seed(seed)
    G = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 1))
    D = nn.Sequential(nn.Linear(1, 32), nn.LeakyReLU(0.2), nn.Linear(32, 1))
    gan = GAN(G, D, latent_dim=2)
    X = np.random.default_rng(seed).normal(3.0, 0.5, size=(2048, 1)).astype("float32")
    h = GANTrainer(gan, lr=1e-3).fit(X, epochs=30, batch_size=64, verbose=0, seed=seed)
    s = gan.sample(5000)
    assert abs(s.mean() - 3.0) < 0.5
    assert 0.15 < s.std() < 1.0
    assert set(h.history) >= {"d_loss", "g_loss", "d_real", "d_fake", "loss"}


def test_frechet_distance_closed_form():
    rng = np.random.default_rng(0)
    Q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    a, b = np.array([1.0, 4.0, 9.0]), np.array([4.0, 1.0, 0.25])
    c1, c2 = Q @ np.diag(a) @ Q.T, Q @ np.diag(b) @ Q.T     # commuting covariances
    mu1, mu2 = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 0.0])
    want = 5.0 + ((np.sqrt(a) - np.sqrt(b)) ** 2).sum()
    assert frechet_distance_gaussians(mu1, c1, mu2, c2) == pytest.approx(want, rel=1e-10)
    assert frechet_distance_gaussians(mu1, c1, mu1, c1) == pytest.approx(0.0, abs=1e-9)
    x = rng.multivariate_normal(mu1, c1, size=200000)
    y = rng.multivariate_normal(mu2, c2, size=200000)
    assert frechet_distance(x, y) == pytest.approx(want, rel=0.02)
    with pytest.raises(ArgumentError, match="feats_b"):
        frechet_distance(x, y[:, :2])


def _small(seed, loss="non_saturating", num_classes=None):
    gn.manual_seed(seed)
    k = num_classes or 0
    G = nn.Sequential(nn.Linear(2 + k, 8), nn.ReLU(), nn.Linear(8, 1))
    D = nn.Sequential(nn.Linear(1 + k, 8), nn.LeakyReLU(0.2), nn.Linear(8, 1))
    return GAN(G, D, 2, loss=loss, num_classes=num_classes)


def test_trainer_state_resumes_both_networks_bit_for_bit():
    X = np.random.default_rng(0).normal(1.0, 0.3, size=(96, 1)).astype("float32")
    a = _small(0)
    GANTrainer(a, lr=1e-3).fit(X, epochs=2, batch_size=32, verbose=0, seed=0)
    b = _small(0)
    t = GANTrainer(b, lr=1e-3)
    t.fit(X, epochs=1, batch_size=32, verbose=0, seed=0)
    state = t.state_dict()
    c = _small(5)
    h = GANTrainer(c, lr=1e-3).fit(X, epochs=2, batch_size=32, verbose=0, seed=0, resume=state)
    assert len(h.history["d_loss"]) == 2
    for (k, va), vc in zip(a.state_dict().items(), c.state_dict().values()):
        np.testing.assert_array_equal(va.numpy(), vc.numpy(), err_msg=k)


def test_wasserstein_gp_and_conditional_fits_run():
    X = np.random.default_rng(0).normal(1.0, 0.3, size=(64, 1)).astype("float32")
    h = GANTrainer(_small(0, "wasserstein-gp"), lr=1e-3).fit(X, epochs=2, batch_size=32,
                                                           verbose=0)
    assert all(np.isfinite(h.history["d_loss"]))
    cond = _small(0, num_classes=3)
    y = np.arange(64) % 3
    GANTrainer(cond, lr=1e-3).fit(X, y, epochs=1, batch_size=32, verbose=0)
    assert cond.sample(6, np.arange(6) % 3).shape == (6, 1)


def test_dcgan_init_draws_normal_weights_and_unit_scales():
    G = dcgan_init(DCGANGenerator(16, (32, 16)), generator=gn.Generator().manual_seed(0))
    D = dcgan_init(DCGANDiscriminator((16, 32)), std=0.05)
    for m, std in [(x, 0.02) for x in G.modules()] + [(x, 0.05) for x in D.modules()]:
        if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
            w = m.weight.numpy()
            assert abs(w.std() - std) < 0.15 * std and abs(w.mean()) < 0.1 * std
            assert not m.bias.numpy().any()
        elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            assert abs(m.weight.numpy().mean() - 1) < 0.01 and m.weight.numpy().std() > 0
            assert not m.bias.numpy().any()
    with pytest.raises(ArgumentError, match="std"):
        dcgan_init(G, std=0)


def test_wgan_gp_critic_steps_match_pytorch():
    torch = pytest.importorskip("torch")
    gn.manual_seed(0)
    D = nn.Sequential(nn.Linear(1, 16), nn.LeakyReLU(0.2), nn.Linear(16, 1)).double()
    gan = GAN(nn.Linear(2, 1).double(), D, 2, loss="wasserstein-gp")
    TD = torch.nn.Sequential(torch.nn.Linear(1, 16), torch.nn.LeakyReLU(0.2),
                             torch.nn.Linear(16, 1)).double()
    TD.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in D.state_dict().items()})
    from glassnet import optim
    opt = optim.Adam(D.parameters(), lr=1e-3, betas=(0.5, 0.9))
    topt = torch.optim.Adam(TD.parameters(), lr=1e-3, betas=(0.5, 0.9))
    rng = np.random.default_rng(0)
    for _ in range(20):
        real, fake = rng.normal(3, 0.5, size=(32, 1)), rng.normal(0, 0.3, size=(32, 1))
        eps = rng.uniform(size=32)
        loss = (gan.discriminate(gn.tensor(fake)).mean() - gan.discriminate(gn.tensor(real)).mean()
                + 10 * gan.gradient_penalty(gn.tensor(real), gn.tensor(fake), eps=eps))
        opt.zero_grad()
        loss.backward()
        opt.step()
        r, f, e = (torch.from_numpy(a) for a in (real, fake, eps[:, None]))
        mix = (e * r + (1 - e) * f).requires_grad_(True)
        g, = torch.autograd.grad(TD(mix).sum(), mix, create_graph=True)
        tloss = TD(f).mean() - TD(r).mean() + 10 * ((g.flatten(1).norm(dim=1) - 1) ** 2).mean()
        topt.zero_grad()
        tloss.backward()
        topt.step()
        assert loss.item() == pytest.approx(tloss.item(), rel=1e-9, abs=1e-12)
    for (k, v), tv in zip(D.state_dict().items(), TD.state_dict().values()):
        np.testing.assert_allclose(v.numpy(), tv.numpy(), rtol=1e-9, atol=1e-12, err_msg=k)
