"""Generative adversarial networks (Goodfellow et al.) built from ordinary glassnet modules.

A generator G maps a latent code z ~ N(0, I) (optionally with a class label) to a
sample; a discriminator D maps a sample to one logit (a "critic" score for the
Wasserstein loss). Training alternates a D step on a batch of real and generated samples
with a G step on freshly generated ones. With ``l = D(x)`` the logit and
``softplus(a) = log(1 + e^a)``::

    D (non-saturating and minimax): softplus(-l_real) * (1 - s) + softplus(l_real) * s
                                    + softplus(l_fake)       (s: one-sided label smoothing)
    G non-saturating:  softplus(-l_fake)           = -log D(G(z))
    G minimax:        -softplus(l_fake)            =  log(1 - D(G(z)))
    Wasserstein-GP:    D: mean l_fake - mean l_real + lambda * mean (||grad_x^ l||_2 - 1)^2
                       G: -mean l_fake             (x^ a random mix of real and fake)

The gradient penalty differentiates D's input gradient again (``create_graph=True``):
glassnet records double backward for the dense layers, the activations and the
reductions, not for convolutions or batch normalisation, so "wasserstein-gp" takes
a dense critic (a convolutional DCGAN critic raises). ``instance_noise`` adds Gaussian
noise to both real and fake inputs of D, another way to keep D from winning too early.

:class:`GANTrainer` runs the alternating updates inside :class:`glassnet.training.Trainer`
(callbacks, progress bar, history, checkpoints): one Adam with two parameter groups
(D, G), so a checkpoint resumes both. The history holds ``d_loss``, ``g_loss``, ``d_real``
(mean D(x)) and ``d_fake`` (mean D(G(z)), before the G step) per epoch (``loss`` is
``d_loss + g_loss``). :class:`GANSamples` writes a grid of samples per epoch.
:func:`frechet_distance` compares two sets of features (FID on a classifier's features).

>>> _ = gn.manual_seed(0)
>>> G = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 1))
>>> D = nn.Sequential(nn.Linear(1, 16), nn.LeakyReLU(0.2), nn.Linear(16, 1))
>>> gan = GAN(G, D, latent_dim=2)
>>> X = np.random.default_rng(0).normal(3.0, 0.5, size=(256, 1)).astype("float32")
>>> hist = GANTrainer(gan, lr=1e-3).fit(X, epochs=2, batch_size=64, verbose=0)
>>> sorted(k for k in ("d_loss", "g_loss", "d_real", "d_fake") if k in hist)
['d_fake', 'd_loss', 'd_real', 'g_loss']
>>> gan.sample(5).shape
(5, 1)
"""
from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np

from .. import nn, optim
from ..autograd.api import grad as _grad
from ..autograd.factories import rand, randn
from ..autograd.function import no_grad
from ..autograd.tensor import Tensor
from ..errors import ArgumentError
from ..functional.shape import cat as _cat
from ..nn import functional as F
from ..training.callbacks import Callback
from ..training.trainer import Trainer, _unpack, _weighted

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only
    from collections.abc import Sequence
    from typing import Any

    from glassnet._typing import PathLike, TensorLike
    from glassnet.autograd.generator import Generator

__all__ = ["GAN", "GANTrainer", "GANSamples", "DCGANGenerator", "DCGANDiscriminator",
           "dcgan_init", "frechet_distance", "frechet_distance_gaussians", "LOSSES"]

LOSSES = ("non_saturating", "minimax", "wasserstein-gp")


