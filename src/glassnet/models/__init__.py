"""Ready architectures built from ``glassnet.nn``.

>>> from glassnet import models
>>> mlp = models.MLP([64, 128, 10], activation="relu", output="multiclass")
>>> p = models.Perceptron(2).fit(X, y)  # doctest: +SKIP
"""
from __future__ import annotations

from .perceptron import Perceptron
from .mlp import MLP
from .cnn import LeNet, SmallVGG
from .charlm import CharLM
from .sequence import SequenceClassifier
from .autoencoder import Autoencoder, DenoisingAutoencoder
from .stacked_autoencoder import StackedAutoencoder
from .conv_autoencoder import ConvAutoencoder
from .anomaly import AnomalyDetector
from .pretrain import greedy_pretrain

__all__ = ["Perceptron", "MLP", "LeNet", "SmallVGG", "CharLM", "SequenceClassifier",
           "Autoencoder", "DenoisingAutoencoder", "StackedAutoencoder", "ConvAutoencoder",
           "AnomalyDetector", "greedy_pretrain"]
