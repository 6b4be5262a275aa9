"""Greedy layer-wise pre-training of any stack of ``nn.Linear`` layers.

Each Linear layer (with the activation and other layers that follow it, up to the next
Linear) is trained as the encoder of a one-layer (denoising) autoencoder on the
representation the layers below it produce from the clean data; then the data is encoded
with it and the next layer is trained on that code (Bengio et al., 2007; Vincent et al.,
2010). The layers are updated in place, so the model is ready for supervised fine-tuning.

>>> mlp = models.MLP([784, 256, 64, 10], activation="sigmoid", dropout=0)
>>> greedy_pretrain(mlp, X_unlabelled, epochs=3, denoise=0.3)   # pre-trains 784-256, 256-64  # doctest: +SKIP
>>> Trainer(mlp, nn.CrossEntropyLoss(), "adam").fit((X_few, y_few), epochs=30)  # doctest: +SKIP
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import nn
from ..autograd import Tensor, no_grad
from ..nn.module import Module
from ..validation import is_int
from .autoencoder import Autoencoder, DenoisingAutoencoder
from .noise import check_noise

if TYPE_CHECKING:  # annotations only
    from glassnet._typing import TensorLike
    from glassnet.optim.optimizer import Optimizer
    from glassnet.training.history import History


__all__ = ["greedy_pretrain", "linear_stack"]

_CONTAINERS = (nn.Sequential, nn.ModuleList)


def _flatten(module: Module) -> list[Module]:
    """The layers of ``module`` in order, expanding Sequential / ModuleList (a model's own
    children are taken to run in registration order, as MLP's ``net``)."""
    out: list[Module] = []
    for child in module.children():
        if isinstance(child, _CONTAINERS):
            out += _flatten(child)
        else:
            out.append(child)
    return out


def linear_stack(model: Module | Sequence[Module]) -> tuple[list[Module], list[list[Module]]]:
    """``(prefix, segments)``: the layers before the first Linear, and one list per Linear
    layer holding it and the layers after it up to the next Linear."""
    layers: list[Module]
    if isinstance(model, (list, tuple)):
        layers = list(model)
    elif isinstance(model, nn.Linear):
        layers = [model]
    elif isinstance(model, Module):
        layers = _flatten(model)
    else:
        raise TypeError(f"greedy_pretrain: model must be an nn.Module or a list of layers, "
                        f"got {type(model).__name__}")
    starts = [i for i, m in enumerate(layers) if isinstance(m, nn.Linear)]
    if not starts:
        raise ValueError(f"greedy_pretrain: {type(model).__name__} has no nn.Linear layer")
    segments = [layers[a:b] for a, b in zip(starts, starts[1:] + [len(layers)])]
    return layers[:starts[0]], segments


def _run(layers: Sequence[Module], H: np.ndarray, batch_size: int = 2048) -> np.ndarray:
    """Apply ``layers`` (evaluation mode, no gradient) to the array H in batches."""
    if not layers:
        return H
    seq = nn.Sequential(*layers)
    was = [m.training for m in layers]
    seq.eval()
    dt = np.dtype(layers[0].dtype) if list(layers[0].parameters()) else H.dtype
    try:
        with no_grad():
            out = [seq(Tensor(np.asarray(H[i:i + batch_size], dtype=dt)))._data
                   for i in range(0, len(H), batch_size)]
    finally:
        for m, w in zip(layers, was):
            m.train(w)
    return np.concatenate(out)


def _per_level(value: Any, n: int, name: str) -> list[Any]:
    if isinstance(value, (list, tuple)):
        if len(value) != n:
            raise ValueError(f"greedy_pretrain: {name} has {len(value)} entries for {n} levels")
        return list(value)
    return [value] * n


def greedy_pretrain(model: Module | Sequence[Module], X: TensorLike, n_layers: int | None = None,
                    decoders: Sequence[Module] | None = None, epochs: int | Sequence[int] = 5,
                    batch_size: int = 64, lr: float = 1e-3, optimizer: Optimizer | str = "adam",
                    denoise: float | Sequence[float] = 0.0, noise: str = "mask",
                    loss: str | Sequence[str] = "mse",
                    output_activation: str | Sequence[str] | None = None,
                    validation: TensorLike | None = None, verbose: int = 0,
                    seed: int | None = None) -> list[History]:
    """Pre-train the first ``n_layers`` Linear layers of ``model`` one at a time.

    Parameters
    ----------
    model : nn.Module (Sequential, MLP, ...) or list of layers
        Its layers in forward order; modules before the first Linear (e.g. Flatten) are
        applied to X first.
    X : array (N, ...)
        Unlabelled training inputs.
    n_layers : int, optional
        How many Linear layers, from the input, to pre-train. Default: all but the last
        when the model has more than one (the last is taken to be an output head).
    decoders : list of nn.Module, optional
        One decoder per level mapping the layer's output back to its input; default a new
        ``Linear(out, in)`` + ``output_activation`` (discarded afterwards).
    epochs : int or list of int (per level)
    optimizer : str
        Name for ``optim.get``; each level gets a new optimizer with ``lr``.
    denoise : float or list
        Corruption level of each level's input while training (0: plain autoencoders).
    noise : {"mask", "gaussian", "salt_pepper"}
    loss : "mse" / "bce" or a list per level
    output_activation : str or list, optional
        Of the default decoders: "sigmoid" when the level's input lies in [0, 1], else
        "identity".
    validation : array, optional
        Held-out inputs, encoded along with X; gives ``val_loss`` per level.

    Returns
    -------
    list of History, one per level.
    """
    prefix, segments = linear_stack(model)
    if n_layers is None:
        n_layers = len(segments) - 1 if len(segments) > 1 else 1
    if not is_int(n_layers) or not 1 <= n_layers <= len(segments):
        raise ValueError(f"greedy_pretrain: n_layers must be an int in [1, {len(segments)}] "
                         f"(the model has {len(segments)} Linear layers), got {n_layers!r}")
    n = int(n_layers)
    if not isinstance(optimizer, str):
        raise TypeError(f"greedy_pretrain: optimizer must be a name (each level gets a new "
                        f"one), got {type(optimizer).__name__}")
    if decoders is not None and len(decoders) != n:
        raise ValueError(f"greedy_pretrain: got {len(decoders)} decoders for {n} levels")
    epochs, denoise = _per_level(epochs, n, "epochs"), _per_level(denoise, n, "denoise")
    losses, outs = _per_level(loss, n, "loss"), _per_level(output_activation, n,
                                                            "output_activation")
    for d in denoise:
        check_noise(noise, d, "greedy_pretrain")
    H = _run(prefix, np.asarray(X))
    V = None if validation is None else _run(prefix, np.asarray(validation))
    histories = []
    for k in range(n):
        seg = segments[k]
        lin = seg[0]
        H = H.reshape(len(H), -1) if H.ndim > 2 else H
        if H.shape[1] != lin.in_features:
            raise ValueError(f"greedy_pretrain: level {k + 1} ({lin!r}) expects "
                             f"{lin.in_features} features, its input has {H.shape[1]}")
        if decoders is not None:
            dec = decoders[k]
        else:
            act = outs[k] or ("sigmoid" if H.size and H.min() >= 0 and H.max() <= 1
                              else "identity")
            if losses[k] == "bce" and act != "sigmoid":
                raise ValueError(f"greedy_pretrain: loss 'bce' at level {k + 1} needs inputs "
                                 f"in [0, 1] and a sigmoid output")
            out_lin = nn.Linear(lin.out_features, lin.in_features).to_dtype(lin.weight.dtype)
            nn.init.xavier_uniform_(out_lin.weight)
            nn.init.zeros_(out_lin.bias)
            dec = nn.Sequential(out_lin, nn.get_activation(act))
        enc = nn.Sequential(*seg)
        ae: Autoencoder
        if denoise[k] > 0:
            ae = DenoisingAutoencoder(encoder=enc, decoder=dec, loss=losses[k], noise=noise,
                                      noise_level=denoise[k])
        else:
            ae = Autoencoder(encoder=enc, decoder=dec, loss=losses[k])
        if verbose:
            print(f"greedy_pretrain: level {k + 1}/{n}: {lin.in_features} -> "
                  f"{lin.out_features}, {len(H)} samples")
        histories.append(ae.fit(H, epochs=int(epochs[k]), batch_size=batch_size,
                                validation=V, lr=lr, optimizer=optimizer, verbose=verbose,
                                seed=None if seed is None else seed + k))
        if k + 1 < n:   # encode the clean data for the next level
            H = _run(seg, H)
            V = None if V is None else _run(seg, V)
    return histories
