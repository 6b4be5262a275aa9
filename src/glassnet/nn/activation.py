"""Activation layers: thin Modules over glassnet.functional.activations."""
from __future__ import annotations

from ..functional import activations as A
from .module import Module

__all__ = ["ReLU", "Sigmoid", "Tanh", "Softmax", "LogSoftmax"]


class ReLU(Module):
    """a = max(0, z)."""

    def forward(self, x):
        return A.relu(x)


class Sigmoid(Module):
    """a = 1 / (1 + e^-z)."""

    def forward(self, x):
        return A.sigmoid(x)


class Tanh(Module):
    """a = tanh(z)."""

    def forward(self, x):
        return A.tanh(x)


class Softmax(Module):
    """a_i = e^{z_i} / sum_j e^{z_j} along ``dim`` (default -1)."""

    def __init__(self, dim: int = -1):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return A.softmax(x, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class LogSoftmax(Softmax):
    """a_i = z_i - log sum_j e^{z_j} along ``dim``."""

    def forward(self, x):
        return A.log_softmax(x, self.dim)
