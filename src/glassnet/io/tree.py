"""``save(obj, f)`` / ``load(f)`` for any nesting of containers, tensors and plain values,
without pickle.

An object (a state dict, a training checkpoint ``{'epoch': 3, 'model_state_dict': ...,
'optimizer_state_dict': ..., 'loss': 0.2}``, a list of tensors ...) is split in two:

* every Tensor and NumPy array becomes a tensor of the safetensors file, named by where it
  sits in the object (a state dict's own keys at the top level, so the file is an ordinary
  safetensors state dict for other tools; ``model_state_dict/fc.weight`` deeper down);
* everything else is a JSON tree in the file's metadata, with a small tag object in place
  of each array and of each value JSON cannot tell apart on its own (tuples, dicts with
  non-string keys, OrderedDicts, NumPy scalars, complex numbers, dtypes, modules).

Loading builds the same structure back from that JSON; it executes nothing from the file.
What the tree may hold: dict / OrderedDict (keys: str, int, float, bool, None, tuples of
those), list, tuple, Tensor / Parameter, ndarray, NumPy scalars, Python numbers, str,
bool, None, dtypes, and glassnet Modules (stored as their architecture plus weights). Any
other object is refused with its type and its place in the object.
"""
from __future__ import annotations

import json
from collections import OrderedDict

import numpy as np

from ..autograd.tensor import Tensor
from ..errors import ModelFileError
from ..nn.module import Module, Parameter

__all__ = ["split", "join", "join_arrays", "describe_path"]

_T = "__glassnet__"          # the tag key; a plain dict using it is stored as items


def describe_path(path) -> str:
    """``obj['model']['fc.weight'][0]`` for the path ('model', 'fc.weight', 0)."""
    return "obj" + "".join(f"[{p!r}]" for p in path)


class _Splitter:
    def __init__(self, where, architecture):
        self.where = where
        self.architecture = architecture
        self.tensors: dict[str, np.ndarray] = {}

    def name(self, path):
        base = "/".join(str(p) for p in path) or "."
        name, i = base, 1
        while name in self.tensors:
            name, i = f"{base}#{i}", i + 1
        return name

    def array(self, a, path):
        a = np.require(a, requirements="C")        # keeps 0-d arrays 0-d
        if a.dtype.kind == "c":
            stored = np.require(np.stack([a.real, a.imag], axis=-1), requirements="C")
        elif a.dtype.kind in "biuf":
            stored = a
        else:
            raise ModelFileError(f"{self.where}: cannot store the array at {describe_path(path)} "
                                 f"of dtype {a.dtype}; arrays must hold numbers or bools")
        name = self.name(path)
        self.tensors[name] = stored
        return name, a.dtype.kind == "c"

    def key(self, k, path):
        if k is None or isinstance(k, (bool, int, float, str)):
            return k
        if isinstance(k, np.generic) and k.dtype.kind in "biuf":
            return k.item()
        if isinstance(k, tuple):
            return {_T: "tuple", "items": [self.key(x, path) for x in k]}
        raise ModelFileError(f"{self.where}: cannot store the dict key {k!r} of type "
                             f"{type(k).__name__} at {describe_path(path)}; keys must be "
                             "str, int, float, bool, None or tuples of those")

    def __call__(self, v, path=()):
        if v is None or isinstance(v, (bool, str)):
            return v
        if isinstance(v, int):
            return v
        if isinstance(v, float):
            return v if np.isfinite(v) else {_T: "float", "value": repr(v)}
        if isinstance(v, Tensor):
            name, cplx = self.array(v._data, path)
            out = {_T: "tensor", "name": name}
            if cplx:
                out["complex"] = True
            if isinstance(v, Parameter):
                out["parameter"] = True
            if v.requires_grad:
                out["requires_grad"] = True
            return out
        if isinstance(v, np.ndarray):
            name, cplx = self.array(v, path)
            return {_T: "ndarray", "name": name, **({"complex": True} if cplx else {})}
        if isinstance(v, np.generic):
            if v.dtype.kind not in "biufc":
                raise ModelFileError(f"{self.where}: cannot store the NumPy scalar at "
                                     f"{describe_path(path)} of dtype {v.dtype}")
            val = v.item()
            if isinstance(val, complex):
                val = [val.real, val.imag]
            elif isinstance(val, float) and not np.isfinite(val):
                val = repr(val)
            return {_T: "npscalar", "dtype": v.dtype.str, "value": val}
        if isinstance(v, complex):
            return {_T: "complex", "value": [v.real, v.imag]}
        if isinstance(v, np.dtype):
            return {_T: "dtype", "name": v.str}
        if isinstance(v, dict):
            kind = "OrderedDict" if isinstance(v, OrderedDict) else "dict"
            if type(v) not in (dict, OrderedDict):
                self.refuse(v, path)
            if kind == "dict" and all(isinstance(k, str) for k in v) and _T not in v:
                return {k: self(x, path + (k,)) for k, x in v.items()}
            return {_T: kind, "items": [[self.key(k, path), self(x, path + (k,))]
                                        for k, x in v.items()]}
        if isinstance(v, list) and type(v) is list:
            return [self(x, path + (i,)) for i, x in enumerate(v)]
        if isinstance(v, tuple) and type(v) is tuple:
            return {_T: "tuple", "items": [self(x, path + (i,)) for i, x in enumerate(v)]}
        if isinstance(v, Module):
            try:
                arch = self.architecture(v)
            except ModelFileError as e:
                raise ModelFileError(f"{self.where}: cannot store the module at "
                                     f"{describe_path(path)}: {e}") from None
            state = {k: self(np.asarray(a), path + (k,))
                     for k, a in v.state_dict().items()}
            return {_T: "module", "architecture": arch, "state": state,
                    "training": bool(v.training)}
        self.refuse(v, path)

    def refuse(self, v, path):
        raise ModelFileError(
            f"{self.where}: cannot store {describe_path(path)} of type "
            f"{type(v).__module__}.{type(v).__qualname__} safely (glassnet saves without "
            "pickle): an object may nest dict / list / tuple of Tensors, NumPy arrays, "
            "numbers, strings, bools, None and glassnet Modules; save an object's "
            "state_dict() instead")


