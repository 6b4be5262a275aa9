"""``SequenceClassifier``: many-to-one recurrent classification (a label per sequence)."""
from __future__ import annotations

import numpy as np

from .. import nn
from ..autograd.tensor import Tensor, as_array, as_input
from ..functional import math as M
from ..nn.module import Module
from ..nn.recurrent import LAYERS
from ..validation import check_int, lookup

__all__ = ["SequenceClassifier"]


class SequenceClassifier(Module):
    """Read a sequence with an RNN/LSTM/GRU and classify it from the final hidden state.

    logits = Linear(h_T) where h_T is the last layer's final state (both directions
    concatenated when bidirectional); with ``lengths`` the final state is the one at
    each sequence's last real step.

    Parameters
    ----------
    input_size : int
        Features per time step (ignored when ``vocab_size`` is given).
    hidden_size, num_classes : int
    num_layers : int
    cell : {"lstm", "gru", "rnn"}
    bidirectional : bool
    dropout : float
        Between recurrent layers, and before the output layer.
    vocab_size, embedding_dim : int, optional
        Token inputs: integer ids (N, T) go through an Embedding first.

    Notes
    -----
    Inputs are batch-first: (N, T, input_size) floats or (N, T) ids.

    Example
    -------
    >>> clf = SequenceClassifier(1, 32, num_classes=2)
    >>> trainer = Trainer(clf, nn.CrossEntropyLoss(), "adam", metrics=["accuracy"])  # doctest: +SKIP
    >>> trainer.fit((X, y), epochs=10)                # X (N, T, 1)  # doctest: +SKIP
    """

    def __init__(self, input_size: int, hidden_size: int, num_classes: int, num_layers: int = 1,
                 cell: str = "lstm", bidirectional: bool = False, dropout: float = 0.0,
                 vocab_size: int | None = None, embedding_dim: int = 32) -> None:
        super().__init__()
        cell = str(cell).lower()
        rnn = lookup(cell, LAYERS, "cell", "SequenceClassifier")
        self.cell = cell
        self.num_classes = check_int(num_classes, "num_classes", "SequenceClassifier", min=2)
        self.embedding = nn.Embedding(vocab_size, embedding_dim) if vocab_size else None
        in_size = embedding_dim if vocab_size else input_size
        self.rnn = rnn(in_size, hidden_size, num_layers, batch_first=True, dropout=dropout,
                       bidirectional=bidirectional)
        self.p_drop = float(dropout)
        D = 2 if bidirectional else 1
        self.fc = nn.Linear(D * hidden_size, self.num_classes)

    def features(self, x: Tensor, lengths: Tensor | None = None) -> Tensor:
        """The final hidden state (N, D*H) of the last layer."""
        if self.embedding is not None:
            ids = as_array(x)
            x = self.embedding(ids)
        elif not isinstance(x, Tensor):
            x = as_input(x)
        if x.ndim == 2 and self.embedding is None:
            x = M.unsqueeze(x, -1) if self.rnn.input_size == 1 else x
        _, state = self.rnn(x, lengths=lengths)
        h = state[0] if isinstance(state, tuple) else state      # (L*D, N, H)
        D = self.rnn.num_directions
        if D == 1:
            return h[-1] if h.shape[0] > 1 else M.squeeze(h, 0)
        return M.concat([h[-2], h[-1]], axis=1)

    def forward(self, x: Tensor, lengths: Tensor | None = None) -> Tensor:
        z = self.features(x, lengths)
        if self.p_drop and self.training:
            from .. import backend
            keep = (backend.rng().random(z.shape) >= self.p_drop).astype(z.dtype)
            z = z * (keep / (1.0 - self.p_drop))
        return self.fc(z)

    def predict(self, x: Tensor, lengths: Tensor | None = None) -> np.ndarray:
        """Predicted class per sequence (eval mode, no gradient)."""
        from ..autograd.function import no_grad
        was = self.training
        self.eval()
        try:
            with no_grad():
                return np.argmax(self.forward(x, lengths)._data, axis=1)
        finally:
            self.train(was)
