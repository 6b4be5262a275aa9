"""``Module``: the base of every layer and model, and ``Parameter``, with PyTorch's API.

Registration (attributes, ``add_module``, ``register_parameter``, ``register_buffer``),
traversal (``modules``, ``named_modules``, ``children``, ``parameters``, ``buffers`` and their
``named_`` forms), hooks (``register_forward_pre_hook``, ``register_forward_hook``,
``register_full_backward_hook``) with removable handles, state (``state_dict`` /
``load_state_dict`` with PyTorch's keys, return value and error text), modes (``train`` /
``eval``), casting (``to``, ``float``, ``double``, ``half``, ``type``), ``apply`` (children
first, then the module, as PyTorch) and a PyTorch-style ``repr``.
"""
from __future__ import annotations

import functools
import itertools
from collections import OrderedDict

import numpy as np

from .. import backend
from ..autograd.tensor import Tensor, as_input
from ..backend import devices as _devices
from ..backend import dtypes as _dtypes

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:  # annotations only
    from glassnet._typing import TensorLike
    from glassnet._typing import DTypeLike
    from glassnet._typing import DeviceLike
    from glassnet.autograd.tensor import Tensor


__all__ = ["Parameter", "Module", "RemovableHandle"]


class Parameter(Tensor):
    """A Tensor that is a learnable weight of a Module (``requires_grad=True`` by default).

    >>> p = nn.Parameter(gn.zeros(2))
    >>> p.requires_grad
    True
    """

    __slots__ = ()

    def __init__(self, data: TensorLike | None = None, requires_grad: bool = True) -> None:
        if data is None:
            data = np.empty((0,), dtype=backend.get_default_dtype())
        if isinstance(data, Tensor):
            data = data._data
        # an array (NumPy's or another array library's) keeps its type; the rest is converted
        arr: Any = np.asarray(data) if not hasattr(data, "dtype") else data
        if arr.dtype.kind != "f" and requires_grad:
            arr = arr.astype(backend.get_default_dtype())
        super().__init__(arr, requires_grad=requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


class _IncompatibleKeys(NamedTuple):
    missing_keys: list[str]
    unexpected_keys: list[str]


class IncompatibleKeys(_IncompatibleKeys):
    """What ``load_state_dict`` returns: ``(missing_keys, unexpected_keys)``, a named tuple
    printed as PyTorch prints it."""

    __slots__ = ()

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return (f"_IncompatibleKeys(missing_keys={self.missing_keys}, "
                f"unexpected_keys={self.unexpected_keys})")

    __str__ = __repr__


class RemovableHandle:
    """A hook's handle: ``remove()`` unregisters it (also usable as a context manager)."""

    _ids = itertools.count()

    def __init__(self, *dicts: dict[int, Any]) -> None:
        self.hooks_dicts = dicts
        self.id = next(RemovableHandle._ids)

    def remove(self) -> None:
        for d in self.hooks_dicts:
            d.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


def _tensor_type_name(value: object) -> str:
    if isinstance(value, Tensor):
        return f"{type(value).__name__} of dtype {value.dtype}"
    return type(value).__name__


class Module:
    """Base class of layers and models.

    Assigning a :class:`Parameter` or a Module as an attribute registers it, so
    ``parameters()``, ``state_dict()``, ``train()``/``eval()`` reach it. Names
    follow PyTorch: ``"0.weight"``, ``"fc1.bias"``...

    Subclasses implement ``forward``; call the module itself (``model(x)``).
    NumPy inputs are wrapped into Tensors automatically.

    >>> class Net(nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.fc = nn.Linear(2, 3)
    ...     def forward(self, x):
    ...         return self.fc(x)
    >>> Net()
    Net(
      (fc): Linear(in_features=2, out_features=3, bias=True)
    )
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # Record the constructor arguments of the most-derived class, so glassnet.io can
        # save the architecture as JSON and rebuild it without pickle.
        super().__init_subclass__(**kwargs)
        init = cls.__dict__.get("__init__")
        if init is None:
            return

        @functools.wraps(init)
        def recording_init(self: Module, *args: Any, **kw: Any) -> None:
            if "_init_args" not in self.__dict__:
                object.__setattr__(self, "_init_args", (args, dict(kw)))
            init(self, *args, **kw)

        setattr(cls, "__init__", recording_init)

    @property
    def init_args(self) -> tuple[tuple[Any, ...], dict[str, Any]]:
        """(args, kwargs) the module was constructed with (used to save the architecture)."""
        return self.__dict__.get("_init_args", ((), {}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if args or kwargs:
            raise TypeError(f"{type(self).__name__}.__init__() got unexpected arguments: the "
                            f"base Module takes none")
        d = self.__dict__
        d["_parameters"] = OrderedDict()
        d["_modules"] = OrderedDict()
        d["_buffers"] = OrderedDict()
        d["_non_persistent_buffers_set"] = set()
        d["training"] = True
        d["_forward_hooks"] = OrderedDict()
        d["_forward_hooks_with_kwargs"] = {}
        d["_forward_pre_hooks"] = OrderedDict()
        d["_forward_pre_hooks_with_kwargs"] = {}
        d["_backward_hooks"] = OrderedDict()

    # ------------------------------------------------------------ registration
    def __setattr__(self, name: str, value: Any) -> None:
        d = self.__dict__
        if "_parameters" not in d:
            raise RuntimeError(f"{type(self).__name__}: call super().__init__() before assigning "
                               f"attributes (while setting {name!r})")
        params, mods, bufs = d["_parameters"], d["_modules"], d["_buffers"]
        if isinstance(value, Parameter):
            if name not in params:          # a replacement keeps its place in the order
                self._drop(name)
            params[name] = value
            d.pop(name, None)
            object.__setattr__(self, name, value)
            return
        if name in params:
            if value is not None:
                raise TypeError(f"cannot assign '{_tensor_type_name(value)}' as parameter "
                                f"'{name}' (glassnet.nn.Parameter or None expected)")
            params.pop(name)
            object.__setattr__(self, name, None)
            return
        if isinstance(value, Module):
            if name not in mods:
                self._drop(name)
            mods[name] = value
            object.__setattr__(self, name, value)
            return
        if name in mods:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as child module "
                                f"'{name}' (glassnet.nn.Module or None expected)")
            mods.pop(name)
            object.__setattr__(self, name, None)
            return
        if name in bufs:
            if value is not None and not isinstance(value, (Tensor, np.ndarray)):
                raise TypeError(f"cannot assign '{type(value).__name__}' as buffer '{name}' "
                                f"(glassnet.Tensor or None expected)")
            bufs[name] = _as_buffer(value)
            return
        object.__setattr__(self, name, value)

    def _drop(self, name: str) -> None:
        for key in ("_parameters", "_modules", "_buffers"):
            self.__dict__[key].pop(name, None)
        self.__dict__["_non_persistent_buffers_set"].discard(name)

    def __getattr__(self, name: str) -> Any:
        # only called when normal lookup fails: buffers live in _buffers
        d = self.__dict__
        if "_buffers" in d and name in d["_buffers"]:
            return d["_buffers"][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        d = self.__dict__
        found = False
        for key in ("_parameters", "_modules", "_buffers"):
            if name in d.get(key, {}):
                del d[key][name]
                found = True
        d.get("_non_persistent_buffers_set", set()).discard(name)
        if name in d:
            object.__delattr__(self, name)
        elif not found:
            raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __dir__(self) -> list[str]:
        attrs = set(dir(type(self))) | set(self.__dict__)
        attrs |= set(self._parameters) | set(self._modules) | set(self._buffers)
        return sorted(a for a in attrs if not a[:1].isdigit())

    def _check_name(self, name: object, what: str) -> None:
        if not isinstance(name, str):
            raise TypeError(f"{what} name should be a string. Got {type(name).__name__}")
        if "." in name:
            raise KeyError(f"{what} name can't contain \".\", got: {name}")
        if name == "":
            raise KeyError(f"{what} name can't be empty string \"\"")

    def register_buffer(self, name: str, tensor: Tensor | np.ndarray | None,
                        persistent: bool = True) -> None:
        """Register a state tensor (e.g. BatchNorm's running statistics): saved in
        ``state_dict`` unless ``persistent=False``, moved by ``to()``, never trained.

        >>> m = nn.Module(); m.register_buffer("count", gn.zeros(()))
        >>> list(m.state_dict())
        ['count']
        """
        self._check_name(name, "buffer")
        if hasattr(type(self), name) or (name in self.__dict__ and name not in self._buffers):
            raise KeyError(f"attribute '{name}' already exists")
        if name in self._parameters or name in self._modules:
            raise KeyError(f"attribute '{name}' already exists")
        if tensor is not None and not isinstance(tensor, (Tensor, np.ndarray)):
            raise TypeError(f"cannot assign '{type(tensor).__name__}' object to buffer "
                            f"'{name}' (glassnet Tensor or None required)")
        self._buffers[name] = _as_buffer(tensor)
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def set_buffer(self, name: str, array: Tensor | np.ndarray) -> None:
        """Replace the values of a registered buffer (an array or a Tensor)."""
        if name not in self._buffers:
            raise KeyError(f"{type(self).__name__}: no buffer named {name!r}")
        self._buffers[name] = _as_buffer(array)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Register ``param`` (a :class:`Parameter`, or None for an absent one) as ``name``."""
        self._check_name(name, "parameter")
        if (name in self.__dict__ and name not in self._parameters) or hasattr(type(self), name):
            raise KeyError(f"attribute '{name}' already exists")
        if param is None:
            self._parameters.pop(name, None)
            object.__setattr__(self, name, None)
            return
        if not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{_tensor_type_name(param)}' object to parameter "
                            f"'{name}' (glassnet.nn.Parameter or None required)")
        setattr(self, name, param)

    def add_module(self, name: str, module: Module | None) -> None:
        """Register ``module`` (a Module or None) as the child ``name``."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        self._check_name(name, "module")
        if hasattr(type(self), name) and name not in self._modules:
            raise KeyError(f"attribute '{name}' already exists")
        if module is None:
            self._drop(name)
            self._modules[name] = None
            object.__setattr__(self, name, None)
            return
        setattr(self, name, module)

    def register_module(self, name: str, module: Module | None) -> None:
        """Alias of :meth:`add_module`."""
        self.add_module(name, module)

    # ------------------------------------------------------------------ hooks
    def register_forward_pre_hook(self, hook: Callable[..., Any], *, prepend: bool = False,
                                  with_kwargs: bool = False) -> RemovableHandle:
        """Call ``hook(module, args)`` (or ``hook(module, args, kwargs)`` with
        ``with_kwargs``) before each forward; a non-None result replaces the arguments
        (a single value is wrapped in a tuple). Returns a handle with ``remove()``."""
        h = RemovableHandle(self._forward_pre_hooks, self._forward_pre_hooks_with_kwargs)
        _insert(self._forward_pre_hooks, h.id, hook, prepend)
        if with_kwargs:
            self._forward_pre_hooks_with_kwargs[h.id] = True
        return h

    def register_forward_hook(self, hook: Callable[..., Any], *, prepend: bool = False,
                              with_kwargs: bool = False,
                              always_call: bool = False) -> RemovableHandle:
        """Call ``hook(module, args, output)`` (``hook(module, args, kwargs, output)`` with
        ``with_kwargs``) after each forward; a non-None result replaces the output.
        Returns a handle with ``remove()``."""
        h = RemovableHandle(self._forward_hooks, self._forward_hooks_with_kwargs)
        _insert(self._forward_hooks, h.id, hook, prepend)
        if with_kwargs:
            self._forward_hooks_with_kwargs[h.id] = True
        return h

    def register_full_backward_hook(self, hook: Callable[..., Any],
                                    prepend: bool = False) -> RemovableHandle:
        """Call ``hook(module, grad_input, grad_output)`` when the gradients of the module's
        Tensor inputs are computed (grad_output: the gradients of its outputs). A non-None
        result (a tuple, one entry per input) replaces grad_input."""
        h = RemovableHandle(self._backward_hooks)
        _insert(self._backward_hooks, h.id, hook, prepend)
        return h

    # ---------------------------------------------------------------- calling
    def forward(self, *args: Any, **kwargs: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError(f"Module [{type(self).__name__}] is missing the required "
                                  f"\"forward\" function")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        for a in args:
            if isinstance(a, np.ndarray):
                args = tuple(self._wrap(a) if isinstance(a, np.ndarray) else a for a in args)
                break
        d = self.__dict__
        if d["_forward_pre_hooks"]:
            wk = d["_forward_pre_hooks_with_kwargs"]
            for key, hook in list(d["_forward_pre_hooks"].items()):
                if key in wk:
                    r = hook(self, args, kwargs)
                    if r is not None:
                        if not (isinstance(r, tuple) and len(r) == 2):
                            raise RuntimeError(f"forward pre-hook must return None or a tuple "
                                               f"of (new_args, new_kwargs), but got {r}.")
                        args, kwargs = r
                else:
                    r = hook(self, args)
                    if r is not None:
                        args = r if isinstance(r, tuple) else (r,)
        if d["_backward_hooks"]:
            return self._call_with_backward_hooks(args, kwargs)
        out = self.forward(*args, **kwargs)
        if d["_forward_hooks"]:
            wk = d["_forward_hooks_with_kwargs"]
            for key, hook in list(d["_forward_hooks"].items()):
                r = hook(self, args, kwargs, out) if key in wk else hook(self, args, out)
                if r is not None:
                    out = r
        return out

    def _call_with_backward_hooks(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        from ._hooks import call_with_backward_hooks
        out = call_with_backward_hooks(self, args, kwargs)
        d = self.__dict__
        if d["_forward_hooks"]:
            wk = d["_forward_hooks_with_kwargs"]
            for key, hook in list(d["_forward_hooks"].items()):
                r = hook(self, args, kwargs, out) if key in wk else hook(self, args, out)
                if r is not None:
                    out = r
        return out

    def _wrap(self, a: np.ndarray) -> Tensor:
        """A NumPy argument as a Tensor: float arrays take the module's dtype when it was
        set with ``to`` / ``double()`` / ``float()``, else the default dtype."""
        dt = self.__dict__.get("_dtype_hint")
        if dt is not None and a.dtype.kind == "f":
            return Tensor(a.astype(dt, copy=False))
        return as_input(a)

    # -------------------------------------------------------------- traversal
    def children(self) -> Iterator[Module]:
        """The direct child modules (each once)."""
        for _, m in self.named_children():
            yield m

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """(name, module) of the direct children (each module once)."""
        memo = set()
        for name, m in self._modules.items():
            if m is not None and id(m) not in memo:
                memo.add(id(m))
                yield name, m

    def named_modules(self, memo: set[int] | None = None, prefix: str = "",
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Module]]:
        """(dotted name, module) of this module and every descendant, depth first, this
        module first (named ``prefix``, "" by default); a module reachable twice is given
        once unless ``remove_duplicate=False``."""
        if memo is None:
            memo = set()
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, m in self._modules.items():
            if m is None:
                continue
            yield from m.named_modules(memo, f"{prefix}.{name}" if prefix else name,
                                       remove_duplicate)

    def modules(self) -> Iterator[Module]:
        """This module and every descendant (each once)."""
        for _, m in self.named_modules():
            yield m

    def _named_members(self, attr: str, prefix: str, recurse: bool,
                       remove_duplicate: bool) -> Iterator[tuple[str, Any]]:
        seen = set()
        mods = (self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate)
                if recurse else [(prefix, self)])
        for mname, m in mods:
            for k, v in m.__dict__[attr].items():
                if v is None or (remove_duplicate and id(v) in seen):
                    continue
                seen.add(id(v))
                yield (f"{mname}.{k}" if mname else k), v

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True) -> Iterator[tuple[str, Parameter]]:
        """(dotted name, Parameter) pairs; a shared parameter once (unless
        ``remove_duplicate=False``); only this module's own with ``recurse=False``."""
        yield from self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """Every Parameter (each once)."""
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True,
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Tensor]]:
        """(dotted name, buffer Tensor) pairs."""
        yield from self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        """Every buffer Tensor."""
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def get_submodule(self, target: str) -> "Module":
        """The descendant at dotted path ``target`` ("" is this module)."""
        if target == "":
            return self
        mod = self
        for item in target.split("."):
            if not hasattr(mod, item):
                raise AttributeError(f"{type(mod).__name__} has no attribute `{item}`")
            mod = getattr(mod, item)
            if not isinstance(mod, Module):
                raise AttributeError(f"`{item}` is not an nn.Module")
        return mod

    def _get_leaf(self, target: str, table: str, what: str) -> Any:
        modpath, _, name = target.rpartition(".")
        mod = self.get_submodule(modpath)
        if not hasattr(mod, name):
            raise AttributeError(f"{type(mod).__name__} has no attribute `{name}`")
        if name not in mod.__dict__[table]:
            raise AttributeError(f"`{name}` is not {what}")
        return getattr(mod, name)

    def get_parameter(self, target: str) -> Parameter:
        """The Parameter at dotted path ``target`` (e.g. ``"0.weight"``)."""
        return self._get_leaf(target, "_parameters", "an nn.Parameter")

    def get_buffer(self, target: str) -> Tensor:
        """The buffer at dotted path ``target``."""
        return self._get_leaf(target, "_buffers", "a buffer")

    def num_parameters(self, trainable_only: bool = False) -> int:
        return int(sum(p._data.size for p in self.parameters()
                       if p.requires_grad or not trainable_only))

    # ------------------------------------------------------------------ modes
    def train(self, mode: bool = True) -> "Module":
        """Set training mode (``mode=True``) or evaluation mode on this module and every
        descendant; returns self."""
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        object.__setattr__(self, "training", mode)
        for m in self.children():
            m.train(mode)
        return self

    def eval(self) -> "Module":
        """``train(False)``."""
        return self.train(False)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset every parameter's gradient: to None (default), or to zeros."""
        for p in self.parameters():
            if set_to_none:
                p.grad = None
            elif p.grad is not None:
                p.grad._data[...] = 0

    def requires_grad_(self, requires_grad: bool = True) -> "Module":
        """Freeze (False) or unfreeze (True) every parameter of this module."""
        for p in self.parameters():
            p.requires_grad = bool(requires_grad)
        return self

    def freeze(self) -> "Module":
        """Keep this module's parameters fixed during training (``requires_grad_(False)``)."""
        return self.requires_grad_(False)

    def unfreeze(self) -> "Module":
        return self.requires_grad_(True)

    def apply(self, fn: Callable[[Module], object]) -> "Module":
        """Call ``fn(m)`` on every child module (recursively) and then on this module, in
        PyTorch's order (children first); returns self.

        >>> order = []
        >>> _ = nn.Sequential(nn.Linear(2, 2)).apply(lambda m: order.append(type(m).__name__))
        >>> order
        ['Linear', 'Sequential']
        """
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    # ---------------------------------------------------------------- casting
    def _cast(self, dt: np.dtype[Any], floating_only: bool = True) -> "Module":
        for p in self.parameters():
            if not floating_only or p._data.dtype.kind == "f":
                if p._data.dtype != dt:
                    p._data = p._data.astype(dt)
                    if p.grad is not None:
                        p.grad = Tensor(p.grad._data.astype(dt))
        for m in self.modules():
            for k, b in list(m._buffers.items()):
                if b is not None and (not floating_only or b._data.dtype.kind == "f"):
                    b._data = b._data.astype(dt)
            object.__setattr__(m, "_dtype_hint", dt)   # NumPy inputs are cast to it
        return self

    def to_dtype(self, dtype: DTypeLike) -> "Module":
        """Cast every floating parameter and buffer to ``dtype`` in place."""
        return self._cast(np.dtype(dtype))

    def to(self, *args: Any, **kwargs: Any) -> "Module":
        """PyTorch's ``to(device)``, ``to(dtype)``, ``to(device, dtype)``, ``to(tensor)``,
        with ``non_blocking`` / ``memory_format`` accepted: floating parameters and buffers
        take ``dtype``; the device must be the CPU (anything else is a clear error).
        Returns self."""
        device = kwargs.pop("device", None)
        dtype = kwargs.pop("dtype", None)
        kwargs.pop("non_blocking", None)
        kwargs.pop("memory_format", None)
        kwargs.pop("copy", None)
        if kwargs:
            raise TypeError(f"to() received an invalid combination of arguments: unexpected "
                            f"keyword(s) {sorted(kwargs)}")
        rest = list(args)
        if rest and isinstance(rest[0], Tensor):
            dtype = rest.pop(0).dtype
        elif rest and _devices.is_device_spec(rest[0]):
            device = rest.pop(0)
        if rest and not isinstance(rest[0], bool):
            if dtype is not None:
                raise TypeError("to() received an invalid combination of arguments")
            dtype = rest.pop(0)
        if rest and isinstance(rest[0], bool):     # non_blocking, then copy
            rest = rest[1:]
        if rest and isinstance(rest[0], bool):
            rest = rest[1:]
        if rest:
            raise TypeError(f"to() received an invalid combination of arguments: {args!r}")
        if device is not None:
            _devices.check(device, "device", f"{type(self).__name__}.to")
        if dtype is not None:
            dt = _dtypes.resolve(dtype, "dtype", f"{type(self).__name__}.to")
            if dt.kind not in "fc":
                raise TypeError(f"nn.Module.to only accepts floating point or complex dtypes, "
                                f"but got desired dtype={dt}")
            self._cast(dt)
        return self

    def cpu(self) -> "Module":
        """Already on the CPU: returns self."""
        return self

    def cuda(self, device: DeviceLike = None) -> "Module":
        """glassnet runs on the CPU only: always a clear error."""
        _devices.check("cuda" if device is None else
                       (f"cuda:{device}" if isinstance(device, int) else device),
                       "device", f"{type(self).__name__}.cuda")
        return self

    def type(self, dst_type: DTypeLike) -> "Module":
        """Cast every parameter and buffer to ``dst_type``; returns self."""
        return self._cast(_dtypes.resolve(dst_type, "dst_type", f"{type(self).__name__}.type"),
                          floating_only=False)

    def double(self) -> "Module":
        """Floating parameters and buffers to float64."""
        return self.to_dtype(np.float64)

    def float(self) -> "Module":
        """Floating parameters and buffers to float32."""
        return self.to_dtype(np.float32)

    def half(self) -> "Module":
        """Floating parameters and buffers to float16 (NumPy computes in it, slowly)."""
        return self.to_dtype(np.float16)

    def bfloat16(self) -> "Module":
        """Not available: NumPy has no bfloat16."""
        raise TypeError(f"{type(self).__name__}.bfloat16: glassnet has no bfloat16 dtype "
                        f"(NumPy has none); use float() or half()")

    @property
    def dtype(self) -> np.dtype[Any]:
        for p in self.parameters():
            return p.dtype
        return backend.get_default_dtype()

    # ----------------------------------------------------------------- state
    def _own_state(self, keep_vars: bool = False) -> Iterator[tuple[str, Tensor]]:
        for name, p in self._parameters.items():
            if p is not None:
                yield name, p if keep_vars else p.detach()
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent_buffers_set:
                yield name, b if keep_vars else b.detach()

    def state_dict(self, *args: Any, destination: dict[str, Any] | None = None, prefix: str = "",
                   keep_vars: bool = False) -> dict[str, Any]:
        """Every parameter and persistent buffer by dotted name (``"0.weight"``), as
        Tensors that share memory with the module and carry no gradient (the Parameters
        themselves with ``keep_vars=True``), in PyTorch's order.

        >>> list(nn.Sequential(nn.Linear(2, 3)).state_dict())
        ['0.weight', '0.bias']
        """
        if args:      # PyTorch's old positional form state_dict(destination, prefix, keep_vars)
            destination = args[0]
            if len(args) > 1:
                prefix = args[1]
            if len(args) > 2:
                keep_vars = args[2]
        if destination is None:
            destination = OrderedDict()
        # every path to a shared module is saved, as in PyTorch (no de-duplication)
        for mname, m in self.named_modules(prefix=prefix[:-1] if prefix.endswith(".")
                                           else prefix, remove_duplicate=False):
            for k, v in m._own_state(keep_vars):
                destination[f"{mname}.{k}" if mname else k] = v
        return destination

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True,
                        assign: bool = False) -> IncompatibleKeys:
        """Copy values (Tensors, arrays, or another framework's tensors) into the parameters
        and persistent buffers by name.

        Returns ``IncompatibleKeys(missing_keys, unexpected_keys)``; with ``strict`` (the
        default) either kind of key is a ``RuntimeError`` with PyTorch's message, and a
        shape mismatch always is.
        """
        if not hasattr(state_dict, "keys"):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict)}.")
        own = {}
        for mname, m in self.named_modules(remove_duplicate=False):
            for k, v in m._own_state(True):
                own[f"{mname}.{k}" if mname else k] = (m, k)
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        errors = []
        staged = []
        for key, (m, name) in own.items():
            if key not in state_dict:
                continue
            v = _raw_value(state_dict[key])
            cur = m._parameters.get(name)
            if cur is None:
                cur = m._buffers[name]
            if tuple(v.shape) != tuple(cur.shape):
                errors.append(f"size mismatch for {key}: copying a param with shape "
                              f"{_torch_size(v.shape)} from checkpoint, the shape in current "
                              f"model is {_torch_size(cur.shape)}.")
                continue
            staged.append((cur, v))
        if strict:
            if unexpected:
                errors.insert(0, "Unexpected key(s) in state_dict: "
                              + ", ".join(f'"{k}"' for k in unexpected) + ". ")
            if missing:
                errors.insert(0, "Missing key(s) in state_dict: "
                              + ", ".join(f'"{k}"' for k in missing) + ". ")
        if errors:
            raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__}:\n\t"
                               + "\n\t".join(errors))
        for cur, v in staged:
            # in place: optimizers may hold views of the parameter's memory
            cur._data[...] = backend.xp().asarray(v, dtype=cur._data.dtype)
        return IncompatibleKeys(missing, unexpected)

    # --------------------------------------------------------------- display
    def extra_repr(self) -> str:
        """The module's own settings shown inside its ``repr`` (override in layers)."""
        return ""

    def _get_name(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = []
        for name, m in self._modules.items():
            sub = _addindent(repr(m), 2)
            child_lines.append(f"({name}): {sub}")
        lines = extra_lines + child_lines
        head = self._get_name() + "("
        if lines:
            if len(extra_lines) == 1 and not child_lines:
                head += extra_lines[0]
            else:
                head += "\n  " + "\n  ".join(lines) + "\n"
        return head + ")"


def _addindent(s: str, n: int) -> str:
    first, *rest = s.split("\n")
    if not rest:
        return s
    pad = " " * n
    return first + "\n" + "\n".join(pad + line for line in rest)


def _insert(d: OrderedDict[int, Any], key: int, hook: Callable[..., Any],
            prepend: bool) -> None:
    d[key] = hook
    if prepend:
        d.move_to_end(key, last=False)


def _as_buffer(value: Tensor | np.ndarray | None) -> Tensor | None:
    """A buffer is stored as a Tensor that requires no gradient (arrays are wrapped)."""
    if value is None:
        return None
    if isinstance(value, Tensor):
        return value
    return Tensor._from_op(np.asarray(value), None, 0, False)


def _raw_value(v: Any) -> Any:
    if isinstance(v, Tensor):
        return v._data
    if hasattr(v, "detach") and hasattr(v, "numpy"):       # another framework's tensor
        return np.asarray(v.detach().cpu().numpy())
    return np.asarray(v) if not hasattr(v, "shape") else v


def _torch_size(shape: Sequence[int]) -> str:
    return "torch.Size([" + ", ".join(str(int(s)) for s in shape) + "])"
