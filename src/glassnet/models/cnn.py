"""Convolutional classifiers for 28x28 images: ``LeNet`` and ``SmallVGG``.

Constructor arguments are plain JSON values, so ``glassnet.save`` / ``glassnet.load``
round-trip the architecture.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from .. import nn
from ..nn.module import Module
from ..validation import lookup

if TYPE_CHECKING:  # annotations only
    from glassnet.autograd.tensor import Tensor

__all__ = ["LeNet", "SmallVGG"]


def _dropout(p: float) -> nn.Dropout | None:
    """``nn.Dropout(p)``; ``None`` when p is 0."""
    if not p:
        return None
    return nn.Dropout(p)


def _act(name: str) -> Module:
    return lookup(name, {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid},
                  "activation", "LeNet")()


class LeNet(Module):
    """LeNet-5 (LeCun et al. 1998) with ReLU and max pooling, for (N, C, 28, 28) input.

    conv 5x5 (6, pad 2) -> pool 2 -> conv 5x5 (16) -> pool 2 -> fc 400-120-84-classes.
    Output: (N, num_classes) logits.

    >>> model = models.LeNet()
    >>> model(gn.randn(2, 1, 28, 28)).shape
    (2, 10)
    """

    def __init__(self, in_channels: int = 1, num_classes: int = 10, activation: str = "relu",
                 channels: Sequence[int] = (6, 16), hidden: Sequence[int] = (120, 84)) -> None:
        super().__init__()
        c1, c2 = (int(c) for c in channels)
        h1, h2 = (int(h) for h in hidden)
        self.in_channels, self.num_classes = int(in_channels), int(num_classes)
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, c1, 5, padding=2), _act(activation), nn.MaxPool2d(2),
            nn.Conv2d(c1, c2, 5), _act(activation), nn.MaxPool2d(2),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(c2 * 5 * 5, h1), _act(activation),
            nn.Linear(h1, h2), _act(activation), nn.Linear(h2, num_classes),
        )

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim != 4 or tuple(x.shape[1:]) != (self.in_channels, 28, 28):
            raise ValueError(f"LeNet: expected input of shape (N, {self.in_channels}, 28, 28), "
                             f"got {tuple(x.shape)}")
        return self.classifier(self.features(x))


class SmallVGG(Module):
    """A small VGG-style net: three stages conv 3x3 (32 -> 64 -> 128) + batch norm + ReLU +
    2x2 max pool, then dropout, fc 1152-256, ReLU, dropout, fc 256-classes.

    ``convs_per_stage=2`` doubles the convolutions of each stage (VGG's pattern, slower).
    Input (N, C, 28, 28) -> (N, num_classes) logits.

    >>> model = models.SmallVGG()
    >>> model(gn.randn(2, 1, 28, 28)).shape
    (2, 10)
    """

    def __init__(self, in_channels: int = 1, num_classes: int = 10,
                 widths: Sequence[int] = (32, 64, 128),
                 convs_per_stage: int = 1, dropout: float = 0.3, hidden: int = 256) -> None:
        super().__init__()
        self.in_channels, self.num_classes = int(in_channels), int(num_classes)
        layers: list[Module] = []
        c = int(in_channels)
        size = 28
        for w in widths:
            for _ in range(int(convs_per_stage)):
                layers += [nn.Conv2d(c, int(w), 3, padding=1, bias=False), nn.BatchNorm2d(int(w)),
                           nn.ReLU()]
                c = int(w)
            layers.append(nn.MaxPool2d(2))
            size //= 2
        self.features = nn.Sequential(*layers)
        head = [nn.Flatten(), _dropout(dropout), nn.Linear(c * size * size, int(hidden)),
                nn.ReLU(), _dropout(dropout), nn.Linear(int(hidden), num_classes)]
        self.classifier = nn.Sequential(*[m for m in head if m is not None])

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"SmallVGG: expected input of shape (N, {self.in_channels}, 28, 28),"
                             f" got {tuple(x.shape)}")
        return self.classifier(self.features(x))
