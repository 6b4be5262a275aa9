"""Seeded mutators: ``mutate(rng, raw, ...) -> (bytes, name)``; the same ``random.Random``
state always gives the same bytes.

Families
--------
byte-level      bit flips, random bytes, insert / delete / duplicate a chunk, truncate,
                extend, zero a range (half of the positions fall in the safetensors header
                when there is one, where a single byte matters most)
structural      parse the safetensors header (8-byte length + JSON), change one leaf of it
                or of the glassnet metadata inside it (numbers to 0, -1, 2**31, 2**63, 1e308,
                "NaN"; strings to other strings or class names such as "os.system"; huge
                shapes; odd dtypes "V99999999", "O"; overlapping or out-of-range
                data_offsets; architecture sizes to 20000; deleted keys; 10**5 levels of
                nesting; the sha256 field removed) and write the header back
re-signed       the same edits (and edits of the tensors: shape, dtype, values, names) made
                by someone who can write a valid file: the result is written again with
                glassnet's own ``io.serialize.write_file``, so its checksum matches
data files      IDX header dims / ndim / type / magic, gzip bombs (a few KB that inflate to
                hundreds of MB or GB, with headers that do or do not claim it), truncated or
                re-compressed gzip; CSV cells that are not numbers, NaN, huge, missing or
                extra columns; invalid UTF-8
"""
from __future__ import annotations

import copy
import gzip
import json
import math
import random
import struct
import zlib

NUMBERS = [0, -1, 1, 2, 2**31, 2**31 - 1, 2**32, 2**63, -2**63, 10**30, 1e308, -1e308, 0.5,
           -0.0, 3.7, "NaN", "Infinity", 20000, 10**9, -10**9]
STRINGS = ["", "os.system", "builtins.eval", "subprocess.Popen", "posix.system",
           "glassnet.io.serialize.os", "glassnet.backend.config.set", "glassnet.nn.Module",
           "glassnet.nn.module.Module", "glassnet.nn.LSTM", "glassnet.models.CharLM",
           "glassnet.nn.Linear", "glassnet.nn.modules.linear.Linear", "glassnet.Tensor",
           "glassnet.models.mlp.MLP", "glassnet.io.serialize.Path", "__import__",
           "glassnet.nn.Sequential", "F64", "BF16", "F16", "I64", "U8", "BOOL", "V99999999",
           "O", "x" * 10000, "\u0000", "../../etc/passwd", "relu", "sigmoid", "lstm", "gru",
           "multiclass", "glassnet-model/1", "glassnet-model/2", "checkpoint", "object",
           "model", "state_dict", "Adam", "SGD", "StepLR", "EarlyStopping", "min", "max",
           "{epoch}", "%s%s%s", "deadbeef" * 8]
ODD_DTYPES = ["V99999999", "O", "F16", "BF16", "F64", "I8", "U64", "BOOL", "F8_E4M3", "C64",
              "XYZ", "", "F32 ", "f32", 7]
HUGE_SHAPES = [[2**31, 2**31], [10**6, 10**6], [2**63], [-1], [0], [1, 1, 1, 1, 1, 1, 1, 1],
               [2**32 + 1], [20000, 20000], [1] * 1000, [], [3.5], ["4"]]
DEEP = 10**5
_DEEP_MARK = "__fuzz_deep__"


class Skip(Exception):
    """This mutator does not apply to this file (the caller draws another)."""


# ---------------------------------------------------------------------------- byte level
def _pos(rng, n, hot):
    if n <= 0:
        return 0
    if hot and rng.random() < 0.5:
        return rng.randrange(min(n, hot))
    return rng.randrange(n)


