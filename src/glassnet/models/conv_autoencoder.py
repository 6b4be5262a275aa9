"""A small convolutional autoencoder for square images (side divisible by 4).

>>> cae = ConvAutoencoder(1, 28, channels=[16, 8], code=32)
>>> cae.fit(X.reshape(-1, 1, 28, 28), epochs=5); err = cae.reconstruction_error(Xt)  # doctest: +SKIP
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from .. import nn
from ..functional import math as F
from .autoencoder import Autoencoder, _as_array, _init_linear
from .noise import check_noise, corrupt

if TYPE_CHECKING:  # annotations only
    from glassnet._typing import TensorLike
    from glassnet.autograd.tensor import Tensor
    from glassnet.nn.module import Module


__all__ = ["ConvAutoencoder"]


class ConvAutoencoder(Autoencoder):
    """A small convolutional autoencoder for square images whose side is divisible by 4
    (28x28 MNIST, 8x8 digits).

    Encoder: [Conv kxk (same) -> [BatchNorm] -> act -> MaxPool 2] x 2 -> Linear(code).
    Decoder: Linear -> act -> reshape -> [Upsample 2 -> Conv kxk -> act] x 2 with the last
    convolution mapping to ``in_channels`` and ``output_activation``.

    Inputs (N, C, H, W), or (N, C*H*W) flattened (the output then has the same shape).

    Parameters
    ----------
    in_channels : int
    image_size : int
    channels : list of two ints
        Feature maps of the two encoder convolutions (the decoder mirrors them).
    code : int
        Code size.
    kernel_size : int (odd)
    batch_norm : bool
    noise, noise_level : corruption while training (``noise_level=0``: none).

    Example
    -------
    >>> cae = ConvAutoencoder(1, 28, channels=[16, 8], code=32)
    >>> cae.fit(X.reshape(-1, 1, 28, 28), epochs=5); cae.reconstruction_error(Xt)  # doctest: +SKIP
    """

    def __init__(self, in_channels: int = 1, image_size: int = 28,
                 channels: Sequence[int] = (16, 8),
                 code: int = 32, kernel_size: int = 3, activation: str = "relu",
                 output_activation: str = "sigmoid", loss: str = "mse",
                 batch_norm: bool = False, noise: str = "mask", noise_level: float = 0.0) -> None:
        channels = [int(c) for c in channels]
        who = "ConvAutoencoder"
        if len(channels) != 2 or min(channels) < 1:
            raise ValueError(f"{who}: channels must be two positive ints, got {channels!r}")
        if image_size % 4 or image_size < 4:
            raise ValueError(f"{who}: image_size must be a multiple of 4, got {image_size!r}")
        if kernel_size % 2 == 0:
            raise ValueError(f"{who}: kernel_size must be odd (same padding), got {kernel_size}")
        c1, c2 = channels
        p, s = kernel_size // 2, image_size // 4

        act = nn.get_activation

        def block(cin: int, cout: int) -> list[Module]:
            conv = nn.Conv2d(cin, cout, kernel_size, padding=p, bias=not batch_norm)
            return [conv] + ([nn.BatchNorm2d(cout)] if batch_norm else []) + [act(activation)]

        enc = block(in_channels, c1) + [nn.MaxPool2d(2)] + block(c1, c2) + [nn.MaxPool2d(2),
                                                                            nn.Flatten()]
        enc.append(_init_linear(nn.Linear(c2 * s * s, int(code)), activation))
        dec: list[Module] = [_init_linear(nn.Linear(int(code), c2 * s * s), activation),
                             act(activation), nn.Unflatten(1, (c2, s, s)),
                             nn.Upsample(scale_factor=2)] + block(c2, c1)
        dec += [nn.Upsample(scale_factor=2),
                nn.Conv2d(c1, in_channels, kernel_size, padding=p), act(output_activation)]
        super().__init__(loss=loss, output_activation=output_activation,
                         encoder=nn.Sequential(*enc), decoder=nn.Sequential(*dec))
        self.activation = activation
        self.image_shape = (int(in_channels), int(image_size), int(image_size))
        self.noise_level = check_noise(noise, noise_level, who)
        self.noise = noise

    def _check(self, x: Tensor | np.ndarray) -> None:
        c, h, w = self.image_shape
        if not ((x.ndim == 4 and tuple(x.shape[1:]) == self.image_shape)
                or (x.ndim == 2 and x.shape[1] == c * h * w)):
            raise ValueError(f"ConvAutoencoder: expected input (N, {c}, {h}, {w}) or "
                             f"(N, {c * h * w}), got {tuple(x.shape)}")

    def encode(self, X: TensorLike, batch_size: int = 1024) -> np.ndarray:
        """Codes (N, code) of images (N, C, H, W) or flattened (N, C*H*W)."""
        X = _as_array(X, "ConvAutoencoder.encode")
        self._check(X)
        return super().encode(X.reshape((len(X),) + self.image_shape), batch_size)

    def forward(self, x: Tensor) -> Tensor:
        self._check(x)
        flat = x.ndim == 2
        if flat:
            x = F.reshape(x, (x.shape[0],) + self.image_shape)
        if self.training and self.noise_level > 0:
            x = corrupt(x, self.noise, self.noise_level)
        z = self.decoder(self.encoder(x))
        return F.reshape(z, (z.shape[0], -1)) if flat else z
