"""``Module``: the base of every layer and model, and ``Parameter``."""
from __future__ import annotations

import functools
from collections import OrderedDict

import numpy as np

from .. import backend
from ..autograd.tensor import Tensor, as_input

__all__ = ["Parameter", "Module"]


class Parameter(Tensor):
    """A Tensor that is a learnable weight of a Module (``requires_grad=True`` by default)."""

    __slots__ = ()

    def __init__(self, data, requires_grad: bool = True):
        if isinstance(data, Tensor):
            data = data._data
        data = np.asarray(data) if not hasattr(data, "dtype") else data
        if data.dtype.kind != "f":
            data = data.astype(backend.get_default_dtype())
        super().__init__(data, requires_grad=requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()


class Module:
    """Base class of layers and models.

    Assigning a :class:`Parameter` or a Module as an attribute registers it, so
    ``parameters()``, ``state_dict()``, ``train()``/``eval()`` reach it. Names
    follow PyTorch: ``"0.weight"``, ``"fc1.bias"``...

    Subclasses implement ``forward``; call the module itself (``model(x)``).
    NumPy inputs are wrapped into Tensors automatically.
    """

    def __init_subclass__(cls, **kwargs):
        # Record the constructor arguments of the most-derived class, so glassnet.io can
        # save the architecture as JSON and rebuild it without pickle.
        super().__init_subclass__(**kwargs)
        init = cls.__dict__.get("__init__")
        if init is None:
            return

        @functools.wraps(init)
        def recording_init(self, *args, **kw):
            if "_init_args" not in self.__dict__:
                object.__setattr__(self, "_init_args", (args, dict(kw)))
            init(self, *args, **kw)

        cls.__init__ = recording_init

    @property
    def init_args(self):
        """(args, kwargs) the module was constructed with (used to save the architecture)."""
        return self.__dict__.get("_init_args", ((), {}))

    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_forward_hooks", OrderedDict())

    # ------------------------------------------------------------ registration
    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise RuntimeError(f"{type(self).__name__}: call super().__init__() before assigning "
                               f"attributes (while setting {name!r})")
        if name in self._buffers and not isinstance(value, (Parameter, Module)):
            self._buffers[name] = value  # a registered buffer keeps its registration
            return
        for d in (self._parameters, self._modules, self._buffers):
            d.pop(name, None)
        if isinstance(value, Parameter):
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._modules[name] = value
        object.__setattr__(self, name, value)

    def __getattr__(self, name):
        # only called when normal lookup fails: buffers live in _buffers
        d = self.__dict__
        if "_buffers" in d and name in d["_buffers"]:
            return d["_buffers"][name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __delattr__(self, name):
        for d in (self._parameters, self._modules, self._buffers):
            if name in d:
                del d[name]
        if name in self.__dict__:
            object.__delattr__(self, name)

    def register_buffer(self, name: str, array) -> None:
        """Register a state array (e.g. BatchNorm running statistics) saved in ``state_dict``."""
        self.__dict__.pop(name, None)
        self._buffers[name] = array

    def set_buffer(self, name: str, array) -> None:
        """Replace the array of a registered buffer."""
        if name not in self._buffers:
            raise KeyError(f"{type(self).__name__}: no buffer named {name!r}")
        self._buffers[name] = array

    def register_parameter(self, name: str, param) -> None:
        if param is None:
            self._parameters.pop(name, None)
            object.__setattr__(self, name, None)
            return
        setattr(self, name, param)

    def add_module(self, name: str, module: "Module") -> None:
        setattr(self, name, module)

    def register_forward_hook(self, hook):
        """Call ``hook(module, inputs, output)`` after each forward; returns a handle with ``remove()``."""
        key = id(hook)
        self._forward_hooks[key] = hook
        hooks = self._forward_hooks

        class _Handle:
            def remove(self_inner):
                hooks.pop(key, None)
        return _Handle()

    # ---------------------------------------------------------------- calling
    def forward(self, *args, **kwargs):  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} must implement forward()")

    def __call__(self, *args, **kwargs):
        for a in args:
            if isinstance(a, np.ndarray):
                args = tuple(self._wrap(a) if isinstance(a, np.ndarray) else a for a in args)
                break
        out = self.forward(*args, **kwargs)
        if self._forward_hooks:
            for hook in list(self._forward_hooks.values()):
                r = hook(self, args, out)
                if r is not None:
                    out = r
        return out

    def _wrap(self, a):
        """A NumPy argument as a Tensor: float arrays take the module's dtype when it was
        set with ``to_dtype`` / ``double()`` / ``float()``, else the default dtype."""
        dt = self.__dict__.get("_dtype_hint")
        if dt is not None and a.dtype.kind == "f":
            return Tensor(a.astype(dt, copy=False))
        return as_input(a)

    # -------------------------------------------------------------- traversal
    def children(self):
        return iter(self._modules.values())

    def named_children(self):
        return iter(self._modules.items())

    def named_modules(self, prefix: str = "", memo=None):
        if memo is None:
            memo = set()
        if id(self) in memo:
            return
        memo.add(id(self))
        yield prefix, self
        for name, m in self._modules.items():
            if m is None:
                continue
            yield from m.named_modules(f"{prefix}.{name}" if prefix else name, memo)

    def modules(self):
        for _, m in self.named_modules():
            yield m

    def named_parameters(self, prefix: str = "", recurse: bool = True):
        """(name, Parameter) pairs, each shared parameter once."""
        seen = set()
        mods = self.named_modules() if recurse else [("", self)]
        for mname, m in mods:
            for pname, p in m._parameters.items():
                if p is None or id(p) in seen:
                    continue
                seen.add(id(p))
                full = f"{mname}.{pname}" if mname else pname
                yield (f"{prefix}.{full}" if prefix else full), p

    def parameters(self, recurse: bool = True):
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self):
        for mname, m in self.named_modules():
            for bname, b in m._buffers.items():
                if b is not None:
                    yield (f"{mname}.{bname}" if mname else bname), b

    def buffers(self):
        for _, b in self.named_buffers():
            yield b

    def num_parameters(self, trainable_only: bool = False) -> int:
        return int(sum(p._data.size for p in self.parameters()
                       if p.requires_grad or not trainable_only))

    # ------------------------------------------------------------------ modes
    def train(self, mode: bool = True) -> "Module":
        for m in self.modules():
            object.__setattr__(m, "training", bool(mode))
        return self

    def eval(self) -> "Module":
        return self.train(False)

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.parameters():
            if set_to_none:
                p.grad = None
            elif p.grad is not None:
                p.grad._data[...] = 0

    def requires_grad_(self, flag: bool = True) -> "Module":
        """Freeze (False) or unfreeze (True) every parameter of this module."""
        for p in self.parameters():
            p.requires_grad = bool(flag)
        return self

    def freeze(self) -> "Module":
        """Keep this module's parameters fixed during training (``requires_grad_(False)``)."""
        return self.requires_grad_(False)

    def unfreeze(self) -> "Module":
        return self.requires_grad_(True)

    def apply(self, fn) -> "Module":
        for m in self.modules():
            fn(m)
        return self

    def to_dtype(self, dtype) -> "Module":
        """Cast every floating parameter and buffer to ``dtype`` in place."""
        dt = np.dtype(dtype)
        for p in self.parameters():
            p._data = p._data.astype(dt)
            p.grad = None
        for m in self.modules():
            for k, b in list(m._buffers.items()):
                if b is not None and b.dtype.kind == "f":
                    m._buffers[k] = b.astype(dt)
            object.__setattr__(m, "_dtype_hint", dt)   # NumPy inputs are cast to it
        return self

    def double(self) -> "Module":
        return self.to_dtype(np.float64)

    def float(self) -> "Module":
        return self.to_dtype(np.float32)

    @property
    def dtype(self):
        for p in self.parameters():
            return p.dtype
        return backend.get_default_dtype()

    # ----------------------------------------------------------------- state
    def state_dict(self) -> "OrderedDict[str, np.ndarray]":
        """Every parameter and buffer by PyTorch-style dotted name, as NumPy arrays (copies)."""
        sd = OrderedDict()
        for mname, m in self.named_modules():
            for pname, p in m._parameters.items():
                if p is not None:
                    sd[f"{mname}.{pname}" if mname else pname] = backend.to_numpy(p._data).copy()
            for bname, b in m._buffers.items():
                if b is not None:
                    sd[f"{mname}.{bname}" if mname else bname] = backend.to_numpy(b).copy()
        return sd

    def load_state_dict(self, state_dict, strict: bool = True):
        """Copy arrays into parameters and buffers by name; shapes must match.

        Returns ``(missing_keys, unexpected_keys)``; raises on either when ``strict``.
        """
        own = {}
        for mname, m in self.named_modules():
            for pname, p in m._parameters.items():
                if p is not None:
                    own[f"{mname}.{pname}" if mname else pname] = (m, pname, True)
            for bname, b in m._buffers.items():
                if b is not None:
                    own[f"{mname}.{bname}" if mname else bname] = (m, bname, False)
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        if strict and (missing or unexpected):
            raise KeyError(f"load_state_dict for {type(self).__name__}: missing keys {missing}, "
                           f"unexpected keys {unexpected}")
        for k, (m, name, is_param) in own.items():
            if k not in state_dict:
                continue
            v = state_dict[k]
            v = v._data if isinstance(v, Tensor) else v
            v = np.asarray(v) if not hasattr(v, "shape") else v
            if is_param:
                p = m._parameters[name]
                if tuple(v.shape) != tuple(p.shape):
                    raise ValueError(f"load_state_dict: {k!r} has shape {tuple(v.shape)} in the "
                                     f"state dict but {tuple(p.shape)} in the model")
                # copy in place: optimizers may hold views of p._data
                p._data[...] = backend.xp().asarray(v, dtype=p.dtype)
            else:
                b = m._buffers[name]
                if tuple(v.shape) != tuple(b.shape):
                    raise ValueError(f"load_state_dict: buffer {k!r} has shape {tuple(v.shape)} "
                                     f"in the state dict but {tuple(b.shape)} in the model")
                m._buffers[name] = backend.xp().asarray(v, dtype=b.dtype).copy()
        return missing, unexpected

    # --------------------------------------------------------------- display
    def extra_repr(self) -> str:
        return ""

    def __repr__(self):
        lines = []
        for name, m in self._modules.items():
            sub = repr(m).replace("\n", "\n  ")
            lines.append(f"  ({name}): {sub}")
        head = f"{type(self).__name__}({self.extra_repr()}"
        if not lines:
            return head + ")"
        return head + "\n" + "\n".join(lines) + "\n)"
