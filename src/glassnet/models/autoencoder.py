"""Autoencoders: plain (optionally tied), denoising, stacked, convolutional; and an
anomaly detector that scores samples by their reconstruction error.

An autoencoder maps x to a code y = f(x) = s(W x + b) and back to a reconstruction
z = g(y) = s'(W' y + b'), trained to make z close to x (mean squared error, or binary
cross-entropy for inputs in [0, 1]). A denoising autoencoder sees a corrupted x~ while
training and must reconstruct the clean x (Vincent et al., 2008/2010).

>>> ae = Autoencoder(784, 64, loss="bce")
>>> history = ae.fit(X, epochs=5, batch_size=64, validation=Xv)
>>> err = ae.reconstruction_error(Xt)          # one value per sample
"""
from __future__ import annotations

import numpy as np

from .. import backend, nn
from ..autograd import Function, Tensor, no_grad
from ..functional import math as F
from ..nn.module import Module, Parameter

__all__ = ["Autoencoder", "DenoisingAutoencoder", "StackedAutoencoder", "ConvAutoencoder",
           "AnomalyDetector", "ERRORS", "TiedLinear", "Upsample", "Unflatten", "UpsampleNearest",
           "upsample_nearest", "corrupt", "NOISES"]

NOISES = ("mask", "gaussian", "salt_pepper")
LOSSES = ("mse", "bce")


# ------------------------------------------------------------------ corruption
def _noise_arrays(shape, dtype, noise, level, rng):
    """(keep, add) so that the corrupted input is ``x * keep + add`` (either may be None)."""
    if noise == "mask":             # masking noise: a random fraction of inputs set to 0
        return (rng.random(shape, dtype=np.float32) >= level).astype(dtype), None
    if noise == "gaussian":         # additive isotropic Gaussian noise N(0, level^2)
        return None, (level * rng.standard_normal(shape, dtype=np.float32)).astype(dtype)
    # salt-and-pepper: a random fraction of inputs set to 0 or 1 with equal probability
    u = rng.random(shape, dtype=np.float32)
    hit = u < level
    salt = u < level / 2            # uniform below `level`: half the hits become 1
    return (~hit).astype(dtype), salt.astype(dtype)


def _check_noise(noise, level, who):
    if noise not in NOISES:
        raise ValueError(f"{who}: noise must be one of {NOISES}, got {noise!r}")
    level = float(level)
    if noise == "gaussian":
        if level < 0:
            raise ValueError(f"{who}: noise_level (the Gaussian std) must be >= 0, got {level}")
    elif not 0.0 <= level < 1.0:
        raise ValueError(f"{who}: noise_level (the corrupted fraction) must be in [0, 1), got "
                         f"{level}")
    return level


def corrupt(x, noise="mask", level=0.3, seed=None):
    """A corrupted copy of ``x`` (array or Tensor): masking, Gaussian or salt-and-pepper.

    ``mask`` sets a random fraction ``level`` of the entries to 0; ``gaussian`` adds
    N(0, level^2); ``salt_pepper`` sets a fraction ``level`` to 0 or 1 (half each).
    A Tensor that requires a gradient stays differentiable (x * keep + add).

    >>> Xn = corrupt(X, "mask", 0.3, seed=0)
    """
    level = _check_noise(noise, level, "corrupt")
    rng = np.random.default_rng(seed) if seed is not None else backend.rng()
    if isinstance(x, Tensor):
        keep, add = _noise_arrays(x.shape, x.dtype, noise, level, rng)
        if x.requires_grad:
            out = F.mul(x, keep) if keep is not None else x
            return F.add(out, add) if add is not None else out
        a = x.data
    else:
        a = np.asarray(x)
        if a.dtype.kind != "f":
            a = a.astype(backend.get_default_dtype())
        keep, add = _noise_arrays(a.shape, a.dtype, noise, level, rng)
    out = a * keep if keep is not None else a.copy()
    if add is not None:
        out += add
    return Tensor(out) if isinstance(x, Tensor) else out


