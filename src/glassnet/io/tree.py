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

from collections.abc import Callable, Mapping
from typing import Any, NoReturn


__all__ = ["split", "check", "join", "join_arrays", "describe_path", "DTYPE_STRS"]

_Path = tuple[Any, ...]      # where a value sits: the keys and indices from the top
_T = "__glassnet__"          # the tag key; a plain dict using it is stored as items


def describe_path(path: _Path) -> str:
    """``obj['model']['fc.weight'][0]`` for the path ('model', 'fc.weight', 0)."""
    return "obj" + "".join(f"[{p!r}]" for p in path)


class _Splitter:
    def __init__(self, where: str, architecture: Callable[[Module], Any]) -> None:
        self.where = where
        self.architecture = architecture
        self.tensors: dict[str, np.ndarray] = {}

    def name(self, path: _Path) -> str:
        base = "/".join(str(p) for p in path) or "."
        name, i = base, 1
        while name in self.tensors:
            name, i = f"{base}#{i}", i + 1
        return name

    def array(self, a: np.ndarray, path: _Path) -> tuple[str, bool]:
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

    def key(self, k: Any, path: _Path) -> Any:
        if k is None or isinstance(k, (bool, int, float, str)):
            return k
        if isinstance(k, np.generic) and k.dtype.kind in "biuf":
            return k.item()
        if isinstance(k, tuple):
            return {_T: "tuple", "items": [self.key(x, path) for x in k]}
        raise ModelFileError(f"{self.where}: cannot store the dict key {k!r} of type "
                             f"{type(k).__name__} at {describe_path(path)}; keys must be "
                             "str, int, float, bool, None or tuples of those")

    def __call__(self, v: Any, path: _Path = ()) -> Any:
        if v is None or isinstance(v, (bool, str)):
            return v
        if isinstance(v, int):
            return v
        if isinstance(v, float):
            return v if np.isfinite(v) else {_T: "float", "value": repr(v)}
        if isinstance(v, Tensor):
            name, cplx = self.array(v._data, path)
            out: dict[str, Any] = {_T: "tensor", "name": name}
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
            if v.dtype.str not in DTYPE_STRS:
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
            if v.str not in DTYPE_STRS:
                raise ModelFileError(f"{self.where}: cannot store the dtype {v} at "
                                     f"{describe_path(path)}; dtypes of numbers and bools "
                                     "only")
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

    def refuse(self, v: object, path: _Path) -> NoReturn:
        raise ModelFileError(
            f"{self.where}: cannot store {describe_path(path)} of type "
            f"{type(v).__module__}.{type(v).__qualname__} safely (glassnet saves without "
            "pickle): an object may nest dict / list / tuple of Tensors, NumPy arrays, "
            "numbers, strings, bools, None and glassnet Modules; save an object's "
            "state_dict() instead")


def split(obj: object, architecture: Callable[[Module], Any],
          where: str = "save") -> tuple[Any, dict[str, np.ndarray]]:
    """``(tree, tensors)``: ``obj`` as a JSON-able tree and its arrays by name
    (``architecture(module)`` describes a Module met inside ``obj``)."""
    s = _Splitter(where, architecture)
    tree = s(obj)
    json.dumps(tree)     # fail before writing on anything JSON cannot hold
    return tree, s.tensors


# the dtypes a "dtype" or "npscalar" tag may name (dtype.str): numbers and bools only
DTYPE_STRS = ("|b1", "|i1", "<i2", "<i4", "<i8", "|u1", "<u2", "<u4", "<u8", "<f2", "<f4",
              "<f8", "<c8", "<c16")
_NONFINITE = ("nan", "inf", "-inf")
_TAG_KEYS = {  # tag -> (required keys, optional keys)
    "tensor": ({"name"}, {"complex", "parameter", "requires_grad"}),
    "ndarray": ({"name"}, {"complex"}),
    "dict": ({"items"}, set()), "OrderedDict": ({"items"}, set()),
    "tuple": ({"items"}, set()), "float": ({"value"}, set()),
    "complex": ({"value"}, set()), "npscalar": ({"dtype", "value"}, set()),
    "dtype": ({"name"}, set()), "module": ({"architecture", "state", "training"}, set()),
}


