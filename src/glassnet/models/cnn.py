"""Convolutional classifiers: ``LeNet`` and ``SmallVGG``, for 1x28x28 images by default and
for any channel count and image size (``in_channels=3, input_size=32`` for 3x32x32).

Constructor arguments are plain JSON values, so ``glassnet.save`` / ``glassnet.load``
round-trip the architecture.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import nn
from ..errors import ArgumentError
from ..nn.module import Module
from ..validation import check_int, check_pair, lookup

if TYPE_CHECKING:  # annotations only
    from glassnet._typing import IntTuple
    from glassnet.autograd.tensor import Tensor

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


def _image_size(input_size: IntTuple, who: str) -> tuple[int, int]:
    """``input_size`` (an int or (H, W)) as a pair of positive ints."""
    h, w = check_pair(input_size, "input_size", who, min=1)
    return int(h), int(w)


def _check_input(x: Tensor, c: int, size: tuple[int, int], who: str) -> None:
    if x.ndim != 4 or tuple(x.shape[1:]) != (c, *size):
        raise ValueError(f"{who}: expected input of shape (N, {c}, {size[0]}, {size[1]}), got "
                         f"{tuple(x.shape)} (input_size and in_channels set what it takes)")


class LeNet(Module):
    """LeNet-5 (LeCun et al. 1998) with ReLU and max pooling, for (N, C, H, W) input.

    conv 5x5 (6, pad 2) -> pool 2 -> conv 5x5 (16) -> pool 2 -> fc (16 h w)-120-84-classes,
    where h = (H // 2 - 4) // 2 (and w likewise): 5 for the default 28x28 (fc 400), 6 for
    32x32 (fc 576). ``input_size`` is H (square) or (H, W), at least 12.
    Output: (N, num_classes) logits.

    >>> model = models.LeNet()
    >>> model(gn.randn(2, 1, 28, 28)).shape
    (2, 10)
    >>> models.LeNet(in_channels=3, input_size=32)(gn.randn(2, 3, 32, 32)).shape
    (2, 10)
    """

    def __init__(self, in_channels: int = 1, num_classes: int = 10, activation: str = "relu",
                 channels: Any = (6, 16), hidden: Any = (120, 84),
                 input_size: IntTuple = 28) -> None:
        super().__init__()
        c1, c2 = (int(c) for c in channels)
        h1, h2 = (int(h) for h in hidden)
        self.in_channels = check_int(in_channels, "in_channels", "LeNet")
        self.num_classes = int(num_classes)
        self.input_size = _image_size(input_size, "LeNet")
        flat = [(n // 2 - 4) // 2 for n in self.input_size]    # pad-2 conv keeps n
        if min(flat) < 1:
            raise ArgumentError(f"LeNet: input_size {self.input_size} is too small: two "
                                f"pool-2 stages and a 5x5 convolution leave "
                                f"{max(min(flat), 0)} pixels; give at least 12")
        self.features = nn.Sequential(
            nn.Conv2d(self.in_channels, c1, 5, padding=2), _act(activation), nn.MaxPool2d(2),
            nn.Conv2d(c1, c2, 5), _act(activation), nn.MaxPool2d(2),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(c2 * flat[0] * flat[1], h1), _act(activation),
            nn.Linear(h1, h2), _act(activation), nn.Linear(h2, num_classes),
        )

    def forward(self, x: Tensor) -> Tensor:
        _check_input(x, self.in_channels, self.input_size, "LeNet")
        return self.classifier(self.features(x))


class SmallVGG(Module):
    """A small VGG-style net: three stages conv 3x3 (32 -> 64 -> 128) + batch norm + ReLU +
    2x2 max pool, then dropout, fc 1152-256, ReLU, dropout, fc 256-classes.

    ``convs_per_stage=2`` doubles the convolutions of each stage (VGG's pattern, slower).
    Input (N, C, H, W) -> (N, num_classes) logits; ``input_size`` is H (square) or (H, W),
    28 by default. Each stage halves the size (floor), so the first fc layer takes
    widths[-1] * (H // 8) * (W // 8) features: 1152 for 28x28, 2048 for 32x32. A pool that
    floors an odd size (the third one at 28x28: 7 -> 3) does so by design, without the
    :class:`~glassnet.errors.ShapeWarning` other layers give.

    >>> model = models.SmallVGG()
    >>> model(gn.randn(2, 1, 28, 28)).shape
    (2, 10)
    >>> models.SmallVGG(3, widths=(8, 16, 32), input_size=32)(gn.randn(2, 3, 32, 32)).shape
    (2, 10)
    """

    def __init__(self, in_channels: int = 1, num_classes: int = 10, widths: Any = (32, 64, 128),
                 convs_per_stage: int = 1, dropout: float = 0.3, hidden: int = 256,
                 input_size: IntTuple = 28) -> None:
        super().__init__()
        self.in_channels = check_int(in_channels, "in_channels", "SmallVGG")
        self.num_classes = int(num_classes)
        self.input_size = _image_size(input_size, "SmallVGG")
        layers: list[Module] = []
        c = self.in_channels
        h, w_ = self.input_size
        for w in widths:
            for _ in range(int(convs_per_stage)):
                layers += [nn.Conv2d(c, int(w), 3, padding=1, bias=False), nn.BatchNorm2d(int(w)),
                           nn.ReLU()]
                c = int(w)
            pool = nn.MaxPool2d(2)
            if h % 2 or w_ % 2:
                # flooring an odd size (28 -> 14 -> 7 -> 3) is this architecture's design:
                # the layer's once-only ShapeWarning is spent already
                pool.__dict__["_floor_warned"] = True
            layers.append(pool)
            h, w_ = h // 2, w_ // 2
        if min(h, w_) < 1:
            raise ArgumentError(f"SmallVGG: input_size {self.input_size} is too small for "
                                f"{len(widths)} pool-2 stages (it needs at least "
                                f"{2 ** len(widths)})")
        self.features = nn.Sequential(*layers)
        head = [nn.Flatten(), _dropout(dropout), nn.Linear(c * h * w_, int(hidden)),
                nn.ReLU(), _dropout(dropout), nn.Linear(int(hidden), num_classes)]
        self.classifier = nn.Sequential(*[m for m in head if m is not None])

    def forward(self, x: Tensor) -> Tensor:
        _check_input(x, self.in_channels, self.input_size, "SmallVGG")
        return self.classifier(self.features(x))