# ------------------------------------------------------------------ small layers
class TiedLinear(Module):
    """y = x W + b', where W is the weight (out, in) of another :class:`nn.Linear`: the
    decoder half of a tied autoencoder (W' = W^T).

    The weight is *not* a parameter of this module; it stays the encoder's one Parameter,
    so both uses add into its gradient: dE/dW = (dE/dW)_encoder + ((dE/dW')_decoder)^T.
    Only the bias (of size ``source.in_features``) belongs here.
    """

    def __init__(self, source, bias: bool = True):
        super().__init__()
        if not isinstance(source, nn.Linear):
            raise TypeError(f"TiedLinear: source must be an nn.Linear, got "
                            f"{type(source).__name__}")
        object.__setattr__(self, "source", source)  # not registered: the encoder owns it
        self.in_features, self.out_features = source.out_features, source.in_features
        xp = backend.xp()
        self.bias = Parameter(xp.zeros((self.out_features,), source.weight.dtype)) \
            if bias else None

    @property
    def weight(self):
        """The tied weight W (the source's Parameter, shape (in, out) of this layer)."""
        return self.source.weight

    def forward(self, x):
        if x.shape[-1] != self.in_features:
            raise ValueError(f"TiedLinear({self.in_features}, {self.out_features}): expected "
                             f"input with last dimension {self.in_features}, got shape "
                             f"{tuple(x.shape)}")
        return F.linear(x, F.transpose(self.source.weight), self.bias)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, tied"


class UpsampleNearest(Function):
    """Nearest-neighbour upsampling of (N, C, H, W) by integer factors (sh, sw):
    out[n, c, i, j] = x[n, c, i // sh, j // sw].

    Backward sums each sh x sw block of the output gradient: dx = sum over the block.
    """

    def forward(self, x, scale=(2, 2)):
        sh, sw = scale
        n, c, h, w = x.shape
        self.scale, self.shape = scale, x.shape
        out = np.broadcast_to(x[:, :, :, None, :, None], (n, c, h, sh, w, sw))
        return out.reshape(n, c, h * sh, w * sw)

    def backward(self, g):
        if not self.needs_input_grad[0]:
            return (None,)
        n, c, h, w = self.shape
        sh, sw = self.scale
        return (g.reshape(n, c, h, sh, w, sw).sum(axis=(3, 5)),)


def upsample_nearest(x, scale_factor=2):
    """Nearest-neighbour upsampling of an (N, C, H, W) tensor by an int or (sh, sw)."""
    s = (scale_factor, scale_factor) if np.isscalar(scale_factor) else tuple(scale_factor)
    if len(s) != 2 or any(int(v) != v or v < 1 for v in s):
        raise ValueError(f"upsample_nearest: scale_factor must be a positive int or a pair, "
                         f"got {scale_factor!r}")
    if x.ndim != 4:
        raise ValueError(f"upsample_nearest: expected input (N, C, H, W), got shape "
                         f"{tuple(x.shape)}")
    return UpsampleNearest.apply(x, scale=(int(s[0]), int(s[1])))


class Upsample(Module):
    """Nearest-neighbour upsampling (N, C, H, W) -> (N, C, H*s, W*s)."""

    def __init__(self, scale_factor=2):
        super().__init__()
        self.scale_factor = scale_factor

    def forward(self, x):
        return upsample_nearest(x, self.scale_factor)

    def extra_repr(self):
        return f"scale_factor={self.scale_factor}, mode='nearest'"


class Unflatten(Module):
    """Reshape (N, prod(shape)) -> (N, *shape)."""

    def __init__(self, shape):
        super().__init__()
        self.shape = [int(s) for s in shape]

    def forward(self, x):
        if int(np.prod(x.shape[1:])) != int(np.prod(self.shape)):
            raise ValueError(f"Unflatten({self.shape}): input of shape {tuple(x.shape)} does "
                             f"not hold {int(np.prod(self.shape))} values per sample")
        return F.reshape(x, (x.shape[0], *self.shape))

    def extra_repr(self):
        return f"shape={self.shape}"


def _act(name):
    return nn.get_activation(name)


def _init_linear(lin, activation):
    if activation in ("relu", "leaky_relu", "elu", "selu"):
        nn.init.kaiming_uniform_(lin.weight, nonlinearity="relu")
    else:
        nn.init.xavier_uniform_(lin.weight)
    nn.init.zeros_(lin.bias)
    return lin