def _num(v: object) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def check(tree: Any, tensors: Mapping[str, np.ndarray],
          check_architecture: Callable[[Any], object], where: str = "load") -> None:
    """Check a tree from a file before anything is built from it: every tag with exactly its
    keys and values of the right types, dtypes from :data:`DTYPE_STRS`, every tensor it
    names present (and every tensor of the file named), architectures checked by
    ``check_architecture(spec)``. Raises :class:`ModelFileError`."""
    used: set[str] = set()

    def bad(msg: str, path: _Path) -> NoReturn:
        raise ModelFileError(f"{where}: corrupt object metadata at {describe_path(path)}: "
                             f"{msg}")

    def key(k: Any, path: _Path, depth: int) -> None:
        if k is None or isinstance(k, (bool, int, float, str)):
            return
        if isinstance(k, dict) and set(k) == {_T, "items"} and k[_T] == "tuple" \
                and isinstance(k["items"], list) and depth < 64:
            for x in k["items"]:
                key(x, path, depth + 1)
            return
        bad(f"a dict key must be a str, number, bool, None or tuple, got {str(k)[:60]}", path)

    def tensor(node: dict[str, Any], path: _Path) -> None:
        name = node["name"]
        if not isinstance(name, str) or name not in tensors:
            bad(f"it names a tensor {str(name)[:80]!r} that the file does not hold", path)
        for flag in ("complex", "parameter", "requires_grad"):
            if not isinstance(node.get(flag, False), bool):
                bad(f"{flag} must be true or false", path)
        a = tensors[name]
        if node.get("complex") and not (a.ndim >= 1 and a.shape[-1] == 2
                                        and a.dtype.kind == "f"):
            bad(f"complex tensor {name!r} must be a float tensor with a last axis of 2, got "
                f"{a.dtype} {a.shape}", path)
        if node.get("requires_grad") and a.dtype.kind != "f":
            bad(f"tensor {name!r} of dtype {a.dtype} cannot require gradients", path)
        used.add(name)

    def go(node: Any, path: _Path) -> None:
        if node is None or isinstance(node, (bool, int, float, str)):
            return
        if isinstance(node, list):
            for i, x in enumerate(node):
                go(x, path + (i,))
            return
        if not isinstance(node, dict):
            bad(f"unexpected value of type {type(node).__name__}", path)
        if _T not in node:
            for k, x in node.items():
                go(x, path + (k,))
            return
        tag = node[_T]
        if not isinstance(tag, str) or tag not in _TAG_KEYS:
            bad(f"unknown tag {str(tag)[:40]!r}", path)
        need, opt = _TAG_KEYS[tag]
        keys = set(node) - {_T}
        if not need <= keys <= need | opt:
            bad(f"a {tag} entry has the keys {sorted(keys)}, expected {sorted(need)}"
                + (f" and optionally {sorted(opt)}" if opt else ""), path)
        if tag in ("tensor", "ndarray"):
            tensor(node, path)
        elif tag in ("dict", "OrderedDict", "tuple"):
            items = node["items"]
            if not isinstance(items, list):
                bad(f"the items of a {tag} must be a list", path)
            for i, it in enumerate(items):
                if tag == "tuple":
                    go(it, path + (i,))
                    continue
                if not (isinstance(it, list) and len(it) == 2):
                    bad(f"each item of a {tag} must be a [key, value] pair", path)
                key(it[0], path, 0)
                go(it[1], path + (str(it[0])[:40],))
        elif tag == "float":
            if node["value"] not in _NONFINITE:
                bad(f"a float entry holds one of {_NONFINITE}, got {str(node['value'])[:40]!r}",
                    path)
        elif tag == "complex":
            v = node["value"]
            if not (isinstance(v, list) and len(v) == 2 and all(_num(x) for x in v)):
                bad("a complex entry holds [real, imag]", path)
        elif tag == "npscalar":
            dt, v = node["dtype"], node["value"]
            if not isinstance(dt, str) or dt not in DTYPE_STRS:
                bad(f"NumPy scalar dtype {str(dt)[:40]!r} is not one of {', '.join(DTYPE_STRS)}",
                    path)
            kind = np.dtype(dt).kind
            ok = (isinstance(v, bool) if kind == "b" else
                  _num(v) and isinstance(v, int) if kind in "iu" else
                  _num(v) or v in _NONFINITE if kind == "f" else
                  isinstance(v, list) and len(v) == 2 and all(_num(x) for x in v))
            if not ok:
                bad(f"a NumPy scalar of dtype {dt} cannot hold {str(v)[:40]}", path)
            if kind in "iu":
                info = np.iinfo(np.dtype(dt))
                if not info.min <= v <= info.max:
                    bad(f"{v} is out of the range of {np.dtype(dt)}", path)
            elif kind in "fc":
                top = float(np.finfo(np.dtype(dt)).max)
                if any(_num(x) and np.isfinite(x) and abs(x) > top
                       for x in (v if isinstance(v, list) else [v])):
                    bad(f"{v} is out of the range of {np.dtype(dt)}", path)
        elif tag == "dtype":
            if not isinstance(node["name"], str) or node["name"] not in DTYPE_STRS:
                bad(f"dtype {str(node['name'])[:40]!r} is not one of {', '.join(DTYPE_STRS)}",
                    path)
        elif tag == "module":
            if not isinstance(node["training"], bool):
                bad("training must be true or false", path)
            state = node["state"]
            if not isinstance(state, dict):
                bad("a module's state must be a JSON object", path)
            for k, x in state.items():
                if not (isinstance(x, dict) and x.get(_T) == "ndarray"):
                    bad(f"the state entry {k!r} must be an ndarray entry", path)
                go(x, path + (k,))
            check_architecture(node["architecture"])

    go(tree, ())
    unused = [k for k in tensors if k not in used]
    if unused:
        raise ModelFileError(f"{where}: corrupt object metadata: the file holds tensors that "
                             f"the object does not use: {unused[:5]}")


