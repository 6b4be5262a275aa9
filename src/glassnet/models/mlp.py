"""``MLP``: a multilayer feed-forward network with a head for the task."""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .. import nn
from ..nn.module import Module
from ..validation import check_choice, check_real

if TYPE_CHECKING:  # annotations only
    from glassnet.autograd.tensor import Tensor

__all__ = ["MLP", "activation"]

TASKS = ("multiclass", "binary", "multilabel", "regression")


def activation(name: str) -> Module:
    """An activation module from its name ("relu", "tanh", "sigmoid", "leaky_relu", ...)."""
    return nn.get_activation(name)


class MLP(Module):
    """Fully connected layers ``sizes[0] -> sizes[1] -> ... -> sizes[-1]`` with an
    activation after every hidden layer and a raw (linear) output suited to the task.

    Parameters
    ----------
    sizes : list of int
        Input size, hidden sizes, output size, e.g. ``[64, 128, 10]``.
    activation : str
        Hidden activation ("relu", "tanh", "sigmoid", "leaky_relu", "elu", ...).
    output : {"multiclass", "binary", "multilabel", "regression"}
        The task. Outputs are logits / raw values; :meth:`loss` gives the matching loss
        (CrossEntropyLoss, BCEWithLogitsLoss, BCEWithLogitsLoss, MSELoss) and
        ``output_activation`` the function that turns them into probabilities.
    dropout : float
        Dropout probability after each hidden activation (0 for none).
    batch_norm : bool
        BatchNorm1d before each hidden activation.
    init : str
        "kaiming" (default for ReLU-like), "xavier" (default for sigmoid/tanh) or "default".

    Example
    -------
    >>> model = MLP([64, 128, 10], activation="relu", output="multiclass")
    >>> trainer = Trainer(model, model.loss(), "adam", metrics=["accuracy"])  # doctest: +SKIP
    """

    def __init__(self, sizes: Sequence[int], activation: str = "relu", output: str = "multiclass",
                 dropout: float = 0.0, batch_norm: bool = False, init: str | None = None) -> None:
        super().__init__()
        sizes = [int(s) for s in sizes]
        if len(sizes) < 2 or any(s < 1 for s in sizes):
            raise ValueError(f"MLP: sizes must list at least an input and an output size, all "
                             f"positive, got {sizes}")
        check_choice(output, "output", "MLP", TASKS)
        dropout = check_real(dropout, "dropout", "MLP", 0, 1, high_open=True)
        if output == "binary" and sizes[-1] != 1:
            raise ValueError(f"MLP: a binary head has one output unit, got sizes[-1]={sizes[-1]}")
        self.sizes, self.output, self.activation = sizes, output, activation
        init = init or ("xavier" if activation in ("sigmoid", "tanh", "softsign") else "kaiming")
        check_choice(init, "init", "MLP", ("kaiming", "xavier", "default"))
        layers: list[Module] = []
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
            lin = nn.Linear(a, b)
            last = i == len(sizes) - 2
            if init != "default":
                if init == "xavier" or last:
                    nn.init.xavier_uniform_(lin.weight)
                else:
                    nn.init.kaiming_uniform_(lin.weight, nonlinearity="relu")
                if lin.bias is not None:
                    nn.init.zeros_(lin.bias)
            layers.append(lin)
            if not last:
                if batch_norm:
                    layers.append(nn.BatchNorm1d(b))
                layers.append(globals()["activation"](activation))
                if dropout:
                    layers.append(nn.Dropout(float(dropout)))
        self.net = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim != 2 or x.shape[1] != self.sizes[0]:
            raise ValueError(f"MLP: expected input of shape (N, {self.sizes[0]}), got "
                             f"{tuple(x.shape)}")
        return self.net(x)

    def loss(self, **kwargs: Any) -> Module:
        """The loss that matches the head (on raw outputs)."""
        if self.output == "multiclass":
            return nn.CrossEntropyLoss(**kwargs)
        if self.output in ("binary", "multilabel"):
            return nn.BCEWithLogitsLoss(**kwargs)
        return nn.MSELoss(**kwargs)

    def output_activation(self, out: Tensor) -> Tensor:
        """Probabilities (softmax / sigmoid) or values (regression) from raw outputs."""
        from .. import functional as F
        if self.output == "multiclass":
            return F.softmax(out, axis=-1)
        if self.output in ("binary", "multilabel"):
            return F.sigmoid(out)
        return out