def _as_array(X, who):
    if isinstance(X, Tensor):
        X = X.data
    X = np.asarray(X)
    if X.dtype.kind not in "fiub":
        raise TypeError(f"{who}: expected a numeric array, got dtype {X.dtype}")
    if X.ndim < 2:
        raise ValueError(f"{who}: expected samples along the first axis, shape (N, ...), got "
                         f"shape {X.shape}")
    return X


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

    Shapes: (N, in_features) -> (N, in_features). ``encode`` gives (N, code).

    Example
    -------
    >>> ae = Autoencoder(784, [256, 64], tied=True)
    >>> ae.fit(X, epochs=5); codes = ae.encode(X)
    """

    def __init__(self, in_features=None, hidden=None, activation: str = "sigmoid",
                 output_activation: str = "sigmoid", tied: bool = False, loss: str = "mse",
                 encoder=None, decoder=None):
        super().__init__()
        name = type(self).__name__
        if loss not in LOSSES:
            raise ValueError(f"{name}: loss must be one of {LOSSES}, got {loss!r}")
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
            self.in_features = in_features
            self.encoder, self.decoder = encoder, decoder
            return
        if in_features is None or hidden is None:
            raise ValueError(f"{name}: give in_features and hidden (or encoder and decoder)")
        sizes = [in_features] + ([hidden] if np.isscalar(hidden) else list(hidden))
        if any(not isinstance(s, (int, np.integer)) or s < 1 for s in sizes):
            raise ValueError(f"{name}: in_features and hidden must be positive ints, got "
                             f"in_features={in_features!r}, hidden={hidden!r}")
        self.in_features = int(in_features)
        self.sizes = [int(s) for s in sizes]
        enc, dec = [], []
        lins = []
        for a, b in zip(self.sizes[:-1], self.sizes[1:]):
            lin = _init_linear(nn.Linear(a, b), activation)
            lins.append(lin)
            enc += [lin, _act(activation)]
        for i in reversed(range(len(lins))):
            a, b = self.sizes[i + 1], self.sizes[i]
            layer = TiedLinear(lins[i]) if tied else _init_linear(nn.Linear(a, b), activation)
            dec += [layer, _act(output_activation if i == 0 else activation)]
        self.encoder = nn.Sequential(*enc)
        self.decoder = nn.Sequential(*dec)

    # -------------------------------------------------------------- the maps
    def _check(self, x):
        if self.in_features is not None and (x.ndim != 2 or x.shape[1] != self.in_features):
            raise ValueError(f"{type(self).__name__}: expected input of shape (N, "
                             f"{self.in_features}), got {tuple(x.shape)}")

    def forward(self, x):
        """The reconstruction g(f(x)) (the training target is x itself)."""
        self._check(x)
        return self.decoder(self.encoder(x))

    def _batched(self, fn, X, batch_size):
        X = _as_array(X, type(self).__name__)
        dt = np.dtype(self.dtype)
        was = self.training
        self.eval()
        try:
            with no_grad():
                outs = [fn(Tensor(np.asarray(X[i:i + batch_size], dtype=dt))).data
                        for i in range(0, len(X), batch_size)]
        finally:
            self.train(was)
        return np.concatenate(outs) if outs else np.zeros((0,), dt)

    def encode(self, X, batch_size: int = 1024):
        """Codes f(X) as an array (evaluation mode, no corruption)."""
        return self._batched(self.encoder, X, batch_size)

    def decode(self, Y, batch_size: int = 1024):
        """Reconstructions g(Y) from codes Y (evaluation mode)."""
        return self._batched(self.decoder, Y, batch_size)

    def reconstruct(self, X, batch_size: int = 1024):
        """g(f(X)) in evaluation mode (a denoising autoencoder does not corrupt here)."""
        return self._batched(self.forward, X, batch_size)

    def reconstruction_error(self, X, target=None, batch_size: int = 1024):
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
    def loss(self):
        """The reconstruction loss module (MSELoss or BCELoss)."""
        return nn.BCELoss() if self.loss_name == "bce" else nn.MSELoss()

    def fit(self, X, epochs: int = 10, batch_size: int = 64, validation=None, lr: float = 1e-3,
            optimizer="adam", callbacks=None, verbose: int = 0, seed=None,
            validation_split=None, weight_decay: float = 0.0):
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
            kw = {"lr": lr}
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
    Other parameters as :class:`Autoencoder`.

    Example
    -------
    >>> dae = DenoisingAutoencoder(784, 256, noise="mask", noise_level=0.3)
    >>> dae.fit(X, epochs=10); dae.reconstruct(corrupt(Xt, "mask", 0.3))
    """

    def __init__(self, in_features=None, hidden=None, activation: str = "sigmoid",
                 output_activation: str = "sigmoid", tied: bool = False, loss: str = "mse",
                 noise: str = "mask", noise_level: float = 0.3, encoder=None, decoder=None):
        super().__init__(in_features, hidden, activation, output_activation, tied, loss,
                         encoder, decoder)
        self.noise_level = _check_noise(noise, noise_level, "DenoisingAutoencoder")
        self.noise = noise

    def corrupt(self, X, seed=None):
        """X corrupted with this model's noise (array in, array out)."""
        return corrupt(X, self.noise, self.noise_level, seed)

    def forward(self, x):
        self._check(x)
        if self.training and self.noise_level > 0:
            x = corrupt(x, self.noise, self.noise_level)
        return self.decoder(self.encoder(x))

    def extra_repr(self):
        return f"noise={self.noise!r}, noise_level={self.noise_level}"


