"""Containers: Sequential, ModuleList, ModuleDict, ParameterList, ParameterDict (PyTorch's APIs)."""
from __future__ import annotations

from collections import OrderedDict
from collections.abc import ItemsView, Iterable, Iterator, KeysView, Mapping, ValuesView
from typing import Any, cast, overload

import numpy as np

from .. import backend
from ..autograd.function import _grad_mode
from ..autograd.tensor import Tensor
from . import inference
from .module import Module, Parameter

__all__ = ["Sequential", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict"]


class Sequential(Module):
    """Modules applied in order; children are named "0", "1", ... (or by an OrderedDict).

    Under ``no_grad`` the loop runs through :mod:`glassnet.nn.inference` (raw-array steps for
    the layers it lists, the same results).

    >>> model = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))
    """

    def __init__(self, *modules: Module | Mapping[str, Module]) -> None:
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
    def _check(name: str, m: object) -> None:
        if not isinstance(m, Module):
            raise TypeError(f"Sequential: element {name} must be a Module, got {type(m).__name__}")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        # Under no_grad, for one Tensor (or an array of the module's dtype, which Module.__call__
        # would wrap as it is) and no hooks on this container, go straight to the lowered loop.
        # Only the exact class (a subclass may override forward) and no forward set on it.
        d = self.__dict__
        if (not _grad_mode.enabled and len(args) == 1 and not kwargs and type(self) is Sequential
                and not d["_forward_hooks"] and not d["_forward_pre_hooks"]
                and not d["_backward_hooks"] and "forward" not in d):
            x = args[0]
            tx = type(x)
            if tx is Tensor:
                return inference.run(self, x._data, x)
            if tx is np.ndarray and x.dtype == (d.get("_dtype_hint")
                                                or backend.get_default_dtype()):
                return inference.run(self, x)
        return Module.__call__(self, *args, **kwargs)

    def __setattr__(self, name: str, value: Any) -> None:
        self.__dict__.pop(inference.PLAN, None)   # a child may change: plan anew
        Module.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        self.__dict__.pop(inference.PLAN, None)
        Module.__delattr__(self, name)

    def __getstate__(self) -> dict[str, Any]:
        # copies (deepcopy) plan anew: the plan holds the children's own __dict__ objects
        state = self.__dict__.copy()
        state.pop(inference.PLAN, None)
        return state

    def forward(self, x: Any) -> Any:
        if not _grad_mode.enabled and type(x) is Tensor:
            return inference.run(self, x._data, x)   # the loop below, on raw arrays
        for m in self._modules.values():
            x = m(x)
        return x

    def append(self, module: Module) -> "Sequential":
        self._check(str(len(self)), module)
        setattr(self, str(len(self._modules)), module)
        return self

    def __setitem__(self, i: int | str, module: Module) -> None:
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

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    @overload
    def __getitem__(self, i: slice) -> Sequential: ...

    @overload
    def __getitem__(self, i: int | str) -> Module: ...

    def __getitem__(self, i: int | str | slice) -> Module:
        if isinstance(i, slice):
            return Sequential(OrderedDict(list(self._modules.items())[i]))
        if isinstance(i, str):
            return self._modules[i]
        return list(self._modules.values())[_index(i, len(self))]

    def _renumber(self, mods: Iterable[Module]) -> None:
        for k in list(self._modules):
            delattr(self, k)
        for j, m in enumerate(mods):
            setattr(self, str(j), m)

    def __delitem__(self, i: int | slice) -> None:
        """Delete by position or slice; the rest are renumbered "0", "1", ... as in PyTorch."""
        mods = list(self._modules.values())
        if isinstance(i, slice):
            del mods[i]
        else:
            del mods[_index(i, len(mods))]
        self._renumber(mods)

    def insert(self, index: int, module: Module) -> "Sequential":
        """Insert ``module`` before position ``index``."""
        self._check(str(index), module)
        n = len(self._modules)
        if not -n <= index <= n:
            raise IndexError(f"Index out of range: {index}")
        mods = list(self._modules.values())
        mods.insert(index, module)
        self._renumber(mods)
        return self

    def extend(self, sequential: Iterable[Module]) -> "Sequential":
        """Append every module of an iterable."""
        for m in sequential:
            self.append(m)
        return self

    def pop(self, key: int | slice) -> Module:
        """Remove and return the module at position ``key``."""
        v = self[key]
        del self[key]
        return v

    def __add__(self, other: Sequential) -> Sequential:
        if not isinstance(other, Sequential):
            raise ValueError("add operator supports only objects of Sequential class, but "
                             f"{type(other)} is given.")
        return Sequential(*list(self), *list(other))

    def __iadd__(self, other: Iterable[Module]) -> Sequential:
        return self.extend(other)


def _index(i: int, n: int, who: str = "index") -> int:
    i = int(i)
    if not -n <= i < n:
        raise IndexError(f"{who} {i} is out of range")
    return i % n


def _list_repr(self: Module) -> str:
    """PyTorch's list repr: a run of identical consecutive entries is one line (a-b): k x ..."""
    items = [(k, repr(m)) for k, m in self._modules.items()]
    lines = []
    i = 0
    while i < len(items):
        j = i
        while j + 1 < len(items) and items[j + 1][1] == items[i][1]:
            j += 1
        body = items[i][1].replace("\n", "\n  ")
        if j > i:
            lines.append(f"  ({items[i][0]}-{items[j][0]}): {j - i + 1} x {body}")
        else:
            lines.append(f"  ({items[i][0]}): {body}")
        i = j + 1
    if not lines:
        return type(self).__name__ + "()"
    return type(self).__name__ + "(\n" + "\n".join(lines) + "\n)"


class ModuleList(Module):
    """A list of modules registered as children "0", "1", ... (PyTorch's list API:
    append, extend, insert, indexing and slices, ``del``, ``len``, iteration, ``+``).

    >>> layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    >>> len(layers[1:])
    2
    """

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def _reset(self, mods: Iterable[Module]) -> None:
        for k in list(self._modules):
            delattr(self, k)
        for j, m in enumerate(mods):
            self.add_module(str(j), m)

    def append(self, module: Module) -> "ModuleList":
        """Add ``module`` at the end."""
        self.add_module(str(len(self._modules)), module)
        return self

    def extend(self, modules: Iterable[Module]) -> "ModuleList":
        """Append every module of an iterable."""
        if isinstance(modules, (str, bytes)) or not hasattr(modules, "__iter__"):
            raise TypeError("ModuleList.extend should be called with an iterable, but got "
                            + type(modules).__name__)
        for m in modules:
            self.append(m)
        return self

    def insert(self, index: int, module: Module) -> None:
        """Insert ``module`` before position ``index``."""
        if not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        mods = list(self._modules.values())
        mods.insert(index, module)
        self._reset(mods)

    def pop(self, key: int | slice = -1) -> Module:
        """Remove and return the module at position ``key``."""
        v = self[key]
        del self[key]
        return v

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(list(self._modules.values()))

    @overload
    def __getitem__(self, i: slice) -> ModuleList: ...

    @overload
    def __getitem__(self, i: int) -> Module: ...

    def __getitem__(self, i: int | slice) -> Module:
        if isinstance(i, slice):
            return type(self)(list(self._modules.values())[i])
        return list(self._modules.values())[_index(i, len(self))]

    def __setitem__(self, i: int, module: Module) -> None:
        self.add_module(str(_index(i, len(self))), module)

    def __delitem__(self, i: int | slice) -> None:
        mods = list(self._modules.values())
        if isinstance(i, slice):
            del mods[i]
        else:
            del mods[_index(i, len(mods))]
        self._reset(mods)

    def __add__(self, other: Iterable[Module]) -> ModuleList:
        return ModuleList(list(self) + list(other))

    def __iadd__(self, modules: Iterable[Module]) -> ModuleList:
        return self.extend(modules)

    def __repr__(self) -> str:
        return _list_repr(self)


class ModuleDict(Module):
    """A dict of modules registered by key (PyTorch's dict API: ``[]``, ``in``, ``len``,
    iteration over keys, keys / items / values, update, pop, clear)."""

    def __init__(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]] | None
                 = None) -> None:
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __setitem__(self, k: str, m: Module) -> None:
        self.add_module(k, m)

    def __getitem__(self, k: str) -> Module:
        return self._modules[k]

    def __delitem__(self, k: str) -> None:
        delattr(self, k)

    def __contains__(self, k: object) -> bool:
        return k in self._modules

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._modules))

    def keys(self) -> KeysView[str]:
        return self._modules.keys()

    def items(self) -> ItemsView[str, Module]:
        return self._modules.items()

    def values(self) -> ValuesView[Module]:
        return self._modules.values()

    def update(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]]) -> None:
        """Add (or replace) entries from a mapping or an iterable of (key, module) pairs."""
        mapping = hasattr(modules, "items")
        items: Iterable[Any] = (cast(Mapping[str, Module], modules).items() if mapping
                                else modules)
        for j, kv in enumerate(items):
            if not mapping and len(kv) != 2:
                raise ValueError(f"ModuleDict update sequence element #{j} has length "
                                 f"{len(kv)}; 2 is required")
            k, m = kv
            self[k] = m

    def pop(self, key: str) -> Module:
        """Remove and return the module under ``key``."""
        v = self[key]
        del self[key]
        return v

    def clear(self) -> None:
        """Remove every entry."""
        for k in list(self._modules):
            delattr(self, k)


