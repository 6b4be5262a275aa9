"""Model files: one ``.safetensors`` file holding the tensors (PyTorch state-dict names and
layouts) and, in its string metadata, the architecture as JSON, all under one SHA-256.

Nothing in a file is trusted before it is checked, in this order:

1. the container (:mod:`glassnet.io._format`): header length, JSON, every tensor entry,
   offsets that tile the data exactly;
2. the glassnet metadata: its format (:data:`FORMAT`), then the checksum, which covers the
   tensors (name, dtype, shape, bytes) *and* the canonical JSON of the whole metadata. A
   file without a checksum, or with a wrong one, is refused unless the caller passes
   ``verify=False``;
3. every field of the JSON: the kind, the architecture's shape (``class``, ``args``,
   ``kwargs``, ``children``), each argument value, arrays (at most 4096 numbers of a
   numeric dtype), nesting depth (at most 64); every class name resolves through the
   explicit registry (:mod:`glassnet.io.registry`), never through an import;
4. the build itself runs under an allocation budget taken from the file's own tensor
   table, so an architecture asking for more memory than the weights can fill is refused
   before anything large is allocated (and random initialisation is skipped: the file
   overwrites every value);
5. the built model's state-dict names and shapes are compared with the tensor table before
   a single value is copied.

Every failure is a :class:`~glassnet.errors.ModelFileError` (a missing file a
:class:`~glassnet.errors.ModelFileNotFoundError`) naming the file.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import re
import secrets
from collections import OrderedDict
from pathlib import Path

import numpy as np

from .. import backend
from ..autograd.tensor import Tensor
from ..backend.devices import check as check_device
from ..backend.devices import device as device_type
from ..errors import (ArgumentError, ArgumentTypeError, GlassnetError, ModelFileError,
                      ModelFileNotFoundError)
from ..nn.module import Module
from . import _format
from . import tree as _tree
from .registry import class_name as _class_name
from .registry import register, resolve

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, BinaryIO, NoReturn, TypeGuard, overload

if TYPE_CHECKING:  # annotations only
    from glassnet._typing import DTypeLike
    from glassnet._typing import PathLike


__all__ = ["FORMAT", "save", "load", "load_weights", "save_state_dict", "load_state_dict",
           "read_metadata", "read_file", "write_file", "architecture", "build", "register",
           "check_architecture"]

FORMAT = "glassnet-model/2"
_OLD_FORMATS = ("glassnet-model/1",)
_KINDS = ("model", "object", "state_dict", "checkpoint")
_ENVELOPE = {"format", "sha256", "glassnet_version", "kind"}
_KEYS = {"model": {"architecture", "extra"}, "object": {"tree", "extra"},
         "state_dict": {"extra"}}
_CONTAINERS = ("Sequential", "ModuleList", "ModuleDict")
MAX_ARRAY = 4096        # numbers in one array argument of a constructor
MAX_MODULES = 10_000    # module descriptions in one architecture
# the dtypes an array argument may have (str(dtype) as _encode stores it)
ARRAY_DTYPES = ("bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
                "uint64", "float16", "float32", "float64")
_SLACK_BYTES = 1 << 20  # non-persistent buffers a build may allocate beyond the tensors


# ------------------------------------------------------------------ architecture (save)
def _encode(value: Any, where: str) -> Any:
    if isinstance(value, Module):
        return {"__module__": architecture(value)}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, np.generic) and value.dtype.kind in "biuf":
        return value.item()
    if isinstance(value, (list, tuple)):
        return [_encode(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {k: _encode(v, f"{where}.{k}") for k, v in value.items()}
    if (isinstance(value, np.ndarray) and value.size <= MAX_ARRAY
            and str(value.dtype) in ARRAY_DTYPES):
        return {"__ndarray__": value.tolist(), "dtype": str(value.dtype)}
    raise ModelFileError(f"save: cannot store constructor argument {where} of type "
                         f"{type(value).__name__} as JSON; give modules plain arguments "
                         "(numbers, strings, lists, numeric arrays of at most "
                         f"{MAX_ARRAY} values) or save the weights with save_state_dict")


def architecture(model: Module) -> dict[str, Any]:
    """The JSON-able description of a module: its class and constructor arguments (or, for
    containers, its children).

    >>> architecture(nn.Linear(2, 3))["class"]
    'glassnet.nn.linear.Linear'
    """
    cls = type(model)
    spec: dict[str, Any] = {"class": _class_name(cls)}
    if cls.__name__ in _CONTAINERS and cls.__module__.startswith("glassnet."):
        spec["children"] = {n: architecture(c) for n, c in model.named_children()}
        return spec
    args, kwargs = model.init_args
    spec["args"] = [_encode(a, f"{cls.__name__}(arg {i})") for i, a in enumerate(args)]
    spec["kwargs"] = {k: _encode(v, f"{cls.__name__}({k}=)") for k, v in kwargs.items()}
    return spec


# ------------------------------------------------------ architecture (check, then build)
def _check_array(value: dict[str, Any], where: str, bad: _Bad) -> None:
    if set(value) != {"__ndarray__", "dtype"}:
        bad(f"{where}: an array argument must have exactly the keys __ndarray__ and dtype, "
            f"got {sorted(value)}")
    dt = value["dtype"]
    if not isinstance(dt, str) or dt not in ARRAY_DTYPES:
        bad(f"{where}: array dtype {str(dt)[:40]!r} is not one of {', '.join(ARRAY_DTYPES)}")
    level, count, shape = [value["__ndarray__"]], 0, []
    while True:       # one level of the nested lists at a time: rectangular, numbers inside
        lists = [isinstance(x, list) for x in level]
        if all(lists) and level:
            sizes = {len(x) for x in level}
            if len(sizes) != 1:
                bad(f"{where}: the array's nested lists are ragged")
            shape.append(sizes.pop())
            level = [y for x in level for y in x]
            if len(level) > MAX_ARRAY:
                bad(f"{where}: the array holds more than {MAX_ARRAY} values")
            continue
        if any(lists):
            bad(f"{where}: the array mixes lists and numbers at one level")
        count = len(level)
        break
    if not all(isinstance(x, (bool, int, float)) for x in level):
        bad(f"{where}: an array holds only numbers and bools")
    if count > MAX_ARRAY:
        bad(f"{where}: the array holds {count} values, at most {MAX_ARRAY} are allowed")


def _check_value(value: Any, where: str, bad: _Bad, depth: int) -> None:
    if depth > _format.MAX_DEPTH:
        bad(f"{where}: nested deeper than {_format.MAX_DEPTH} levels")
    if value is None or isinstance(value, (bool, int, float, str)):
        return
    if isinstance(value, list):
        for i, v in enumerate(value):
            _check_value(v, f"{where}[{i}]", bad, depth + 1)
        return
    if not isinstance(value, dict):
        bad(f"{where}: unexpected value of type {type(value).__name__}")
    if "__module__" in value:
        if len(value) != 1:
            bad(f"{where}: a module argument must have the single key __module__, got "
                f"{sorted(value)}")
        _check_spec(value["__module__"], where, bad, depth + 1)
    elif "__ndarray__" in value:
        _check_array(value, where, bad)
    else:
        for k, v in value.items():
            _check_value(v, f"{where}.{k}", bad, depth + 1)


def _check_spec(spec: Any, where: str, bad: _Bad, depth: int = 0) -> None:
    if depth > _format.MAX_DEPTH:
        bad(f"{where}: modules nested deeper than {_format.MAX_DEPTH} levels")
    if not isinstance(spec, dict) or not isinstance(spec.get("class"), str):
        bad(f"{where}: not an architecture description (a JSON object with a string "
            f"'class'), got {type(spec).__name__}")
    cls = resolve(spec["class"], bad.who)
    bad.modules += 1
    if bad.modules > MAX_MODULES:
        bad(f"{where}: the architecture describes more than {MAX_MODULES:,} modules")
    keys = set(spec)
    if "children" in spec:
        if keys != {"class", "children"}:
            bad(f"{where}: a container description has exactly the keys class and "
                f"children, got {sorted(keys)}")
        if cls.__name__ not in _CONTAINERS or not cls.__module__.startswith("glassnet."):
            bad(f"{where}: only {', '.join(_CONTAINERS)} take children, not {spec['class']}")
        children = spec["children"]
        if not isinstance(children, dict):
            bad(f"{where}: children must be a JSON object, got {type(children).__name__}")
        for n, c in children.items():
            if not n or "." in n:
                bad(f"{where}: child name {n!r} is empty or holds a '.'")
            _check_spec(c, f"{where}.{n}", bad, depth + 1)
        return
    if keys != {"class", "args", "kwargs"}:
        bad(f"{where} ({spec['class']}): a module description has exactly the keys class, "
            f"args and kwargs, got {sorted(keys)}")
    if not isinstance(spec["args"], list):
        bad(f"{where}: args must be a list, got {type(spec['args']).__name__}")
    if not isinstance(spec["kwargs"], dict):
        bad(f"{where}: kwargs must be a JSON object, got {type(spec['kwargs']).__name__}")
    for i, a in enumerate(spec["args"]):
        _check_value(a, f"{where}(arg {i})", bad, depth + 1)
    for k, v in spec["kwargs"].items():
        if not k.isidentifier():
            bad(f"{where}: keyword argument name {k[:40]!r} is not an identifier")
        _check_value(v, f"{where}({k}=)", bad, depth + 1)


class _Bad:
    """Raises ModelFileError ``"{who}: {msg}"``."""

    def __init__(self, who: str) -> None:
        self.who = who
        self.modules = 0

    def __call__(self, msg: str) -> NoReturn:
        raise ModelFileError(f"{self.who}: {msg}")


def check_architecture(spec: Any, who: str = "build") -> None:
    """Check an :func:`architecture` description without building anything: its shape,
    every value, the nesting depth, and that every class it names is registered. Raises
    :class:`ModelFileError`.

    >>> check_architecture({"class": "os.system", "args": ["ls"], "kwargs": {}})
    Traceback (most recent call last):
    ...
    glassnet.errors.ModelFileError: build: the file names class 'os.system', which is neither part of glassnet nor registered: ...
    """
    _check_spec(spec, "model", _Bad(who))


def _decode(value: Any, where: str, who: str) -> Any:
    if isinstance(value, dict):
        if "__module__" in value:
            return _build(value["__module__"], where, who)
        if "__ndarray__" in value:
            return np.asarray(value["__ndarray__"], dtype=value["dtype"])
        return {k: _decode(v, f"{where}.{k}", who) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v, f"{where}[{i}]", who) for i, v in enumerate(value)]
    return value


def _build(spec: dict[str, Any], where: str, who: str) -> Module:
    cls = resolve(spec["class"], who)
    if "children" in spec:
        children = OrderedDict((n, _build(s, f"{where}.{n}", who))
                               for n, s in spec["children"].items())
        if cls.__name__ == "ModuleList":
            return cls(list(children.values()))
        if cls.__name__ == "ModuleDict":
            return cls(dict(children))
        return cls(children)
    try:
        args = [_decode(a, f"{where}(arg {i})", who) for i, a in enumerate(spec["args"])]
        kwargs = {k: _decode(v, f"{where}({k}=)", who) for k, v in spec["kwargs"].items()}
        return cls(*args, **kwargs)
    except backend.memory.BudgetExceeded as e:
        raise ModelFileError(
            f"{who}: layer {where} ({spec['class']}) asks for {e.who} of shape "
            f"{tuple(e.shape)} ({e.nbytes:,} bytes) but the file's tensors allow "
            f"{e.budget:,} bytes for the whole model ({e.left:,} left): the architecture "
            "does not fit the weights; refused before allocating it") from None
    except ModelFileError:
        raise
    except (Exception, RecursionError) as e:
        raise ModelFileError(f"{who}: could not construct layer {where} ({spec['class']}) "
                             f"from the saved arguments: {type(e).__name__}: {e}") from e


def build(spec: dict[str, Any], who: str = "build") -> Module:
    """Build a module (untrained) from :func:`architecture`'s description, after
    :func:`check_architecture`.

    >>> build(architecture(nn.Linear(2, 3)))
    Linear(in_features=2, out_features=3, bias=True)
    """
    check_architecture(spec, who)
    return _build(spec, "model", who)


# ------------------------------------------------------------------------ checksum
def _canonical(meta: dict[str, Any]) -> bytes:
    return json.dumps({k: v for k, v in meta.items() if k != "sha256"}, sort_keys=True,
                      separators=(",", ":"), ensure_ascii=True).encode()


def _digest(items: Iterable[tuple[str, str, tuple[int, ...], Any]], meta: dict[str, Any]) -> str:
    """SHA-256 over every tensor (sorted by name: name, dtype code, shape, bytes) and the
    canonical JSON of ``meta`` without its ``sha256``; each field length-prefixed."""
    h = hashlib.sha256(FORMAT.encode() + b"\0")

    def field(b: bytes | memoryview) -> None:
        h.update(len(b).to_bytes(8, "little"))
        h.update(b)

    for name, code, shape, data in sorted(items, key=lambda t: t[0]):
        field(name.encode("utf-8", "surrogatepass"))
        field(code.encode())
        field(json.dumps([int(s) for s in shape]).encode())
        field(data)
    field(_canonical(meta))
    return h.hexdigest()


def _array_items(arrays: Mapping[str, np.ndarray]) -> list[tuple[str, Any, tuple[int, ...], memoryview]]:
    return [(k, _format.code_of(a.dtype), a.shape, a.reshape(-1).view(np.uint8).data)
            for k, a in arrays.items()]


# --------------------------------------------------------------------- files on disk
def _tmp_pattern(path: Path) -> re.Pattern[str]:
    return re.compile(r"\." + re.escape(path.name) + r"\.(\d{1,10})\.[0-9a-f]{8,32}\.tmp\Z")


def _remove_stale_temporaries(path: Path) -> list[Path]:
    """Remove the temporaries ``.{name}.{pid}.{random}.tmp`` of ``path`` left by writers
    that died (their process no longer exists); a live writer's file is kept. Returns the
    paths removed. POSIX only (elsewhere a process cannot be probed safely)."""
    if os.name != "posix":
        return []
    pat, removed = _tmp_pattern(path), []
    try:
        names = os.listdir(path.parent)
    except OSError:
        return []
    for n in names:
        m = pat.match(n)
        if not m or int(m.group(1)) == os.getpid():
            continue
        try:
            os.kill(int(m.group(1)), 0)
            continue                      # alive (or pid reused): keep
        except ProcessLookupError:
            pass
        except (OSError, OverflowError, ValueError):
            continue                      # alive but not ours, or not a probeable pid
        try:
            os.unlink(path.parent / n)
            removed.append(path.parent / n)
        except OSError:
            pass
    return removed


def _atomic_write(path: Path, write: Callable[[BinaryIO], object]) -> None:
    """Write through ``write(binary_file)`` to ``.{name}.{pid}.{random}.tmp`` in the same
    folder, fsync, then rename over ``path``: a crash never leaves a half-written file at
    ``path``, and the temporary of a writer that died is removed by the next write or load
    of ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_temporaries(path)
    tmp = path.parent / f".{path.name}.{os.getpid()}.{secrets.token_hex(8)}.tmp"
    try:
        with open(tmp, "xb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    try:                                   # make the rename itself durable
        fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:
        pass


def _is_file_object(f: object) -> TypeGuard[BinaryIO]:
    return hasattr(f, "write") or hasattr(f, "read")


def _check_path_type(path: object, who: str, mode: str) -> None:
    if not isinstance(path, (str, os.PathLike)):
        raise ArgumentTypeError(f"{who}: f must be a path (str or Path) or a binary file "
                                f"object (open(..., '{mode}'), io.BytesIO), got "
                                f"{type(path).__name__}")


def _path(path: Any, who: str) -> Path:
    _check_path_type(path, who, "wb")
    p = Path(path)
    if p.suffix == "":
        p = p.with_suffix(".safetensors")
    return p


def _read_path(path: Any, who: str) -> Path:
    """The file to read: ``path`` itself, else (no suffix) ``path.safetensors``."""
    _check_path_type(path, who, "rb")
    p = Path(path)
    try:
        if not p.is_file() and p.suffix == "" and p.with_suffix(".safetensors").is_file():
            p = p.with_suffix(".safetensors")
    except (OSError, ValueError):
        pass
    return p


def _os_error(e: OSError | ValueError, who: str, p: Path, doing: str) -> ModelFileError:
    """The ModelFileError for an OSError (or a ValueError: a path the OS cannot take, such
    as one with a NUL byte) met reading or writing ``p``."""
    if isinstance(e, ValueError):
        return ModelFileError(f"{who}: cannot {doing} {str(p)!r} ({e})")
    if isinstance(e, FileNotFoundError):
        return ModelFileNotFoundError(f"{who}: no model file at {p}")
    if isinstance(e, IsADirectoryError) or (doing == "read" and os.path.isdir(p)):
        return ModelFileError(f"{who}: {p} is a directory, not a model file")
    return ModelFileError(f"{who}: cannot {doing} {p} ({type(e).__name__}: "
                          f"{e.strerror or e})")


# --------------------------------------------------------------------------- writing
@overload
def write_file(path: PathLike, tensors: Mapping[str, Any], meta: dict[str, Any],
               who: str = ..., exact: bool = ...) -> Path: ...
@overload
def write_file(path: BinaryIO, tensors: Mapping[str, Any], meta: dict[str, Any],
               who: str = ..., exact: bool = ...) -> None: ...
@overload
def write_file(path: PathLike | BinaryIO, tensors: Mapping[str, Any], meta: dict[str, Any],
               who: str = ..., exact: bool = ...) -> Path | None: ...
def write_file(path: PathLike | BinaryIO, tensors: Mapping[str, Any], meta: dict[str, Any],
               who: str = "save", exact: bool = False) -> Path | None:
    """Write tensors plus a JSON metadata dict (stored under "glassnet", with the format
    and a SHA-256 over the tensors and the whole metadata): atomically to a path
    (".safetensors" added when it has no suffix, unless ``exact``; returns the Path), or
    to a binary file object (returns None). Every failure is a :class:`ModelFileError`
    (an OSError chained to it)."""
    arrays: OrderedDict[str, np.ndarray] = OrderedDict()
    for k, v in tensors.items():
        if not isinstance(k, str) or not k or k == "__metadata__":
            raise ModelFileError(f"{who}: tensor name {k!r} cannot be stored (names are "
                                 "non-empty strings other than '__metadata__')")
        a = np.require(np.asarray(getattr(v, "_data", v)), requirements="C")
        if _format.code_of(a.dtype) is None:
            raise ModelFileError(f"{who}: cannot store tensor {k!r} of dtype {a.dtype}; "
                                 "safetensors holds bool, integer and float16/32/64 "
                                 "tensors")
        arrays[k] = a.astype(a.dtype.newbyteorder("<"), copy=False)
    try:
        meta = _format.loads(json.dumps(meta), "the metadata")
    except (TypeError, ValueError, RecursionError) as e:
        raise ModelFileError(f"{who}: the metadata cannot be stored as JSON "
                             f"({type(e).__name__}: {e})") from None
    if not isinstance(meta, dict):
        raise ModelFileError(f"{who}: the metadata must be a JSON object")
    meta.pop("sha256", None)
    meta["format"] = FORMAT
    from .._version import __version__
    meta.setdefault("glassnet_version", __version__)
    meta["sha256"] = _digest(_array_items(arrays), meta)
    metadata = {"glassnet": json.dumps(meta)}
    if len(metadata["glassnet"]) > _format.MAX_HEADER_BYTES // 2:
        raise ModelFileError(f"{who}: the metadata is {len(metadata['glassnet']):,} bytes of "
                             "JSON, too large for a model file header")
    if _is_file_object(path):
        if not hasattr(path, "write"):
            raise ArgumentTypeError(f"{who}: the file object {path!r} has no write(); open "
                                    "it with 'wb'")
        try:
            _format.write(path, arrays, metadata)
        except (OSError, TypeError, ValueError) as e:
            if isinstance(e, GlassnetError):
                raise
            raise ModelFileError(f"{who}: could not write to the file object "
                                 f"({type(e).__name__}: {e})") from e
        return None
    p = Path(path) if exact and isinstance(path, (str, os.PathLike)) else _path(path, who)
    try:
        _atomic_write(p, lambda f: _format.write(f, arrays, metadata))
    except GlassnetError:
        raise
    except (OSError, ValueError) as e:
        raise _os_error(e, who, p, "write") from e
    return p


# --------------------------------------------------------------------------- reading
class _Loaded(OrderedDict):
    """The tensors of a file (an OrderedDict name -> array) with ``name`` (the file, for
    messages), ``stored`` (each tensor's dtype code in the file: "BF16" for a tensor upcast
    to float32) and ``raw`` (each tensor's bytes as stored)."""

    name = "the file"
    stored: dict[str, str] = {}
    raw: dict[str, Any] = {}


def _read_raw(path: PathLike | BinaryIO, who: str) -> tuple[_Loaded, str | None]:
    """(tensors, raw glassnet metadata text or None)."""
    if _is_file_object(path):
        if not hasattr(path, "read"):
            raise ArgumentTypeError(f"{who}: the file object {path!r} has no read(); open it "
                                    "with 'rb'")
        name = f"the file object {getattr(path, 'name', type(path).__name__)!r}"
        try:
            raw: Any = path.read()      # checked below: any object may have a read()
        except (OSError, ValueError) as e:
            raise ModelFileError(f"{who}: could not read {name} ({type(e).__name__}: {e})") \
                from e
        if isinstance(raw, str):
            raise ArgumentTypeError(f"{who}: the file object was opened in text mode; open "
                                    "it with 'rb'")
        if not isinstance(raw, (bytes, bytearray, memoryview)):
            raise ArgumentTypeError(f"{who}: the file object's read() returned "
                                    f"{type(raw).__name__}, not bytes")
        buf = bytearray(raw)
        del raw
        parsed = _format.parse(buf, name, who)
    else:
        fp = _read_path(path, who)
        name = str(fp)
        _remove_stale_temporaries(fp)
        try:
            parsed = _format.read_path(fp, name, who)
        except MemoryError:
            raise ModelFileError(f"{who}: {name} is too large to read into memory") from None
        except GlassnetError:
            raise
        except (OSError, ValueError) as e:
            raise _os_error(e, who, fp, "read") from e
    tensors, meta, stored, raw = parsed
    out = _Loaded(tensors)
    out.name, out.stored, out.raw = name, stored, raw
    return out, _glassnet_text(meta, name, who)


_MARKS = ("glassnet-model/", "glassnet_version")


def _glassnet_text(meta: dict[str, str] | None, name: str, who: str) -> str | None:
    """The glassnet metadata text of a file's ``__metadata__`` (None for a file another tool
    wrote). Metadata that is glassnet's under another key (its key edited, to pass the file
    off as a foreign one whose tensors go unverified) is refused."""
    if not meta:
        return None
    if "glassnet" in meta:
        return meta["glassnet"]
    for k, v in meta.items():
        if any(m in v for m in _MARKS):
            raise ModelFileError(f"{who}: {name} holds glassnet metadata under the key "
                                 f"{k[:40]!r} instead of 'glassnet': the file is corrupt or "
                                 "was edited")
    return None


def _stored_items(tensors: _Loaded) -> list[tuple[str, str, tuple[int, ...], Any]]:
    """(name, code, shape, bytes) of each tensor as the file stores it."""
    return [(k, tensors.stored[k], a.shape, tensors.raw[k]) for k, a in tensors.items()]


def _check_envelope(meta: Any, name: str, who: str, verify: bool) -> str:
    if not isinstance(meta, dict):
        raise ModelFileError(f"{who}: {name} has corrupt glassnet metadata (not a JSON "
                             "object)")
    fmt = meta.get("format")
    if fmt in _OLD_FORMATS:
        if verify:
            raise ModelFileError(
                f"{who}: {name} has format {fmt!r}, written by an older glassnet whose "
                "checksum does not cover the architecture. If the file comes from a source "
                "you trust, load it once with verify=False and save it again, e.g. "
                f"gn.save(gn.load(path, verify=False), path), to get format {FORMAT!r}")
    elif fmt != FORMAT:
        raise ModelFileError(f"{who}: {name} has format {str(fmt)[:60]!r}, expected "
                             f"{FORMAT!r}")
    kind = meta.get("kind")
    if kind is None and fmt in _OLD_FORMATS:
        kind = "model"
    if kind not in _KINDS:
        raise ModelFileError(f"{who}: {name} holds an unknown kind {str(kind)[:40]!r}, "
                             f"expected one of {', '.join(_KINDS)}")
    if not isinstance(meta.get("glassnet_version", ""), str):
        raise ModelFileError(f"{who}: {name} has a glassnet_version that is not a string")
    if kind in _KEYS:
        allowed = _ENVELOPE | _KEYS[kind] | ({"tree_sha256"} if fmt in _OLD_FORMATS else set())
        unknown = set(meta) - allowed
        if unknown:
            raise ModelFileError(f"{who}: {name} has unknown metadata keys "
                                 f"{sorted(unknown)[:5]} for a {kind} file")
        if "extra" in meta and not isinstance(meta["extra"], dict):
            raise ModelFileError(f"{who}: {name} has 'extra' metadata that is not a JSON "
                                 "object")
    return kind


def read_file(path: PathLike | BinaryIO, who: str = "load",
              verify: bool = True) -> tuple[_Loaded, dict[str, Any] | None]:
    """(tensors, metadata) of a model file (a path or a binary file object), after the
    container, the format and the SHA-256 are checked; metadata is None for a safetensors
    file glassnet did not write. ``verify=False`` skips only the checksum (and accepts
    files of the previous format, to be saved again). Raises :class:`ModelFileError`
    (:class:`ModelFileNotFoundError` for a missing path)."""
    if not isinstance(verify, bool):
        raise ArgumentTypeError(f"{who}: verify must be True or False, got {verify!r}")
    tensors, raw_meta = _read_raw(path, who)
    name = tensors.name
    if raw_meta is None:
        return tensors, None
    try:
        meta = _format.loads(raw_meta, "the glassnet metadata")
    except ValueError as e:
        raise ModelFileError(f"{who}: {name} has corrupt glassnet metadata ({e})") from None
    _check_envelope(meta, name, who, verify)
    want = meta.get("sha256")
    if verify:
        if not isinstance(want, str) or not re.fullmatch(r"[0-9a-f]{64}", want):
            raise ModelFileError(
                f"{who}: {name} has no valid SHA-256 checksum in its metadata (found "
                f"{str(want)[:70]!r}), so it cannot be verified; pass verify=False only if "
                "you trust where the file comes from")
        if _digest(_stored_items(tensors), meta) != want:
            raise ModelFileError(f"{who}: {name} is corrupt or was edited: its tensors or "
                                 "its metadata (architecture, object metadata, checkpoint "
                                 "state) do not match the stored SHA-256 checksum")
    return tensors, meta


def read_metadata(path: PathLike, verify: bool = True) -> dict[str, Any] | None:
    """The glassnet metadata (architecture, extra info) of a file, or None for a
    safetensors file glassnet did not write; checked as :func:`read_file` checks it."""
    return read_file(path, "read_metadata", verify)[1]


# ----------------------------------------------------------------- the model of a file
def _budget(tensors: Mapping[str, np.ndarray]) -> int:
    """Bytes a build may allocate for ``tensors``: each tensor at the larger of its own
    item size and the default float's (a float32 file builds a float64 model first when
    that is the default), plus 1/8 and 1 MiB for non-persistent buffers."""
    fsize = np.dtype(backend.get_default_dtype()).itemsize
    need = sum(math.prod(a.shape) * (max(a.itemsize, fsize) if a.dtype.kind == "f"
                                     else a.itemsize) for a in tensors.values())
    return need + need // 8 + _SLACK_BYTES


def _fit(model: Module, tensors: _Loaded, name: str, who: str) -> Module:
    """Compare the model's state dict with the tensor table (names, shapes, dtype kinds)
    before copying; then give every floating tensor the file's dtype and copy."""
    own = model.state_dict(keep_vars=True)
    diffs = [f"missing tensor {k!r}" for k in own if k not in tensors]
    diffs += [f"unexpected tensor {k!r}" for k in tensors if k not in own]
    for k, cur in own.items():
        if k not in tensors:
            continue
        a = tensors[k]
        if tuple(a.shape) != tuple(cur.shape):
            diffs.append(f"{k!r} has shape {tuple(a.shape)} in the file, "
                         f"{tuple(cur.shape)} in the model")
        elif a.dtype != cur._data.dtype and not (a.dtype.kind == "f"
                                                 and cur._data.dtype.kind == "f"):
            diffs.append(f"{k!r} has dtype {a.dtype} in the file, {cur._data.dtype} in the "
                         "model")
    if diffs:
        more = f" (and {len(diffs) - 5} more)" if len(diffs) > 5 else ""
        raise ModelFileError(f"{who}: the architecture in {name} does not match its "
                             f"tensors: {'; '.join(diffs[:5])}{more}")
    first = next((k for k, p in model.named_parameters() if p._data.dtype.kind == "f"
                  and k in tensors), None) or next(
        (k for k in own if tensors[k].dtype.kind == "f"), None)
    if first is not None and tensors[first].dtype != model.dtype:
        model.to_dtype(tensors[first].dtype)
    for k, cur in own.items():
        dt = tensors[k].dtype
        if dt.kind == "f" and cur._data.dtype != dt:
            cur._data = cur._data.astype(dt)
    try:
        model.load_state_dict(tensors)
    except (RuntimeError, ValueError, TypeError) as e:
        raise ModelFileError(f"{who}: could not load the tensors of {name} into the "
                             f"model: {e}") from e
    return model


def _model_of(spec: dict[str, Any], tensors: _Loaded, name: str, who: str) -> Module:
    """Check ``spec``, build it under the allocation budget of ``tensors``, fit them."""
    where = f"{who}: {name}"
    check_architecture(spec, where)
    with backend.allocation_budget(_budget(tensors), where):
        model = _build(spec, "model", where)
    return _fit(model, tensors, name, who)


# ----------------------------------------------------------------------- public API
def save(obj: object, f: PathLike | BinaryIO, metadata: dict[str, Any] | None = None,
         pickle_module: object = None, pickle_protocol: int = 2,
         _use_new_zipfile_serialization: bool = True,
         _disable_byteorder_record: bool = False) -> Path | None:
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
    JSON in its metadata, all under one SHA-256 checksum; ``metadata`` is extra JSON stored
    beside it (for a Module, ``load(f).metadata``). Returns the path written (None for a
    file object). Every failure (also a folder that cannot be written) is a
    :class:`ModelFileError` or another :class:`~glassnet.errors.GlassnetError`.

    >>> gn.save({"epoch": 3, "w": gn.zeros(2)}, "ckpt.pt")      # doctest: +SKIP
    >>> gn.load("ckpt.pt")["epoch"]                              # doctest: +SKIP
    3
    """
    if pickle_module is not None:
        raise ArgumentError("save: glassnet saves without pickle; pickle_module is not "
                            "accepted (leave it out)")
    if not (_is_file_object(f) or isinstance(f, (str, os.PathLike))):
        raise ArgumentTypeError(f"save: f must be a path (str or Path) or a binary file "
                                f"object (open(..., 'wb'), io.BytesIO), got "
                                f"{type(f).__name__}")
    if metadata is not None and not isinstance(metadata, dict):
        raise ArgumentTypeError(f"save: metadata must be a dict of JSON values, got "
                                f"{type(metadata).__name__}")
    try:
        json.dumps(metadata)
    except (TypeError, ValueError, RecursionError) as e:
        raise ArgumentTypeError(f"save: metadata must hold JSON values only ({e})") from None
    try:
        if isinstance(obj, Module):
            meta = {"kind": "model", "architecture": architecture(obj),
                    "extra": metadata or {}}
            return write_file(f, obj.state_dict(), meta)
        tree, tensors = _tree.split(obj, architecture, "save")
        meta = {"kind": "object", "tree": tree, "extra": metadata or {}}
        return write_file(f, tensors, meta, exact=True)
    except RecursionError:
        raise ModelFileError("save: the object nests too deeply to be stored") from None


def _check_map_location(map_location: Any) -> None:
    if map_location is None or (callable(map_location) and not isinstance(
            map_location, (str, device_type))):
        return        # a function (storage, location) -> storage: everything is on the CPU
    if isinstance(map_location, dict):
        for k, v in map_location.items():
            check_device(v, f"map_location[{k!r}]", "load")
        return
    check_device(map_location, "map_location", "load")


def _state_dict(tensors: Mapping[str, np.ndarray]) -> OrderedDict[str, Tensor]:
    return OrderedDict((k, Tensor(v)) for k, v in tensors.items())


def load(f: PathLike | BinaryIO, map_location: object = None, pickle_module: object = None, *,
         weights_only: bool | None = None, mmap: bool | None = None, dtype: DTypeLike = None,
         verify: bool = True, **pickle_load_args: Any) -> Any:
    """Load what :func:`save` wrote (PyTorch's ``torch.load``; nothing in the file is ever
    executed, so ``weights_only`` may be anything).

    ``f`` is a path or a binary file object. The file's header tells what it holds:

    * a saved Module: rebuilt from its architecture with its weights, in eval mode
      (``dtype`` converts it);
    * a saved object (state dict, checkpoint, ...): the same nesting back, Tensors as
      Tensors (``requires_grad`` kept), arrays as arrays;
    * a state dict from :func:`save_state_dict`, or a safetensors file written by another
      tool: an OrderedDict of name -> Tensor (BF16 tensors upcast to float32, as NumPy
      has no bfloat16);
    * a Trainer checkpoint (:func:`save_checkpoint`): the trainer's state dict.

    Everything is checked before it is used (see the module docstring); a glassnet file
    whose SHA-256 is missing or wrong is refused unless ``verify=False`` (for a file of
    the previous format from a source you trust: load it once so and save it again).

    ``map_location`` may be None, 'cpu', a CPU device, a dict mapping locations to the CPU,
    or a function (all tensors are on the CPU already); another device is a clear error.
    A missing file is :class:`ModelFileNotFoundError` (also a FileNotFoundError); any other
    failure a :class:`ModelFileError`.

    >>> model.load_state_dict(gn.load("weights.pt"))              # doctest: +SKIP
    """
    if pickle_module is not None or pickle_load_args:
        raise ArgumentError("load: glassnet loads without pickle; pickle_module and pickle "
                            "arguments are not accepted")
    _check_map_location(map_location)
    if dtype is not None:
        dtype = backend.dtypes.resolve(dtype, "dtype", "load")
        if dtype.kind != "f":
            raise ArgumentError(f"load: dtype must be a floating dtype, got {dtype}")
    tensors, meta = read_file(f, "load", verify)
    if meta is None:
        return _state_dict(tensors)
    name = tensors.name
    kind = meta.get("kind", "model")
    try:
        if kind == "object":
            if "tree" not in meta:
                raise ModelFileError(f"load: {name} is a saved object without its tree")
            return _tree.join(meta["tree"], tensors, _ModuleMaker(name), f"load: {name}",
                              lambda spec: check_architecture(spec, f"load: {name}"))
        if kind == "state_dict":
            return _state_dict(tensors)
        if kind == "checkpoint":
            trainer = meta.get("trainer", {})
            return _tree.join_arrays(trainer, tensors, f"load: {name}")
        if meta.get("architecture") is None:
            raise ModelFileError(f"load: {name} holds weights only (no architecture); build "
                                 "the model and call load_weights(model, path)")
        model = _model_of(meta["architecture"], tensors, name, "load")
        if dtype is not None:
            model.to_dtype(dtype)
        model.metadata = meta.get("extra", {})
        return model.eval()
    except RecursionError:
        raise ModelFileError(f"load: {name} nests too deeply to be loaded") from None


class _ModuleMaker:
    """``tree.join``'s callback for a Module inside a saved object: check, build under the
    budget of its own state, fit."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __call__(self, spec: dict[str, Any], state: dict[str, np.ndarray],
                 stored: dict[str, str]) -> Module:
        t = _Loaded(state)
        t.name, t.stored = self.name, stored
        return _model_of(spec, t, self.name, "load")


