"""Model files: one ``.safetensors`` file holding the tensors (PyTorch state-dict names and
layouts) and, in its string metadata, the architecture as JSON and a SHA-256 of the tensor
bytes.

Loading never executes code from the file: the JSON names a class, and only classes
defined inside the ``glassnet`` package or registered with :func:`register` are built, with
plain JSON values (numbers, strings, lists, nested module specs) as arguments.
"""
from __future__ import annotations

import hashlib
import importlib
import json
import os
import tempfile
from collections import OrderedDict
from pathlib import Path

import numpy as np

from ..errors import ModelFileError
from ..nn.module import Module

FORMAT = "glassnet-model/1"
_REGISTRY: dict[str, type] = {}
_CONTAINERS = ("Sequential", "ModuleList", "ModuleDict")
# classes that moved to another module: files written before the move name the old place
_MOVED = {f"glassnet.models.autoencoder.{c}": f"glassnet.models.{m}.{c}" for m, c in (
    ("stacked_autoencoder", "StackedAutoencoder"), ("conv_autoencoder", "ConvAutoencoder"),
    ("anomaly", "AnomalyDetector"))}


def _safetensors():
    try:
        from safetensors.numpy import load_file, save_file
    except ImportError as e:  # pragma: no cover - safetensors is a dependency
        raise ImportError("glassnet.io needs safetensors: pip install safetensors") from e
    return save_file, load_file


def register(cls=None, *, name=None):
    """Allow ``load`` to build a Module class defined outside glassnet (usable as a
    decorator). Only registered classes and glassnet's own are ever instantiated."""
    def deco(c):
        if not (isinstance(c, type) and issubclass(c, Module)):
            raise TypeError(f"register: expected a Module subclass, got {c!r}")
        _REGISTRY[name or f"{c.__module__}.{c.__qualname__}"] = c
        return c
    return deco(cls) if cls is not None else deco


def _class_name(m):
    return f"{type(m).__module__}.{type(m).__qualname__}"


