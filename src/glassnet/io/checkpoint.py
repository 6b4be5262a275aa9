"""Checkpoints: model weights, optimizer state, history and RNG state in one safetensors file,
written atomically, so ``Trainer.fit(..., resume=path)`` continues the same run."""
from __future__ import annotations

import numpy as np

from .. import backend
from .serialize import ModelFileError, architecture, read_file, write_file

__all__ = ["save_checkpoint", "load_checkpoint"]


def _rng_state(gen):
    return gen.bit_generator.state


def save_checkpoint(path, trainer, epoch: int):
    """Write everything needed to resume ``trainer`` after ``epoch`` (0-based)."""
    tensors = {f"model/{k}": v for k, v in trainer.model.state_dict().items()}
    opt = trainer.optimizer.state_dict()
    scalars = {}
    for idx, st in opt["state"].items():
        for k, v in st.items():
            if isinstance(v, np.ndarray):
                tensors[f"optim/{idx}/{k}"] = v
            else:
                scalars.setdefault(str(idx), {})[k] = v
    loader_rng = getattr(trainer, "_loader_rng", None)
    try:
        arch = architecture(trainer.model)
    except ModelFileError:
        arch = None
    meta = {"kind": "checkpoint", "epoch": int(epoch), "architecture": arch,
            "optimizer": {"class": type(trainer.optimizer).__name__,
                          "param_groups": opt["param_groups"], "scalars": scalars},
            "history": trainer.history.to_dict(),
            "rng": _rng_state(backend.rng()),
            "loader_rng": None if loader_rng is None else _rng_state(loader_rng)}
    return write_file(path, tensors, meta, "save_checkpoint")


def load_checkpoint(path, trainer) -> int:
    """Restore a checkpoint into ``trainer`` (model, optimizer, history, RNG); returns the
    epoch it was written after."""
    tensors, meta = read_file(path, "load_checkpoint")
    if not meta or meta.get("kind") != "checkpoint":
        raise ModelFileError(f"load_checkpoint: {path} is not a glassnet checkpoint")
    opt_meta = meta["optimizer"]
    if opt_meta["class"] != type(trainer.optimizer).__name__:
        raise ModelFileError(f"load_checkpoint: the checkpoint was written with "
                             f"{opt_meta['class']}, the trainer uses "
                             f"{type(trainer.optimizer).__name__}")
    trainer.model.load_state_dict({k[6:]: v for k, v in tensors.items()
                                   if k.startswith("model/")})
    state: dict = {}
    for k, v in tensors.items():
        if k.startswith("optim/"):
            _, idx, name = k.split("/", 2)
            state.setdefault(int(idx), {})[name] = v
    for idx, d in opt_meta["scalars"].items():
        state.setdefault(int(idx), {}).update(d)
    trainer.optimizer.load_state_dict({"state": state, "param_groups": opt_meta["param_groups"]})
    trainer.history = type(trainer.history).from_dict(meta["history"])
    backend.rng().bit_generator.state = meta["rng"]
    trainer._resume_loader_state = meta.get("loader_rng")
    return int(meta["epoch"])
