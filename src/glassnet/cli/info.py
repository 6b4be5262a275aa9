"""``glassnet info MODEL``: what a model file (or a run folder) holds.

    glassnet info runs/<stamp>                       # the run folder: its model.safetensors
    glassnet info runs/<stamp>/model.safetensors     # a model file
    glassnet info runs/<stamp> --json                # the raw metadata, as JSON

It prints the file (format, glassnet version, SHA-256, verified), the architecture, a
layer table (``glassnet.summary``: layer, output shape, parameters, trainable), the input
the model expects (the preprocessing ``glassnet train`` records) and the metrics of the
run (``metrics.json`` beside the model file).
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

from .. import io
from ..io.serialize import read_file
from ..errors import ArgumentError, ModelFileNotFoundError
from ..nn import Module
from . import runs

__all__ = ["run", "find_model_file", "layer_table"]


def find_model_file(path: str | Path) -> Path:
    """The model file named by ``path``: the path itself, or for a folder (a run folder)
    its ``model.safetensors`` (else its only ``*.safetensors`` file).

    Raises ModelFileNotFoundError for a folder without a model file, ArgumentError for a
    folder holding several and no ``model.safetensors``.

    >>> find_model_file("runs/20250101-120000")  # doctest: +SKIP
    PosixPath('runs/20250101-120000/model.safetensors')
    """
    p = Path(path)
    if not p.is_dir():
        return p
    if (p / "model.safetensors").is_file():
        return p / "model.safetensors"
    found = sorted(f for f in p.glob("*.safetensors") if f.is_file())
    if not found:
        raise ModelFileNotFoundError(f"no model file in the folder {p} (expected "
                                     "model.safetensors, as glassnet train writes it)")
    if len(found) > 1:
        raise ArgumentError(f"the folder {p} holds {len(found)} model files "
                            f"({', '.join(f.name for f in found)}) and no model.safetensors: "
                            "name the one to show")
    return found[0]


def _own_table(model: Module) -> str:
    """A layer table of ``model`` without ``glassnet.summary``: one row per module with
    parameters of its own (name, class, parameters, trainable), then the total."""
    rows = []
    for name, m in model.named_modules():
        own = list(m.named_parameters(recurse=False))
        if not own and m._modules:      # a container: its layers have the rows
            continue
        n = sum(int(p.numel()) for _, p in own)
        train = "yes" if all(p.requires_grad for _, p in own) else "no"
        rows.append((name or "(model)", type(m).__name__, f"{n:,}", train if own else "-"))
    head = ("layer", "type", "params", "trainable")
    widths = [max(len(r[i]) for r in rows + [head]) for i in range(4)]
    line = lambda r: "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip()  # noqa: E731
    total = model.num_parameters()
    return "\n".join([line(head), line(tuple("-" * w for w in widths))] + [line(r) for r in rows]
                     + [f"total parameters {total:,} (trainable "
                        f"{model.num_parameters(trainable_only=True):,})"])


def layer_table(model: Module, input_shape: Any = None) -> str:
    """The layer table of ``model``: ``glassnet.summary(model, input_shape)`` where it is
    available (with output shapes when ``input_shape``, one sample's, is known and the
    model runs on it), else a table of the modules and their parameter counts."""
    try:
        from ..inspect.summary import summary
    except ImportError:
        return _own_table(model)
    if input_shape is not None:
        try:
            return str(summary(model, tuple(input_shape)))
        except Exception:  # noqa: BLE001 - a model that will not run on zeros: no shapes
            pass
    return str(summary(model))


def _model_input_shape(extra: dict) -> tuple[int, ...] | None:
    """One sample's shape as the model takes it (flat for an MLP), from the metadata."""
    shape = extra.get("input_shape")
    if not (isinstance(shape, list) and shape and all(isinstance(d, int) for d in shape)):
        return None
    return (int(np.prod(shape)),) if extra.get("flatten", True) else tuple(shape)


def _architecture(arch: Any) -> str:
    if not isinstance(arch, dict):
        return "?"
    args = [repr(a) for a in arch.get("args", [])]
    args += [f"{k}={v!r}" for k, v in (arch.get("kwargs") or {}).items()]
    return f"{arch.get('class', '?')}({', '.join(args)})"


def _metrics(folder: Path) -> str | None:
    """The scalar entries of the run's ``metrics.json`` as one line (None without one)."""
    f = folder / "metrics.json"
    if not f.is_file():
        return None
    try:
        m = json.loads(f.read_text())
    except (OSError, ValueError) as e:
        return f"({f} cannot be read: {e})"
    if not isinstance(m, dict):
        return f"({f} is not a JSON object)"
    parts = [f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}"
             for k, v in m.items() if isinstance(v, (int, float, str)) or v is None]
    return ", ".join(parts) + f"  ({f})"


def run(args: argparse.Namespace) -> int:
    """Print what the model file ``args.model`` (or the run folder's model file) holds;
    with ``args.json`` its raw glassnet metadata as JSON. Returns 0."""
    path = find_model_file(args.model)
    meta = io.read_metadata(path)               # checks the container and the SHA-256
    if getattr(args, "json", False):
        print(json.dumps(meta, indent=1))
        return 0
    if meta is None:
        tensors, _ = read_file(path, "glassnet info")
        print(f"{path}: a safetensors file without glassnet metadata, {len(tensors)} tensors")
        for name, t in tensors.items():
            print(f"  {name}  {t.dtype}  {tuple(t.shape)}")
        return 0
    kind = meta.get("kind", "model")
    extra = meta.get("extra") or {}
    print(f"file          {path} ({meta.get('format')}, glassnet "
          f"{meta.get('glassnet_version')}, SHA-256 {str(meta.get('sha256'))[:16]}... "
          "verified)")
    print(f"kind          {kind}")
    if "architecture" in meta:
        print(f"architecture  {_architecture(meta['architecture'])}")
    if extra:
        said = {k: v for k, v in extra.items() if k not in ("preprocessing",)}
        print("metadata      " + ", ".join(f"{k} {v}" for k, v in said.items()))
    if kind == "model":
        model = io.load(path)
        print()
        print(layer_table(model, _model_input_shape(extra)))
        print()
    else:
        tensors, _ = read_file(path, "glassnet info")
        print(f"tensors       {len(tensors)}: " + ", ".join(
            f"{n} {tuple(t.shape)}" for n, t in list(tensors.items())[:20])
            + (" ..." if len(tensors) > 20 else ""))
    if extra.get("task") in ("classify", "autoencoder") or "preprocessing" in extra:
        hint = extra.get("task") == "classify"       # predict --raw is for classifiers
        print(f"input         {runs.describe_input(extra.get('preprocessing'), hint)}")
    elif extra.get("task") == "charlm":
        print("input         text in the model's vocabulary (its first argument above); "
              "glassnet sample --prime TEXT")
    metrics = _metrics(path.parent)
    if metrics is not None:
        print(f"metrics       {metrics}")
    return 0
