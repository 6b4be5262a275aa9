"""Ready architectures built from ``glassnet.nn``.

>>> from glassnet import models
>>> mlp = models.MLP([64, 128, 10], activation="relu", output="multiclass")
>>> p = models.Perceptron(2).fit(X, y)
"""
from __future__ import annotations

from .perceptron import Perceptron
from .mlp import MLP
from .cnn import LeNet, SmallVGG

__all__ = ["Perceptron", "MLP", "LeNet", "SmallVGG"]

# Models of other capabilities (recurrent, autoencoders) join here as they land.
for _name, _names in (("charlm", ("CharLM",)), ("sequence", ("SequenceClassifier",)),
                      ("autoencoder", ("Autoencoder", "DenoisingAutoencoder",
                                       "StackedAutoencoder", "ConvAutoencoder",
                                       "AnomalyDetector")),
                      ("pretrain", ("greedy_pretrain",))):
    try:
        _mod = __import__(f"{__name__}.{_name}", fromlist=list(_names))
    except ModuleNotFoundError as _e:
        if _e.name != f"{__name__}.{_name}":
            raise
        continue
    for _n in _names:
        if hasattr(_mod, _n):
            globals()[_n] = getattr(_mod, _n)
            __all__.append(_n)
