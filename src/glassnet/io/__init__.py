"""Saving and loading models without pickle: weights in safetensors, the architecture as
JSON in the same file's metadata, and checkpoints that resume a run.

>>> gn.save(model, "model.safetensors")  # doctest: +SKIP
>>> model = gn.load("model.safetensors")        # rebuilds the architecture, loads weights  # doctest: +SKIP
>>> gn.io.load_weights(model, "model.safetensors")   # weights into a model you built  # doctest: +SKIP
"""
from __future__ import annotations

from .serialize import (FORMAT, ModelFileError, architecture, build, load, load_state_dict,
                        load_weights, read_metadata, register, save, save_state_dict)
from .checkpoint import load_checkpoint, read_checkpoint, save_checkpoint

__all__ = ["save", "load", "load_weights", "save_state_dict", "load_state_dict",
           "save_checkpoint", "load_checkpoint", "read_checkpoint", "register", "architecture", "build",
           "read_metadata", "ModelFileError", "FORMAT"]