# ------------------------------------------------------------------ the DCGAN pair
class DCGANGenerator(nn.Module):
    """A DCGAN generator for ``image_size`` x ``image_size`` images (28 for MNIST):

    Linear(latent_dim (+ num_classes), c0 * s * s) -> BatchNorm1d -> ReLU -> (c0, s, s),
    then per further width c: ConvTranspose2d(stride 2, kernel 4, padding 1) -> BatchNorm2d
    -> ReLU doubling the side, and a last ConvTranspose2d(stride 2) to ``out_channels``
    followed by a sigmoid (pixels in [0, 1]) or a tanh (pixels in [-1, 1]);
    s = image_size / 2**len(channels).

    >>> DCGANGenerator(16, channels=(32, 16))(gn.randn(2, 16)).shape
    (2, 1, 28, 28)
    """

    def __init__(self, latent_dim: int = 64, channels: Sequence[int] = (64, 32),
                 out_channels: int = 1, image_size: int = 28, num_classes: int = 0,
                 output: str = "sigmoid") -> None:
        super().__init__()
        channels = [int(c) for c in channels]
        if not channels or min(channels) < 1:
            raise ArgumentError(f"DCGANGenerator: channels must be positive widths, got {channels}")
        if image_size % (2 ** len(channels)):
            raise ArgumentError(f"DCGANGenerator: image_size={image_size} is not divisible by "
                                f"2**len(channels)={2 ** len(channels)}")
        if output not in ("sigmoid", "tanh"):
            raise ArgumentError(f"DCGANGenerator: output must be 'sigmoid' or 'tanh', got {output!r}")
        s = image_size // 2 ** len(channels)
        self.latent_dim, self.num_classes, self.channels = int(latent_dim), int(num_classes), channels
        self.image_size, self.out_channels, self.output = int(image_size), int(out_channels), output
        c0 = channels[0]
        layers: list[nn.Module] = [nn.Linear(self.latent_dim + self.num_classes, c0 * s * s),
                                   nn.BatchNorm1d(c0 * s * s), nn.ReLU(),
                                   nn.Unflatten(1, (c0, s, s))]
        for a, b in zip(channels, channels[1:]):
            layers += [nn.ConvTranspose2d(a, b, 4, stride=2, padding=1), nn.BatchNorm2d(b), nn.ReLU()]
        layers += [nn.ConvTranspose2d(channels[-1], self.out_channels, 4, stride=2, padding=1),
                   nn.Sigmoid() if output == "sigmoid" else nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, z: Tensor) -> Tensor:
        return self.net(z)


class DCGANDiscriminator(nn.Module):
    """A DCGAN discriminator: per width c a Conv2d(kernel 4, stride 2, padding 1) ->
    (BatchNorm2d after the first) -> LeakyReLU(0.2), then Flatten -> Linear -> one logit.
    With ``num_classes`` the input has ``in_channels + num_classes`` planes (the one-hot
    label as constant planes, which :class:`GAN` appends).

    >>> DCGANDiscriminator(channels=(16, 32))(gn.rand(2, 1, 28, 28)).shape
    (2, 1)
    """

    def __init__(self, channels: Sequence[int] = (32, 64), in_channels: int = 1,
                 image_size: int = 28, num_classes: int = 0) -> None:
        super().__init__()
        channels = [int(c) for c in channels]
        if not channels or min(channels) < 1:
            raise ArgumentError(f"DCGANDiscriminator: channels must be positive widths, got {channels}")
        if image_size % (2 ** len(channels)):
            raise ArgumentError(f"DCGANDiscriminator: image_size={image_size} is not divisible "
                                f"by 2**len(channels)={2 ** len(channels)}")
        s = image_size // 2 ** len(channels)
        self.channels, self.in_channels, self.num_classes = channels, int(in_channels), int(num_classes)
        layers: list[nn.Module] = []
        prev = self.in_channels + self.num_classes
        for i, c in enumerate(channels):
            layers.append(nn.Conv2d(prev, c, 4, stride=2, padding=1))
            if i:
                layers.append(nn.BatchNorm2d(c))
            layers.append(nn.LeakyReLU(0.2))
            prev = c
        layers += [nn.Flatten(), nn.Linear(prev * s * s, 1)]
        self.net = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


