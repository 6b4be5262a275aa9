"""Containers: Sequential, ModuleList, ModuleDict."""
from __future__ import annotations

import functools
from collections import OrderedDict

import numpy as np

from .. import backend
from ..autograd.function import _grad_mode
from ..autograd.tensor import Tensor
from .module import Module, _structure_version

__all__ = ["Sequential", "ModuleList", "ModuleDict"]


def _call_on_array(m, a):
    return m(Tensor._from_op(a, None, 0, False)).data


def _infer_of(m, name="_infer"):
    """``m``'s raw-array method ``name`` when it mirrors ``m.forward``: the class that
    defines it also defines the forward in use (a subclass that overrides forward, e.g.
    DropConnectLinear, must not inherit Linear's shortcut), else None."""
    cls = type(m)
    for c in cls.__mro__:
        if name in c.__dict__:
            return getattr(m, name) if cls.forward is c.__dict__.get("forward") else None
    return None


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

    def __call__(self, *args, **kwargs):
        # Inference fast path (no_grad, one array or Tensor in, no hooks on this container):
        # run a cached plan of the children's raw-array ``_infer`` steps, so a small network
        # costs little more than the NumPy calls themselves. Everything else takes the
        # ordinary Module call.
        if not _grad_mode.enabled and len(args) == 1 and not kwargs and not self._forward_hooks:
            x = args[0]
            tx = type(x)
            if tx is Tensor:
                a = x.data
            elif tx is np.ndarray and x.dtype == (self.__dict__.get("_dtype_hint")
                                                  or backend.get_default_dtype()):
                a = x
            else:
                a = None
            if a is not None:
                return Tensor._from_op(self._infer(a), None, 0, False)
        return Module.__call__(self, *args, **kwargs)

    def forward(self, x):
        if not _grad_mode.enabled and type(x) is Tensor and not self._forward_hooks:
            return Tensor._from_op(self._infer(x.data), None, 0, False)
        for m in self._modules.values():
            x = m(x)
        return x

    def _infer(self, a):
        plan = self.__dict__.get("_plan")
        if plan is None or plan[0] != _structure_version[0]:
            plan = self._build_plan()
        if plan[2] and a.ndim == 2 and a.shape[0] == 1:
            # one sample through row-wise layers: run it as a 1-D vector (BLAS gemv, and
            # 1-D ufuncs skip the broadcasting set-up of (1, n) arrays)
            a = a[0]
            for f in plan[1]:
                a = f(a)
            return a[None]
        for f in plan[1]:
            a = f(a)
        return a

    def _build_plan(self):
        """The children as raw-array steps. A child with ``_infer`` runs it; one whose input
        is an array made inside the plan (``_infer_fresh`` of the step before) may run its
        in-place ``_infer_`` instead (ReLU, Tanh, Identity); any other child (or one with
        hooks) is called as a module on a Tensor, so its train/eval behaviour is kept. The
        plan is row-wise when every child maps rows independently (``_infer_rowwise``)."""
        steps, fresh, rowwise = [], False, True
        for m in self._modules.values():
            infer = None if m._forward_hooks else _infer_of(m)
            if infer is None:
                steps.append(functools.partial(_call_on_array, m))
                fresh = rowwise = False
                continue
            rowwise = rowwise and bool(getattr(m, "_infer_rowwise", False))
            inplace = _infer_of(m, "_infer_") if fresh else None
            if inplace is not None:
                steps.append(inplace)
            else:
                steps.append(infer)
                fresh = bool(getattr(m, "_infer_fresh", False))
        plan = (_structure_version[0], tuple(steps), rowwise)
        object.__setattr__(self, "_plan", plan)
        return plan

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