# ------------------------------------------------------------------ stacked
class StackedAutoencoder(Autoencoder):
    """A deep autoencoder ``sizes[0] -> ... -> sizes[-1] -> ... -> sizes[0]`` whose levels
    can be pre-trained greedily, one at a time (Bengio et al., 2007; Vincent et al., 2010).

    Level k has encoder ``Linear(sizes[k], sizes[k+1]) + activation`` and decoder
    ``Linear(sizes[k+1], sizes[k]) + activation`` (the output activation for k = 0).
    :meth:`pretrain` trains level 1 on the data, encodes the clean data with it, trains
    level 2 on that code, and so on (``deep=True``: the whole stack end to end instead).
    :meth:`to_classifier` copies the encoder stack under a softmax (logits) head.

    Parameters
    ----------
    sizes : list of int
        ``[784, 256, 64]``: the input and the code sizes of the levels.
    activation, output_activation, tied, loss : as :class:`Autoencoder` (``loss`` is the
        loss of level 1 and of the whole stack; higher levels reconstruct codes with MSE).
    denoise : float
        Corruption level of each level's input while training (0: none).
    noise : {"mask", "gaussian", "salt_pepper"}

    Example
    -------
    >>> sae = StackedAutoencoder([784, 256, 64], denoise=0.3)
    >>> sae.pretrain(X_unlabelled, epochs=5)
    >>> clf = sae.to_classifier(10)      # then Trainer(clf, nn.CrossEntropyLoss(), ...)
    """

    def __init__(self, sizes, activation: str = "sigmoid", output_activation: str = "sigmoid",
                 tied: bool = False, loss: str = "mse", denoise: float = 0.0,
                 noise: str = "mask"):
        sizes = [sizes] if np.isscalar(sizes) else list(sizes)
        if len(sizes) < 2 or any(not isinstance(s, (int, np.integer)) or s < 1 for s in sizes):
            raise ValueError(f"StackedAutoencoder: sizes must list at least two positive ints "
                             f"(input and code sizes), got {sizes!r}")
        denoise = _check_noise(noise, denoise, "StackedAutoencoder")
        super().__init__(int(sizes[0]), [int(s) for s in sizes[1:]], activation,
                         output_activation, tied, loss)
        self.denoise, self.noise = denoise, noise
        object.__setattr__(self, "pretrain_history_", [])

    @property
    def n_levels(self) -> int:
        return len(self.sizes) - 1

    def level(self, k: int):
        """(encoder, decoder) modules of level k (0-based), shared with the stack."""
        if not 0 <= k < self.n_levels:
            raise IndexError(f"StackedAutoencoder: level must be in [0, {self.n_levels}), "
                             f"got {k}")
        enc = nn.Sequential(self.encoder[2 * k], self.encoder[2 * k + 1])
        j = self.n_levels - 1 - k
        dec = nn.Sequential(self.decoder[2 * j], self.decoder[2 * j + 1])
        return enc, dec

    def forward(self, x):
        """The deep autoencoder's reconstruction (input corrupted while training)."""
        self._check(x)
        if self.training and self.denoise > 0:
            x = corrupt(x, self.noise, self.denoise)
        return self.decoder(self.encoder(x))

    def fit(self, X, epochs: int = 10, batch_size: int = 64, validation=None, lr: float = 1e-3,
            optimizer="adam", callbacks=None, verbose: int = 0, seed=None, **kw):
        """Train the whole stack end to end as one deep (denoising) autoencoder."""
        return super().fit(X, epochs, batch_size, validation, lr, optimizer, callbacks,
                           verbose, seed, **kw)

    def pretrain(self, X, epochs: int = 5, batch_size: int = 64, lr: float = 1e-3,
                 optimizer="adam", deep: bool = False, validation=None, verbose: int = 0,
                 seed=None):
        """Greedy layer-wise pre-training (``deep=False``) or end-to-end training of the
        whole stack (``deep=True``). ``epochs`` is per level when greedy.

        Returns the list of histories (one per level; one in all when ``deep``), also kept
        as ``self.pretrain_history_``.
        """
        if deep:
            h = [self.fit(X, epochs, batch_size, validation, lr, optimizer, verbose=verbose,
                          seed=seed)]
        else:
            from .pretrain import greedy_pretrain
            decoders = [self.level(k)[1] for k in range(self.n_levels)]
            losses = [self.loss_name] + ["mse"] * (self.n_levels - 1)
            h = greedy_pretrain(self.encoder, X, n_layers=self.n_levels, decoders=decoders,
                                epochs=epochs, batch_size=batch_size, lr=lr,
                                optimizer=optimizer, denoise=self.denoise, noise=self.noise,
                                loss=losses, validation=validation, verbose=verbose, seed=seed)
        object.__setattr__(self, "pretrain_history_", h)
        return h

    def to_classifier(self, n_classes: int, dropout: float = 0.0):
        """A classifier: copies of the encoder layers, then ``Linear(sizes[-1], n_classes)``
        producing logits (train with ``nn.CrossEntropyLoss``; softmax gives probabilities).

        Returns an ``nn.Sequential`` (saved and loaded by ``glassnet.io`` like any other).
        """
        if not isinstance(n_classes, (int, np.integer)) or n_classes < 2:
            raise ValueError(f"to_classifier: n_classes must be an int >= 2, got {n_classes!r}")
        layers = []
        for k in range(self.n_levels):
            src = self.encoder[2 * k]
            # dtype is not passed: constructor arguments stay plain JSON for glassnet.io
            lin = nn.Linear(src.in_features, src.out_features).to_dtype(src.weight.dtype)
            lin.load_state_dict(src.state_dict())
            layers += [lin, _act(self.activation)]
            if dropout:
                layers.append(nn.Dropout(float(dropout)))
        head = nn.Linear(self.sizes[-1], int(n_classes)).to_dtype(self.encoder[0].weight.dtype)
        nn.init.xavier_uniform_(head.weight)
        nn.init.zeros_(head.bias)
        return nn.Sequential(*layers, head)


