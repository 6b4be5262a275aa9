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

from ..autograd.tensor import Tensor
from ..backend.devices import check as check_device
from ..backend.devices import device as device_type
from ..errors import ArgumentError, ModelFileError
from ..nn.module import Module
from . import tree as _tree

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


def _is_file_object(f) -> bool:
    return hasattr(f, "write") or hasattr(f, "read")


def _path(path, who) -> Path:
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{who}: f must be a path (str or Path) or a binary file object "
                        f"(open(..., 'wb'), io.BytesIO), got {type(path).__name__}")
    p = Path(path)
    if p.suffix == "":
        p = p.with_suffix(".safetensors")
    return p


def _read_path(path, who) -> Path:
    """The file to read: ``path`` itself, else (no suffix) ``path.safetensors``."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{who}: f must be a path (str or Path) or a binary file object "
                        f"(open(..., 'rb'), io.BytesIO), got {type(path).__name__}")
    p = Path(path)
    if not p.is_file() and p.suffix == "" and p.with_suffix(".safetensors").is_file():
        p = p.with_suffix(".safetensors")
    return p


def _meta(tensors, meta):
    meta = dict(meta, format=FORMAT, sha256=_digest(tensors))
    from .._version import __version__
    meta.setdefault("glassnet_version", __version__)
    return {"glassnet": json.dumps(meta)}


def write_file(path, tensors: dict, meta: dict, who="save", exact=False):
    """Write tensors plus a JSON metadata dict (stored under "glassnet"): atomically to a
    path (".safetensors" added when it has no suffix, unless ``exact``; returns the Path),
    or to a binary file object (returns None)."""
    save_file, _ = _safetensors()
    arrays = {k: np.require(v, requirements="C") for k, v in tensors.items()}
    metadata = _meta(arrays, meta)
    if _is_file_object(path):
        from safetensors.numpy import save as save_bytes
        if not hasattr(path, "write"):
            raise TypeError(f"{who}: the file object {path!r} has no write(); open it with "
                            "'wb'")
        path.write(save_bytes(arrays, metadata=metadata))
        return None
    p = Path(path) if exact and isinstance(path, (str, os.PathLike)) else _path(path, who)
    _atomic_write(p, lambda tmp: save_file(arrays, tmp, metadata=metadata))
    return p


def _parse(raw: bytes, name: str, who: str):
    """(tensors, raw glassnet metadata or None) of safetensors bytes."""
    from safetensors.numpy import load as load_bytes
    try:
        if len(raw) < 8:
            raise ValueError(f"{len(raw)} bytes is too short for a safetensors header")
        n = int.from_bytes(raw[:8], "little")
        if n > len(raw) - 8:
            raise ValueError(f"header length {n} runs past the end of the data")
        header = json.loads(raw[8:8 + n])
        if not isinstance(header, dict):
            raise ValueError("the header is not a JSON object")
        tensors = load_bytes(raw)
        order = sorted((k for k in header if k != "__metadata__"),
                       key=lambda k: header[k]["data_offsets"][0])
        tensors = {k: tensors[k] for k in order}
    except Exception as e:
        raise ModelFileError(f"{who}: {name} is not a readable safetensors file ({e})") from e
    return tensors, (header.get("__metadata__") or {}).get("glassnet")


def read_file(path, who="load"):
    """(tensors, metadata) of a glassnet file (a path or a binary file object), verifying
    the format and the checksum; metadata is None for a safetensors file glassnet did not
    write."""
    if _is_file_object(path):
        if not hasattr(path, "read"):
            raise TypeError(f"{who}: the file object {path!r} has no read(); open it with 'rb'")
        raw = path.read()
        if isinstance(raw, str):
            raise TypeError(f"{who}: the file object was opened in text mode; open it with "
                            "'rb'")
        p = f"the file object {getattr(path, 'name', type(path).__name__)!r}"
    else:
        fp = _read_path(path, who)
        if not fp.exists():
            raise FileNotFoundError(f"{who}: no model file at {fp}")
        raw = fp.read_bytes()
        p = str(fp)
    tensors, raw_meta = _parse(raw, p, who)
    if raw_meta is None:
        return tensors, None
    try:
        meta = json.loads(raw_meta)
    except json.JSONDecodeError as e:
        raise ModelFileError(f"{who}: {p} has corrupt glassnet metadata ({e})") from e
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        got = meta.get("format") if isinstance(meta, dict) else None
        raise ModelFileError(f"{who}: {p} has format {got!r}, expected {FORMAT!r}")
    if meta.get("sha256") and _digest(tensors) != meta["sha256"]:
        raise ModelFileError(f"{who}: {p} is corrupt: its tensors do not match the stored "
                             "SHA-256 checksum")
    return tensors, meta


def read_metadata(path) -> dict | None:
    """The glassnet metadata (architecture, extra info) of a file, or None."""
    return read_file(path, "read_metadata")[1]


def save(obj, f, metadata: dict | None = None, pickle_module=None, pickle_protocol=2,
         _use_new_zipfile_serialization=True, _disable_byteorder_record=False):
    """Save ``obj`` to ``f`` (a path or a binary file object such as ``open(p, 'wb')`` or
    ``io.BytesIO()``), PyTorch's ``torch.save`` without pickle.

    * a Module: its architecture (JSON) plus its weights and buffers; :func:`load` rebuilds
      it. A path without a suffix gets ".safetensors".
    * anything else: a state dict, or any nesting of dict / OrderedDict / list / tuple of
      Tensors, NumPy arrays, numbers, strings, bools and None (a training checkpoint
      ``{'epoch': 3, 'model_state_dict': model.state_dict(), ...}``), written to exactly
      ``f``. An object that cannot be stored safely (an instance of an arbitrary class) is
      a :class:`ModelFileError` naming its type and its place in ``obj``.

    The file is safetensors (the tensors, named by their place in ``obj``) with the rest as
    checksummed JSON in its metadata; ``metadata`` is extra JSON stored beside it (for a
    Module, ``load(f).metadata``). Returns the path written (None for a file object).

    >>> gn.save({"epoch": 3, "w": gn.zeros(2)}, "ckpt.pt")      # doctest: +SKIP
    >>> gn.load("ckpt.pt")["epoch"]                              # doctest: +SKIP
    3
    """
    if pickle_module is not None:
        raise ArgumentError("save: glassnet saves without pickle; pickle_module is not "
                            "accepted (leave it out)")
    if not (_is_file_object(f) or isinstance(f, (str, os.PathLike))):
        raise TypeError(f"save: f must be a path (str or Path) or a binary file object "
                        f"(open(..., 'wb'), io.BytesIO), got {type(f).__name__}")
    if metadata is not None:
        json.dumps(metadata)
    if isinstance(obj, Module):
        meta = {"kind": "model", "architecture": architecture(obj), "extra": metadata or {}}
        json.dumps(meta)  # fail early (before writing) on non-JSON metadata
        return write_file(f, obj.state_dict(), meta)
    tree, tensors = _tree.split(obj, architecture, "save")
    text = json.dumps(tree)
    meta = {"kind": "object", "tree": tree, "extra": metadata or {},
            "tree_sha256": hashlib.sha256(text.encode()).hexdigest()}
    return write_file(f, tensors, meta, exact=True)


def _check_map_location(map_location):
    if map_location is None or (callable(map_location) and not isinstance(
            map_location, (str, device_type))):
        return        # a function (storage, location) -> storage: everything is on the CPU
    if isinstance(map_location, dict):
        for k, v in map_location.items():
            check_device(v, f"map_location[{k!r}]", "load")
        return
    check_device(map_location, "map_location", "load")


def load(f, map_location=None, pickle_module=None, *, weights_only=None, mmap=None,
         dtype=None, **pickle_load_args):
    """Load what :func:`save` wrote (PyTorch's ``torch.load``; nothing in the file is ever
    executed, so ``weights_only`` may be anything).

    ``f`` is a path or a binary file object. The file's header tells what it holds:

    * a saved Module: rebuilt from its architecture with its weights, in eval mode
      (``dtype`` converts it);
    * a saved object (state dict, checkpoint, ...): the same nesting back, Tensors as
      Tensors (``requires_grad`` kept), arrays as arrays;
    * a state dict from :func:`save_state_dict`, or a safetensors file written by another
      tool: an OrderedDict of name -> Tensor;
    * a Trainer checkpoint (:func:`save_checkpoint`): the trainer's state dict.

    ``map_location`` may be None, 'cpu', a CPU device, a dict mapping locations to the CPU,
    or a function (all tensors are on the CPU already); another device is a clear error.
    A missing file is FileNotFoundError; a corrupt one :class:`ModelFileError`.

    >>> model.load_state_dict(gn.load("weights.pt"))              # doctest: +SKIP
    """
    if pickle_module is not None or pickle_load_args:
        raise ArgumentError("load: glassnet loads without pickle; pickle_module and pickle "
                            "arguments are not accepted")
    _check_map_location(map_location)
    tensors, meta = read_file(f)
    name = f if not _is_file_object(f) else "the file object"
    if meta is None:
        return OrderedDict((k, Tensor(v)) for k, v in tensors.items())
    kind = meta.get("kind")
    if kind == "object":
        tree = meta.get("tree")
        want = meta.get("tree_sha256")
        if want and hashlib.sha256(json.dumps(tree).encode()).hexdigest() != want:
            raise ModelFileError(f"load: {name} is corrupt: its object metadata does not "
                                 "match the stored SHA-256 checksum")
        return _tree.join(tree, tensors, build, "load")
    if kind == "state_dict":
        return OrderedDict((k, Tensor(v)) for k, v in tensors.items())
    if kind == "checkpoint":
        return _tree.join_arrays(meta.get("trainer", {}), tensors, "load")
    if "architecture" not in meta or meta["architecture"] is None:
        raise ModelFileError(f"load: {name} holds weights only (no architecture); build the "
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
