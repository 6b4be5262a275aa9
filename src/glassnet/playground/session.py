"""A playground session: a validated configuration, its data, a glassnet network, and a
background thread that trains it while the page polls.

Everything the page sends goes through :func:`validate_config`, which returns a clean dict
or raises :class:`ConfigError` naming the field; nothing from the page is ever evaluated.
The training math is plain glassnet: ``gn.manual_seed(seed)`` then ``nn.Sequential`` of
``nn.Linear`` and the chosen activation module, the chosen ``glassnet.optim`` optimiser, a
mean-squared-error loss (targets ±1 through a tanh output for classification, a linear
output for regression) plus an optional L1 / L2 penalty on the weights, mini-batches in the
order of ``np.random.default_rng([seed + 1, epoch]).permutation``
(:func:`batch_order`). One *step* is one mini-batch update; *play* trains epoch after epoch.
"""
from __future__ import annotations

import threading
import time
from typing import Any

import numpy as np

from .. import backend, manual_seed, nn, optim
from ..autograd.function import no_grad
from ..autograd.tensor import Tensor
from . import datasets as D

__all__ = ["ConfigError", "DEFAULTS", "ACTIVATIONS", "OPTIMIZERS", "LIMITS", "validate_config",
           "build_model", "build_optimizer", "loss_function", "batch_order", "Session"]