# ------------------------------------------------------------------ convolutional
class ConvAutoencoder(Autoencoder):
    """A small convolutional autoencoder for square images whose side is divisible by 4
    (28x28 MNIST, 8x8 digits).

    Encoder: [Conv kxk (same) -> [BatchNorm] -> act -> MaxPool 2] x 2 -> Linear(code).
    Decoder: Linear -> act -> reshape -> [Upsample 2 -> Conv kxk -> act] x 2 with the last
    convolution mapping to ``in_channels`` and ``output_activation``.

    Inputs (N, C, H, W), or (N, C*H*W) flattened (the output then has the same shape).

    Parameters
    ----------
    in_channels : int
    image_size : int
    channels : list of two ints
        Feature maps of the two encoder convolutions (the decoder mirrors them).
    code : int
        Code size.
    kernel_size : int (odd)
    batch_norm : bool
    noise, noise_level : corruption while training (``noise_level=0``: none).

    Example
    -------
    >>> cae = ConvAutoencoder(1, 28, channels=[16, 8], code=32)
    >>> cae.fit(X.reshape(-1, 1, 28, 28), epochs=5); cae.reconstruction_error(Xt)
    """

    def __init__(self, in_channels: int = 1, image_size: int = 28, channels=(16, 8),
                 code: int = 32, kernel_size: int = 3, activation: str = "relu",
                 output_activation: str = "sigmoid", loss: str = "mse",
                 batch_norm: bool = False, noise: str = "mask", noise_level: float = 0.0):
        channels = [int(c) for c in channels]
        who = "ConvAutoencoder"
        if len(channels) != 2 or min(channels) < 1:
            raise ValueError(f"{who}: channels must be two positive ints, got {channels!r}")
        if image_size % 4 or image_size < 4:
            raise ValueError(f"{who}: image_size must be a multiple of 4, got {image_size!r}")
        if kernel_size % 2 == 0:
            raise ValueError(f"{who}: kernel_size must be odd (same padding), got {kernel_size}")
        c1, c2 = channels
        p, s = kernel_size // 2, image_size // 4

        def block(cin, cout):
            conv = nn.Conv2d(cin, cout, kernel_size, padding=p, bias=not batch_norm)
            return [conv] + ([nn.BatchNorm2d(cout)] if batch_norm else []) + [_act(activation)]

        enc = block(in_channels, c1) + [nn.MaxPool2d(2)] + block(c1, c2) + [nn.MaxPool2d(2),
                                                                            nn.Flatten()]
        enc.append(_init_linear(nn.Linear(c2 * s * s, int(code)), activation))
        dec = [_init_linear(nn.Linear(int(code), c2 * s * s), activation), _act(activation),
               Unflatten([c2, s, s]), Upsample(2)] + block(c2, c1) + [Upsample(2)]
        dec += [nn.Conv2d(c1, in_channels, kernel_size, padding=p), _act(output_activation)]
        super().__init__(loss=loss, output_activation=output_activation,
                         encoder=nn.Sequential(*enc), decoder=nn.Sequential(*dec))
        self.activation = activation
        self.image_shape = (int(in_channels), int(image_size), int(image_size))
        self.noise_level = _check_noise(noise, noise_level, who)
        self.noise = noise

    def _check(self, x):
        c, h, w = self.image_shape
        if not ((x.ndim == 4 and tuple(x.shape[1:]) == self.image_shape)
                or (x.ndim == 2 and x.shape[1] == c * h * w)):
            raise ValueError(f"ConvAutoencoder: expected input (N, {c}, {h}, {w}) or "
                             f"(N, {c * h * w}), got {tuple(x.shape)}")

    def encode(self, X, batch_size: int = 1024):
        """Codes (N, code) of images (N, C, H, W) or flattened (N, C*H*W)."""
        X = _as_array(X, "ConvAutoencoder.encode")
        self._check(X)
        return super().encode(X.reshape((len(X),) + self.image_shape), batch_size)

    def forward(self, x):
        self._check(x)
        flat = x.ndim == 2
        if flat:
            x = F.reshape(x, (x.shape[0],) + self.image_shape)
        if self.training and self.noise_level > 0:
            x = corrupt(x, self.noise, self.noise_level)
        z = self.decoder(self.encoder(x))
        return F.reshape(z, (z.shape[0], -1)) if flat else z


