"""A deconvolutional network: the generative half of a CNN, from a code vector to an image.

    code (N, K) -> Linear -> ReLU -> (N, C0, S/4, S/4)
                -> [Upsample x2 -> Conv 3x3 (same) -> ReLU] -> (N, C1, S/2, S/2)
                -> [Upsample x2 -> Conv 3x3 (same)] -> sigmoid -> (N, out_channels, S, S)

Each "deconvolution" is a nearest-neighbour upsampling followed by an ordinary convolution
(the resize-convolution form, which also avoids the checkerboard artefacts of a strided
transposed convolution). It is trained on (code, image) pairs with the mean squared error;
the codes can be anything that describes the image: labels, attributes, or the principal
components of the image as in the chart example (images rebuilt from 16 numbers).

>>> net = DeconvNetwork(code_size=10, image_size=8)
>>> net(gn.randn(4, 10)).shape
(4, 1, 8, 8)
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ... import nn
from ...autograd import Tensor, no_grad
from ...functional.losses import mse_loss
from ...nn.module import Module
from ...validation import check_int
from ._common import matrix, train_minibatch

__all__ = ["DeconvNetwork"]


class DeconvNetwork(Module):
    """Code (N, code_size) -> image (N, out_channels, image_size, image_size).

    Parameters
    ----------
    code_size : int
    image_size : int
        Side of the square output, a multiple of 4.
    out_channels : int
    channels : two ints
        Feature maps at side/4 and side/2.
    """

    def __init__(self, code_size: int, image_size: int = 8, out_channels: int = 1,
                 channels: tuple[int, int] = (32, 16)) -> None:
        super().__init__()
        who = "DeconvNetwork"
        self.code_size = check_int(code_size, "code_size", who)
        self.image_size = check_int(image_size, "image_size", who, min=4)
        if self.image_size % 4:
            raise ValueError(f"{who}: image_size must be a multiple of 4, got {image_size!r}")
        self.out_channels = check_int(out_channels, "out_channels", who)
        c0, c1 = (check_int(c, "channels", who) for c in channels)
        q = self.image_size // 4
        self.net = nn.Sequential(
            nn.Linear(self.code_size, c0 * q * q), nn.ReLU(), nn.Unflatten(1, (c0, q, q)),
            nn.Upsample(scale_factor=2), nn.Conv2d(c0, c1, 3, padding=1), nn.ReLU(),
            nn.Upsample(scale_factor=2), nn.Conv2d(c1, self.out_channels, 3, padding=1),
            nn.Sigmoid())
        self.losses_: list[float] = []

    def forward(self, code: Tensor) -> Tensor:
        if code.ndim != 2 or code.shape[1] != self.code_size:
            raise ValueError(f"DeconvNetwork: expected codes of shape (N, {self.code_size}), "
                             f"got {tuple(code.shape)}")
        return self.net(code)

    def _images(self, images: Any, n: int, who: str) -> np.ndarray:
        side, c = self.image_size, self.out_channels
        Y = np.asarray(images, dtype=np.float64)
        if Y.shape[0] != n or Y.size != n * c * side * side:
            raise ValueError(f"{who}: images must be {n} images of {c}x{side}x{side} (or "
                             f"flattened), got shape {Y.shape}")
        return Y.reshape(n, c, side, side)

    def fit(self, codes: Any, images: Any, epochs: int = 50, batch_size: int = 64,
            lr: float = 3e-3, optimizer: str = "adam", seed: int | None = None
            ) -> DeconvNetwork:
        """Minibatch training on the mean squared error between generated and given images
        (values in [0, 1]); ``losses_`` holds the mean loss per epoch. Returns self."""
        who = "DeconvNetwork.fit"
        C = matrix(codes, who, "codes", features=self.code_size)
        Y = self._images(images, len(C), who).astype(np.dtype(self.dtype))

        def loss_of(out: Tensor, idx: np.ndarray) -> Tensor:
            return mse_loss(out, Tensor(Y[idx]))
        self.losses_ = train_minibatch(self, loss_of, C, np.arange(len(C)),
                                       check_int(epochs, "epochs", who),
                                       check_int(batch_size, "batch_size", who), lr,
                                       optimizer, seed)
        return self

    def generate(self, codes: Any) -> np.ndarray:
        """Images for the codes, (N, out_channels, S, S), in eval mode without a graph."""
        C = matrix(codes, "DeconvNetwork.generate", "codes", features=self.code_size)
        was = self.training
        self.eval()
        try:
            with no_grad():
                out = self(Tensor(C.astype(np.dtype(self.dtype))))._data
        finally:
            self.train(was)
        return out