class ConfigError(ValueError):
    """A configuration value the playground refuses; ``field`` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


ACTIVATIONS = ("tanh", "sigmoid", "relu", "leaky_relu", "very_leaky_relu", "elu", "softplus",
               "centered_softplus", "step", "sign", "linear")
OPTIMIZERS = ("sgd", "momentum", "rmsprop", "adagrad", "adam")
REGULARIZATION = ("none", "l1", "l2")
LIMITS = {"hidden_layers": 6, "units": 8, "batch_size": 100, "grid": 100, "n_samples": 1000}

DEFAULTS: dict[str, Any] = {
    "dataset": "circle", "noise": 0, "test_ratio": 0.5, "n_samples": 400,
    "features": ["x1", "x2"], "hidden": [4, 2], "activation": "tanh", "lr": 0.03,
    "optimizer": "sgd", "regularization": "none", "reg_rate": 0.0, "batch_size": 10,
    "dropout": 0.0, "early_stopping": False, "patience": 20, "seed": 0, "grid": 50,
}


def _number(cfg: dict[str, Any], key: str, lo: float, hi: float, integer: bool = False) -> Any:
    v = cfg[key]
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        if isinstance(v, str):
            try:
                v = float(v)
            except ValueError:
                raise ConfigError(key, f"must be a number, got {v!r}") from None
        else:
            raise ConfigError(key, f"must be a number, got {type(v).__name__}")
    if not np.isfinite(v):
        raise ConfigError(key, f"must be finite, got {v}")
    if integer:
        if float(v) != int(v):
            raise ConfigError(key, f"must be a whole number, got {v}")
        v = int(v)
    if not lo <= v <= hi:
        raise ConfigError(key, f"must be between {lo} and {hi}, got {v}")
    return v if integer else float(v)


def _choice(cfg: dict[str, Any], key: str, options: tuple[str, ...]) -> str:
    v = cfg[key]
    if not isinstance(v, str) or v not in options:
        raise ConfigError(key, f"must be one of {', '.join(options)}, got {v!r}")
    return v


def validate_config(raw: Any) -> dict[str, Any]:
    """A complete, checked configuration from ``raw`` (a dict from JSON; missing keys take
    :data:`DEFAULTS`). Raises :class:`ConfigError` naming the first bad field.

    >>> validate_config({"hidden": [3]})["hidden"]
    [3]
    >>> validate_config({"hidden": [9]})
    Traceback (most recent call last):
    ...
    glassnet.playground.session.ConfigError: hidden: every layer has 1 to 8 units, got [9]
    """
    if not isinstance(raw, dict):
        raise ConfigError("config", f"must be a JSON object, got {type(raw).__name__}")
    unknown = sorted(set(raw) - set(DEFAULTS))
    if unknown:
        raise ConfigError(unknown[0], f"is not a playground setting (known: "
                          f"{', '.join(DEFAULTS)})")
    cfg = {**DEFAULTS, **raw}
    out: dict[str, Any] = {}
    out["dataset"] = _choice(cfg, "dataset", D.DATASETS)
    out["noise"] = _number(cfg, "noise", 0, 50)
    out["test_ratio"] = _number(cfg, "test_ratio", 0.1, 0.9)
    out["n_samples"] = _number(cfg, "n_samples", 20, LIMITS["n_samples"], integer=True)
    feats = cfg["features"]
    if not isinstance(feats, list) or not feats or not all(isinstance(f, str) for f in feats):
        raise ConfigError("features", f"must be a non-empty list of names out of "
                          f"{', '.join(D.FEATURES)}, got {feats!r}")
    bad = [f for f in feats if f not in D.FEATURES]
    if bad:
        raise ConfigError("features", f"unknown feature {bad[0]!r} (known: {', '.join(D.FEATURES)})")
    out["features"] = [f for f in D.FEATURES if f in feats]     # canonical order, no repeats
    hidden = cfg["hidden"]
    if not isinstance(hidden, list) or len(hidden) > LIMITS["hidden_layers"]:
        raise ConfigError("hidden", f"must be a list of at most {LIMITS['hidden_layers']} "
                          f"layer sizes, got {hidden!r}")
    if not all(isinstance(h, int) and not isinstance(h, bool) and 1 <= h <= LIMITS["units"]
               for h in hidden):
        raise ConfigError("hidden", f"every layer has 1 to {LIMITS['units']} units, got {hidden!r}")
    out["hidden"] = list(hidden)
    out["activation"] = _choice(cfg, "activation", ACTIVATIONS)
    out["lr"] = _number(cfg, "lr", 1e-6, 10)
    out["optimizer"] = _choice(cfg, "optimizer", OPTIMIZERS)
    out["regularization"] = _choice(cfg, "regularization", REGULARIZATION)
    out["reg_rate"] = _number(cfg, "reg_rate", 0, 10)
    out["batch_size"] = _number(cfg, "batch_size", 1, LIMITS["batch_size"], integer=True)
    out["dropout"] = _number(cfg, "dropout", 0, 0.9)
    if not isinstance(cfg["early_stopping"], bool):
        raise ConfigError("early_stopping", f"must be true or false, got {cfg['early_stopping']!r}")
    out["early_stopping"] = cfg["early_stopping"]
    out["patience"] = _number(cfg, "patience", 1, 10000, integer=True)
    out["seed"] = _number(cfg, "seed", 0, 2**31 - 1, integer=True)
    out["grid"] = _number(cfg, "grid", 10, LIMITS["grid"], integer=True)
    return out


def activation_module(name: str) -> nn.Module:
    """The glassnet module of activation ``name`` (one of :data:`ACTIVATIONS`)."""
    table: dict[str, Any] = {
        "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "relu": nn.ReLU,
        "leaky_relu": lambda: nn.LeakyReLU(0.01), "very_leaky_relu": lambda: nn.LeakyReLU(0.3),
        "elu": nn.ELU, "softplus": nn.Softplus,
        "centered_softplus": lambda: nn.Softplus(centered=True),
        "step": nn.Step, "sign": nn.Sign,   # threshold units: derivative 0 (as in glassnet)
        "linear": nn.Identity}
    return table[name]()


def build_model(cfg: dict[str, Any]) -> nn.Sequential:
    """``nn.Sequential`` of the configuration, its weights drawn after
    ``manual_seed(cfg['seed'])``: Linear, activation (and Dropout) per hidden layer, then
    Linear to one output, through Tanh for classification."""
    manual_seed(cfg["seed"])
    mods: list[nn.Module] = []
    width = len(cfg["features"])
    for h in cfg["hidden"]:
        mods += [nn.Linear(width, h), activation_module(cfg["activation"])]
        if cfg["dropout"] > 0:
            mods.append(nn.Dropout(cfg["dropout"]))
        width = h
    mods.append(nn.Linear(width, 1))
    if cfg["dataset"] in D.CLASSIFICATION:
        mods.append(nn.Tanh())
    return nn.Sequential(*mods)


def build_optimizer(cfg: dict[str, Any], model: nn.Module) -> optim.Optimizer:
    """The ``glassnet.optim`` optimiser of the configuration (momentum: SGD with 0.9)."""
    p, lr, name = model.parameters(), cfg["lr"], cfg["optimizer"]
    if name == "sgd":
        return optim.SGD(p, lr=lr)
    if name == "momentum":
        return optim.SGD(p, lr=lr, momentum=0.9)
    if name == "rmsprop":
        return optim.RMSprop(p, lr=lr)
    if name == "adagrad":
        return optim.Adagrad(p, lr=lr)
    return optim.Adam(p, lr=lr)


def loss_function() -> nn.MSELoss:
    """The data loss: mean of (output - target)² over the batch."""
    return nn.MSELoss()


def linears(model: nn.Sequential) -> list[nn.Linear]:
    return [m for m in model if isinstance(m, nn.Linear)]


def _bias(lin: nn.Linear) -> Tensor:
    """The bias of ``lin`` (every playground layer has one)."""
    assert lin.bias is not None
    return lin.bias


def penalty(cfg: dict[str, Any], model: nn.Sequential) -> Tensor | None:
    """rate · Σ|w| (L1) or rate · ½ Σ w² (L2) over the weight matrices, or None."""
    if cfg["regularization"] == "none" or cfg["reg_rate"] == 0:
        return None
    total: Tensor | None = None
    for lin in linears(model):
        w = lin.weight
        term = w.abs().sum() if cfg["regularization"] == "l1" else (w * w).sum() * 0.5
        total = term if total is None else total + term
    assert total is not None
    return total * cfg["reg_rate"]


def batch_order(seed: int, n_train: int, epoch: int) -> np.ndarray:
    """The order of the training points in epoch ``epoch`` (0-based)."""
    return np.random.default_rng([seed + 1, epoch]).permutation(n_train)


_BUILD_LOCK = threading.Lock()   # manual_seed + init draw from glassnet's global generator


def _encode(values: np.ndarray, scale: float = 1.0) -> list[int]:
    """Values clipped to [-scale, scale] as integers 0..255 (the page's colour scale)."""
    v = np.clip(np.nan_to_num(values / scale), -1, 1)
    return np.round((v + 1) * 127.5).astype(np.uint8).tolist()


class Session:
    """One page's playground: configuration, data, model, optimiser, history, thread."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.lock = threading.RLock()
        self.playing = threading.Event()
        self.closed = False
        self.last_seen = time.monotonic()
        self.message = ""
        self.reset(validate_config(config))
        self.thread = backend.background_thread(self._run, "glassnet-playground")

    # ------------------------------------------------------------ setup
    def reset(self, cfg: dict[str, Any] | None = None) -> None:
        """Start over (new data, fresh weights), with ``cfg`` when given; paused."""
        with self.lock:
            self.playing.clear()
            if cfg is not None:
                self.config = cfg
            cfg = self.config
            X, y = D.make_dataset(cfg["dataset"], cfg["n_samples"], cfg["noise"], cfg["seed"])
            tr, te = D.split(len(X), cfg["test_ratio"], cfg["seed"])
            self.points, self.targets, self.train_idx, self.test_idx = X, y, tr, te
            F = D.features(X, cfg["features"])
            self.Xtr, self.ytr = F[tr], y[tr].astype(np.float32)[:, None]
            self.Xte, self.yte = F[te], y[te].astype(np.float32)[:, None]
            with _BUILD_LOCK:
                self.model = build_model(cfg)
            self.optimizer = build_optimizer(cfg, self.model)
            self.loss_fn = loss_function()
            self.step_count, self.epoch, self.pos = 0, 0, 0
            self.order = batch_order(cfg["seed"], len(tr), 0)
            self.history: dict[str, list[float]] = {"step": [], "train": [], "test": []}
            self.flow: list[list[float]] = []
            self.last_update: list[dict[str, Any]] | None = None
            self.last_batch = self._next_batch_indices()
            self.best, self.bad_epochs, self.message = np.inf, 0, ""
            self._grid_cache: tuple[int, dict[str, Any]] | None = None
            g = D.grid(cfg["grid"])
            self.grid_inputs = D.features(g, cfg["features"])
            self._record_losses()

    def _next_batch_indices(self) -> np.ndarray:
        b = self.config["batch_size"]
        return self.order[self.pos:self.pos + b]

    # ------------------------------------------------------------ training
    def train_step(self) -> dict[str, Any]:
        """One mini-batch update; returns the change of every weight and bias. A loss that
        is no longer finite stops the run (no update, a message) instead of warning."""
        with self.lock, np.errstate(over="ignore", invalid="ignore"):
            idx = self._next_batch_indices()
            self.last_batch = idx
            before = [(lin.weight._data.copy(), _bias(lin)._data.copy())
                      for lin in linears(self.model)]
            self.model.train()
            self.optimizer.zero_grad()
            out = self.model(Tensor(self.Xtr[idx]))
            loss = self.loss_fn(out, Tensor(self.ytr[idx]))
            pen = penalty(self.config, self.model)
            total = loss if pen is None else loss + pen
            if not np.isfinite(float(total._data)):   # diverged: keep the weights, stop
                self.playing.clear()
                self.message = ("training stopped: the loss is no longer finite (the weights "
                                "diverged; lower the learning rate and press reset)")
                return {"step": self.step_count, "loss": None, "update": self.last_update}
            total.backward()
            grads = [float(np.abs(lin.weight.grad._data).mean()) if lin.weight.grad is not None
                     else 0.0 for lin in linears(self.model)]
            self.optimizer.step()
            self.step_count += 1
            self.pos += len(idx)
            if self.pos >= len(self.order):
                self.epoch += 1
                self.pos = 0
                self.order = batch_order(self.config["seed"], len(self.order), self.epoch)
                self._record_losses()
                self._early_stop()
            self.flow.append(grads)
            if len(self.flow) > 200:
                del self.flow[0]
            self.last_update = [
                {"dW": (lin.weight._data - w0).tolist(), "db": (_bias(lin)._data - b0).tolist()}
                for lin, (w0, b0) in zip(linears(self.model), before)]
            return {"step": self.step_count, "loss": float(loss._data),
                    "update": self.last_update}

    def train_epoch(self, until_paused: bool = False) -> None:
        """Steps until the epoch in progress ends (or, with ``until_paused``, until pause is
        pressed: the epoch then goes on from the same batch at the next play)."""
        start = self.epoch
        while self.epoch == start and not self.closed:
            if until_paused and not self.playing.is_set():
                break
            if self.train_step()["loss"] is None:
                break

    def _early_stop(self) -> None:
        te = self.history["test"][-1]
        if te < self.best - 1e-4:    # an improvement of at least 1e-4 counts
            self.best, self.bad_epochs = te, 0
        else:
            self.bad_epochs += 1
        if self.config["early_stopping"] and self.bad_epochs >= self.config["patience"]:
            self.playing.clear()
            self.message = (f"early stopping: the test loss has not improved for "
                            f"{self.config['patience']} epochs (best {self.best:.4f})")

    def losses(self) -> tuple[float, float]:
        """(train, test) data loss of the current weights, dropout off."""
        with self.lock, no_grad(), np.errstate(over="ignore", invalid="ignore"):
            self.model.eval()
            tr = float(self.loss_fn(self.model(Tensor(self.Xtr)), Tensor(self.ytr))._data)
            te = float(self.loss_fn(self.model(Tensor(self.Xte)), Tensor(self.yte))._data)
            self.model.train()
        return tr, te

    def _record_losses(self) -> None:
        tr, te = self.losses()
        h = self.history
        h["step"].append(self.step_count)
        h["train"].append(tr)
        h["test"].append(te)
        if len(h["step"]) > 2000:          # keep every other point: bounded, whole run
            for k in h:
                h[k] = h[k][::2]

    def _run(self) -> None:
        while not self.closed:
            if not self.playing.wait(0.2):
                continue
            try:
                self.train_epoch(until_paused=True)
            except Exception as e:      # a NaN or the like: stop and tell the page
                self.playing.clear()
                self.message = f"training stopped: {type(e).__name__}: {e}"
            time.sleep(0.001)           # let request threads take the lock and the GIL

    def close(self) -> None:
        self.closed = True
        self.playing.clear()

    # ------------------------------------------------------------ views
    def surfaces(self) -> dict[str, Any]:
        """The output on the grid and every unit's activation (thumbnails at half the
        resolution), encoded 0..255 over [-1, 1]; cached per step."""
        with self.lock:
            if self._grid_cache is not None and self._grid_cache[0] == self.step_count:
                return self._grid_cache[1]
            size = self.config["grid"]
            small = (size + 1) // 2
            units: list[list[list[int]]] = []
            with no_grad():
                self.model.eval()
                h = Tensor(self.grid_inputs)
                for m in self.model:
                    h = m(h)
                    if not isinstance(m, (nn.Linear, nn.Dropout)) or m is self.model[-1]:
                        if isinstance(m, nn.Dropout):
                            continue
                        a = h._data.reshape(size, size, -1)[::2, ::2]
                        units.append([_encode(a[:, :, j].ravel()) for j in range(a.shape[2])])
                self.model.train()
            out = h._data.reshape(-1)
            n_hidden = len(self.config["hidden"])
            units = units[:n_hidden]
            inputs = [_encode(self.grid_inputs.reshape(size, size, -1)[::2, ::2, j].ravel(),
                              scale=float(np.abs(self.grid_inputs[:, j]).max() or 1.0))
                      for j in range(self.grid_inputs.shape[1])]
            res = {"size": size, "thumb": small, "output": _encode(out), "units": units,
                   "inputs": inputs}
            self._grid_cache = (self.step_count, res)
            return res

    def state(self, full: bool = True) -> dict[str, Any]:
        """Everything the page draws, as JSON values."""
        with self.lock:
            self.last_seen = time.monotonic()
            lin = linears(self.model)
            s: dict[str, Any] = {
                "config": self.config, "playing": self.playing.is_set(),
                "step": self.step_count, "epoch": self.epoch, "message": self.message,
                "problem": "classification" if self.config["dataset"] in D.CLASSIFICATION
                else "regression",
                "train_loss": self.history["train"][-1], "test_loss": self.history["test"][-1],
                "history": self.history,
                "weights": [m.weight._data.tolist() for m in lin],
                "biases": [_bias(m)._data.tolist() for m in lin],
                "flow": self.flow[-100:], "update": self.last_update,
                "batch": self.last_batch.tolist(),
            }
            if full:
                s["points"] = {"train": np.c_[self.points[self.train_idx],
                                              self.targets[self.train_idx]].round(4).tolist(),
                               "test": np.c_[self.points[self.test_idx],
                                             self.targets[self.test_idx]].round(4).tolist()}
            s["surfaces"] = self.surfaces()
            return s

    def current_batch(self) -> tuple[np.ndarray, np.ndarray]:
        """(inputs, targets) of the batch of the last step (before any, the first one)."""
        idx = self.last_batch
        return self.Xtr[idx], self.ytr[idx]

    def unit(self, layer: int, unit: int) -> dict[str, Any]:
        """Backprop numbers of unit ``unit`` of layer ``layer`` (1 = first hidden layer, the
        output layer is len(hidden) + 1) on the current batch, from ``gn.inspect.trace``."""
        from ..inspect.trace import trace
        with self.lock:
            n_layers = len(self.config["hidden"]) + 1
            if not isinstance(layer, int) or not 1 <= layer <= n_layers:
                raise ConfigError("layer", f"must be 1 to {n_layers}, got {layer!r}")
            width = (self.config["hidden"] + [1])[layer - 1]
            if not isinstance(unit, int) or not 0 <= unit < width:
                raise ConfigError("unit", f"layer {layer} has units 0 to {width - 1}, got {unit!r}")
            X, y = self.current_batch()
            self.optimizer.zero_grad()   # the traced copy must not start from old .grad
            self.model.eval()        # dropout off: the delta form is of the plain network
            try:
                t = trace(self.model, X, y, self.loss_fn, lr=self.config["lr"])
            finally:
                self.model.train()
            assert t.layers is not None
            L = t.layers[layer - 1]
            fp = L["f_prime"]

            def col(a: Any) -> list[float]:
                return np.asarray(a)[:, unit].astype(float).tolist()
            return {
                "layer": layer, "unit": unit, "batch": self.last_batch.tolist(),
                "activation": L["activation"], "loss": t.loss,
                "z": col(L["z"]), "a": col(L["a"]), "f_prime": col(fp), "delta": col(L["delta"]),
                "dE_da": col(L["dE_da"]),
                "weights": L["W"][unit].astype(float).tolist(),
                "bias": float(L["b"][unit]),
                "dE_dw": L["grad_W"][unit].astype(float).tolist(),
                "dE_db": float(L["grad_b"][unit]),
                "f_prime_rule": L.get("f_prime_rule", ""), "rules": t.rules,
                "check": {k: float(v) for k, v in t.check(rtol=1e-6, atol=1e-9).items()},
            }