def dcgan_init(module: nn.Module, std: float = 0.02, generator: Generator | None = None
               ) -> nn.Module:
    """DCGAN's initialisation (Radford et al.), in place: the weights of every Linear,
    Conv and ConvTranspose layer ~ N(0, std), their biases 0; the scales of every batch
    normalisation ~ N(1, std), their shifts 0. Returns ``module``.

    >>> G = dcgan_init(DCGANGenerator(16, channels=(32, 16)))
    >>> round(float(G.net[0].weight.numpy().std()), 2), float(abs(G.net[0].bias.numpy()).max())
    (0.02, 0.0)
    """
    if float(std) <= 0:
        raise ArgumentError(f"dcgan_init: std must be > 0, got {std}")
    init = nn.init
    for m in module.modules():
        if isinstance(m, (nn.Linear, nn.Conv1d, nn.Conv2d, nn.ConvTranspose2d)):
            init.normal_(m.weight, 0.0, float(std), generator=generator)
            if m.bias is not None:
                init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)) and m.weight is not None:
            init.normal_(m.weight, 1.0, float(std), generator=generator)
            if m.bias is not None:
                init.zeros_(m.bias)
    return module


# ------------------------------------------------------------------ the GAN
def _one_hot(labels: Any, num_classes: int, dtype: Any, who: str) -> np.ndarray:
    y = np.asarray(labels.numpy() if isinstance(labels, Tensor) else labels)
    if y.ndim != 1 or y.dtype.kind not in "iu":
        raise ArgumentError(f"{who}: labels must be a 1-D array of class indices, got "
                            f"shape {y.shape} dtype {y.dtype}")
    if y.size and (y.min() < 0 or y.max() >= num_classes):
        raise ArgumentError(f"{who}: labels must lie in [0, {num_classes}), got "
                            f"[{y.min()}, {y.max()}]")
    out = np.zeros((len(y), num_classes), dtype=dtype)
    out[np.arange(len(y)), y] = 1
    return out