def split(obj, architecture, where="save"):
    """``(tree, tensors)``: ``obj`` as a JSON-able tree and its arrays by name
    (``architecture(module)`` describes a Module met inside ``obj``)."""
    s = _Splitter(where, architecture)
    tree = s(obj)
    json.dumps(tree)     # fail before writing on anything JSON cannot hold
    return tree, s.tensors


def join(tree, tensors, build, where="load"):
    """The inverse of :func:`split` (``build(architecture)`` makes a Module back)."""
    def bad(msg):
        raise ModelFileError(f"{where}: corrupt object metadata: {msg}")

    def arr(node):
        name = node.get("name")
        if name not in tensors:
            bad(f"it names a tensor {name!r} that the file does not hold")
        a = tensors[name]
        if node.get("complex"):
            a = (a[..., 0] + 1j * a[..., 1]).astype(np.result_type(a.dtype, np.complex64))
        return a

    def key(k):
        if isinstance(k, dict) and k.get(_T) == "tuple":
            return tuple(key(x) for x in k["items"])
        return k

    def go(node):
        if isinstance(node, list):
            return [go(x) for x in node]
        if not isinstance(node, dict):
            return node
        tag = node.get(_T)
        if tag is None:
            return {k: go(x) for k, x in node.items()}
        if tag == "tensor":
            a = arr(node)
            if node.get("parameter"):
                return Parameter(a, requires_grad=bool(node.get("requires_grad")))
            return Tensor(a, requires_grad=bool(node.get("requires_grad")))
        if tag == "ndarray":
            return arr(node)
        if tag in ("dict", "OrderedDict"):
            items = [(key(k), go(x)) for k, x in node["items"]]
            return OrderedDict(items) if tag == "OrderedDict" else dict(items)
        if tag == "tuple":
            return tuple(go(x) for x in node["items"])
        if tag == "float":
            return float(node["value"])
        if tag == "complex":
            return complex(*node["value"])
        if tag == "npscalar":
            dt = np.dtype(node["dtype"])
            val = node["value"]
            if isinstance(val, list):
                val = complex(*val)
            elif isinstance(val, str):
                val = float(val)
            return dt.type(val)
        if tag == "dtype":
            return np.dtype(node["name"])
        if tag == "module":
            m = build(node["architecture"])
            state = {k: go(x) for k, x in node["state"].items()}
            first = next(iter(state.values()), None)
            if first is not None and first.dtype.kind == "f":
                m.to_dtype(first.dtype)
            m.load_state_dict(state)
            return m.train(node.get("training", True))
        bad(f"unknown tag {tag!r}")

    try:
        return go(tree)
    except ModelFileError:
        raise
    except (KeyError, TypeError, ValueError) as e:
        raise ModelFileError(f"{where}: corrupt object metadata ({type(e).__name__}: {e})") \
            from None


def join_arrays(value, tensors, where):
    """A checkpoint's state back from its JSON tree: each ``{"__tensor__": name}`` is that
    array of the file (the inverse of ``checkpoint._split``)."""
    if isinstance(value, dict):
        if len(value) == 1 and "__tensor__" in value:
            name = value["__tensor__"]
            if name not in tensors:
                raise ModelFileError(f"{where}: the metadata names a tensor {name!r} that "
                                     "the file does not hold")
            return tensors[name]
        return {k: join_arrays(v, tensors, where) for k, v in value.items()}
    if isinstance(value, list):
        return [join_arrays(v, tensors, where) for v in value]
    return value
