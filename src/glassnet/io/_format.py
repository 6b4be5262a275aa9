"""The safetensors container, read and written by glassnet itself, checked before it is
trusted.

A file is ``n`` (8 bytes, little-endian), ``n`` bytes of a JSON header, then the data::

    {"fc.weight": {"dtype": "F32", "shape": [3, 4], "data_offsets": [0, 48]}, ...,
     "__metadata__": {"glassnet": "<JSON text>"}}

:func:`parse` refuses a file unless the header is exactly that: a length within the file
and below :data:`MAX_HEADER_BYTES`, one JSON object without duplicate keys, each tensor
entry with exactly ``dtype`` / ``shape`` / ``data_offsets`` of the right types, a dtype of
:data:`DTYPES`, ``prod(shape) * itemsize == end - begin`` (Python integers: no overflow),
and offsets that tile the data section exactly (sorted, contiguous, no overlap, no gap, no
trailing bytes). The arrays are zero-copy views of one buffer holding the data section, so
a load does not hold the file twice; BF16 tensors (NumPy has no bfloat16) are upcast to
float32 exactly (the only copies); F16 stays float16, as PyTorch loads it. :func:`write`
writes the same layout, readable by ``safetensors`` and by ``safetensors.torch.load_file``.

>>> import io as _io
>>> buf = _io.BytesIO(); write(buf, {"w": np.arange(3, dtype=np.float32)}, {"k": "v"})
>>> t, meta, stored, raw = parse(bytearray(buf.getvalue()), "buf", "doc")
>>> t["w"].tolist(), meta, stored
([0.0, 1.0, 2.0], {'k': 'v'}, {'w': 'F32'})
"""
from __future__ import annotations

import json
import math
import os
from collections import OrderedDict

import numpy as np

from ..errors import ModelFileError

from typing import TYPE_CHECKING, Any, BinaryIO, NoReturn

if TYPE_CHECKING:  # annotations only
    from glassnet._typing import DTypeLike
    from glassnet._typing import PathLike


__all__ = ["DTYPES", "MAX_HEADER_BYTES", "MAX_DEPTH", "MAX_JSON_VALUES", "parse", "parse_header", "read_path",
           "write", "loads", "depth", "code_of"]

MAX_HEADER_BYTES = 100 * 1024 * 1024      # safetensors' own limit
MAX_DEPTH = 64                             # JSON nesting glassnet reads or writes
# JSON values a header may hold (counted by its ',', '{' and '[' bytes before parsing): a
# parsed value costs up to ~70 bytes, so this bounds what parsing can allocate (~70 MB)
# whatever the header length; a real header holds ~10 per tensor
MAX_JSON_VALUES = 1_000_000

# safetensors dtype code -> the little-endian NumPy dtype of the stored bytes
DTYPES: dict[str, np.dtype[Any]] = {"F64": np.dtype("<f8"), "F32": np.dtype("<f4"), "F16": np.dtype("<f2"),
          "BF16": np.dtype("<u2"), "I64": np.dtype("<i8"), "I32": np.dtype("<i4"),
          "I16": np.dtype("<i2"), "I8": np.dtype("i1"), "U64": np.dtype("<u8"),
          "U32": np.dtype("<u4"), "U16": np.dtype("<u2"), "U8": np.dtype("u1"),
          "BOOL": np.dtype("?")}
_CODES = {np.dtype(dt).newbyteorder("="): code for code, dt in DTYPES.items() if code != "BF16"}
# what parse returns: (tensors, metadata, stored dtype codes, raw bytes); the entries
_Parsed = tuple["OrderedDict[str, np.ndarray]", "dict[str, str] | None", "dict[str, str]",
                "dict[str, Any]"]
_Entries = list[tuple[str, str, tuple[int, ...], int, int]]
_ENTRY_KEYS = {"dtype", "shape", "data_offsets"}


def code_of(dtype: DTypeLike) -> str | None:
    """The safetensors code of a NumPy dtype (``float32`` -> ``"F32"``), None if it has
    none."""
    return _CODES.get(np.dtype(dtype).newbyteorder("="))


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    d = {}
    for k, v in pairs:
        if k in d:
            raise ValueError(f"duplicate key {k!r}")
        d[k] = v
    return d


def depth(value: object) -> int:
    """Nesting depth of a JSON value (0 for a scalar), computed without recursion."""
    best, stack = 0, [(value, 0)]
    while stack:
        v, d = stack.pop()
        if isinstance(v, dict):
            v = v.values()
        elif not isinstance(v, list):
            best = max(best, d)
            continue
        best = max(best, d + 1)
        if d + 1 > MAX_DEPTH:
            return d + 1
        stack.extend((x, d + 1) for x in v)
    return best