class GAN(nn.Module):
    """A generator and a discriminator trained against each other.

    Parameters
    ----------
    generator : nn.Module
        ``(N, latent_dim [+ num_classes]) -> samples``.
    discriminator : nn.Module
        ``samples [+ label planes] -> (N, 1)`` or ``(N,)`` logits (critic scores).
    latent_dim : int
    num_classes : int, optional
        Class conditioning: the one-hot label is concatenated to z for G, and to D's
        input (as extra columns for flat samples, as constant planes for images (N, C, H, W)).
    loss : "non_saturating" (default), "minimax" or "wasserstein-gp"
    label_smoothing : float in [0, 1)
        One-sided label smoothing: D's target for real samples is 1 - label_smoothing.
    instance_noise : float
        Standard deviation of Gaussian noise added to D's real and fake inputs.
    gp_weight : float
        lambda of the gradient penalty ("wasserstein-gp").
    """

    def __init__(self, generator: nn.Module, discriminator: nn.Module, latent_dim: int,
                 num_classes: int | None = None, loss: str = "non_saturating",
                 label_smoothing: float = 0.0, instance_noise: float = 0.0,
                 gp_weight: float = 10.0) -> None:
        super().__init__()
        who = "GAN"
        for name, m in (("generator", generator), ("discriminator", discriminator)):
            if not isinstance(m, nn.Module):
                raise TypeError(f"{who}: {name} must be a glassnet.nn.Module, got {type(m).__name__}")
        if loss not in LOSSES:
            raise ArgumentError(f"{who}: loss must be one of {LOSSES}, got {loss!r}")
        if not 0.0 <= float(label_smoothing) < 1.0:
            raise ArgumentError(f"{who}: label_smoothing must be in [0, 1), got {label_smoothing}")
        if loss == "wasserstein-gp" and label_smoothing:
            raise ArgumentError(f"{who}: label_smoothing applies to the logistic losses, not "
                                f"to loss='wasserstein-gp'")
        if float(instance_noise) < 0:
            raise ArgumentError(f"{who}: instance_noise must be >= 0, got {instance_noise}")
        if int(latent_dim) < 1:
            raise ArgumentError(f"{who}: latent_dim must be >= 1, got {latent_dim}")
        if num_classes is not None and int(num_classes) < 2:
            raise ArgumentError(f"{who}: num_classes must be >= 2 (or None), got {num_classes}")
        self.generator, self.discriminator = generator, discriminator
        self.latent_dim = int(latent_dim)
        self.num_classes = None if num_classes is None else int(num_classes)
        self.loss, self.label_smoothing = loss, float(label_smoothing)
        self.instance_noise, self.gp_weight = float(instance_noise), float(gp_weight)

    # -- the two networks, conditioned
    def latent(self, n: int, generator: Generator | None = None) -> Tensor:
        """n codes z ~ N(0, I), (n, latent_dim)."""
        return randn(int(n), self.latent_dim, generator=generator, dtype=self.dtype)

    def generate(self, z: Tensor, labels: Any = None) -> Tensor:
        """G(z) (with the one-hot ``labels`` concatenated to z when conditional)."""
        if self.num_classes is not None:
            if labels is None:
                raise ArgumentError("GAN.generate: this GAN is class-conditional; give labels")
            oh = _one_hot(labels, self.num_classes, z.dtype, "GAN.generate")
            if len(oh) != z.shape[0]:
                raise ArgumentError(f"GAN.generate: {len(oh)} labels for {z.shape[0]} codes")
            z = _cat([z, Tensor(oh)], dim=1)
        return self.generator(z)

    def discriminate(self, x: Tensor, labels: Any = None) -> Tensor:
        """D's logits (N,) for samples x (with the label columns / planes when conditional)."""
        if self.num_classes is not None:
            if labels is None:
                raise ArgumentError("GAN.discriminate: this GAN is class-conditional; give labels")
            oh = _one_hot(labels, self.num_classes, x.dtype, "GAN.discriminate")
            if len(oh) != x.shape[0]:
                raise ArgumentError(f"GAN.discriminate: {len(oh)} labels for {x.shape[0]} samples")
            if x.ndim == 4:
                planes = np.broadcast_to(oh[:, :, None, None],
                                         (len(oh), self.num_classes) + tuple(x.shape[2:]))
                x = _cat([x, Tensor(np.ascontiguousarray(planes))], dim=1)
            else:
                x = _cat([x.reshape(x.shape[0], -1), Tensor(oh)], dim=1)
        out = self.discriminator(x)
        return out.reshape(out.shape[0])

    def forward(self, z: Tensor, labels: Any = None) -> Tensor:
        return self.generate(z, labels)

    def _noisy(self, x: Tensor) -> Tensor:
        if not self.instance_noise:
            return x
        return x + randn(*x.shape, dtype=x.dtype) * self.instance_noise

    # -- the losses
    def d_loss(self, real: Tensor, fake: Tensor, labels: Any = None
               ) -> tuple[Tensor, Tensor, Tensor]:
        """``(loss, logits on real, logits on fake)`` of a D step (``fake`` detached)."""
        lr = self.discriminate(self._noisy(real), labels)
        lf = self.discriminate(self._noisy(fake), labels)
        if self.loss == "wasserstein-gp":
            loss = lf.mean() - lr.mean()
            if self.gp_weight:
                loss = loss + self.gp_weight * self.gradient_penalty(real, fake, labels)
            return loss, lr, lf
        s = self.label_smoothing
        real_term = F.softplus(-lr) if not s else F.softplus(-lr) * (1 - s) + F.softplus(lr) * s
        return real_term.mean() + F.softplus(lf).mean(), lr, lf

    def g_loss(self, fake: Tensor, labels: Any = None) -> tuple[Tensor, Tensor]:
        """``(loss, logits on fake)`` of a G step."""
        lf = self.discriminate(self._noisy(fake), labels)
        if self.loss == "wasserstein-gp":
            return -lf.mean(), lf
        if self.loss == "minimax":
            return -F.softplus(lf).mean(), lf
        return F.softplus(-lf).mean(), lf

    def gradient_penalty(self, real: Tensor, fake: Tensor, labels: Any = None,
                         eps: TensorLike | None = None) -> Tensor:
        """mean over the batch of (||d D(x^) / d x^||_2 - 1)^2, x^ = eps real + (1 - eps)
        fake with eps ~ U(0, 1) per sample (or the given ``eps``, (N,)); differentiable in
        D's parameters (double backward)."""
        n = real.shape[0]
        shape = (n,) + (1,) * (real.ndim - 1)
        e = rand(*shape, dtype=real.dtype) if eps is None else \
            Tensor(np.asarray(eps, dtype=real.dtype).reshape(shape))
        mix = (e * real.detach() + (1 - e) * fake.detach()).detach().requires_grad_(True)
        score = self.discriminate(mix, labels)
        try:
            g, = _grad(score.sum(), mix, create_graph=True)
        except (NotImplementedError, RuntimeError) as error:
            raise NotImplementedError(
                f"GAN(loss='wasserstein-gp'): the gradient penalty needs the double backward "
                f"of every layer of the critic, and one of them has none ({error}); use a "
                f"dense critic (Linear, LeakyReLU, ...) or loss='non_saturating' with "
                f"label_smoothing / instance_noise") from error
        assert g is not None
        norm = ((g * g).reshape(n, -1).sum(dim=1) + 1e-12).sqrt()
        return ((norm - 1) ** 2).mean()

    # -- using it
    def sample(self, n: int, labels: Any = None, generator: Generator | None = None,
               batch_size: int = 1000) -> np.ndarray:
        """n samples of G in evaluation mode, as a NumPy array (labels: one per sample for
        a conditional GAN; default: the classes in turn)."""
        if self.num_classes is not None and labels is None:
            labels = np.arange(int(n)) % self.num_classes
        was = self.training
        self.eval()
        try:
            out = []
            with no_grad():
                for i in range(0, int(n), batch_size):
                    m = min(batch_size, int(n) - i)
                    z = self.latent(m, generator)
                    lab = None if labels is None else np.asarray(labels)[i:i + m]
                    out.append(self.generate(z, lab).numpy())
        finally:
            self.train(was)
        return np.concatenate(out) if out else np.zeros((0,))

    def extra_repr(self) -> str:
        return (f"latent_dim={self.latent_dim}, num_classes={self.num_classes}, "
                f"loss={self.loss!r}, label_smoothing={self.label_smoothing}, "
                f"instance_noise={self.instance_noise}")