def load_weights(model: Module, path: PathLike, strict: bool = True, *,
                 verify: bool = True) -> Module:
    """Load the tensors of a file (saved by glassnet or by PyTorch's safetensors) into
    ``model`` in place; a mismatch with the model is a :class:`ModelFileError` naming the
    file."""
    if not isinstance(model, Module):
        raise ArgumentTypeError(f"load_weights: model must be an nn.Module, got "
                                f"{type(model).__name__}")
    tensors, _ = read_file(path, "load_weights", verify)
    try:
        model.load_state_dict(tensors, strict=strict)
    except (RuntimeError, ValueError, TypeError) as e:
        raise ModelFileError(f"load_weights: the tensors of {getattr(tensors, 'name', path)} "
                             f"do not fit the model: {e}") from e
    return model


def save_state_dict(state_dict: Mapping[str, Any], path: PathLike,
                    metadata: dict[str, Any] | None = None) -> Path:
    """Write a plain state dict (name -> array) as safetensors."""
    if not hasattr(state_dict, "items"):
        raise ArgumentTypeError(f"save_state_dict: state_dict must be a dict of arrays, got "
                                f"{type(state_dict).__name__}")
    tensors = {k: np.asarray(getattr(v, "_data", getattr(v, "data", v)))
               for k, v in state_dict.items()}
    return write_file(path, tensors, {"kind": "state_dict", "extra": metadata or {}},
                      "save_state_dict")


def load_state_dict(path: PathLike, *, verify: bool = True) -> "OrderedDict[str, np.ndarray]":
    """Read a state dict (name -> NumPy array) from a safetensors file."""
    tensors, _ = read_file(path, "load_state_dict", verify)
    return OrderedDict(tensors)
