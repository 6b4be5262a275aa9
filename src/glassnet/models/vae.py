"""Variational autoencoders (Kingma & Welling): dense and convolutional.

The encoder maps an image x to the mean mu(x) and log-variance log sigma^2(x) of a
diagonal Gaussian q(z|x); a code is drawn with the reparameterisation trick
z = mu + sigma * eps, eps ~ N(0, I) (glassnet's generator: ``gn.manual_seed`` or a
``gn.Generator``), so the draw is a differentiable function of mu and log sigma^2; the
decoder maps z to the logits of a Bernoulli likelihood p(x|z) over the pixels.

Training minimises the negative ELBO per image, in nats::

    -ELBO(x) = E_q[-log p(x|z)] + KL(q(z|x) || N(0, I))
    reconstruction: sum over pixels of BCE(sigmoid(logits), x)   (one draw of z)
    KL (closed form): -1/2 sum_j (1 + log sigma_j^2 - mu_j^2 - sigma_j^2)

Both terms are reported separately per epoch (``recon``, ``kl``, ``val_recon``,
``val_kl`` beside ``loss`` and ``val_loss`` in the History), through
:class:`glassnet.training.Trainer`.

>>> vae = VAE(64, hidden=[32], latent=2)
>>> X = gn.rand(16, 64).numpy()
>>> hist = vae.fit(X, epochs=2, batch_size=8, seed=0)
>>> [k for k in ("loss", "recon", "kl") if k in hist]
['loss', 'recon', 'kl']
>>> vae.sample(3).shape
(3, 64)
"""
from __future__ import annotations

from statistics import NormalDist

import numpy as np

from .. import nn
from ..autograd.factories import randn
from ..autograd.function import no_grad
from ..autograd.tensor import Tensor
from ..nn import functional as F
from ..training.callbacks import Callback
from .autoencoder import _as_array

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only
    from collections.abc import Sequence
    from typing import Any

    from glassnet._typing import PathLike, TensorLike
    from glassnet.autograd.generator import Generator
    from glassnet.training.history import History


__all__ = ["VAE", "ConvVAE", "ELBOLoss", "kl_divergence", "bernoulli_nll", "reparameterize",
           "plot_latent_manifold", "plot_samples"]


# ------------------------------------------------------------------ the terms
def kl_divergence(mu: Tensor, logvar: Tensor) -> Tensor:
    """KL(N(mu, diag(exp(logvar))) || N(0, I)) per sample, in closed form: (N,) from (N, L).

    >>> kl_divergence(gn.zeros(2, 3), gn.zeros(2, 3)).numpy()   # q = p: no divergence
    array([0., 0.], dtype=float32)
    """
    return -0.5 * (1.0 + logvar - mu * mu - logvar.exp()).sum(dim=1)


def bernoulli_nll(logits: Tensor, x: TensorLike) -> Tensor:
    """-log p(x|z) per sample for a Bernoulli likelihood with these logits: binary cross
    entropy summed over every axis but the first, (N,). ``x`` holds intensities in [0, 1]."""
    per = F.binary_cross_entropy_with_logits(logits, x if isinstance(x, Tensor) else
                                             Tensor(np.asarray(x, logits.dtype)),
                                             reduction="none")
    return per.reshape(per.shape[0], -1).sum(dim=1)


def reparameterize(mu: Tensor, logvar: Tensor, generator: Generator | None = None) -> Tensor:
    """z = mu + exp(logvar / 2) * eps, eps ~ N(0, I) from glassnet's generator (or
    ``generator``): a draw from N(mu, exp(logvar)) through which gradients reach mu and
    logvar."""
    eps = randn(*mu.shape, generator=generator, dtype=mu.dtype)
    return mu + (0.5 * logvar).exp() * eps


