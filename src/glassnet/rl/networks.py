"""The default Q-network: a multilayer perceptron from the state to one value per action."""
from __future__ import annotations

from collections.abc import Sequence

from .. import nn
from ..nn.module import Module
from ..validation import check_int

__all__ = ["q_mlp"]


def q_mlp(obs_dim: int, n_actions: int, hidden: Sequence[int] = (128, 128),
          activation: str = "relu") -> Module:
    """``Linear(obs_dim, h1) -> act -> ... -> Linear(h_last, n_actions)`` as a Sequential;
    its output row holds ``Q(s, a)`` for every action ``a`` (no activation on it).

    >>> q_mlp(4, 2, hidden=(8,))
    Sequential(
      (0): Linear(in_features=4, out_features=8, bias=True)
      (1): ReLU()
      (2): Linear(in_features=8, out_features=2, bias=True)
    )
    """
    who = "q_mlp"
    sizes = [check_int(obs_dim, "obs_dim", who, min=1)]
    sizes += [check_int(h, "hidden", who, min=1) for h in hidden]
    sizes.append(check_int(n_actions, "n_actions", who, min=1))
    layers: list[Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.get_activation(activation))
    return nn.Sequential(*layers)