def loads(text: str | bytes, what: str) -> Any:
    """``json.loads`` of text read from a file, with duplicate keys, nesting deeper than
    :data:`MAX_DEPTH` and every parser failure (RecursionError, huge integers, bad UTF-8)
    reported as a :class:`ValueError` naming ``what``."""
    try:
        value = json.loads(text, object_pairs_hook=_no_duplicates)
    except (ValueError, RecursionError, UnicodeDecodeError, TypeError, OverflowError) as e:
        raise ValueError(f"{what} is not valid JSON ({type(e).__name__}: {e})") from None
    if depth(value) > MAX_DEPTH:
        raise ValueError(f"{what} nests deeper than {MAX_DEPTH} levels")
    return value


def _int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def parse_header(n_file: int, head: bytes | bytearray, name: str,
                 who: str) -> tuple[int, _Entries, dict[str, str] | None]:
    """Validate a header (``head``: the file's first bytes, at least 8) against a file of
    ``n_file`` bytes: ``(header_length, entries, metadata)`` where ``entries`` is the
    list of ``(name, code, shape, begin, end)`` in the header's order."""
    def bad(msg: str) -> NoReturn:
        raise ModelFileError(f"{who}: {name} is not a readable safetensors file ({msg})")

    if n_file < 8:
        bad(f"{n_file} bytes is too short for a safetensors header")
    n = int.from_bytes(head[:8], "little")
    if n > MAX_HEADER_BYTES:
        bad(f"header length {n} exceeds the limit of {MAX_HEADER_BYTES} bytes")
    if n > n_file - 8:
        bad(f"header length {n} runs past the end of the {n_file}-byte file")
    if n < 2:
        bad(f"header length {n} is too short for a JSON object")
    text = bytes(head[8:8 + n])
    if text[:1] != b"{":
        bad("the header does not start with '{'")
    values = text.count(b",") + text.count(b"{") + text.count(b"[")
    if values > MAX_JSON_VALUES:
        bad(f"the header holds about {values:,} JSON values, more than the limit of "
            f"{MAX_JSON_VALUES:,}")
    try:
        header = loads(text, "the header")
    except ValueError as e:
        bad(str(e))
    if not isinstance(header, dict):
        bad("the header is not a JSON object")
    meta = header.pop("__metadata__", None)
    if meta is not None and not (isinstance(meta, dict) and all(
            isinstance(k, str) and isinstance(v, str) for k, v in meta.items())):
        bad("__metadata__ must map strings to strings")
    entries: _Entries = []
    for key, ent in header.items():
        if not key:
            bad("a tensor has an empty name")
        if not isinstance(ent, dict) or set(ent) != _ENTRY_KEYS:
            bad(f"tensor {key!r} must have exactly the keys dtype, shape, data_offsets, "
                f"got {sorted(ent) if isinstance(ent, dict) else type(ent).__name__}")
        code, shape, offs = ent["dtype"], ent["shape"], ent["data_offsets"]
        if not isinstance(code, str) or code not in DTYPES:
            bad(f"tensor {key!r} has dtype {code!r}, expected one of {', '.join(DTYPES)}")
        if not isinstance(shape, list) or not all(_int(s) and s >= 0 for s in shape):
            bad(f"tensor {key!r} has shape {shape!r:.80}, expected a list of non-negative "
                "integers")
        if not (isinstance(offs, list) and len(offs) == 2 and all(_int(o) for o in offs)
                and 0 <= offs[0] <= offs[1]):
            bad(f"tensor {key!r} has data_offsets {offs!r:.80}, expected [begin, end] with "
                "0 <= begin <= end")
        nbytes = math.prod(shape) * DTYPES[code].itemsize
        if nbytes != offs[1] - offs[0]:
            bad(f"tensor {key!r} of dtype {code} and shape {shape} needs {nbytes} bytes but "
                f"its data_offsets {offs} span {offs[1] - offs[0]}")
        entries.append((key, code, tuple(shape), offs[0], offs[1]))
    data_len = n_file - 8 - n
    pos = 0
    for key, _, _, b, end in sorted(entries, key=lambda t: (t[3], t[4])):
        if b != pos:
            bad(f"tensor {key!r} starts at byte {b} of the data section, expected {pos} "
                f"({'overlapping' if b < pos else 'a gap before it'})")
        pos = end
    if pos != data_len:
        bad(f"the tensors cover {pos} bytes but the data section holds {data_len}")
    return n, entries, meta


