"""Autoencoders of dense layers: plain (optionally with tied weights) and denoising.

An autoencoder maps x to a code y = f(x) = s(W x + b) and back to a reconstruction
z = g(y) = s'(W' y + b'), trained to make z close to x (mean squared error, or binary
cross-entropy for inputs in [0, 1]). A denoising autoencoder sees a corrupted x~ while
training and must reconstruct the clean x (Vincent et al., 2008/2010).

The other kinds build on :class:`Autoencoder`: stacked_autoencoder.py (greedy layer-wise
pre-training, with pretrain.py), conv_autoencoder.py, and anomaly.py (scores samples by their
reconstruction error); noise.py holds the corruption.

>>> ae = Autoencoder(784, 64, loss="bce")
>>> history = ae.fit(X, epochs=5, batch_size=64, validation=Xv)  # doctest: +SKIP
>>> err = ae.reconstruction_error(Xt)          # one value per sample  # doctest: +SKIP
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, cast

import numpy as np

from .. import backend, nn
from ..autograd import Tensor, as_array, no_grad
from ..functional import math as F
from ..nn.module import Module, Parameter
from ..validation import check_choice, is_int
# NOISES and corrupt are also reached here, their home before the split
from .noise import NOISES, check_noise, corrupt  # noqa: F401

if TYPE_CHECKING:  # annotations only
    from glassnet._typing import TensorLike
    from glassnet.optim.optimizer import Optimizer
    from glassnet.training.callbacks import Callback
    from glassnet.training.history import History


__all__ = ["Autoencoder", "DenoisingAutoencoder", "TiedLinear", "run_in_batches"]

LOSSES = ("mse", "bce")


class TiedLinear(Module):
    """y = x W + b', where W is the weight (out, in) of another :class:`nn.Linear`: the
    decoder half of a tied autoencoder (W' = W^T).

    The weight is *not* a parameter of this module; it stays the encoder's one Parameter,
    so both uses add into its gradient: dE/dW = (dE/dW)_encoder + ((dE/dW')_decoder)^T.
    Only the bias (of size ``source.in_features``) belongs here.
    """

    def __init__(self, source: nn.Linear, bias: bool = True) -> None:
        super().__init__()
        if not isinstance(source, nn.Linear):
            raise TypeError(f"TiedLinear: source must be an nn.Linear, got "
                            f"{type(source).__name__}")
        object.__setattr__(self, "source", source)  # not registered: the encoder owns it
        self.in_features, self.out_features = source.out_features, source.in_features
        xp = backend.xp()
        self.bias = Parameter(backend.allocate((self.out_features,), source.weight.dtype,
                                               "TiedLinear.bias", 0, xp)) if bias else None

    @property
    def weight(self) -> Parameter:
        """The tied weight W (the source's Parameter, shape (in, out) of this layer)."""
        return self.source.weight

    def forward(self, x: Tensor) -> Tensor:
        if x.shape[-1] != self.in_features:
            raise ValueError(f"TiedLinear({self.in_features}, {self.out_features}): expected "
                             f"input with last dimension {self.in_features}, got shape "
                             f"{tuple(x.shape)}")
        return F.linear(x, F.transpose(self.source.weight), self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, tied"


def _init_linear(lin: nn.Linear, activation: str) -> nn.Linear:
    if activation in ("relu", "leaky_relu", "elu", "selu"):
        nn.init.kaiming_uniform_(lin.weight, nonlinearity="relu")
    else:
        nn.init.xavier_uniform_(lin.weight)
    if lin.bias is not None:
        nn.init.zeros_(lin.bias)
    return lin


def _as_array(X: TensorLike, who: str) -> np.ndarray:
    X = as_array(X)
    if X.dtype.kind not in "fiub":
        raise TypeError(f"{who}: expected a numeric array, got dtype {X.dtype}")
    if X.ndim < 2:
        raise ValueError(f"{who}: expected samples along the first axis, shape (N, ...), got "
                         f"shape {X.shape}")
    return X


def run_in_batches(net: Module, fn: Callable[[Tensor], Tensor], X: np.ndarray,
                   batch_size: int = 1024) -> np.ndarray:
    """``fn(x)`` (a part of ``net``: its encoder, decoder or forward) over the rows of the
    array ``X`` in batches of ``batch_size``, in eval mode and without a graph, as one
    array; ``net``'s training mode is put back afterwards. The batches are cast to
    ``net``'s dtype (the default dtype for a module without parameters)."""
    try:
        dt = np.dtype(net.dtype)
    except Exception:  # noqa: BLE001 - a module without parameters
        dt = np.dtype(backend.get_default_dtype())
    was = net.training
    net.eval()
    try:
        with no_grad():
            outs = [fn(Tensor(np.asarray(X[i:i + batch_size], dtype=dt)))._data
                    for i in range(0, len(X), batch_size)]
    finally:
        net.train(was)
    return np.concatenate(outs) if outs else np.zeros((0,), dt)


# ------------------------------------------------------------------ autoencoder
class Autoencoder(Module):
    """x -> f(x) = s(W x + b) -> g(f(x)) = s'(W' f(x) + b'), trained to reconstruct x.

    Parameters
    ----------
    in_features : int
        Input size (flattened).
    hidden : int or list of int
        Code size, or the encoder's widths ``[256, 64]`` (the decoder mirrors them).
    activation : str
        Hidden activation s ("sigmoid", "relu", "tanh", ...).
    output_activation : str
        s' of the last decoder layer ("sigmoid" for inputs in [0, 1], "identity" otherwise).
    tied : bool
        Decoder weights are the encoder weights transposed (W' = W^T, one Parameter).
    loss : {"mse", "bce"}
        Reconstruction loss: squared error, or cross-entropy for inputs in [0, 1] (needs a
        sigmoid output).
    encoder, decoder : nn.Module, optional
        Use these modules instead (then ``in_features``/``hidden`` are not needed).

    Notes
    -----
    Shapes: (N, in_features) -> (N, in_features). ``encode`` gives (N, code).

    Example
    -------
    >>> ae = Autoencoder(784, [256, 64], tied=True)
    >>> ae.fit(X, epochs=5); codes = ae.encode(X)  # doctest: +SKIP
    """

    def __init__(self, in_features: int | None = None, hidden: int | Sequence[int] | None = None,
                 activation: str = "sigmoid", output_activation: str = "sigmoid",
                 tied: bool = False, loss: str = "mse", encoder: Module | None = None,
                 decoder: Module | None = None) -> None:
        super().__init__()
        name = type(self).__name__
        check_choice(loss, "loss", name, LOSSES)
        if loss == "bce" and output_activation != "sigmoid" and decoder is None:
            raise ValueError(f"{name}: loss='bce' needs output_activation='sigmoid' (outputs "
                             f"in [0, 1]), got {output_activation!r}")
        self.loss_name = loss
        self.activation, self.output_activation, self.tied = activation, output_activation, \
            bool(tied)
        if encoder is not None or decoder is not None:
            if encoder is None or decoder is None:
                raise ValueError(f"{name}: give both encoder and decoder modules, or neither")
            for n, m in (("encoder", encoder), ("decoder", decoder)):
                if not isinstance(m, Module):
                    raise TypeError(f"{name}: {n} must be an nn.Module, got {type(m).__name__}")
            if tied:
                raise ValueError(f"{name}: tied=True builds its own layers; tie weights in "
                                 "your decoder with TiedLinear instead")
            self.in_features: int | None = in_features
            self.encoder: Module = encoder
            self.decoder: Module = decoder
            return
        if in_features is None or hidden is None:
            raise ValueError(f"{name}: give in_features and hidden (or encoder and decoder)")
        sizes = [in_features] + list(cast("Sequence[int]",
                                          [hidden] if np.isscalar(hidden) else hidden))
        if any(not is_int(s) or s < 1 for s in sizes):
            raise ValueError(f"{name}: in_features and hidden must be positive ints, got "
                             f"in_features={in_features!r}, hidden={hidden!r}")
        self.in_features = int(in_features)
        self.sizes = [int(s) for s in sizes]
        enc: list[Module] = []
        dec: list[Module] = []
        lins: list[nn.Linear] = []
        for a, b in zip(self.sizes[:-1], self.sizes[1:]):
            lin = _init_linear(nn.Linear(a, b), activation)
            lins.append(lin)
            enc += [lin, nn.get_activation(activation)]
        for i in reversed(range(len(lins))):
            a, b = self.sizes[i + 1], self.sizes[i]
            layer: Module = (TiedLinear(lins[i]) if tied
                             else _init_linear(nn.Linear(a, b), activation))
            dec += [layer, nn.get_activation(output_activation if i == 0 else activation)]
        self.encoder = nn.Sequential(*enc)
        self.decoder = nn.Sequential(*dec)

    # -------------------------------------------------------------- the maps
    def _check(self, x: Tensor | np.ndarray) -> None:
        if self.in_features is not None and (x.ndim != 2 or x.shape[1] != self.in_features):
            raise ValueError(f"{type(self).__name__}: expected input of shape (N, "
                             f"{self.in_features}), got {tuple(x.shape)}")

    def forward(self, x: Tensor) -> Tensor:
        """The reconstruction g(f(x)) (the training target is x itself)."""
        self._check(x)
        return self.decoder(self.encoder(x))

    def _batched(self, fn: Callable[[Tensor], Tensor], X: TensorLike,
                 batch_size: int) -> np.ndarray:
        return run_in_batches(self, fn, _as_array(X, type(self).__name__), batch_size)

    def encode(self, X: TensorLike, batch_size: int = 1024) -> np.ndarray:
        """Codes f(X) as an array (evaluation mode, no corruption)."""
        return self._batched(self.encoder, X, batch_size)

    def decode(self, Y: TensorLike, batch_size: int = 1024) -> np.ndarray:
        """Reconstructions g(Y) from codes Y (evaluation mode)."""
        return self._batched(self.decoder, Y, batch_size)

    def reconstruct(self, X: TensorLike, batch_size: int = 1024) -> np.ndarray:
        """g(f(X)) in evaluation mode (a denoising autoencoder does not corrupt here)."""
        return self._batched(self.forward, X, batch_size)

    def reconstruction_error(self, X: TensorLike, target: TensorLike | None = None,
                             batch_size: int = 1024) -> np.ndarray:
        """Per-sample reconstruction error, shape (N,): the mean over features of
        (z - t)^2 (loss "mse") or of -[t log z + (1-t) log(1-z)] (loss "bce"), where z is
        the reconstruction of X and t = ``target`` (default X; give the clean data to
        score the reconstruction of corrupted X)."""
        X = _as_array(X, "reconstruction_error")
        T = X if target is None else _as_array(target, "reconstruction_error")
        if T.shape != X.shape:
            raise ValueError(f"reconstruction_error: target has shape {T.shape}, X has "
                             f"{X.shape}")
        Z = self.reconstruct(X, batch_size).reshape(len(X), -1)
        T = T.reshape(len(T), -1).astype(Z.dtype, copy=False)
        if self.loss_name == "bce":
            with np.errstate(divide="ignore"):
                e = -(T * np.maximum(np.log(Z), -100) + (1 - T) * np.maximum(np.log1p(-Z), -100))
            return e.mean(axis=1)
        d = Z - T
        return np.einsum("ij,ij->i", d, d) / d.shape[1]

    # -------------------------------------------------------------- training
    def loss(self) -> Module:
        """The reconstruction loss module (MSELoss or BCELoss)."""
        return nn.BCELoss() if self.loss_name == "bce" else nn.MSELoss()

    def fit(self, X: TensorLike, epochs: int = 10, batch_size: int = 64,
            validation: TensorLike | None = None, lr: float = 1e-3,
            optimizer: Optimizer | str = "adam", callbacks: list[Callback] | None = None,
            verbose: int = 0, seed: int | None = None, validation_split: float | None = None,
            weight_decay: float = 0.0) -> History:
        """Train to reconstruct X (targets are the inputs) with :class:`glassnet.training.Trainer`.

        Parameters
        ----------
        X : array (N, ...)
        validation : array, optional
            Held-out inputs; ``val_loss`` is their (clean) reconstruction loss.
        optimizer : str or optim.Optimizer
            A name for ``optim.get`` (with ``lr``) or an optimizer over ``parameters()``.

        Returns
        -------
        History (also kept as ``self.history_``; the trainer as ``self.trainer_``).
        """
        from .. import optim, training
        X = _as_array(X, f"{type(self).__name__}.fit")
        if isinstance(optimizer, str):
            kw: dict[str, float] = {"lr": lr}
            if weight_decay:
                kw["weight_decay"] = weight_decay
            optimizer = optim.get(optimizer, self.parameters(), **kw)
        trainer = training.Trainer(self, self.loss(), optimizer)
        val = None
        if validation is not None:
            V = _as_array(validation, f"{type(self).__name__}.fit (validation)")
            val = (V, V)
        hist = trainer.fit((X, X), validation=val, epochs=epochs, batch_size=batch_size,
                           callbacks=callbacks, verbose=verbose, seed=seed,
                           validation_split=validation_split)
        object.__setattr__(self, "trainer_", trainer)
        object.__setattr__(self, "history_", hist)
        return hist


class DenoisingAutoencoder(Autoencoder):
    """An :class:`Autoencoder` that corrupts its input while training (``self.training``)
    and learns to reconstruct the clean input; in evaluation mode it is a plain one.

    Parameters
    ----------
    noise : {"mask", "gaussian", "salt_pepper"}
        Masking noise (a fraction ``noise_level`` of inputs set to 0), additive Gaussian
        noise (std ``noise_level``), or salt-and-pepper (a fraction set to 0 or 1).
    noise_level : float
        The noise's fraction or standard deviation (see ``noise``).

    Notes
    -----
    The other parameters are those of :class:`Autoencoder`.

    Example
    -------
    >>> dae = DenoisingAutoencoder(784, 256, noise="mask", noise_level=0.3)
    >>> dae.fit(X, epochs=10); dae.reconstruct(corrupt(Xt, "mask", 0.3))  # doctest: +SKIP
    """

    def __init__(self, in_features: int | None = None, hidden: int | Sequence[int] | None = None,
                 activation: str = "sigmoid", output_activation: str = "sigmoid",
                 tied: bool = False, loss: str = "mse", noise: str = "mask",
                 noise_level: float = 0.3, encoder: Module | None = None,
                 decoder: Module | None = None) -> None:
        super().__init__(in_features, hidden, activation, output_activation, tied, loss,
                         encoder, decoder)
        self.noise_level = check_noise(noise, noise_level, "DenoisingAutoencoder")
        self.noise = noise

    def corrupt(self, X: TensorLike, seed: int | None = None) -> Tensor | np.ndarray:
        """X corrupted with this model's noise (array in, array out)."""
        return corrupt(X, self.noise, self.noise_level, seed)

    def forward(self, x: Tensor) -> Tensor:
        self._check(x)
        if self.training and self.noise_level > 0:
            x = corrupt(x, self.noise, self.noise_level)
        return self.decoder(self.encoder(x))

    def extra_repr(self) -> str:
        return f"noise={self.noise!r}, noise_level={self.noise_level}"