# ------------------------------------------------------------------ training
def _gan_loss(out: Any, target: Any) -> Tensor:
    raise ArgumentError("GANTrainer: a GAN has no single loss of (output, target); use "
                        "GANTrainer.fit, whose steps compute d_loss and g_loss")


class GANTrainer(Trainer):
    """Alternating D and G updates through :class:`glassnet.training.Trainer`.

    Every training batch (``fit(X)``, or ``fit(X, labels)`` for a conditional GAN) makes
    ``d_steps`` D steps on the real batch and as many generated samples, then one G step
    on a fresh batch of codes. The optimizer is one Adam (``lr``, ``betas``; DCGAN's
    2e-4, (0.5, 0.999) by default) with two parameter groups, D then G (``lr_d`` for D's
    own rate), so checkpoints (``ModelCheckpoint(checkpoint=True)``) resume both.
    The epoch logs hold ``d_loss``, ``g_loss``, ``d_real``, ``d_fake`` (mean sigmoid of
    the logits, the raw critic scores for "wasserstein-gp") and ``loss = d_loss + g_loss``.
    """

    def __init__(self, gan: GAN, lr: float = 2e-4, betas: tuple[float, float] = (0.5, 0.999),
                 lr_d: float | None = None, d_steps: int = 1, optimizer: Any = None) -> None:
        if not isinstance(gan, GAN):
            raise TypeError(f"GANTrainer: gan must be a glassnet.models.GAN, got {type(gan).__name__}")
        if int(d_steps) < 1:
            raise ArgumentError(f"GANTrainer: d_steps must be >= 1, got {d_steps}")
        if optimizer is None:
            optimizer = optim.Adam([
                {"params": list(gan.discriminator.parameters()),
                 "lr": float(lr if lr_d is None else lr_d)},
                {"params": list(gan.generator.parameters())}], lr=float(lr), betas=betas)
        elif not isinstance(optimizer, optim.Optimizer) or len(optimizer.param_groups) != 2:
            raise ArgumentError("GANTrainer: optimizer must be an optim.Optimizer with two "
                                "parameter groups, the discriminator's then the generator's")
        super().__init__(gan, _gan_loss, optimizer)
        self.gan = gan
        self.d_steps = int(d_steps)
        self._d_params = list(gan.discriminator.parameters())
        self._g_params = list(gan.generator.parameters())

    def _score(self, logits: Tensor) -> float:
        a = logits._data.astype(np.float64)
        if self.gan.loss == "wasserstein-gp":
            return float(a.mean())
        return float((1.0 / (1.0 + np.exp(-a))).mean())

    def _step(self, loss: Tensor, params: list[Any], step: int) -> float:
        opt = self.optimizer
        opt.zero_grad()
        loss.backward()
        value = float(loss._data)
        if not math.isfinite(value):
            self._nonfinite(value, step)
        for p in params:      # the other network's gradients stay out of this step
            p.grad = None
        self._check_gradients(value, step)
        opt.step()
        return value

    def gan_step(self, xb: Any, yb: Any, step: int) -> dict[str, float]:
        """One D update (``d_steps`` of them) and one G update on a batch; returns the
        batch's d_loss, g_loss, d_real, d_fake."""
        gan = self.gan
        real = self._input(xb)
        labels = yb if gan.num_classes is not None else None
        n = real.shape[0]
        for _ in range(self.d_steps):
            fake = gan.generate(gan.latent(n), labels).detach()
            d_loss, lr, lf = gan.d_loss(real, fake, labels)
            d_value = self._step(d_loss, self._g_params, step)
        d_real, d_fake = self._score(lr), self._score(lf)
        g_loss, _ = gan.g_loss(gan.generate(gan.latent(n), labels), labels)
        g_value = self._step(g_loss, self._d_params, step)
        return {"d_loss": d_value, "g_loss": g_value, "d_real": d_real, "d_fake": d_fake}

    def train_epoch(self, batches: Any, epoch: int) -> dict[str, float]:
        self.epoch = epoch
        self._epoch_start = time.perf_counter()
        self.model.train()
        cbl = self._cbl
        cbl.on_epoch_begin(self, epoch)
        sums: dict[str, float] = {}
        count = 0
        weighted = _weighted(batches)
        for step, batch in enumerate(batches):
            xb, yb, _ = _unpack(batch, weighted)
            cbl.on_batch_begin(self, step)
            logs = self.gan_step(xb, yb, step)
            self.last_batch = (xb, yb)
            m = len(xb)
            for k, v in logs.items():
                sums[k] = sums.get(k, 0.0) + v * m
            count += m
            cbl.on_batch_end(self, step, {"loss": logs["d_loss"] + logs["g_loss"], **logs,
                                          "batch_size": m})
            if self.stop_training:
                break
        if count == 0:
            raise ArgumentError(f"GANTrainer.fit: train yielded no batch in epoch {epoch + 1}")
        out = {k: v / count for k, v in sums.items()}
        return {"loss": out["d_loss"] + out["g_loss"], **out}

    def end_epoch(self, epoch: int, logs: dict[str, float], validation: Any = None
                  ) -> dict[str, float]:
        if validation is not None:
            raise ArgumentError("GANTrainer.fit: a GAN has no validation loss; leave "
                                "validation_data out")
        return super().end_epoch(epoch, logs, None)