def byte_mutate(rng: random.Random, raw: bytes, hot: int = 0):
    """One byte-level edit; ``hot`` = length of the region where half of the edits land."""
    b = bytearray(raw)
    n = len(b)
    op = rng.choice(["bitflip", "bitflip", "bytes", "insert", "delete", "duplicate",
                     "truncate", "extend", "zero"])
    if op == "bitflip":
        for _ in range(rng.choice([1, 1, 1, 2, 4, 8])):
            i = _pos(rng, n, hot)
            b[i] ^= 1 << rng.randrange(8)
    elif op == "bytes":
        i = _pos(rng, n, hot)
        k = rng.randint(1, 16)
        b[i:i + k] = bytes(rng.randrange(256) for _ in range(min(k, n - i)))
    elif op == "insert":
        i = _pos(rng, n + 1, hot)
        b[i:i] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 64)))
    elif op == "delete":
        i = _pos(rng, n, hot)
        del b[i:i + rng.randint(1, 64)]
    elif op == "duplicate":
        i = _pos(rng, n, hot)
        k = rng.randint(1, 256)
        b[i:i] = b[i:i + k]
    elif op == "truncate":
        del b[_pos(rng, n, hot):]
    elif op == "extend":
        k = rng.choice([1, 7, 8, 100, 4096, max(1, n // 4)])
        b.extend(bytes(k) if rng.random() < 0.5 else
                 bytes(rng.randrange(256) for _ in range(min(k, 4096))))
    else:
        i = _pos(rng, n, hot)
        k = rng.randint(1, 512)
        b[i:i + k] = bytes(len(b[i:i + k]))
    return bytes(b), f"byte-{op}"


# ---------------------------------------------------------------------------- safetensors
def parse_safetensors(raw: bytes):
    """(header dict, data bytes) of safetensors bytes; ValueError when unreadable."""
    if len(raw) < 8:
        raise ValueError("short")
    n = int.from_bytes(raw[:8], "little")
    if n > len(raw) - 8:
        raise ValueError("header runs past the end")
    return json.loads(raw[8:8 + n]), raw[8 + n:]


def build_safetensors(header_text: str, data: bytes) -> bytes:
    h = header_text.encode()
    h += b" " * (-len(h) % 8)
    return len(h).to_bytes(8, "little") + h + data


def header_len(raw: bytes) -> int:
    try:
        return min(len(raw), 8 + int.from_bytes(raw[:8], "little"))
    except Exception:  # noqa: BLE001
        return 0


def _nodes(obj, path=()):
    """Every (path, value) below obj (containers included)."""
    yield path, obj
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _nodes(v, path + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _nodes(v, path + (i,))


def _set(obj, path, value):
    for p in path[:-1]:
        obj = obj[p]
    obj[path[-1]] = value


def _delete(obj, path):
    for p in path[:-1]:
        obj = obj[p]
    del obj[path[-1]]


def _is_num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _new_number(rng, v):
    c = rng.random()
    if c < 0.75:
        return rng.choice(NUMBERS)
    if c < 0.9 and _is_num(v) and math.isfinite(v):
        return type(v)(v * rng.choice([2, 10, 1000, -1])) if isinstance(v, int) else v * 1e10
    return rng.choice([None, True, "3", [v], {"x": v}])


def _new_string(rng, v):
    if rng.random() < 0.85:
        return rng.choice(STRINGS)
    return rng.choice([None, 0, -1, [v], {"class": v}, v + v, v[:-1]])


def edit_tree(rng, tree, prefer=None):
    """Change one node of a JSON tree in place; returns a short name of the edit.

    ``prefer`` is a list of path prefixes (tuples) to draw from most of the time."""
    nodes = [(p, v) for p, v in _nodes(tree) if p]
    if not nodes:
        raise Skip("empty tree")
    if prefer:
        pref = [(p, v) for p, v in nodes if any(p[:len(q)] == q for q in prefer)]
        if pref and rng.random() < 0.8:
            nodes = pref
    path, v = rng.choice(nodes)
    op = rng.random()
    if op < 0.1 and isinstance(tree_parent(tree, path), dict):
        _delete(tree, path)
        return f"delete {path[-1]}"
    if op < 0.15:
        _set(tree, path, _DEEP_MARK)
        return "deep-nesting"
    if _is_num(v):
        _set(tree, path, _new_number(rng, v))
        return "number"
    if isinstance(v, str):
        _set(tree, path, _new_string(rng, v))
        return "string"
    if isinstance(v, bool) or v is None:
        _set(tree, path, rng.choice([not v, None, 0, 1, "true", [], 2**63]))
        return "constant"
    if isinstance(v, list):
        c = rng.random()
        if c < 0.3 and v:
            del v[rng.randrange(len(v))]
        elif c < 0.5 and v:
            v.append(copy.deepcopy(rng.choice(v)))
        elif c < 0.7:
            v[:] = v * rng.choice([2, 100])
        else:
            _set(tree, path, rng.choice([{}, "x", 0, None, [[v]]]))
        return "list"
    if isinstance(v, dict):
        c = rng.random()
        if c < 0.3:
            v[rng.choice(["class", "__module__", "__ndarray__", "__tensor__", "__glassnet__",
                          "children", "args", "kwargs", "x"])] = rng.choice(
                [1, "os.system", {"class": "glassnet.nn.Linear", "args": [2, 2]}, [], None])
        elif c < 0.6:
            v.clear()
        else:
            _set(tree, path, rng.choice([[], "x", 0, None, [v]]))
        return "dict"
    raise Skip("no edit")


def tree_parent(tree, path):
    obj = tree
    for p in path[:-1]:
        obj = obj[p]
    return obj


def _dump(obj) -> str:
    text = json.dumps(obj, separators=(",", ":"), allow_nan=True)
    return text.replace(json.dumps(_DEEP_MARK), "[" * DEEP + "]" * DEEP)


class SafetensorsDoc:
    """A safetensors file opened for editing: the tensor table, the other __metadata__
    strings, and the glassnet metadata parsed from its JSON string."""

    def __init__(self, raw: bytes):
        try:
            self.header, self.data = parse_safetensors(raw)
        except Exception as e:  # noqa: BLE001
            raise Skip(f"not safetensors ({e})") from None
        if not isinstance(self.header, dict):
            raise Skip("header not a dict")
        self.md = dict(self.header.pop("__metadata__", None) or {})
        self.meta = None
        if "glassnet" in self.md:
            try:
                self.meta = json.loads(self.md["glassnet"])
            except ValueError:
                raise Skip("glassnet metadata unreadable") from None

    def to_bytes(self) -> bytes:
        md = dict(self.md)
        if self.meta is not None:
            md["glassnet"] = _dump(self.meta)
        parts = []
        if md or "glassnet" in self.md:
            parts.append('"__metadata__":' + json.dumps(md, separators=(",", ":")))
        parts += [json.dumps(k) + ":" + _dump(v) for k, v in self.header.items()]
        return build_safetensors("{" + ",".join(parts) + "}", self.data)


def _meta_prefer(meta, kind):
    keys = list(meta) if isinstance(meta, dict) else []
    if kind == "checkpoint":
        return [("trainer", "epoch"), ("trainer", "optimizer"), ("trainer", "scheduler"),
                ("trainer", "callbacks"), ("trainer", "history"), ("trainer", "rng"),
                ("trainer", "loader_rng"), ("trainer",)]
    return [(k,) for k in keys if k in ("architecture", "tree")] or None


def struct_mutate(rng: random.Random, raw: bytes, kind: str = "model"):
    """One structural edit of a safetensors file (not re-signed)."""
    doc = SafetensorsDoc(raw)
    tensors = [k for k in doc.header if isinstance(doc.header[k], dict)]
    choice = rng.random()
    meta = doc.meta
    if choice < 0.1 and tensors:
        t = doc.header[rng.choice(tensors)]
        t["shape"] = copy.deepcopy(rng.choice(HUGE_SHAPES))
        name = "shape-huge"
    elif choice < 0.18 and tensors:
        doc.header[rng.choice(tensors)]["dtype"] = rng.choice(ODD_DTYPES)
        name = "dtype-odd"
    elif choice < 0.28 and tensors:
        t = doc.header[rng.choice(tensors)]
        end = len(doc.data)
        offs = t.get("data_offsets")
        a, b = offs if isinstance(offs, list) and len(offs) == 2 and all(
            isinstance(x, int) for x in offs) else (0, 0)
        t["data_offsets"] = copy.deepcopy(rng.choice(
            [[0, end], [0, 2**40], [b, a], [-8, b], [a, a], [a + 4, b + 4], [0, 8],
             [end, end + 4], [a], [a, b, 0], [2**63, 2**63 + 4], ["0", b]]))
        name = "offsets"
    elif choice < 0.33:
        k = rng.choice(list(doc.header) + ["__metadata__"])
        if k == "__metadata__":
            doc.md, doc.meta = {}, None
        else:
            del doc.header[k]
        name = "delete-entry"
    elif choice < 0.38 and tensors:
        k = rng.choice(tensors)
        doc.header[k + rng.choice(["x", ".", "/0"])] = doc.header.pop(k)
        name = "rename-tensor"
    elif choice < 0.45 and meta is not None and "sha256" in meta:
        del meta["sha256"]
        name = "strip-sha256"
        if rng.random() < 0.5 and doc.data:
            d = bytearray(doc.data)
            d[rng.randrange(len(d))] ^= 1 << rng.randrange(8)
            doc.data = bytes(d)
            name = "strip-sha256+flip-data"
    elif choice < 0.52 and meta is not None and kind != "checkpoint":
        name = arch_size_edit(rng, meta)
    elif meta is not None:
        name = "meta-" + edit_tree(rng, meta, _meta_prefer(meta, kind))
    else:
        name = "header-" + edit_tree(rng, doc.header)
    return doc.to_bytes(), "struct-" + name


def arch_size_edit(rng, meta):
    """Set one integer constructor argument of the architecture to a large size."""
    arch = meta.get("architecture") or meta.get("tree")
    ints = [(p, v) for p, v in _nodes(arch) if _is_num(v) and isinstance(v, int) and p
            and ("args" in p or "kwargs" in p or "architecture" in p)]
    if not ints:
        raise Skip("no integer argument")
    path, _ = rng.choice(ints)
    _set(arch, path, rng.choice([20000, 20000, 100000, 2**31, 0, -3]))
    return "arch-size"


def strip_only_sha256(raw: bytes):
    """The file with its sha256 field removed and nothing else changed (must be refused)."""
    doc = SafetensorsDoc(raw)
    if doc.meta is None or "sha256" not in doc.meta:
        raise Skip("no sha256")
    del doc.meta["sha256"]
    return doc.to_bytes()


# ---------------------------------------------------------------------------- re-signed
class Resigner:
    """Writes edited (tensors, metadata) back through glassnet's own
    ``io.serialize.write_file``, whatever the checksum covers; ``available`` is False (and
    ``why`` says why) when this glassnet cannot do it for an unchanged seed."""

    def __init__(self):
        self.available, self.why = False, ""
        try:
            from glassnet.io import serialize
            self.write_file = serialize.write_file
        except (ImportError, AttributeError) as e:
            self.why = f"glassnet.io.serialize.write_file not found ({e})"

    def check(self, seed_raw: bytes, tmpdir) -> None:
        """Re-sign an unchanged seed; available only when the result loads back equal."""
        if getattr(self, "write_file", None) is None:
            return
        try:
            from safetensors.numpy import load as load_bytes
            out = self.sign(load_bytes(seed_raw), SafetensorsDoc(seed_raw).meta, tmpdir)
            a = load_bytes(out)
            b = load_bytes(seed_raw)
            same = set(a) == set(b) and all(a[k].tobytes() == b[k].tobytes() for k in a)
            self.available = same
            self.why = "" if same else "re-signing an unchanged seed changed its tensors"
        except Exception as e:  # noqa: BLE001
            self.why = f"re-signing an unchanged seed failed: {type(e).__name__}: {e}"

    def sign(self, tensors, meta, tmpdir) -> bytes:
        import hashlib
        import os
        import tempfile
        meta = dict(meta or {})
        for k in ("format", "sha256"):
            meta.pop(k, None)
        if "tree" in meta and "tree_sha256" in meta:
            meta["tree_sha256"] = hashlib.sha256(json.dumps(meta["tree"]).encode()).hexdigest()
        fd, tmp = tempfile.mkstemp(dir=tmpdir, suffix=".safetensors")
        os.close(fd)
        try:
            self.write_file(tmp, tensors, meta, "fuzz", exact=True)
            with open(tmp, "rb") as f:
                return f.read()
        finally:
            os.unlink(tmp)


def resigned_mutate(rng: random.Random, raw: bytes, resigner: Resigner, tmpdir,
                    kind: str = "model"):
    """An edit of the metadata or the tensors, written as a valid file with a matching
    checksum."""
    import numpy as np
    from safetensors.numpy import load as load_bytes
    doc = SafetensorsDoc(raw)
    meta = copy.deepcopy(doc.meta)
    if meta is None:
        raise Skip("no glassnet metadata")
    loaded = load_bytes(raw)
    tensors = {k: loaded[k] for k in sorted(loaded)}   # safetensors' order varies
    c = rng.random()
    if c < 0.35 and tensors:
        k = rng.choice(list(tensors))
        a = tensors[k]
        op = rng.choice(["reshape", "dtype", "nan", "huge", "drop", "add", "rename", "slice",
                         "scalar"])
        if op == "reshape":
            tensors[k] = a.reshape(-1) if a.ndim != 1 else a.reshape(1, -1)
        elif op == "dtype":
            tensors[k] = a.astype(rng.choice([np.float64, np.float16, np.int32, np.uint8,
                                              np.bool_, np.int64]))
        elif op == "nan":
            b = a.copy()
            if b.size and b.dtype.kind == "f":
                b.flat[rng.randrange(b.size)] = rng.choice([np.nan, np.inf, -np.inf])
            tensors[k] = b
        elif op == "huge":
            b = a.copy()
            if b.size and b.dtype.kind == "f":
                b.flat[:] = rng.choice([3e38, -3e38, 1e30])
            tensors[k] = b
        elif op == "drop":
            del tensors[k]
        elif op == "add":
            tensors[k + ".extra"] = np.zeros(rng.choice([(3,), (2, 2), (0,)]), np.float32)
        elif op == "rename":
            tensors[k + "_"] = tensors.pop(k)
        elif op == "slice":
            tensors[k] = np.ascontiguousarray(a[: max(0, len(a) - 1)]) if a.ndim else a
        else:
            tensors[k] = np.asarray(a.reshape(-1)[:1].reshape(()) if a.size else 0.0)
        name = f"tensor-{op}"
    elif c < 0.5 and kind != "checkpoint":
        name = arch_size_edit(rng, meta)
    else:
        name = "meta-" + edit_tree(rng, meta, _meta_prefer(meta, kind))
        if _DEEP_MARK in json.dumps(meta):
            raise Skip("deep nesting cannot be written through write_file")
    try:
        return resigner.sign(tensors, meta, tmpdir), "resigned-" + name
    except Exception as e:  # noqa: BLE001 - write_file refused the edit: not a case
        raise Skip(f"write_file refused ({type(e).__name__})") from None


# ---------------------------------------------------------------------------- data files
_BOMB_CACHE: dict = {}


def gzip_zeros(size: int, header: bytes = b"", correct_crc: bool = True) -> bytes:
    """A gzip member of ``header`` followed by zeros, ``size`` bytes in all, built from one
    compressed 1 MiB block repeated (a few KB per GB); cached."""
    key = (size, header, correct_crc)
    if key in _BOMB_CACHE:
        return _BOMB_CACHE[key]
    mib = 1 << 20
    zero = bytes(mib)
    co = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = co.compress(header) + co.flush(zlib.Z_FULL_FLUSH)
    block = co.compress(zero) + co.flush(zlib.Z_FULL_FLUSH)
    n_blocks, rest = divmod(max(0, size - len(header)), mib)
    tail = co.compress(bytes(rest)) + co.flush(zlib.Z_FINISH)
    crc = 0
    if correct_crc:
        crc = zlib.crc32(header)
        for _ in range(n_blocks):
            crc = zlib.crc32(zero, crc)
        crc = zlib.crc32(bytes(rest), crc)
    out = (b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff" + head + block * n_blocks + tail
           + struct.pack("<II", crc & 0xFFFFFFFF, size & 0xFFFFFFFF))
    _BOMB_CACHE[key] = out
    return out


def idx_header(dims, type_byte=8) -> bytes:
    return bytes([0, 0, type_byte, len(dims)]) + b"".join(
        (int(d) & 0xFFFFFFFF).to_bytes(4, "big") for d in dims)


def _gz(raw):
    return gzip.compress(raw, compresslevel=1, mtime=0)


def idx_mutate(rng: random.Random, raw: bytes, packed: bool, what: str, max_bomb: int):
    """One edit of an IDX file (``raw`` as stored; gzip'd when ``packed``)."""
    inner = gzip.decompress(raw) if packed else raw
    ndim = inner[3]
    c = rng.random()
    if packed and c < 0.25:
        return byte_mutate(rng, raw, 20)[0], "gz-" + "bytes"
    if packed and c < 0.40:
        shape = rng.choice(["claims", "small", "huge"])
        # "claims" is a valid, very compressible file (32 MB): it must load, within the
        # memory its declared array needs (the harness bounds that case by its size)
        sizes = (32 << 20,) if shape == "claims" else \
            (64 << 20, 256 << 20, 1 << 30, 3 << 30, 5 << 30)
        size = rng.choice([s for s in sizes if s <= max_bomb] or [sizes[0]])
        if shape == "claims":       # a header that promises exactly what the stream holds
            dims = [(size - 16) // 784, 28, 28] if what == "images" else [size - 8]
        elif shape == "small":      # header promises 64 items, the stream goes on for GBs
            dims = [64, 28, 28] if what == "images" else [64]
        else:
            dims = [2**32 - 1, 28, 28] if what == "images" else [2**32 - 1]
        head = idx_header(dims)
        exact = [(size - len(head)) // 784, 28, 28] if shape == "claims" and what == "images" \
            else None
        total = len(head) + (int(exact[0]) * 784 if exact else size - len(head))
        crc = rng.random() < 0.7 or size <= 1 << 30
        return gzip_zeros(total, head, correct_crc=crc), f"gz-bomb-{shape}-{size >> 20}MB" + \
            ("" if crc else "-badcrc")
    if packed and c < 0.45:
        return raw[: rng.randrange(len(raw))], "gz-truncated"
    if packed and c < 0.5:
        return raw * rng.choice([2, 3]), "gz-multimember"
    b = bytearray(inner)
    op = rng.choice(["dims", "dims", "ndim", "type", "magic", "truncate", "extend", "bytes"])
    if op == "dims" and ndim:
        d = rng.randrange(ndim)
        v = rng.choice([0, 1, 2**31, 2**32 - 1, 60000, 10**6, 27, 29, 65536])
        b[4 + 4 * d: 8 + 4 * d] = v.to_bytes(4, "big")
        name = "idx-dims"
    elif op == "ndim":
        b[3] = rng.choice([0, 1, 2, 3, 4, 8, 255])
        name = "idx-ndim"
    elif op == "type":
        b[2] = rng.choice([0x09, 0x0B, 0x0C, 0x0D, 0x0E, 0x00, 0xFF])
        name = "idx-type"
    elif op == "magic":
        b[0:2] = bytes([rng.randrange(256), rng.randrange(256)])
        name = "idx-magic"
    elif op == "truncate":
        del b[rng.randrange(len(b)):]
        name = "idx-truncate"
    elif op == "extend":
        b.extend(bytes(rng.choice([1, 784, 4096])))
        name = "idx-extend"
    else:
        out, name = byte_mutate(rng, bytes(b), 16)
        b = bytearray(out)
    out = bytes(b)
    return (_gz(out) if packed else out), name


CELLS = ["abc", "nan", "NaN", "inf", "-inf", "1e308", "-1", "99999999999999999999999", "",
         "1.5", "0x10", " 3", "1,2", "\x00", "１", "17", "-0", "1e400", "+5", "٣", "1_0"]


def csv_mutate(rng: random.Random, raw: bytes, packed: bool):
    """One edit of the digits CSV (``raw`` as stored)."""
    if packed and rng.random() < 0.25:
        return byte_mutate(rng, raw, 20)[0], "gz-bytes"
    if packed and rng.random() < 0.1:
        size = rng.choice([64 << 20, 256 << 20, 1 << 30])
        return gzip_zeros(size, b"0,0,0\n"), f"gz-bomb-{size >> 20}MB"
    text = gzip.decompress(raw) if packed else raw
    lines = text.split(b"\n")
    c = rng.random()
    i = rng.randrange(max(1, len(lines) - 1))
    cells = lines[i].split(b",")
    if c < 0.45:
        j = rng.randrange(len(cells))
        cells[j] = rng.choice(CELLS).encode()
        lines[i] = b",".join(cells)
        name = "csv-cell"
    elif c < 0.55:
        lines[i] = b",".join(cells[:rng.randrange(len(cells))])
        name = "csv-fewer-columns"
    elif c < 0.62:
        lines[i] = b",".join(cells + [b"1"] * rng.choice([1, 1000]))
        name = "csv-more-columns"
    elif c < 0.7:
        lines[i] = b",".join(cells[:64] + [rng.choice([b"10", b"-1", b"255", b"1e9"])])
        name = "csv-label"
    elif c < 0.75:
        lines = [lines[0]] if rng.random() < 0.5 else [b""]
        name = "csv-empty"
    elif c < 0.8:
        lines[i] = b"\xef\xbb\xbf" + lines[i] if rng.random() < 0.5 else lines[i] + b"\xff\xfe"
        name = "csv-bytes"
    else:
        out, name = byte_mutate(rng, text)
        lines = [out]
    out = b"\n".join(lines)
    return (_gz(out) if packed else out), name


BAD_UTF8 = [b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xc0\xaf", b"\xf8\x88\x80\x80\x80",
            b"\xfe\xff", b"\x80", b"\xf4\x90\x80\x80", b"\x00", b"\xe2\x82"]


def text_mutate(rng: random.Random, raw: bytes):
    c = rng.random()
    b = bytearray(raw)
    if c < 0.4:
        i = rng.randrange(len(b) + 1)
        b[i:i] = rng.choice(BAD_UTF8)
        name = "text-invalid-utf8"
    elif c < 0.5:
        # cut in the middle of a multi-byte character
        starts = [i for i, x in enumerate(b) if x >= 0xC0]
        if starts:
            del b[rng.choice(starts) + 1:]
        name = "text-cut-multibyte"
    elif c < 0.55:
        b = bytearray(b"\xff\xfe" + raw.decode("utf-8").encode("utf-16-le"))
        name = "text-utf16"
    elif c < 0.6:
        b = bytearray()
        name = "text-empty"
    else:
        out, name = byte_mutate(rng, raw)
        b = bytearray(out)
    return bytes(b), name
