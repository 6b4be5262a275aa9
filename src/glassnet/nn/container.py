"""Containers: Sequential, ModuleList, ModuleDict."""
from __future__ import annotations

from collections import OrderedDict

import numpy as np

from .. import backend
from ..autograd.function import _grad_mode
from ..autograd.tensor import Tensor
from . import inference
from .module import Module

__all__ = ["Sequential", "ModuleList", "ModuleDict"]


class Sequential(Module):
    """Modules applied in order; children are named "0", "1", ... (or by an OrderedDict).

    Under ``no_grad`` the loop runs through :mod:`glassnet.nn.inference` (raw-array steps for
    the layers it lists, the same results).

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

    def __call__(self, *args, **kwargs):
        # Under no_grad, for one Tensor (or an array of the module's dtype, which Module.__call__
        # would wrap as it is) and no hooks on this container, go straight to the lowered loop.
        # Only the exact class (a subclass may override forward) and no forward set on it.
        d = self.__dict__
        if (not _grad_mode.enabled and len(args) == 1 and not kwargs and type(self) is Sequential
                and not d["_forward_hooks"] and "forward" not in d):
            x = args[0]
            tx = type(x)
            if tx is Tensor:
                return inference.run(self, x._data, x)
            if tx is np.ndarray and x.dtype == (d.get("_dtype_hint")
                                                or backend.get_default_dtype()):
                return inference.run(self, x)
        return Module.__call__(self, *args, **kwargs)

    def __setattr__(self, name, value):
        self.__dict__.pop(inference.PLAN, None)   # a child may change: plan anew
        Module.__setattr__(self, name, value)

    def __delattr__(self, name):
        self.__dict__.pop(inference.PLAN, None)
        Module.__delattr__(self, name)

    def __getstate__(self):
        # copies (deepcopy) plan anew: the plan holds the children's own __dict__ objects
        state = self.__dict__.copy()
        state.pop(inference.PLAN, None)
        return state

    def forward(self, x):
        if not _grad_mode.enabled and type(x) is Tensor:
            return inference.run(self, x._data, x)   # the loop below, on raw arrays
        for m in self._modules.values():
            x = m(x)
        return x

    def append(self, module: Module) -> "Sequential":
        self._check(str(len(self)), module)
        setattr(self, str(len(self._modules)), module)
        return self

    def __setitem__(self, i, module: Module) -> None:
        """Replace the child at position ``i`` (an int, negative allowed) or named ``i``."""
        keys = list(self._modules)
        if isinstance(i, str):
            if i not in self._modules:
                raise KeyError(f"Sequential: no child named {i!r}")
            name = i
        else:
            if not -len(keys) <= i < len(keys):
                raise IndexError(f"Sequential: index {i} out of range for {len(keys)} children")
            name = keys[i]
        self._check(name, module)
        setattr(self, name, module)

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