class GANSamples(Callback):
    """Writes a grid of ``n`` samples from fixed codes after every epoch to
    ``path.format(epoch=...)`` (e.g. ``"run/samples_{epoch:03d}.png"``, 1-based), and keeps
    the paths in ``paths``. Conditional GANs show the classes in turn (one row each for
    ``n = 10 * k``). Samples are images in [0, 1] (``low``/``high`` map another range)."""

    def __init__(self, path: PathLike, n: int = 64, seed: int = 0,
                 low: float = 0.0, high: float = 1.0) -> None:
        self.path, self.n, self.seed = str(path), int(n), int(seed)
        self.low, self.high = float(low), float(high)
        self.paths: list[Path] = []

    def on_train_begin(self, trainer: Any) -> None:
        self.paths = []

    def on_epoch_end(self, trainer: Any, epoch: int, logs: dict) -> None:
        from ..autograd.generator import Generator
        gan = trainer.model
        g = Generator().manual_seed(self.seed)
        labels = None if gan.num_classes is None else np.arange(self.n) % gan.num_classes
        imgs = gan.sample(self.n, labels, generator=g)
        imgs = (imgs - self.low) / (self.high - self.low)
        p = Path(self.path.format(epoch=epoch + 1))
        p.parent.mkdir(parents=True, exist_ok=True)
        plot_samples(imgs, p, ncols=gan.num_classes or None,
                     title=f"epoch {epoch + 1}: d_loss {logs.get('d_loss', float('nan')):.3f}, "
                           f"g_loss {logs.get('g_loss', float('nan')):.3f}")
        self.paths.append(p)