def _as_param(v: Any) -> Any:
    if isinstance(v, Parameter) or v is None:
        return v
    if isinstance(v, Tensor):
        return Parameter(v, requires_grad=v._data.dtype.kind == "f")
    return v


def _param_line(k: int | str, p: object) -> str:
    if isinstance(p, Tensor):
        size = "x".join(str(s) for s in p.shape)
        return f"  ({k}): Parameter containing: [glassnet.{p.dtype} of size {size}]"
    return f"  ({k}): Object of type: {type(p).__name__}"


class ParameterList(Module):
    """A list of Parameters registered as "0", "1", ... (Tensors become Parameters).

    >>> ps = nn.ParameterList([nn.Parameter(gn.zeros(2)) for _ in range(2)])
    >>> [n for n, _ in ps.named_parameters()]
    ['0', '1']
    """

    def __init__(self, values: Iterable[Any] | None = None) -> None:
        super().__init__()
        object.__setattr__(self, "_size", 0)
        if values is not None:
            self.extend(values)

    def __len__(self) -> int:
        return self._size

    def __getitem__(self, i: int | slice) -> Any:
        if isinstance(i, slice):
            return ParameterList([getattr(self, str(j)) for j in range(self._size)[i]])
        return getattr(self, str(_index(i, self._size)))

    def __setitem__(self, i: int, value: Any) -> None:
        setattr(self, str(_index(i, self._size)), _as_param(value))

    def __iter__(self) -> Iterator[Any]:
        return iter([getattr(self, str(j)) for j in range(self._size)])

    def append(self, value: Any) -> "ParameterList":
        """Add a Parameter (a Tensor is made one) at the end."""
        setattr(self, str(self._size), _as_param(value))
        object.__setattr__(self, "_size", self._size + 1)
        return self

    def extend(self, values: Iterable[Any]) -> "ParameterList":
        for v in values:
            self.append(v)
        return self

    def __iadd__(self, values: Iterable[Any]) -> ParameterList:
        return self.extend(values)

    def __repr__(self) -> str:
        lines = [_param_line(j, getattr(self, str(j))) for j in range(self._size)]
        return f"{type(self).__name__}(" + "\n".join(lines) + ")"