# ------------------------------------------------------------------ the models
class VAE(nn.Module):
    """A dense variational autoencoder for flat inputs in [0, 1] (e.g. MNIST as (N, 784)).

    encoder: [Linear -> act] per ``hidden``; heads ``mu`` and ``logvar``: Linear -> latent;
    decoder: [Linear -> act] per reversed ``hidden``, then Linear -> ``in_features`` logits.
    ``VAE(784, [400], 20)`` is the model of PyTorch's examples repository (fc1, fc21/fc22,
    fc3, fc4), with the same parameter shapes and initialisation.

    ``forward(x)`` returns the reconstruction logits of one reparameterised draw (in
    training and evaluation alike: the ELBO is an expectation over q) and keeps ``mu_``
    and ``logvar_`` of that batch for :class:`ELBOLoss`.

    Parameters
    ----------
    in_features : int
    hidden : list of int
    latent : int
    activation : str (``nn.get_activation``)
    """

    def __init__(self, in_features: int = 784, hidden: Sequence[int] = (400,),
                 latent: int = 20, activation: str = "relu") -> None:
        super().__init__()
        hidden = [int(h) for h in hidden]
        if int(in_features) < 1 or int(latent) < 1 or any(h < 1 for h in hidden):
            raise ValueError(f"{type(self).__name__}: in_features, hidden and latent must be "
                             f"positive, got {in_features!r}, {hidden!r}, {latent!r}")
        self.in_features, self.latent, self.hidden = int(in_features), int(latent), hidden
        self.activation = activation
        sizes = [self.in_features] + hidden
        enc: list[nn.Module] = []
        for a, b in zip(sizes[:-1], sizes[1:]):
            enc += [nn.Linear(a, b), nn.get_activation(activation)]
        self.encoder = nn.Sequential(*enc)
        self.mu = nn.Linear(sizes[-1], self.latent)
        self.logvar = nn.Linear(sizes[-1], self.latent)
        rev = [self.latent] + hidden[::-1]
        dec: list[nn.Module] = []
        for a, b in zip(rev[:-1], rev[1:]):
            dec += [nn.Linear(a, b), nn.get_activation(activation)]
        dec.append(nn.Linear(rev[-1], self.in_features))
        self.decoder = nn.Sequential(*dec)
        self._clear()

    def _clear(self) -> None:
        object.__setattr__(self, "mu_", None)
        object.__setattr__(self, "logvar_", None)

    # ------------------------------------------------------------ the pieces
    def _check(self, x: Tensor) -> None:
        if x.ndim != 2 or x.shape[1] != self.in_features:
            raise ValueError(f"{type(self).__name__}: expected input (N, {self.in_features}), "
                             f"got {tuple(x.shape)}")

    def encode(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """(mu, logvar) of q(z|x), each (N, latent)."""
        self._check(x)
        h = self.encoder(x)
        return self.mu(h), self.logvar(h)

    def decode_logits(self, z: Tensor) -> Tensor:
        """The Bernoulli logits of p(x|z), shaped like the inputs."""
        return self.decoder(z)

    def forward(self, x: Tensor, generator: Generator | None = None) -> Tensor:
        mu, logvar = self.encode(x)
        object.__setattr__(self, "mu_", mu)
        object.__setattr__(self, "logvar_", logvar)
        return self.decode_logits(reparameterize(mu, logvar, generator))

    def _tensor(self, X: TensorLike, who: str) -> Tensor:
        a = _as_array(X, f"{type(self).__name__}.{who}")
        return Tensor(np.asarray(a, dtype=self.dtype))

    # ------------------------------------------------------------ training
    def fit(self, X: TensorLike, epochs: int = 10, batch_size: int = 128,
            validation: TensorLike | None = None, lr: float = 1e-3, optimizer: Any = "adam",
            callbacks: list[Callback] | None = None, verbose: int = 0,
            seed: int | None = None) -> History:
        """Minimise the negative ELBO with :class:`glassnet.training.Trainer`.

        Returns the History: per epoch ``loss`` (negative ELBO, nats per image),
        ``recon`` and ``kl`` (its two terms), and with ``validation`` (held-out inputs)
        ``val_loss``, ``val_recon``, ``val_kl``. Also kept as ``history_`` (the trainer as
        ``trainer_``).
        """
        from .. import optim, training
        Xa = _as_array(X, f"{type(self).__name__}.fit")
        if isinstance(optimizer, str):
            optimizer = optim.get(optimizer, self.parameters(), lr=lr)
        loss = ELBOLoss(self)
        trainer = training.Trainer(self, loss, optimizer)
        val = None
        if validation is not None:
            V = _as_array(validation, f"{type(self).__name__}.fit (validation)")
            val = (V, V)
        hist = trainer.fit((Xa, Xa), validation=val, epochs=epochs, batch_size=batch_size,
                           callbacks=[_ELBOTerms(loss)] + list(callbacks or ()),
                           verbose=verbose, seed=seed)
        self._clear()
        object.__setattr__(self, "trainer_", trainer)
        object.__setattr__(self, "history_", hist)
        return hist

    def negative_elbo(self, X: TensorLike, batch_size: int = 1000,
                      generator: Generator | None = None) -> dict[str, float]:
        """Mean ``{"loss", "recon", "kl"}`` per image over X (nats), one draw of z per
        image, in eval mode without gradients."""
        x = self._tensor(X, "negative_elbo")
        was = self.training
        self.eval()
        tot = np.zeros(2)
        try:
            with no_grad():
                for lo in range(0, x.shape[0], batch_size):
                    xb = x[lo:lo + batch_size]
                    logits = self(xb, generator)
                    tot += [float(bernoulli_nll(logits, xb).sum().item()),
                            float(kl_divergence(self.mu_, self.logvar_).sum().item())]
        finally:
            self.train(was)
            self._clear()
        r, k = tot / x.shape[0]
        return {"loss": float(r + k), "recon": float(r), "kl": float(k)}

    # ------------------------------------------------------------ generation
    def _probs(self, z: Tensor) -> np.ndarray:
        with no_grad():
            p = self.decode_logits(z).sigmoid().numpy()
        return p

    def decode(self, z: TensorLike) -> np.ndarray:
        """Pixel probabilities sigmoid(decoder(z)) for codes z (n, latent)."""
        zt = self._tensor(z, "decode")
        if zt.ndim != 2 or zt.shape[1] != self.latent:
            raise ValueError(f"{type(self).__name__}.decode: expected codes (n, {self.latent}), "
                             f"got {tuple(zt.shape)}")
        return self._probs(zt)

    def sample(self, n: int, generator: Generator | None = None) -> np.ndarray:
        """``n`` new images: codes from the prior N(0, I), decoded to pixel probabilities."""
        if int(n) < 1:
            raise ValueError(f"{type(self).__name__}.sample: n must be >= 1, got {n!r}")
        return self._probs(randn(int(n), self.latent, generator=generator, dtype=self.dtype))

    def embed(self, X: TensorLike) -> np.ndarray:
        """The posterior means mu(x) (N, latent) of X."""
        with no_grad():
            mu = self.encode(self._tensor(X, "embed"))[0].numpy()
        return mu

    def interpolate(self, x_a: TensorLike, x_b: TensorLike, steps: int = 10) -> np.ndarray:
        """Decoded images along the straight line between the posterior means of two
        inputs (each one image, or a batch of one): (steps, *image shape), the first and
        last being the decoded means of x_a and x_b."""
        if int(steps) < 2:
            raise ValueError(f"{type(self).__name__}.interpolate: steps must be >= 2, "
                             f"got {steps!r}")
        shape = self._input_shape()
        who = f"{type(self).__name__}.interpolate"
        ends = []
        for name, v in (("x_a", x_a), ("x_b", x_b)):
            a = np.asarray(v.numpy() if isinstance(v, Tensor) else v, dtype=self.dtype)
            if a.size != int(np.prod(shape)):
                raise ValueError(f"{who}: {name} must be one input of shape {shape} (or a "
                                 f"batch of one), got shape {a.shape}")
            ends.append(a.reshape((1,) + shape))
        a, b = ends
        za, zb = self.embed(a), self.embed(b)
        t = np.linspace(0.0, 1.0, int(steps), dtype=za.dtype)[:, None]
        return self.decode((1 - t) * za + t * zb)

    def _input_shape(self) -> tuple[int, ...]:
        return (self.in_features,)

    def latent_grid(self, n: int = 15, span: float = 0.95) -> np.ndarray:
        """For a 2-D latent: the decoded manifold, (n, n, *image shape), decoding the
        codes at the Gaussian's quantiles linspace(1 - span, span) / 2 .. per axis (row 0
        is the top: the largest second coordinate)."""
        if self.latent != 2:
            raise ValueError(f"{type(self).__name__}.latent_grid: needs a 2-D latent, this "
                             f"model has latent={self.latent}")
        q = np.linspace((1 - span) / 2, (1 + span) / 2, int(n))
        v = np.array([NormalDist().inv_cdf(p) for p in q])      # n quantiles, not pixels
        zx, zy = np.meshgrid(v, v[::-1])
        z = np.stack([zx.ravel(), zy.ravel()], axis=1)
        return self.decode(z).reshape((int(n), int(n)) + self._input_shape())

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, hidden={self.hidden}, latent={self.latent}"


class ConvVAE(VAE):
    """A convolutional VAE for square images whose side is divisible by 4.

    encoder: Conv 4x4 stride 2 (pad 1) -> act -> Conv 4x4 stride 2 -> act -> Flatten ->
    Linear(hidden) -> act; heads mu, logvar; decoder: Linear(hidden) -> act ->
    Linear -> act -> Unflatten -> ConvTranspose 4x4 stride 2 -> act -> ConvTranspose 4x4
    stride 2 -> logits (N, C, H, W). Inputs (N, C, H, W) or flattened (N, C*H*W); the
    output has the input's shape.

    >>> ConvVAE(1, 8, channels=(4, 8), hidden=16, latent=2)(gn.rand(3, 1, 8, 8)).shape
    (3, 1, 8, 8)
    """

    def __init__(self, in_channels: int = 1, image_size: int = 28,
                 channels: Sequence[int] = (32, 64), hidden: int = 256, latent: int = 2,
                 activation: str = "relu") -> None:
        who = type(self).__name__
        chans = [int(c) for c in channels]
        if len(chans) != 2 or min(chans) < 1:
            raise ValueError(f"{who}: channels must be two positive ints, got {channels!r}")
        if int(image_size) % 4 or int(image_size) < 4:
            raise ValueError(f"{who}: image_size must be a multiple of 4, got {image_size!r}")
        c, s = int(in_channels), int(image_size)
        nn.Module.__init__(self)
        self.in_features, self.latent, self.hidden = c * s * s, int(latent), [int(hidden)]
        self.activation = activation
        self.image_shape = (c, s, s)
        c1, c2 = chans
        q = s // 4
        act = nn.get_activation
        self.encoder = nn.Sequential(
            nn.Conv2d(c, c1, 4, stride=2, padding=1), act(activation),
            nn.Conv2d(c1, c2, 4, stride=2, padding=1), act(activation), nn.Flatten(),
            nn.Linear(c2 * q * q, int(hidden)), act(activation))
        self.mu = nn.Linear(int(hidden), self.latent)
        self.logvar = nn.Linear(int(hidden), self.latent)
        self.decoder = nn.Sequential(
            nn.Linear(self.latent, int(hidden)), act(activation),
            nn.Linear(int(hidden), c2 * q * q), act(activation), nn.Unflatten(1, (c2, q, q)),
            nn.ConvTranspose2d(c2, c1, 4, stride=2, padding=1), act(activation),
            nn.ConvTranspose2d(c1, c, 4, stride=2, padding=1))
        self._clear()

    def _input_shape(self) -> tuple[int, ...]:
        return self.image_shape

    def _check(self, x: Tensor) -> None:
        c, h, w = self.image_shape
        if tuple(x.shape[1:]) != self.image_shape:
            raise ValueError(f"{type(self).__name__}: expected input (N, {c}, {h}, {w}) or "
                             f"(N, {c * h * w}), got {tuple(x.shape)}")

    def encode(self, x: Tensor) -> tuple[Tensor, Tensor]:
        if x.ndim == 2 and x.shape[1] == self.in_features:
            x = x.reshape((x.shape[0],) + self.image_shape)
        return super().encode(x)

    def forward(self, x: Tensor, generator: Generator | None = None) -> Tensor:
        out = super().forward(x, generator)
        return out.reshape(x.shape) if x.ndim == 2 else out

    def decode(self, z: TensorLike) -> np.ndarray:
        return super().decode(z)

    def extra_repr(self) -> str:
        return f"image_shape={self.image_shape}, hidden={self.hidden[0]}, latent={self.latent}"


# ------------------------------------------------------------------ the loss
class ELBOLoss:
    """The negative ELBO of a :class:`VAE`'s last forward, mean over the batch (nats per
    image): ``loss(logits, x) = mean(bernoulli_nll(logits, x) + kl(mu_, logvar_))``.

    It adds up both terms over the batches it sees, separately for training and
    evaluation (by the model's mode), for :class:`_ELBOTerms` to report per epoch."""

    def __init__(self, model: VAE) -> None:
        self.model = model
        self.reset()

    def reset(self) -> None:
        # mode -> [reconstruction sum, KL sum, images]
        self.sums: dict[str, list[float]] = {"train": [0.0, 0.0, 0], "val": [0.0, 0.0, 0]}

    def __call__(self, logits: Tensor, x: TensorLike) -> Tensor:
        m = self.model
        if m.mu_ is None or m.logvar_ is None:
            raise RuntimeError("ELBOLoss: run the model's forward on the batch first")
        rec = bernoulli_nll(logits, x)
        kl = kl_divergence(m.mu_, m.logvar_)
        s = self.sums["train" if m.training else "val"]
        s[0] += float(rec.detach().sum().item())
        s[1] += float(kl.detach().sum().item())
        s[2] += rec.shape[0]
        return (rec + kl).mean()

    def terms(self, mode: str) -> dict[str, float]:
        r, k, n = self.sums[mode]
        return {"recon": r / n, "kl": k / n} if n else {}


class _ELBOTerms(Callback):
    """Writes the epoch's mean reconstruction and KL terms (train and validation) into its
    logs."""

    def __init__(self, loss: ELBOLoss) -> None:
        self.loss = loss

    def on_epoch_begin(self, trainer: Any, epoch: int) -> None:
        self.loss.reset()

    def on_epoch_end(self, trainer: Any, epoch: int, logs: dict) -> None:
        logs.update(self.loss.terms("train"))
        logs.update({f"val_{k}": v for k, v in self.loss.terms("val").items()})


# ------------------------------------------------------------------ pictures
def _tiles(images: np.ndarray) -> np.ndarray:
    """(n, [C,] H, W) or flat (n, H*W) gray images as (n, H, W) tiles."""
    a = np.asarray(images, dtype=float)
    if a.ndim == 2:
        side = int(round(np.sqrt(a.shape[1])))
        if side * side != a.shape[1]:
            raise ValueError(f"flat images of {a.shape[1]} pixels are not square; pass "
                             f"(n, H, W) images")
        return a.reshape(-1, side, side)
    if a.ndim == 4:
        if a.shape[1] != 1:
            raise ValueError(f"expected gray images (n, 1, H, W), got {a.shape}")
        return a[:, 0]
    return a


def plot_samples(images: np.ndarray, path: PathLike | None = None, ncols: int | None = None,
                 title: str | None = None) -> Any:
    """A montage of gray images in [0, 1] (e.g. ``vae.sample(64)``); returns the Figure and
    writes it to ``path`` when given."""
    from ..inspect._common import figure, save
    from ..inspect.pictures import montage
    tiles = _tiles(images)
    img = montage(np.clip(tiles, 0, 1), ncols=ncols)
    fig = figure(figsize=(6, 6 * img.shape[0] / img.shape[1]))
    ax = fig.add_subplot(1, 1, 1)
    from matplotlib import colormaps
    ax.imshow(img, cmap=colormaps["gray"].with_extremes(bad="white"), vmin=0, vmax=1,
              interpolation="nearest")
    ax.set_axis_off()
    if title:
        ax.set_title(title, fontsize=9)
    fig.tight_layout()
    return fig if path is None else save(fig, path)


def plot_latent_manifold(vae: VAE, n: int = 15, path: PathLike | None = None,
                         span: float = 0.95, title: str | None = None) -> Any:
    """The decoded manifold of a 2-D latent: ``vae.latent_grid(n, span)`` as one picture,
    the axes labelled with the N(0, 1) quantiles' values of z1 (across) and z2 (up)."""
    from ..inspect._common import figure, save
    from ..inspect.pictures import montage
    grid = vae.latent_grid(n, span)
    tiles = _tiles(grid.reshape((n * n,) + grid.shape[2:]))
    img = montage(np.clip(tiles, 0, 1), ncols=n, pad=0)
    q = np.linspace((1 - span) / 2, (1 + span) / 2, n)
    lo, hi = NormalDist().inv_cdf(float(q[0])), NormalDist().inv_cdf(float(q[-1]))
    fig = figure(figsize=(6.5, 6))
    ax = fig.add_subplot(1, 1, 1)
    ax.imshow(img, cmap="gray", vmin=0, vmax=1, extent=(lo, hi, lo, hi),
              interpolation="nearest")
    ax.set_xlabel("z1")
    ax.set_ylabel("z2")
    ax.set_title(title or f"decoded manifold ({n}x{n} codes at N(0,1) quantiles)", fontsize=9)
    fig.tight_layout()
    return fig if path is None else save(fig, path)