def plot_samples(images: np.ndarray, path: PathLike | None = None, ncols: int | None = None,
                 title: str | None = None) -> Any:
    """A grid of gray images in [0, 1]; returns the Figure (written to ``path`` when given)."""
    from .vae import plot_samples as _plot
    return _plot(images, path, ncols=ncols, title=title)


# ------------------------------------------------------------------ Fréchet distance
def _sqrt_psd(a: np.ndarray) -> np.ndarray:
    """The symmetric square root of a symmetric positive semi-definite matrix (eigh)."""
    w, v = np.linalg.eigh((a + a.T) / 2)
    return (v * np.sqrt(np.clip(w, 0, None))) @ v.T


def frechet_distance_gaussians(mu1: Any, cov1: Any, mu2: Any, cov2: Any) -> float:
    """The squared Fréchet (2-Wasserstein) distance between N(mu1, cov1) and N(mu2, cov2)::

        ||mu1 - mu2||^2 + tr(cov1) + tr(cov2) - 2 tr((cov1^1/2 cov2 cov1^1/2)^1/2)

    with the matrix square roots from symmetric eigendecompositions (NumPy only; the
    trace term equals tr((cov1 cov2)^1/2) of the usual FID formula)."""
    mu1, mu2 = np.asarray(mu1, np.float64).ravel(), np.asarray(mu2, np.float64).ravel()
    c1, c2 = np.atleast_2d(np.asarray(cov1, np.float64)), np.atleast_2d(np.asarray(cov2, np.float64))
    d = len(mu1)
    for name, v in (("mu2", mu2), ("cov1", c1), ("cov2", c2)):
        if v.shape != ((d,) if v.ndim == 1 else (d, d)):
            raise ArgumentError(f"frechet_distance_gaussians: {name} has shape {v.shape}, "
                                f"expected {(d,) if v.ndim == 1 else (d, d)} for {d} dimensions")
    s1 = _sqrt_psd(c1)
    w = np.linalg.eigvalsh(s1 @ c2 @ s1)
    tr_sqrt = float(np.sqrt(np.clip(w, 0, None)).sum())
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(c1) + np.trace(c2) - 2 * tr_sqrt)


def frechet_distance(feats_a: Any, feats_b: Any) -> float:
    """The Fréchet distance between Gaussians fitted to two feature sets (N, D) and (M, D)
    (mean and unbiased covariance): the FID when the features are an Inception network's,
    here any classifier's penultimate activations.

    >>> rng = np.random.default_rng(0)
    >>> a, b = rng.normal(size=(5000, 2)), rng.normal(size=(5000, 2)) + [3, 0]
    >>> round(frechet_distance(a, b), 1)     # ||mu_a - mu_b||^2 = 9, same covariance
    9.0
    """
    a, b = np.asarray(feats_a, np.float64), np.asarray(feats_b, np.float64)
    for name, v in (("feats_a", a), ("feats_b", b)):
        if v.ndim != 2 or len(v) < 2:
            raise ArgumentError(f"frechet_distance: {name} must be (N, D) with N >= 2, got "
                                f"shape {v.shape}")
    if a.shape[1] != b.shape[1]:
        raise ArgumentError(f"frechet_distance: feats_a has {a.shape[1]} features, feats_b "
                            f"{b.shape[1]}")
    return frechet_distance_gaussians(a.mean(0), np.cov(a, rowvar=False),
                                      b.mean(0), np.cov(b, rowvar=False))