# ------------------------------------------------------------------ anomaly detection
ERRORS = ("loss", "mse", "standardized")


def _n_features(ae):
    """Flattened input size of an autoencoder (``in_features`` or ``image_shape``), or None."""
    if getattr(ae, "in_features", None) is not None:
        return int(ae.in_features)
    shape = getattr(ae, "image_shape", None)
    return int(np.prod(shape)) if shape is not None else None


class AnomalyDetector(Module):
    """Flags samples that autoencoders trained on normal data reconstruct badly.

    score(x) = reconstruction error of x; predict(x) = 1 if score(x) > threshold else 0.
    Given several autoencoders (an ensemble), score(x) = mean over members k of
    (e_k(x) - m_k) / s_k, each member's error standardized by the mean m_k and standard
    deviation s_k of its errors on the held-out normal data.

    Parameters
    ----------
    autoencoder : Autoencoder (or any of its kinds), or a list of them (an ensemble; member
        k is trained with ``seed + k`` on the same normal data)
    threshold : float, optional
        Fixed threshold; by default :meth:`fit` sets it at the ``quantile`` of the
        scores of a held-out part (``holdout``) of the normal data.
    quantile : float in (0, 1)
    holdout : float in (0, 1)
        Fraction of X_normal kept out of training to set the threshold (and the ensemble's
        standardization).
    error : {"loss", "mse", "standardized"}
        Per-sample reconstruction error e(x) with residual r = g(f(x)) - x over the D
        features: "loss" the autoencoder's own ``reconstruction_error`` (MSE, or BCE for
        ``loss="bce"``); "mse" mean_j r_j^2; "standardized" mean_j r_j^2 / v_j, where
        v_j = mean squared residual of feature j on the normal training data + ``eps``^2
        (a diagonal Mahalanobis distance of the residual: a pixel the normal class always
        reconstructs well weighs more when it is wrong).
    eps : float
        Floor of the per-feature residual scale for ``error="standardized"``.
    pool : int
        With ``pool > 1`` the residual image is first averaged over non-overlapping
        ``pool x pool`` blocks (errors "mse" and "standardized"): the error of the
        reconstruction at a lower resolution, which ignores pixel-level misalignment and
        texture that normal samples reconstruct badly too, and keeps errors of shape.
    image_shape : list of int, optional
        (C, H, W) or (H, W) of the flattened inputs, needed for ``pool > 1`` unless the
        autoencoder has an ``image_shape`` (ConvAutoencoder).

    Example
    -------
    >>> det = AnomalyDetector(Autoencoder(784, 32), quantile=0.99).fit(X_normal, epochs=10)
    >>> det.predict(X)           # 0 normal, 1 anomaly
    >>> ens = AnomalyDetector([Autoencoder(784, 32) for _ in range(3)], error="standardized",
    ...                       pool=2, image_shape=[28, 28])
    """

    def __init__(self, autoencoder, threshold=None, quantile: float = 0.99,
                 holdout: float = 0.1, error: str = "loss", eps: float = 0.01,
                 pool: int = 1, image_shape=None):
        super().__init__()
        members = list(autoencoder) if isinstance(autoencoder, (list, tuple)) else [autoencoder]
        if not members:
            raise ValueError("AnomalyDetector: autoencoder is an empty list; give at least one")
        for k, ae in enumerate(members):
            if not isinstance(ae, Module) or not hasattr(ae, "reconstruction_error"):
                where = f"autoencoder[{k}]" if isinstance(autoencoder, (list, tuple)) \
                    else "autoencoder"
                raise TypeError(f"AnomalyDetector: {where} must be an autoencoder module "
                                f"(with reconstruction_error), got {type(ae).__name__}")
        if not 0.0 < float(quantile) < 1.0:
            raise ValueError(f"AnomalyDetector: quantile must be in (0, 1), got {quantile!r}")
        if not 0.0 < float(holdout) < 1.0:
            raise ValueError(f"AnomalyDetector: holdout must be in (0, 1), got {holdout!r}")
        if error not in ERRORS:
            raise ValueError(f"AnomalyDetector: error must be one of {ERRORS}, got {error!r}")
        if not float(eps) > 0:
            raise ValueError(f"AnomalyDetector: eps must be > 0, got {eps!r}")
        if not isinstance(pool, (int, np.integer)) or pool < 1:
            raise ValueError(f"AnomalyDetector: pool must be an int >= 1, got {pool!r}")
        self.pool = int(pool)
        self.image_shape = None
        if self.pool > 1:
            if error == "loss":
                raise ValueError("AnomalyDetector: pool > 1 needs error='mse' or "
                                 "'standardized' (error='loss' is the autoencoder's own)")
            shape = image_shape if image_shape is not None else \
                getattr(members[0], "image_shape", None)
            if shape is None:
                raise ValueError("AnomalyDetector: pool > 1 needs image_shape=(C, H, W) or "
                                 "(H, W) for an autoencoder without an image_shape")
            shape = [int(v) for v in shape]
            shape = [1] + shape if len(shape) == 2 else shape
            if len(shape) != 3 or shape[1] % self.pool or shape[2] % self.pool:
                raise ValueError(f"AnomalyDetector: image_shape must be (C, H, W) or (H, W) "
                                 f"with H and W divisible by pool={self.pool}, got "
                                 f"{image_shape if image_shape is not None else shape}")
            for ae in members:
                d = _n_features(ae)
                if d is not None and d != int(np.prod(shape)):
                    raise ValueError(f"AnomalyDetector: image_shape {shape} holds "
                                     f"{int(np.prod(shape))} values, the autoencoder {d}")
            self.image_shape = shape
        self.ensemble = isinstance(autoencoder, (list, tuple))
        if self.ensemble:
            self.autoencoders = nn.ModuleList(members)
        else:
            self.autoencoder = autoencoder
        self.quantile, self.holdout = float(quantile), float(holdout)
        self.error, self.eps = error, float(eps)
        self.register_buffer("threshold", np.asarray(
            np.nan if threshold is None else float(threshold), dtype=np.float64))
        if error == "standardized":
            dims = {_n_features(ae) for ae in members}
            if None in dims or len(dims) != 1:
                raise ValueError("AnomalyDetector: error='standardized' needs autoencoders "
                                 "with a known input size (in_features or image_shape), the "
                                 f"same for all members; got {sorted(map(str, dims))}")
            d = dims.pop() // self.pool ** 2
            self.register_buffer("feature_var", np.full((len(members), d), np.nan,
                                                        dtype=np.float64))
        if self.ensemble:
            self.register_buffer("member_mean", np.full(len(members), np.nan))
            self.register_buffer("member_std", np.full(len(members), np.nan))

    @property
    def members(self):
        """The autoencoders, as a list (one unless an ensemble)."""
        return list(self.autoencoders) if self.ensemble else [self.autoencoder]

    def _residuals(self, ae, X, batch_size):
        """Yield (rows, residual r = g(f(x)) - x flattened, block-averaged when pool > 1)
        batch by batch."""
        for i in range(0, len(X), batch_size):
            xb = X[i:i + batch_size]
            z = ae.reconstruct(xb, batch_size).reshape(len(xb), -1)
            r = z - xb.reshape(len(xb), -1).astype(z.dtype, copy=False)
            if self.pool > 1:
                c, h, w = self.image_shape
                k = self.pool
                r = r.reshape(len(r), c, h // k, k, w // k, k).mean(axis=(3, 5))
                r = r.reshape(len(r), -1)
            yield slice(i, i + len(xb)), r

    def member_errors(self, X, batch_size: int = 1024):
        """Per-sample reconstruction errors of each member (``error`` measure, before the
        ensemble's standardization), shape (K, N)."""
        X = _as_array(X, "AnomalyDetector.score")
        out = np.empty((len(self.members), len(X)))
        for k, ae in enumerate(self.members):
            if self.error == "loss":
                out[k] = ae.reconstruction_error(X, batch_size=batch_size)
                continue
            if self.error == "standardized" and not np.isfinite(self.feature_var[k]).all():
                raise RuntimeError("AnomalyDetector: error='standardized' has no per-feature "
                                   "residual scale yet; call fit(X_normal)")
            for rows, r in self._residuals(ae, X, batch_size):
                r = r.astype(np.float64) ** 2
                if self.error == "standardized":
                    r /= self.feature_var[k]
                out[k, rows] = r.mean(axis=1)
        return out

    def fit(self, X_normal, epochs: int = 10, batch_size: int = 64, lr: float = 1e-3,
            seed: int = 0, verbose: int = 0, **kw):
        """Train the autoencoder(s) on normal data (minus the held-out part, which is also
        their validation set), set the per-feature residual scale (``standardized``), the
        ensemble's standardization and the threshold when none was given. Returns self."""
        X = _as_array(X_normal, "AnomalyDetector.fit")
        if len(X) < 2:
            raise ValueError(f"AnomalyDetector.fit: need at least 2 normal samples, got {len(X)}")
        perm = np.random.default_rng(seed).permutation(len(X))
        nh = min(len(X) - 1, max(1, int(round(self.holdout * len(X)))))
        held, train = X[perm[:nh]], X[perm[nh:]]
        for k, ae in enumerate(self.members):
            ae.fit(train, epochs=epochs, batch_size=batch_size, validation=held, lr=lr,
                   seed=seed + k, verbose=verbose, **kw)
            if self.error == "standardized":
                ms = np.zeros(self.feature_var.shape[1])
                for _, r in self._residuals(ae, train, 1024):
                    ms += (r.astype(np.float64) ** 2).sum(axis=0)
                self.feature_var[k] = ms / len(train) + self.eps ** 2
        if self.ensemble:
            e = self.member_errors(held)
            self.member_mean[...] = e.mean(axis=1)
            self.member_std[...] = np.maximum(e.std(axis=1), 1e-12)
        self.holdout_errors_ = self.score(held)
        if not np.isfinite(self.threshold):
            self.threshold = np.asarray(np.quantile(self.holdout_errors_, self.quantile),
                                        dtype=np.float64)
        return self

    def forward(self, x):
        return self.members[0](x)

    def score(self, X, batch_size: int = 1024):
        """Anomaly scores, shape (N,): the per-sample reconstruction error (an ensemble:
        the mean of the members' standardized errors)."""
        e = self.member_errors(X, batch_size)
        if not self.ensemble:
            return e[0]
        if not np.isfinite(self.member_std).all():
            raise RuntimeError("AnomalyDetector.score: the ensemble is not standardized yet; "
                               "call fit(X_normal)")
        return ((e - self.member_mean[:, None]) / self.member_std[:, None]).mean(axis=0)

    def predict(self, X, batch_size: int = 1024):
        """1 for anomalies (score above the threshold), 0 otherwise, int64 (N,)."""
        if not np.isfinite(self.threshold):
            raise RuntimeError("AnomalyDetector.predict: no threshold yet; call fit(X_normal) "
                               "or give threshold=...")
        return (self.score(X, batch_size) > float(self.threshold)).astype(np.int64)

    def extra_repr(self):
        return (f"threshold={float(self.threshold):.6g}, quantile={self.quantile}, "
                f"error={self.error!r}" + (f", pool={self.pool}" if self.pool > 1 else "")
                + (f", members={len(self.members)}" if self.ensemble else ""))
