"""The vanishing gradient, demonstrated: one deep network, four activations.

The same ``depth``-layer fully connected network is built with sigmoid, tanh, ReLU and
ReLU + batch normalisation and trained for a few epochs on the embedded digits, while
:class:`GradientFlow` records ||∂E/∂W|| per layer. Backprop multiplies δ by
``W(l+1)ᵀ`` and by ``f′(z(l))`` at every layer; the sigmoid's derivative is at most 1/4,
so after nine layers the first layer's gradient is orders of magnitude smaller than
the last layer's, while ReLU (f′ = 1 where active, He initialisation) keeps it.
"""
from __future__ import annotations

import json

import numpy as np

from .. import backend, nn, optim
from ..training import Trainer
from ..validation import check_choice, check_int
from ._common import figure, log_panel, save
from .flow import GradientFlow

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # annotations only
    from collections.abc import Sequence

    import numpy.typing as npt
    from matplotlib.figure import Figure

    from glassnet._typing import PathLike
    from glassnet.nn.module import Module
    from glassnet.training.history import History


__all__ = ["vanishing_gradient_demo", "build_deep_net", "VanishingResult", "plot_vanishing"]

ACTIVATIONS = ("sigmoid", "tanh", "relu", "relu+bn")


def build_deep_net(activation: str, depth: int = 10, width: int = 64, n_in: int = 64,
                   n_out: int = 10, init: str = "auto") -> nn.Sequential:
    """``depth`` Linear layers (``depth - 1`` hidden, each followed by the activation).

    ``activation``: "sigmoid", "tanh", "relu", "relu+bn" (BatchNorm1d before each ReLU) or
    any name ``nn.get_activation`` knows. ``init="auto"`` uses Glorot (Xavier) uniform for
    sigmoid/tanh and He (Kaiming) uniform for ReLU, the recommended pairing; ``"default"``
    keeps PyTorch's U(±1/sqrt(fan_in)).
    """
    check_int(depth, "depth", "build_deep_net", min=2)
    check_choice(init, "init", "build_deep_net", ("auto", "default"))
    bn = activation.endswith("+bn")
    name = activation[:-3] if bn else activation
    sizes = [n_in] + [width] * (depth - 1) + [n_out]
    mods: list[Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        lin = nn.Linear(a, b)
        if init == "auto":
            if name in ("sigmoid", "tanh") or i == depth - 1:
                nn.init.xavier_uniform_(lin.weight)
            else:
                nn.init.kaiming_uniform_(lin.weight, nonlinearity="relu")
            if lin.bias is not None:
                nn.init.zeros_(lin.bias)
        mods.append(lin)
        if i < depth - 1:
            if bn:
                mods.append(nn.BatchNorm1d(b))
            mods.append(nn.get_activation(name))
    return nn.Sequential(*mods)


class VanishingResult(dict[str, dict[str, Any]]):
    """{activation: {"per_layer_init", "per_layer", "first_layer_init", "first_layer",
    "last_layer", "ratio_first_to_last", "loss", "accuracy", "steps", "first_layer_steps"}}.

    ``per_layer_init`` is ||∂E/∂W|| per layer (input side first) on the first batch;
    ``per_layer`` the mean over the last epoch; ``first_layer_steps`` the first layer's
    norm at every step.
    """

    def table(self) -> str:
        lines = [f"{'activation':<10} {'|dE/dW1| at init':>17} {'|dE/dW1| trained':>17} "
                 f"{'|dE/dWL| trained':>17} {'first/last':>11} {'final loss':>11}"]
        for act, r in self.items():
            lines.append(f"{act:<10} {r['first_layer_init']:>17.3e} {r['first_layer']:>17.3e} "
                         f"{r['last_layer']:>17.3e} {r['ratio_first_to_last']:>11.2e} "
                         f"{r['loss'][-1] if r['loss'] else float('nan'):>11.4f}")
        return "\n".join(lines)

    __str__ = table

    def to_json(self, path: PathLike | None = None) -> str:
        def plain(v: Any) -> Any:
            if isinstance(v, np.ndarray):
                return v.tolist()
            return v
        text = json.dumps({a: {k: plain(v) for k, v in r.items()} for a, r in self.items()},
                          indent=1)
        if path is not None:
            with open(path, "w") as f:
                f.write(text)
        return text


def vanishing_gradient_demo(depth: int = 10, width: int = 64,
                            activations: Sequence[str] = ACTIVATIONS, epochs: int = 3,
                            n_samples: int = 1024, batch_size: int = 64, lr: float = 0.05,
                            seed: int = 0,
                            data: tuple[npt.ArrayLike, npt.ArrayLike] | None = None,
                            init: str = "auto", verbose: int = 0) -> VanishingResult:
    """Train the same deep net with each activation and record gradient norms per layer.

    Parameters
    ----------
    depth : int
        Number of Linear layers (``depth - 1`` hidden layers with the activation).
    width : int
        Hidden width.
    activations : tuple of str
        "sigmoid", "tanh", "relu", "relu+bn" or other activation names.
    epochs, n_samples, batch_size, lr : training of each network (SGD with momentum 0.9,
        cross-entropy, on the first ``n_samples`` embedded digits scaled to [0, 1]).
    data : (X, y), optional
        Use these instead of the digits.
    seed : int
        Same seed (same data order, same random draws) for every activation.

    Returns
    -------
    VanishingResult
        ``print(result)`` shows the first-layer gradient norms; :func:`plot_vanishing`.
    """
    X, y = _demo_data(data, n_samples)
    res = VanishingResult()
    for act in activations:
        backend.manual_seed(seed)
        model = build_deep_net(act, depth, width, X.shape[1], int(y.max()) + 1, init)
        flow = GradientFlow(unit="step")
        trainer = Trainer(model, nn.CrossEntropyLoss(),
                          optim.SGD(model.parameters(), lr=lr, momentum=0.9), metrics=["accuracy"])
        hist = trainer.fit((X, y), epochs=epochs, batch_size=batch_size, callbacks=[flow],
                           verbose=0, seed=seed)
        res[act] = _gradient_norms(flow, hist, epochs)
        if verbose:
            print(f"{act:<8} first-layer ||dE/dW|| {res[act]['first_layer']:.3e}, last layer "
                  f"{res[act]['last_layer']:.3e}, loss {res[act]['loss'][-1]:.4f}")
    return res


def _demo_data(data: tuple[npt.ArrayLike, npt.ArrayLike] | None,
               n_samples: int) -> tuple[np.ndarray, np.ndarray]:
    """``data`` as float32 rows and labels, or the first ``n_samples`` embedded digits
    scaled to [0, 1]."""
    if data is None:
        from ..data import load_digits
        X, y = load_digits()
        X = (X / 16.0)[:n_samples].astype(np.float32)
        y = y[:n_samples]
    else:
        X, y = data  # type: ignore[assignment]  # array-likes, made arrays on the next line
    X = np.asarray(X, dtype=np.float32)
    return X.reshape(len(X), -1), np.asarray(y)


def _gradient_norms(flow: GradientFlow, hist: History, epochs: int) -> dict[str, Any]:
    """One activation's entry of :class:`VanishingResult`: ||∂E/∂W|| per layer on the first
    batch and averaged over the last epoch's steps, their first/last ratio, the first
    layer's norm at every step, and the loss and accuracy per epoch."""
    steps, W = flow.series("weight_grad_norm")
    per_epoch = max(1, len(steps) // max(epochs, 1))
    last = np.nanmean(W[-per_epoch:], axis=0)
    return {"per_layer_init": W[0], "per_layer": last,
            "first_layer_init": float(W[0, 0]), "first_layer": float(last[0]),
            "last_layer": float(last[-1]),
            "ratio_first_to_last": float(last[0] / last[-1]),
            "loss": list(hist.history.get("loss", [])),
            "accuracy": list(hist.history.get("accuracy", [])),
            "steps": steps, "first_layer_steps": W[:, 0], "layers": flow.layers}


def plot_vanishing(result: VanishingResult, path: PathLike | None = None) -> Figure:
    """Gradient norm per layer for each activation (log scale), after training and on the
    first batch, and the first layer's norm over the training steps."""
    fig = figure(figsize=(12, 4))
    ax1, ax2 = fig.subplots(1, 2)
    colors = {"sigmoid": "tab:red", "tanh": "tab:orange", "relu": "tab:blue",
              "relu+bn": "tab:green"}
    for act, r in result.items():
        c = colors.get(act)
        idx = np.arange(1, len(r["per_layer"]) + 1)
        ax1.plot(idx, r["per_layer"], "o-", color=c, label=f"{act} (trained)")
        ax1.plot(idx, r["per_layer_init"], ":", color=c, alpha=0.7)
        ax2.plot(r["steps"], r["first_layer_steps"], color=c, label=act)
    n = len(next(iter(result.values()))["per_layer"])
    ax1.set_xticks(np.arange(1, n + 1))
    log_panel(ax1, "layer (1 = next to the input)", "||dE/dW||",
              f"Gradient norm per layer, {n}-layer net (dotted: first batch)", dict(fontsize=8))
    log_panel(ax2, "training step", "||dE/dW(1)||", "First-layer gradient norm during training",
              dict(fontsize=8))
    fig.tight_layout()
    return save(fig, path)
