"""Saving and loading without pickle: tensors in safetensors, everything else (a model's
architecture, a checkpoint's epoch and settings, the nesting of an object) as JSON in the
same file's metadata, all under one mandatory SHA-256, and checkpoints that resume a run.
A file is checked completely (container, checksum, every JSON field, the registry of
classes, a memory budget taken from its own tensor table) before anything is built from it;
every failure is a :class:`~glassnet.errors.ModelFileError`.

``save(obj, f)`` / ``load(f)`` work as ``torch.save`` / ``torch.load`` do, for a path or a
binary file object, with a state dict or any nesting of dicts / lists / tuples of tensors,
arrays and plain values (see :mod:`glassnet.io.tree`):

>>> gn.save({"epoch": 3, "model_state_dict": model.state_dict()}, "ckpt.pt")  # doctest: +SKIP
>>> model.load_state_dict(gn.load("ckpt.pt")["model_state_dict"])            # doctest: +SKIP

A whole Module is stored as its architecture plus its weights:

>>> gn.save(model, "model.safetensors")  # doctest: +SKIP
>>> model = gn.load("model.safetensors")        # rebuilds the architecture, loads weights  # doctest: +SKIP
>>> gn.io.load_weights(model, "model.safetensors")   # weights into a model you built  # doctest: +SKIP
"""
from __future__ import annotations

from .registry import register
from .serialize import (FORMAT, ModelFileError, architecture, build, check_architecture, load,
                        load_state_dict, load_weights, read_metadata, save, save_state_dict)
from .checkpoint import load_checkpoint, read_checkpoint, save_checkpoint

__all__ = ["save", "load", "load_weights", "save_state_dict", "load_state_dict",
           "save_checkpoint", "load_checkpoint", "read_checkpoint", "register", "architecture", "build",
           "read_metadata", "check_architecture", "ModelFileError", "FORMAT"]
