"""A stacked (deep) autoencoder whose levels can be pre-trained greedily, one at a time
(Bengio et al., 2007; Vincent et al., 2010), then turned into a classifier.

>>> sae = StackedAutoencoder([784, 256, 64], denoise=0.3)
>>> sae.pretrain(X_unlabelled, epochs=5)      # level 1 on X, level 2 on level 1's codes  # doctest: +SKIP
>>> clf = sae.to_classifier(10)
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, cast

import numpy as np

from .. import nn
from ..nn.module import Module
from ..validation import check_int, is_int

from .autoencoder import Autoencoder
from .noise import check_noise, corrupt
from .pretrain import greedy_pretrain

if TYPE_CHECKING:  # annotations only
    from glassnet._typing import TensorLike
    from glassnet.autograd.tensor import Tensor
    from glassnet.optim.optimizer import Optimizer
    from glassnet.training.callbacks import Callback
    from glassnet.training.history import History


__all__ = ["StackedAutoencoder"]


class StackedAutoencoder(Autoencoder):
    """A deep autoencoder ``sizes[0] -> ... -> sizes[-1] -> ... -> sizes[0]`` whose levels
    can be pre-trained greedily, one at a time (Bengio et al., 2007; Vincent et al., 2010).

    Level k has encoder ``Linear(sizes[k], sizes[k+1]) + activation`` and decoder
    ``Linear(sizes[k+1], sizes[k]) + activation`` (the output activation for k = 0).
    :meth:`pretrain` trains level 1 on the data, encodes the clean data with it, trains
    level 2 on that code, and so on (``deep=True``: the whole stack end to end instead).
    :meth:`to_classifier` copies the encoder stack under a softmax (logits) head.

    Parameters
    ----------
    sizes : list of int
        ``[784, 256, 64]``: the input and the code sizes of the levels.
    activation, output_activation, tied, loss : as :class:`Autoencoder` (``loss`` is the
        loss of level 1 and of the whole stack; higher levels reconstruct codes with MSE).
    denoise : float
        Corruption level of each level's input while training (0: none).
    noise : {"mask", "gaussian", "salt_pepper"}

    Example
    -------
    >>> sae = StackedAutoencoder([784, 256, 64], denoise=0.3)
    >>> sae.pretrain(X_unlabelled, epochs=5)  # doctest: +SKIP
    >>> clf = sae.to_classifier(10)      # then Trainer(clf, nn.CrossEntropyLoss(), ...)
    """

    encoder: nn.Sequential  # this class always builds both halves as Sequentials
    decoder: nn.Sequential

    def __init__(self, sizes: int | Sequence[int], activation: str = "sigmoid",
                 output_activation: str = "sigmoid",
                 tied: bool = False, loss: str = "mse", denoise: float = 0.0,
                 noise: str = "mask") -> None:
        sizes = list(cast("Sequence[int]", [sizes] if np.isscalar(sizes) else sizes))
        if len(sizes) < 2 or any(not is_int(s) or s < 1 for s in sizes):
            raise ValueError(f"StackedAutoencoder: sizes must list at least two positive ints "
                             f"(input and code sizes), got {sizes!r}")
        denoise = check_noise(noise, denoise, "StackedAutoencoder")
        super().__init__(int(sizes[0]), [int(s) for s in sizes[1:]], activation,
                         output_activation, tied, loss)
        self.denoise, self.noise = denoise, noise
        object.__setattr__(self, "pretrain_history_", [])

    @property
    def n_levels(self) -> int:
        return len(self.sizes) - 1

    def level(self, k: int) -> tuple[nn.Sequential, nn.Sequential]:
        """(encoder, decoder) modules of level k (0-based), shared with the stack."""
        if not 0 <= k < self.n_levels:
            raise IndexError(f"StackedAutoencoder: level must be in [0, {self.n_levels}), "
                             f"got {k}")
        enc = nn.Sequential(self.encoder[2 * k], self.encoder[2 * k + 1])
        j = self.n_levels - 1 - k
        dec = nn.Sequential(self.decoder[2 * j], self.decoder[2 * j + 1])
        return enc, dec

    def forward(self, x: Tensor) -> Tensor:
        """The deep autoencoder's reconstruction (input corrupted while training)."""
        self._check(x)
        if self.training and self.denoise > 0:
            x = corrupt(x, self.noise, self.denoise)
        return self.decoder(self.encoder(x))

    def fit(self, X: TensorLike, epochs: int = 10, batch_size: int = 64,
            validation: TensorLike | None = None, lr: float = 1e-3,
            optimizer: Optimizer | str = "adam", callbacks: list[Callback] | None = None,
            verbose: int = 0, seed: int | None = None, validation_split: float | None = None,
            weight_decay: float = 0.0) -> History:
        """Train the whole stack end to end as one deep (denoising) autoencoder."""
        return super().fit(X, epochs, batch_size, validation, lr, optimizer, callbacks,
                           verbose, seed, validation_split=validation_split,
                           weight_decay=weight_decay)

    def pretrain(self, X: TensorLike, epochs: int = 5, batch_size: int = 64, lr: float = 1e-3,
                 optimizer: Optimizer | str = "adam", deep: bool = False,
                 validation: TensorLike | None = None, verbose: int = 0,
                 seed: int | None = None) -> list[History]:
        """Greedy layer-wise pre-training (``deep=False``) or end-to-end training of the
        whole stack (``deep=True``). ``epochs`` is per level when greedy.

        Returns the list of histories (one per level; one in all when ``deep``), also kept
        as ``self.pretrain_history_``.
        """
        if deep:
            h = [self.fit(X, epochs, batch_size, validation, lr, optimizer, verbose=verbose,
                          seed=seed)]
        else:
            decoders = [self.level(k)[1] for k in range(self.n_levels)]
            losses = [self.loss_name] + ["mse"] * (self.n_levels - 1)
            h = greedy_pretrain(self.encoder, X, n_layers=self.n_levels, decoders=decoders,
                                epochs=epochs, batch_size=batch_size, lr=lr,
                                optimizer=optimizer, denoise=self.denoise, noise=self.noise,
                                loss=losses, validation=validation, verbose=verbose, seed=seed)
        object.__setattr__(self, "pretrain_history_", h)
        return h

    def to_classifier(self, n_classes: int, dropout: float = 0.0) -> nn.Sequential:
        """A classifier: copies of the encoder layers, then ``Linear(sizes[-1], n_classes)``
        producing logits (train with ``nn.CrossEntropyLoss``; softmax gives probabilities).

        Returns an ``nn.Sequential`` (saved and loaded by ``glassnet.io`` like any other).
        """
        n_classes = check_int(n_classes, "n_classes", "to_classifier", min=2)
        layers: list[Module] = []
        for k in range(self.n_levels):
            src = self.encoder[2 * k]
            # dtype is not passed: constructor arguments stay plain JSON for glassnet.io
            lin = nn.Linear(src.in_features, src.out_features).to_dtype(src.weight.dtype)
            lin.load_state_dict(src.state_dict())
            layers += [lin, nn.get_activation(self.activation)]
            if dropout:
                layers.append(nn.Dropout(float(dropout)))
        head = nn.Linear(self.sizes[-1], int(n_classes)).to_dtype(self.encoder[0].weight.dtype)
        nn.init.xavier_uniform_(head.weight)
        nn.init.zeros_(head.bias)
        return nn.Sequential(*layers, head)
