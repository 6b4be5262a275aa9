"""Transfer learning: freeze a pre-trained network and give it a new head.

The recipe: train a network on a large source task, keep its feature layers fixed
(``freeze``), replace its last layer by a fresh one sized for the target task
(``replace_head``), and train only what is still trainable (``trainable_parameters``)
on the few labelled target samples.

>>> net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
>>> old = replace_head(net, nn.Linear(8, 2))      # the last Linear, here net[2]
>>> old.out_features, net(gn.zeros(1, 4)).shape
(3, (1, 2))
>>> _ = freeze(net, except_=["2"])                 # only the new head learns
>>> [name for name, p in net.named_parameters() if p.requires_grad]
['2.weight', '2.bias']
"""
from __future__ import annotations

from typing import Iterable

from ..errors import ArgumentError, ArgumentTypeError
from ..nn.linear import Linear
from ..nn.module import Module, Parameter

__all__ = ["set_submodule", "find_head", "replace_head", "freeze", "trainable_parameters"]


def set_submodule(model: Module, target: str, module: Module,
                  strict: bool = False) -> Module | None:
    """Put ``module`` at the dotted path ``target`` of ``model`` (``"classifier.5"``),
    PyTorch's ``Module.set_submodule`` as a function: an existing sub-module is replaced
    in place (keeping its position among its siblings); a missing one is added to its
    parent unless ``strict``, which raises AttributeError then. Returns the module
    replaced (None when one was added).

    An empty ``target`` or a ``module`` that is not an nn.Module raises ValueError
    (:class:`~glassnet.errors.ArgumentError`); a missing parent raises AttributeError.
    """
    if not isinstance(target, str) or not target:
        raise ArgumentError(f"set_submodule: target must be a dotted module path such as "
                            f"'classifier.5', got {target!r}")
    if not isinstance(module, Module):
        raise ArgumentError(f"set_submodule: module must be an nn.Module, got "
                            f"{type(module).__name__}")
    parent_path, _, name = target.rpartition(".")
    parent = model.get_submodule(parent_path) if parent_path else model
    old = parent._modules.get(name)
    if old is None and strict:
        raise AttributeError(f"set_submodule: {type(parent).__name__} "
                             f"'{parent_path or '(model)'}' has no child module {name!r} "
                             f"(strict=True); its children are {list(parent._modules)}")
    setattr(parent, name, module)
    return old


def find_head(model: Module) -> str:
    """The dotted name of the model's head: its last ``Linear`` layer in registration
    order (the order ``named_modules`` walks, which is the forward order of Sequential
    stacks and of the models of ``glassnet.models``)."""
    names = [name for name, m in model.named_modules() if isinstance(m, Linear) and name]
    if not names:
        raise ArgumentError(f"find_head: {type(model).__name__} has no Linear sub-module to "
                            f"call its head; name the head explicitly")
    return names[-1]


def replace_head(model: Module, head: Module, name: str | None = None) -> Module:
    """Replace the model's head (the sub-module ``name``, by default :func:`find_head`)
    by ``head`` in place; returns the old head."""
    old = set_submodule(model, find_head(model) if name is None else name, head, strict=True)
    assert old is not None       # strict: the head existed
    return old


def freeze(model: Module, except_: Iterable[str] = ()) -> Module:
    """Stop gradients for every parameter of ``model`` except those of the sub-modules
    named in ``except_`` (dotted paths, e.g. ``["classifier.5"]``); returns the model.

    ``model.requires_grad_(False)`` freezes everything; ``requires_grad_(True)`` thaws.
    """
    keep = list(except_)
    if isinstance(except_, str):
        raise ArgumentTypeError(f"freeze: except_ must be a list of module paths, got the "
                                f"string {except_!r} (write [{except_!r}])")
    model.requires_grad_(False)
    for path in keep:
        model.get_submodule(path).requires_grad_(True)
    return model


def trainable_parameters(model: Module) -> list[Parameter]:
    """The parameters that still learn (``requires_grad``), for the optimizer."""
    return [p for p in model.parameters() if p.requires_grad]