class ParameterDict(Module):
    """A dict of Parameters registered by key (Tensors become Parameters)."""

    def __init__(self, parameters: Mapping[str, Any] | Iterable[tuple[str, Any]] | None
                 = None) -> None:
        super().__init__()
        object.__setattr__(self, "_order", [])
        if parameters is not None:
            self.update(parameters)

    def __getitem__(self, k: str) -> Any:
        if k not in self._order:
            raise KeyError(k)
        return getattr(self, k)

    def __setitem__(self, k: str, v: Any) -> None:
        if k not in self._order:
            self._order.append(k)
        setattr(self, k, _as_param(v))

    def __delitem__(self, k: str) -> None:
        self._order.remove(k)
        delattr(self, k)

    def __contains__(self, k: object) -> bool:
        return k in self._order

    def __len__(self) -> int:
        return len(self._order)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._order))

    def keys(self) -> list[str]:
        return list(self._order)

    def values(self) -> list[Any]:
        return [self[k] for k in self._order]

    def items(self) -> list[tuple[str, Any]]:
        return [(k, self[k]) for k in self._order]

    def update(self, parameters: Mapping[str, Any] | Iterable[tuple[str, Any]]) -> None:
        """Add (or replace) entries from a mapping or (key, value) pairs."""
        items = parameters.items() if hasattr(parameters, "items") else parameters
        for k, v in items:
            self[k] = v

    def pop(self, k: str) -> Any:
        v = self[k]
        del self[k]
        return v

    def get(self, k: str, default: Any = None) -> Any:
        return self[k] if k in self else default

    def __repr__(self) -> str:
        lines = [_param_line(k, self[k]) for k in self._order]
        return f"{type(self).__name__}(" + "\n".join(lines) + ")"
