"""Activation functions, each a Function with its derivative beside it.

All are written in numerically stable forms (no overflow at |x| = 1000).
"""
from __future__ import annotations

import numpy as np

from ..autograd.function import Function

__all__ = ["relu", "sigmoid", "tanh", "softmax", "log_softmax"]


class ReLU(Function):
    """a = max(0, z);  da/dz = 1 for z > 0, else 0."""

    def forward(self, z):
        self.mask = z > 0
        return np.maximum(z, 0)

    def backward(self, g):
        return g * self.mask


class Sigmoid(Function):
    """a = 1 / (1 + e^-z);  da/dz = a (1 - a)."""

    def forward(self, z):
        self.out = _stable_sigmoid(z)
        return self.out

    def backward(self, g):
        a = self.out
        return g * a * (1 - a)


class Tanh(Function):
    """a = tanh(z);  da/dz = 1 - a^2."""

    def forward(self, z):
        self.out = np.tanh(z)
        return self.out

    def backward(self, g):
        return g * (1 - self.out * self.out)


class Softmax(Function):
    """a_i = e^{z_i} / sum_j e^{z_j};  dz = a * (g - sum(g * a))."""

    def forward(self, z, axis=-1):
        self.axis = axis
        e = np.exp(z - z.max(axis=axis, keepdims=True))
        e /= e.sum(axis=axis, keepdims=True)
        self.out = e
        return e

    def backward(self, g):
        a = self.out
        return a * (g - (g * a).sum(axis=self.axis, keepdims=True))


class LogSoftmax(Function):
    """a_i = z_i - log sum_j e^{z_j};  dz = g - softmax(z) * sum(g)."""

    def forward(self, z, axis=-1):
        self.axis = axis
        m = z.max(axis=axis, keepdims=True)
        s = z - m
        lse = np.log(np.exp(s).sum(axis=axis, keepdims=True))
        self.out = s - lse
        return self.out

    def backward(self, g):
        return g - np.exp(self.out) * g.sum(axis=self.axis, keepdims=True)


def _stable_sigmoid(z):
    # e^{-|z|} never overflows; pick the branch by sign
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e)).astype(z.dtype, copy=False)


def relu(x):
    """max(0, x)."""
    return ReLU.apply(x)


def sigmoid(x):
    """1 / (1 + e^-x)."""
    return Sigmoid.apply(x)


def tanh(x):
    """Hyperbolic tangent."""
    return Tanh.apply(x)


def softmax(x, axis=-1):
    """Softmax along ``axis`` (default the last)."""
    return Softmax.apply(x, axis=axis)


def log_softmax(x, axis=-1):
    """log(softmax(x)) computed stably."""
    return LogSoftmax.apply(x, axis=axis)
