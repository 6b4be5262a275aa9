"""Checkpoints: a ``Trainer.state_dict()`` in one safetensors file, written atomically, so
``Trainer.fit(..., resume=path)`` continues the same run.

The state's NumPy arrays become the file's tensors, named by where they sit in the
state (``model/0.weight``, ``optimizer/state_dict/state/3/exp_avg``); everything else is
JSON in the file's metadata, with ``{"__tensor__": name}`` in place of each array.
Loading executes nothing (no pickle).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..errors import CheckpointError, ModelFileNotFoundError
from .serialize import ModelFileError, architecture, read_file, write_file
from .tree import join_arrays as _join

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # annotations only
    from glassnet._typing import PathLike
    from glassnet.training.trainer import Trainer


__all__ = ["save_checkpoint", "load_checkpoint", "read_checkpoint"]

_TENSOR = "__tensor__"


def _split(value: Any, path: tuple[str, ...], tensors: dict[str, np.ndarray]) -> Any:
    """``value`` as JSON, its arrays moved into ``tensors`` under their '/'-joined path."""
    if isinstance(value, np.ndarray):
        name = "/".join(path)
        if name in tensors:
            raise ModelFileError(f"save_checkpoint: two arrays of the state are named {name!r}")
        tensors[name] = value
        return {_TENSOR: name}
    if isinstance(value, dict):
        return {str(k): _split(v, path + (str(k),), tensors) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_split(v, path + (str(i),), tensors) for i, v in enumerate(value)]
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise ModelFileError(f"save_checkpoint: the trainer state at {'/'.join(path)!r} is a "
                         f"{type(value).__name__}; a state holds JSON values and NumPy arrays "
                         "only (a callback's state_dict() must return those)")


def save_checkpoint(path: PathLike, trainer: Trainer, epoch: int | None = None) -> Path | None:
    """Write ``trainer.state_dict()`` to ``path``, marked as written after ``epoch``
    (0-based; default the trainer's last epoch). Returns the path written.

    >>> save_checkpoint("runs/ck", trainer, epoch=4)  # doctest: +SKIP
    """
    state = trainer.state_dict()
    if epoch is not None:
        state["epoch"] = int(epoch)
    try:
        arch = architecture(trainer.model)
    except ModelFileError:
        arch = None
    return _write(path, state, arch)


def _write(path: PathLike, state: dict[str, Any],
           arch: dict[str, Any] | None = None) -> Path | None:
    """Write a trainer state (a ``Trainer.state_dict()``) as a checkpoint file."""
    tensors: dict[str, np.ndarray] = {}
    tree = _split(state, (), tensors)
    meta = {"kind": "checkpoint", "architecture": arch, "trainer": tree}
    json.dumps(meta)  # fail before writing on a value JSON cannot hold
    return write_file(path, tensors, meta, "save_checkpoint")


def read_checkpoint(path: PathLike) -> dict[str, Any]:
    """The ``Trainer.state_dict()`` stored in a checkpoint file (its format and checksum
    verified by ``read_file``; its content is checked against a trainer by
    ``Trainer.load_state_dict`` / ``fit(resume=...)`` before any of it is applied)."""
    try:
        tensors, meta = read_file(path, "read_checkpoint")
    except ModelFileNotFoundError:
        raise
    except CheckpointError:
        raise
    except ModelFileError as e:   # a corrupt checkpoint file is a CheckpointError too
        raise CheckpointError(str(e)) from e
    if not meta or meta.get("kind") != "checkpoint":
        raise CheckpointError(f"read_checkpoint: {path} is not a glassnet checkpoint (written "
                              "by save_checkpoint or ModelCheckpoint(checkpoint=True))")
    if "trainer" not in meta:
        raise CheckpointError(f"read_checkpoint: {path} is a checkpoint of glassnet "
                              f"{meta.get('glassnet_version')} from before Trainer.state_dict; "
                              "resume it with that version")
    if not isinstance(meta["trainer"], dict):
        raise CheckpointError(f"read_checkpoint: {path}: the trainer state must be a JSON "
                              f"object, found {type(meta['trainer']).__name__}")
    try:
        return _join(meta["trainer"], tensors, "read_checkpoint")
    except ModelFileError as e:
        raise CheckpointError(f"{e} ({path})") from None


def load_checkpoint(path: PathLike, trainer: Trainer) -> int:
    """Restore a checkpoint into ``trainer`` (``Trainer.load_state_dict``: model, optimizer,
    scheduler, history, RNG); returns the epoch it was written after. ``fit(resume=path)``
    also restores the loader's generator and the callbacks."""
    state = read_checkpoint(path)
    trainer.load_state_dict(state)
    return int(state["epoch"])
