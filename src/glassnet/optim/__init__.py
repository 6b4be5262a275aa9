"""Optimizers, learning-rate schedules and gradient clipping.

>>> from glassnet import nn, optim
>>> model = nn.Linear(4, 2)
>>> opt = optim.Adam(model.parameters(), lr=1e-3)
>>> sched = optim.lr_scheduler.StepLR(opt, step_size=10, gamma=0.5)
>>> opt = optim.get("momentum", model.parameters(), lr=0.1)
>>> type(opt).__name__, opt.param_groups[0]["momentum"]
('SGD', 0.9)
"""
from __future__ import annotations

from typing import Any

from ..validation import lookup
from . import lr_scheduler  # noqa: F401
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .adamax import Adamax
from .asgd import ASGD
from .clip_grad import clip_grad_norm_, clip_grad_value_, grad_norm
from .lbfgs import LBFGS
from .nadam import NAdam
from .optimizer import Optimizer
from .radam import RAdam
from .rmsprop import RMSprop
from .rprop import Rprop
from .sgd import SGD

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # annotations only
    from .optimizer import ParamsT

__all__ = ["Optimizer", "SGD", "RMSprop", "Adagrad", "Adadelta", "Adam", "AdamW", "Adamax",
           "NAdam", "RAdam", "ASGD", "Rprop", "LBFGS", "clip_grad_norm_", "clip_grad_value_",
           "grad_norm", "lr_scheduler", "get", "available"]

# name -> (class, defaults that the name implies)
_REGISTRY: dict[str, tuple[type[Optimizer], dict[str, Any]]] = {
    "sgd": (SGD, {"lr": 0.01}),
    "momentum": (SGD, {"lr": 0.01, "momentum": 0.9}),
    "nesterov": (SGD, {"lr": 0.01, "momentum": 0.9, "nesterov": True}),
    "rmsprop": (RMSprop, {}),
    "adagrad": (Adagrad, {}),
    "adam": (Adam, {}),
    "adamw": (AdamW, {}),
    "adadelta": (Adadelta, {}),
    "adamax": (Adamax, {}),
    "nadam": (NAdam, {}),
    "radam": (RAdam, {}),
    "asgd": (ASGD, {}),
    "rprop": (Rprop, {}),
}


def available() -> list[str]:
    """The optimizer names :func:`get` understands."""
    return sorted(_REGISTRY)


def get(name: str | type[Optimizer], params: ParamsT, lr: float | None = None,
        **kwargs: Any) -> Optimizer:
    """Build an optimizer by name: "sgd", "momentum" (SGD, momentum 0.9), "nesterov",
    "rmsprop", "adagrad", "adadelta", "adam", "adamw", "adamax", "nadam", "radam", "asgd",
    "rprop" (case-insensitive).

    ``lr=None`` keeps the optimizer's default, except for the SGD family, whose names
    mean ``lr=0.01`` here (``SGD``'s own default is PyTorch's 1e-3). An
    :class:`Optimizer` subclass is accepted in place of a name.

    Example
    -------
    >>> opt = get("adam", nn.Linear(4, 2).parameters(), lr=3e-4)
    >>> type(opt).__name__, opt.param_groups[0]["lr"]
    ('Adam', 0.0003)
    """
    defaults: dict[str, Any]
    if isinstance(name, type) and issubclass(name, Optimizer):
        cls, defaults = name, {}
    else:
        cls, defaults = lookup(name, _REGISTRY, "optimizer", "optim.get",
                               also="an Optimizer subclass")
    kw = dict(defaults)
    kw.update(kwargs)
    if lr is not None:
        kw["lr"] = lr
    return cls(params, **kw)
