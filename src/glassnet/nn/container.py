"""Containers: Sequential, ModuleList, ModuleDict."""
from __future__ import annotations

from collections import OrderedDict

from ..autograd.function import _grad_mode
from ..autograd.tensor import Tensor
from .module import Module

__all__ = ["Sequential", "ModuleList", "ModuleDict"]


class Sequential(Module):
    """Modules applied in order; children are named "0", "1", ... (or by an OrderedDict).

    >>> model = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))
    """

    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], (OrderedDict, dict)):
            for name, m in modules[0].items():
                self._check(name, m)
                setattr(self, name, m)
        else:
            for i, m in enumerate(modules):
                self._check(str(i), m)
                setattr(self, str(i), m)

    @staticmethod
    def _check(name, m):
        if not isinstance(m, Module):
            raise TypeError(f"Sequential: element {name} must be a Module, got {type(m).__name__}")

    def forward(self, x):
        if not _grad_mode.enabled and type(x) is Tensor and not self._forward_hooks:
            # inference fast path: run the children on raw arrays (no Tensor per layer)
            return Tensor._from_op(self._infer(x.data), None, 0, False)
        for m in self._modules.values():
            x = m(x)
        return x

    def _infer(self, a):
        for m in self._modules.values():
            f = getattr(m, "_infer", None)
            if f is None or m._forward_hooks:
                a = m(Tensor._from_op(a, None, 0, False)).data
            else:
                a = f(a)
        return a

    def append(self, module: Module) -> "Sequential":
        self._check(str(len(self)), module)
        setattr(self, str(len(self._modules)), module)
        return self

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __getitem__(self, i):
        if isinstance(i, slice):
            return Sequential(*list(self._modules.values())[i])
        if isinstance(i, str):
            return self._modules[i]
        return list(self._modules.values())[i]


class ModuleList(Module):
    """A list of modules registered as children "0", "1", ..."""

    def __init__(self, modules=()):
        super().__init__()
        for m in modules:
            self.append(m)

    def append(self, m: Module) -> "ModuleList":
        if not isinstance(m, Module):
            raise TypeError(f"ModuleList: elements must be Modules, got {type(m).__name__}")
        setattr(self, str(len(self._modules)), m)
        return self

    def extend(self, ms):
        for m in ms:
            self.append(m)
        return self

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __getitem__(self, i):
        return list(self._modules.values())[i]


class ModuleDict(Module):
    """A dict of modules registered by key."""

    def __init__(self, modules=None):
        super().__init__()
        for k, m in (modules or {}).items():
            self[k] = m

    def __setitem__(self, k, m):
        setattr(self, k, m)

    def __getitem__(self, k):
        return self._modules[k]

    def __contains__(self, k):
        return k in self._modules

    def __len__(self):
        return len(self._modules)

    def keys(self):
        return self._modules.keys()

    def items(self):
        return self._modules.items()

    def values(self):
        return self._modules.values()