def _view(data: Any, code: str, shape: tuple[int, ...], b: int, e: int, key: str, name: str,
          who: str) -> np.ndarray:
    raw = np.frombuffer(data, dtype=DTYPES[code], count=math.prod(shape), offset=b) \
        if e > b else np.empty(0, DTYPES[code])
    if code == "BF16":
        return (raw.astype(np.uint32) << 16).view(np.float32).reshape(shape)
    if code == "BOOL" and raw.size and raw.view(np.uint8).max() > 1:
        raise ModelFileError(f"{who}: {name} is not a readable safetensors file (BOOL tensor "
                             f"{key!r} holds bytes other than 0 and 1)")
    if raw.dtype.byteorder == ">":    # pragma: no cover - big-endian hosts
        raw = raw.astype(raw.dtype.newbyteorder("="))
    return raw.reshape(shape)


def _head_length(head: bytes | bytearray | memoryview) -> int:
    return int.from_bytes(bytes(head[:8]), "little") if len(head) >= 8 else 0


def _result(data: memoryview, entries: _Entries, meta: dict[str, str] | None, name: str,
            who: str) -> _Parsed:
    tensors = OrderedDict((k, _view(data, c, s, b, e, k, name, who))
                          for k, c, s, b, e in entries)
    raw = {k: data[b:e] for k, c, s, b, e in entries}
    return tensors, meta, {k: c for k, c, *_ in entries}, raw


def parse(buf: bytearray | bytes, name: str, who: str) -> _Parsed:
    """``(tensors, metadata, stored, raw)`` of a whole file's bytes ``buf`` (a bytearray
    gives writable arrays): tensors by name in the header's order, as zero-copy views of
    ``buf`` (BF16 upcast to float32), the ``__metadata__`` dict (or None), each
    tensor's stored dtype code, and each tensor's bytes as stored (memoryviews)."""
    head = buf[:8 + min(_head_length(buf), MAX_HEADER_BYTES)]
    n, entries, meta = parse_header(len(buf), head, name, who)
    return _result(memoryview(buf)[8 + n:], entries, meta, name, who)


def read_path(fp: PathLike, name: str, who: str) -> _Parsed:
    """:func:`parse` of the file at ``fp``, reading the header first and then the data
    section into one bytearray (the file is held once)."""
    with open(fp, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        head = f.read(8)
        n = _head_length(head)
        if 2 <= n <= min(MAX_HEADER_BYTES, size - 8):
            head += f.read(n)
        n, entries, meta = parse_header(size, head, name, who)
        data = bytearray(size - 8 - n)
        got = f.readinto(data)
        if got != len(data):
            raise ModelFileError(f"{who}: {name} is not a readable safetensors file (it "
                                 f"changed while being read: {got} of {len(data)} bytes)")
    return _result(memoryview(data), entries, meta, name, who)


def write(f: BinaryIO, tensors: dict[str, np.ndarray],
          metadata: dict[str, str] | None = None) -> None:
    """Write ``tensors`` (name -> C-contiguous NumPy array of a dtype with a safetensors
    code) and string ``metadata`` to the binary file object ``f``. The header lists the
    tensors in the given order; the data is laid out by decreasing item size, so every
    array starts aligned to its item size."""
    arrays: OrderedDict[str, tuple[str, np.ndarray]] = OrderedDict()
    for k, a in tensors.items():
        code = code_of(a.dtype)
        if code is None:
            raise ModelFileError(f"cannot store tensor {k!r} of dtype {a.dtype} in a "
                                 "safetensors file")
        arrays[k] = (code, np.require(a, dtype=DTYPES[code], requirements="C"))
    order = sorted(arrays, key=lambda k: -arrays[k][1].itemsize)
    offsets: dict[str, tuple[int, int]] = {}
    pos = 0
    for k in order:
        offsets[k] = (pos, pos + arrays[k][1].nbytes)
        pos += arrays[k][1].nbytes
    header: dict[str, Any] = {k: {"dtype": c, "shape": list(a.shape), "data_offsets": list(offsets[k])}
              for k, (c, a) in arrays.items()}
    if metadata:
        header["__metadata__"] = metadata
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    f.write(len(text).to_bytes(8, "little"))
    f.write(text)
    for k in order:
        a = arrays[k][1]
        if a.nbytes:
            f.write(a.reshape(-1).view(np.uint8).data)