def _encode(value, where):
    if isinstance(value, Module):
        return {"__module__": architecture(value)}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple)):
        return [_encode(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {k: _encode(v, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, np.ndarray) and value.size <= 4096:
        return {"__ndarray__": value.tolist(), "dtype": str(value.dtype)}
    raise ModelFileError(f"save: cannot store constructor argument {where} of type "
                         f"{type(value).__name__} as JSON; give modules plain arguments "
                         "(numbers, strings, lists) or save the weights with save_state_dict")


def _decode(value):
    if isinstance(value, dict):
        if "__module__" in value:
            return build(value["__module__"])
        if "__ndarray__" in value:
            return np.asarray(value["__ndarray__"], dtype=value["dtype"])
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def architecture(model: Module) -> dict:
    """The JSON-able description of a module: its class and constructor arguments (or, for
    containers, its children)."""
    cls = type(model)
    spec = {"class": _class_name(model)}
    if cls.__name__ in _CONTAINERS and cls.__module__.startswith("glassnet."):
        spec["children"] = {n: architecture(c) for n, c in model.named_children()}
        return spec
    args, kwargs = model.init_args
    spec["args"] = [_encode(a, f"{cls.__name__}(arg {i})") for i, a in enumerate(args)]
    spec["kwargs"] = {k: _encode(v, f"{cls.__name__}({k}=)") for k, v in kwargs.items()}
    return spec


def _resolve(name: str) -> type:
    if name in _REGISTRY:
        return _REGISTRY[name]
    name = _MOVED.get(name, name)
    mod, _, qual = name.rpartition(".")
    if not (mod == "glassnet" or mod.startswith("glassnet.")):
        raise ModelFileError(f"load: the file names class {name!r}, which is neither part of "
                             "glassnet nor registered; import its module and decorate the class "
                             "with @glassnet.io.register, or build the model yourself and use "
                             "load_weights(model, path)")
    try:
        obj = importlib.import_module(mod)
        for part in qual.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as e:
        raise ModelFileError(f"load: class {name!r} named by the file does not exist in this "
                             f"glassnet version ({e})") from None
    if not (isinstance(obj, type) and issubclass(obj, Module)):
        raise ModelFileError(f"load: {name!r} is not a Module class")
    return obj


def build(spec: dict) -> Module:
    """Build a module (untrained) from :func:`architecture`'s description."""
    if not isinstance(spec, dict) or "class" not in spec:
        raise ModelFileError(f"build: not an architecture description: {spec!r:.200}")
    cls = _resolve(spec["class"])
    if "children" in spec:
        children = OrderedDict((n, build(s)) for n, s in spec["children"].items())
        if cls.__name__ == "ModuleList":
            return cls(list(children.values()))
        if cls.__name__ == "ModuleDict":
            return cls(dict(children))
        return cls(children)
    try:
        return cls(*_decode(spec.get("args", [])), **_decode(spec.get("kwargs", {})))
    except Exception as e:
        raise ModelFileError(f"build: could not construct {spec['class']} from the saved "
                             f"arguments: {e}") from e


def _digest(tensors: dict) -> str:
    h = hashlib.sha256()
    for k in sorted(tensors):
        a = np.require(tensors[k], requirements="C")
        h.update(k.encode())
        h.update(str(a.dtype).encode())
        h.update(repr(a.shape).encode())
        h.update(a.tobytes())
    return h.hexdigest()


def _atomic_write(path: Path, write):
    """Write through ``write(tmp_path)`` to a temporary file in the same folder, then rename:
    a crash never leaves a half-written file at ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _path(path, who) -> Path:
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{who}: path must be a str or Path, got {type(path).__name__}")
    p = Path(path)
    if p.suffix == "":
        p = p.with_suffix(".safetensors")
    return p


def write_file(path, tensors: dict, meta: dict, who="save") -> Path:
    """Atomically write tensors plus a JSON metadata dict (stored under "glassnet")."""
    save_file, _ = _safetensors()
    p = _path(path, who)
    arrays = {k: np.require(v, requirements="C") for k, v in tensors.items()}
    meta = dict(meta, format=FORMAT, sha256=_digest(arrays))
    from .._version import __version__
    meta.setdefault("glassnet_version", __version__)
    _atomic_write(p, lambda tmp: save_file(arrays, tmp, metadata={"glassnet": json.dumps(meta)}))
    return p


def read_file(path, who="load"):
    """(tensors, metadata) of a glassnet file, verifying the format and the checksum."""
    _, load_file = _safetensors()
    p = _path(path, who)
    if not p.exists():
        raise FileNotFoundError(f"{who}: no model file at {p}")
    try:
        tensors = load_file(str(p))
        from safetensors import safe_open
        with safe_open(str(p), framework="numpy") as f:
            raw = (f.metadata() or {}).get("glassnet")
    except Exception as e:
        raise ModelFileError(f"{who}: {p} is not a readable safetensors file ({e})") from e
    if raw is None:
        return tensors, None
    try:
        meta = json.loads(raw)
    except json.JSONDecodeError as e:
        raise ModelFileError(f"{who}: {p} has corrupt glassnet metadata ({e})") from e
    if meta.get("format") != FORMAT:
        raise ModelFileError(f"{who}: {p} has format {meta.get('format')!r}, expected {FORMAT!r}")
    if meta.get("sha256") and _digest(tensors) != meta["sha256"]:
        raise ModelFileError(f"{who}: {p} is corrupt: its tensors do not match the stored "
                             "SHA-256 checksum")
    return tensors, meta


def read_metadata(path) -> dict | None:
    """The glassnet metadata (architecture, extra info) of a file, or None."""
    return read_file(path, "read_metadata")[1]


def save(model: Module, path, metadata: dict | None = None) -> Path:
    """Save ``model`` (architecture + weights + buffers) to ``path`` (".safetensors" is added
    when there is no suffix). ``metadata`` is any JSON-able dict stored alongside (e.g. the
    class names, the vocabulary, training settings). Returns the path written."""
    if not isinstance(model, Module):
        raise TypeError(f"save: model must be a glassnet.nn.Module, got {type(model).__name__}")
    meta = {"kind": "model", "architecture": architecture(model), "extra": metadata or {}}
    json.dumps(meta)  # fail early (before writing) on non-JSON metadata
    return write_file(path, model.state_dict(), meta)


def load(path, dtype=None) -> Module:
    """Rebuild the model saved by :func:`save` and load its weights (eval mode)."""
    tensors, meta = read_file(path)
    if meta is None or "architecture" not in meta:
        raise ModelFileError(f"load: {path} holds weights only (no architecture); build the "
                             "model and call load_weights(model, path)")
    model = build(meta["architecture"])
    first = next(iter(tensors.values()), None)
    if first is not None and first.dtype.kind == "f":
        model.to_dtype(first.dtype)
    model.load_state_dict(tensors)
    if dtype is not None:
        model.to_dtype(dtype)
    model.metadata = meta.get("extra", {})
    return model.eval()


def load_weights(model: Module, path, strict: bool = True) -> Module:
    """Load the tensors of a file (saved by glassnet or by PyTorch's safetensors) into
    ``model`` in place."""
    tensors, _ = read_file(path, "load_weights")
    model.load_state_dict(tensors, strict=strict)
    return model


def save_state_dict(state_dict: dict, path, metadata: dict | None = None) -> Path:
    """Write a plain state dict (name -> array) as safetensors."""
    tensors = {k: np.asarray(getattr(v, "data", v)) for k, v in state_dict.items()}
    return write_file(path, tensors, {"kind": "state_dict", "extra": metadata or {}},
                      "save_state_dict")


def load_state_dict(path) -> "OrderedDict[str, np.ndarray]":
    """Read a state dict (name -> NumPy array) from a safetensors file."""
    tensors, _ = read_file(path, "load_state_dict")
    return OrderedDict(tensors)
