"""Exports of a playground session: the network as a glassnet model file (safetensors +
JSON architecture, never pickle) and a short Python script that reproduces the run."""
from __future__ import annotations

import io
from ..io.serialize import load, save
from .session import ConfigError, Session, validate_config

__all__ = ["model_bytes", "load_model_bytes", "script"]


def model_bytes(session: Session) -> bytes:
    """The session's network as the bytes of a glassnet model file; the playground
    configuration and step count ride along in its metadata."""
    buf = io.BytesIO()
    with session.lock:
        save(session.model, buf, metadata={"playground": session.config,
                                           "step": session.step_count,
                                           "epoch": session.epoch})
    return buf.getvalue()


def load_model_bytes(session: Session, data: bytes) -> None:
    """Load a model file written by :func:`model_bytes` into ``session``: its configuration
    (validated like any from the page) replaces the session's, then its weights are loaded.
    A file that is not a glassnet model, or whose shapes do not fit, is a ConfigError."""
    try:
        model = load(io.BytesIO(data))
    except Exception as e:      # every refusal of the loader: one message for the page
        raise ConfigError("model", f"not a glassnet model file ({e})") from None
    meta = getattr(model, "metadata", None) or {}
    cfg = meta.get("playground") if isinstance(meta, dict) else None
    if cfg is None:
        raise ConfigError("model", "the file holds no playground configuration in its metadata")
    cfg = validate_config(cfg)
    with session.lock:
        session.reset(cfg)
        mine = session.model.state_dict()
        theirs = model.state_dict()
        if list(mine) != list(theirs) or any(tuple(mine[k].shape) != tuple(theirs[k].shape)
                                             for k in mine):
            raise ConfigError("model", "its weights do not match its configuration")
        session.model.load_state_dict(theirs)
        session._record_losses()
        session._grid_cache = None
        session.message = f"loaded a model trained for {meta.get('step', '?')} steps"


_SCRIPT = '''"""Reproduce a glassnet playground run ({steps} mini-batch steps, {epochs} epochs)."""
import numpy as np

import glassnet as gn
from glassnet.playground import datasets as D
from glassnet.playground.session import (batch_order, build_model, build_optimizer,
                                         loss_function, penalty)

config = {config!r}
STEPS = {steps}

X, y = D.make_dataset(config["dataset"], config["n_samples"], config["noise"], config["seed"])
train, test = D.split(len(X), config["test_ratio"], config["seed"])
F = D.features(X, config["features"])
Xtr, ytr = F[train], y[train].astype(np.float32)[:, None]
Xte, yte = F[test], y[test].astype(np.float32)[:, None]

model = build_model(config)         # gn.manual_seed(seed), then nn.Sequential(...)
print(model)
opt = build_optimizer(config, model)
loss_fn = loss_function()           # nn.MSELoss()
epoch, order, pos = 0, batch_order(config["seed"], len(train), 0), 0
for step in range(STEPS):
    idx = order[pos:pos + config["batch_size"]]
    opt.zero_grad()
    loss = loss_fn(model(gn.tensor(Xtr[idx])), gn.tensor(ytr[idx]))
    reg = penalty(config, model)    # L1 / L2 on the weights, or None
    (loss if reg is None else loss + reg).backward()
    opt.step()
    pos += len(idx)
    if pos >= len(order):
        epoch, pos = epoch + 1, 0
        order = batch_order(config["seed"], len(train), epoch)

model.eval()
with gn.no_grad():
    test_loss = float(loss_fn(model(gn.tensor(Xte)), gn.tensor(yte)).item())
print(f"test loss after {{STEPS}} steps: {{test_loss:.6f}}")
gn.save(model, "playground-model")  # playground-model.safetensors
'''


def script(session: Session) -> str:
    """A standalone Python script that retrains the session's run step for step."""
    with session.lock:
        return _SCRIPT.format(config=session.config, steps=session.step_count,
                              epochs=session.epoch)