def join(tree: Any, tensors: Mapping[str, np.ndarray],
         build_module: Callable[[Any, dict[str, np.ndarray], dict[str, str]], Module],
         where: str = "load", check_architecture: Callable[[Any], object] | None = None) -> Any:
    """The inverse of :func:`split`, after :func:`check` (with ``check_architecture``
    when given); ``build_module(architecture, state, stored)`` makes a Module back from its
    architecture, its state dict of arrays and their stored dtype codes."""
    if check_architecture is not None:
        check(tree, tensors, check_architecture, where)
    stored = getattr(tensors, "stored", {})

    def arr(node: dict[str, Any]) -> np.ndarray:
        a = tensors[node["name"]]
        if node.get("complex"):
            a = (a[..., 0] + 1j * a[..., 1]).astype(np.result_type(a.dtype, np.complex64))
        return a

    def key(k: Any) -> Any:
        if isinstance(k, dict) and k.get(_T) == "tuple":
            return tuple(key(x) for x in k["items"])
        return k

    def go(node: Any) -> Any:
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
            state = {k: tensors[x["name"]] for k, x in node["state"].items()}
            codes = {k: stored.get(x["name"], "F32") for k, x in node["state"].items()}
            return build_module(node["architecture"], state, codes).train(node["training"])
        raise ModelFileError(f"{where}: corrupt object metadata: unknown tag {tag!r}")

    try:
        return go(tree)
    except ModelFileError:
        raise
    except (KeyError, TypeError, ValueError, IndexError, AttributeError, OverflowError,
            RecursionError) as e:
        raise ModelFileError(f"{where}: corrupt object metadata ({type(e).__name__}: {e})") \
            from None


def join_arrays(value: Any, tensors: Mapping[str, np.ndarray], where: str) -> Any:
    """A checkpoint's state back from its JSON tree: each ``{"__tensor__": name}`` is that
    array of the file (the inverse of ``checkpoint._split``)."""
    if isinstance(value, dict):
        if len(value) == 1 and "__tensor__" in value:
            name = value["__tensor__"]
            if not isinstance(name, str) or name not in tensors:
                raise ModelFileError(f"{where}: the metadata names a tensor {str(name)[:80]!r} "
                                     "that the file does not hold")
            return tensors[name]
        return {k: join_arrays(v, tensors, where) for k, v in value.items()}
    if isinstance(value, list):
        return [join_arrays(v, tensors, where) for v in value]
    return value
