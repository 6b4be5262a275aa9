"""scikit-learn estimators around glassnet modules: classifier, regressor, autoencoder.

:class:`NeuralNetClassifier`, :class:`NeuralNetRegressor` and :class:`NeuralNetTransformer`
follow scikit-learn's estimator conventions, so a glassnet network works in ``clone``,
``Pipeline``, ``GridSearchCV``, ``RandomizedSearchCV`` and ``cross_val_score``. Each drives
a :class:`glassnet.training.Trainer` (kept as ``trainer_``) over the module it builds
(``module_``).

The network (``module``) is one of

* ``None`` (default): a built-in network sized from the data, an
  :class:`~glassnet.models.MLP` ``[n_features, *hidden_layer_sizes, n_outputs]`` for the
  classifier and the regressor, an :class:`~glassnet.models.Autoencoder` with the encoder
  widths ``[*hidden_layer_sizes, n_components]`` for the transformer;
* a class or any callable returning an ``nn.Module``: called at every fit with the
  ``module_params`` dict as keyword arguments, plus ``n_features_in`` and
  ``n_outputs`` (the code size for the transformer) when its signature names them and
  they are not given;
* an ``nn.Module`` instance: every fit trains a deep copy of it whose layers are
  re-initialised (``reset_parameters()`` of each sub-module that has one, drawn from
  ``random_state``); the instance itself is never trained. A layer without
  ``reset_parameters`` (BatchNorm, ...) starts from the instance's values.

``random_state`` seeds the weights, the shuffling and dropout of a fit (glassnet's
generator is put back as it was afterwards), so two fits with the same ``random_state``
give the same network bit for bit; ``None`` draws the seed from glassnet's generator
(``glassnet.manual_seed``).

Needs scikit-learn (``pip install "glassnet[sklearn]"``); the rest of glassnet does not.
"""
from __future__ import annotations

import copy
import inspect
from typing import Any, Callable

import numpy as np

try:
    from sklearn.base import (BaseEstimator, ClassifierMixin, ClassNamePrefixFeaturesOutMixin,
                              RegressorMixin, TransformerMixin)
    from sklearn.utils import check_random_state
    from sklearn.utils.metaestimators import available_if
    from sklearn.utils.multiclass import (_check_partial_fit_first_call,
                                          check_classification_targets)
    from sklearn.utils.validation import check_is_fitted
except ImportError as error:  # pragma: no cover - exercised only without scikit-learn
    raise ImportError('glassnet.sklearn needs scikit-learn: pip install "glassnet[sklearn]" '
                      '(or pip install "scikit-learn>=1.4")') from error
try:
    from sklearn.utils.validation import validate_data as _validate_data
except ImportError:  # scikit-learn < 1.6
    def _validate_data(estimator: Any, *args: Any, **kwargs: Any) -> Any:
        return estimator._validate_data(*args, **kwargs)

from . import backend, nn, optim
from .errors import ArgumentError, ArgumentTypeError
from .models import MLP, Autoencoder
from .models.autoencoder import run_in_batches
from .training import Trainer

__all__ = ["NeuralNetClassifier", "NeuralNetRegressor", "NeuralNetTransformer"]

_FLOATS = (np.float64, np.float32)
_SEED_MAX = 2**31 - 1


class _seeded:
    """Seed glassnet's generator with ``seed`` inside the block; put it back afterwards."""

    def __init__(self, seed: int) -> None:
        self.seed = seed

    def __enter__(self) -> None:
        self.saved = backend.rng().bit_generator.state
        backend.manual_seed(self.seed)

    def __exit__(self, *exc: object) -> None:
        backend.rng().bit_generator.state = self.saved


def _reset(net: nn.Module) -> nn.Module:
    for sub in net.modules():
        reset = getattr(sub, "reset_parameters", None)
        if callable(reset):
            reset()
    return net


class _NeuralNet(BaseEstimator):
    """What the three estimators share: parameters, building, seeding, the training loop."""

    _default_loss = "mse"

    def __init__(self, module: Any = None, *, hidden_layer_sizes: tuple = (100,),
                 activation: str = "relu", dropout: float = 0.0, loss: Any = None,
                 optimizer: Any = "adam", lr: float = 0.001, max_epochs: int = 100,
                 batch_size: int | None = 32, shuffle: bool = True,
                 validation_split: float | None = None, callbacks: list | None = None,
                 warm_start: bool = False, verbose: int = 0, random_state: Any = None,
                 module_params: dict | None = None,
                 optimizer_params: dict | None = None) -> None:
        self.module = module
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.dropout = dropout
        self.loss = loss
        self.optimizer = optimizer
        self.lr = lr
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.validation_split = validation_split
        self.callbacks = callbacks
        self.warm_start = warm_start
        self.verbose = verbose
        self.random_state = random_state
        self.module_params = module_params
        self.optimizer_params = optimizer_params

    def _params(self, name: str) -> dict:
        value = getattr(self, name)
        if value is None:
            return {}
        if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
            raise ArgumentTypeError(f"{type(self).__name__}.fit: {name} must be a dict of "
                                    f"keyword arguments or None, got {value!r}")
        return dict(value)

    # ------------------------------------------------------------ building
    def _default_module(self, n_in: int, n_out: int) -> nn.Module:  # pragma: no cover
        raise NotImplementedError

    def _build_module(self, n_in: int, n_out: int) -> nn.Module:
        who = f"{type(self).__name__}.fit"
        m, params = self.module, self._params("module_params")
        if m is None or isinstance(m, nn.Module):
            if params:
                raise ArgumentError(f"{who}: module_params {sorted(params)} need module "
                                    f"to be a class or a factory, got "
                                    f"{'None' if m is None else type(m).__name__ + ' instance'}")
            return self._default_module(n_in, n_out) if m is None else _reset(copy.deepcopy(m))
        if not callable(m):
            raise ArgumentTypeError(f"{who}: module must be None, an nn.Module, an nn.Module "
                                    f"class or a callable returning one, got {type(m).__name__}")
        try:
            names: Any = inspect.signature(m).parameters
        except (TypeError, ValueError):
            names = {}
        for name, value in (("n_features_in", n_in), ("n_outputs", n_out)):
            if name in names and name not in params:
                params[name] = value
        net = m(**params)
        if not isinstance(net, nn.Module):
            raise ArgumentTypeError(f"{who}: module() must return an nn.Module, got "
                                    f"{type(net).__name__}")
        return net

    def _build_trainer(self, net: nn.Module) -> Trainer:
        loss = self._default_loss if self.loss is None else self.loss
        opt = self.optimizer
        if not (isinstance(opt, str)
                or (isinstance(opt, type) and issubclass(opt, optim.Optimizer))):
            raise ArgumentTypeError(f"{type(self).__name__}.fit: optimizer must be a name "
                                    f"('adam', 'sgd', ...) or an optim.Optimizer class, got "
                                    f"{type(opt).__name__}")
        optimizer = optim.get(opt, net.parameters(), lr=self.lr,
                              **self._params("optimizer_params"))
        return Trainer(net, loss, optimizer)

    def _initialize(self, n_in: int, n_out: int) -> None:
        """A new network and trainer, seeded from ``random_state``."""
        if self.random_state is None:
            seed = int(backend.rng().integers(_SEED_MAX))
        else:
            seed = int(check_random_state(self.random_state).randint(_SEED_MAX))
        self._seeds = np.random.default_rng(seed)
        with _seeded(int(self._seeds.integers(_SEED_MAX))):
            self.module_ = self._build_module(n_in, n_out)
        self.trainer_ = self._build_trainer(self.module_)
        self.n_iter_ = 0
        self.loss_curve_: list[float] = []

    def _train(self, X: np.ndarray, T: np.ndarray, epochs: int) -> None:
        """``epochs`` epochs of the trainer on (X, T), seeded by the fit's generator."""
        seed = int(self._seeds.integers(_SEED_MAX))
        with _seeded(seed):
            history = self.trainer_.fit(
                (X, T), epochs=epochs, batch_size=self.batch_size, shuffle=self.shuffle,
                callbacks=copy.deepcopy(self.callbacks), verbose=self.verbose, seed=seed,
                validation_split=self.validation_split)
        self.history_ = history
        self.n_iter_ += len(history)
        self.loss_curve_ = [*self.loss_curve_, *(float(v) for v in history["loss"] if v is not None)] if len(history) else \
            list(self.loss_curve_)

    def _fresh(self) -> bool:
        """Whether ``fit`` starts over (not a warm start of a fitted estimator)."""
        return not (self.warm_start and hasattr(self, "module_"))

    def _outputs(self, X: Any) -> np.ndarray:
        """The fitted network's outputs for validated ``X`` as float64."""
        check_is_fitted(self, "module_")
        X = _validate_data(self, X, reset=False, dtype=_FLOATS)
        return np.asarray(self.trainer_.predict(X), dtype=np.float64)


class NeuralNetClassifier(ClassifierMixin, _NeuralNet):
    """A glassnet network as a scikit-learn classifier (one output per class,
    cross-entropy loss by default).

    Parameters
    ----------
    module : None, nn.Module class or factory, or nn.Module instance
        The network (see :mod:`glassnet.sklearn`): None builds an
        ``MLP([n_features, *hidden_layer_sizes, n_classes])``; a factory is called with
        the ``module_params`` (and ``n_features_in`` / ``n_outputs`` if it takes them).
        It must output one logit per class (log-probabilities for ``loss="nll"``).
    hidden_layer_sizes : tuple of int
        Hidden widths of the built-in MLP.
    activation : str
        Hidden activation of the built-in MLP ("relu", "tanh", ...).
    dropout : float
        Dropout after each hidden layer of the built-in MLP.
    loss : str, loss module or callable, optional
        Default "cross_entropy".
    optimizer : str or optim.Optimizer class
        "adam", "sgd", ... (``optim.get``).
    lr : float
        Learning rate.
    max_epochs : int
        Epochs per ``fit`` (callbacks such as EarlyStopping may stop earlier).
    batch_size : int or None
        Mini-batch size (None: full batch).
    shuffle : bool
        Reshuffle the training data every epoch.
    validation_split : float, optional
        Fraction of the training data held out as validation (``val_loss`` in
        ``history_``, for EarlyStopping).
    callbacks : list of glassnet.training.Callback, optional
        Copied for every fit.
    warm_start : bool
        ``fit`` continues training the fitted network instead of starting over.
    verbose : int
        0 silent, 1 a progress bar, 2 a line per epoch.
    random_state : int, RandomState or None
        Seeds weights, shuffling and dropout: equal seeds give equal fits.
    module_params : dict, optional
        Keyword arguments for a module class or factory (``{"hidden": 64}``; in a search
        ``{"net__module_params": [{"hidden": 32}, {"hidden": 64}]}``).
    optimizer_params : dict, optional
        The optimizer's other arguments (``{"weight_decay": 1e-4, "betas": (0.9, 0.99)}``).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    n_features_in_ : int
    feature_names_in_ : ndarray of str (when X has string column names)
    module_ : nn.Module
        The trained network.
    trainer_ : glassnet.training.Trainer
    history_ : glassnet.training.History
        The latest fit's (or partial_fit's) history.
    n_iter_ : int
        Epochs trained since the network was built.
    loss_curve_ : list of float
        The training loss of each of those epochs.

    Example
    -------
    >>> from glassnet.data import load_digits
    >>> X, y = load_digits()
    >>> clf = NeuralNetClassifier(hidden_layer_sizes=(32,), max_epochs=5, random_state=0)
    >>> clf.fit(X / 16, y).score(X / 16, y) > 0.9
    True
    """

    _default_loss = "cross_entropy"

    def __sklearn_tags__(self) -> Any:  # scikit-learn >= 1.6
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = True
        return tags

    def _default_module(self, n_in: int, n_out: int) -> nn.Module:
        return MLP([n_in, *self.hidden_layer_sizes, n_out], activation=self.activation,
                   output="multiclass", dropout=self.dropout)

    def _xy(self, X: Any, y: Any, reset: bool) -> tuple[np.ndarray, np.ndarray]:
        X, y = _validate_data(self, X, y, reset=reset, dtype=_FLOATS)
        check_classification_targets(y)
        return X, y

    def _encode(self, y: np.ndarray, who: str) -> np.ndarray:
        index = np.searchsorted(self.classes_, y)
        index = np.clip(index, 0, len(self.classes_) - 1)
        unknown = self.classes_[index] != y
        if unknown.any():
            raise ArgumentError(f"{type(self).__name__}.{who}: y holds labels "
                                f"{np.unique(y[unknown])[:5].tolist()} that are not among "
                                f"classes_ {self.classes_.tolist()}")
        return index.astype(np.int64)

    def _check_classes(self, classes: np.ndarray) -> None:
        if len(classes) < 2:
            raise ArgumentError(f"{type(self).__name__}.fit: y holds 1 class "
                                f"({classes.tolist()}); a classifier needs at least 2 classes")

    def fit(self, X: Any, y: Any) -> "NeuralNetClassifier":
        """Train for ``max_epochs`` epochs (from scratch unless ``warm_start``); returns self."""
        fresh = self._fresh()
        X, y = self._xy(X, y, reset=fresh)
        if fresh:
            classes = np.unique(y)
            self._check_classes(classes)
            self.classes_ = classes
            self._initialize(X.shape[1], len(classes))
        self._train(X, self._encode(y, "fit"), self.max_epochs)
        return self

    def partial_fit(self, X: Any, y: Any, classes: Any = None) -> "NeuralNetClassifier":
        """One epoch over (X, y); the first call builds the network and needs ``classes``
        (every label that will ever be seen). Returns self."""
        first = not hasattr(self, "module_")
        X, y = self._xy(X, y, reset=first)
        if first:
            if classes is None:
                raise ArgumentError(f"{type(self).__name__}.partial_fit: classes must be "
                                    f"given on the first call (every label y will hold)")
            self._check_classes(np.unique(classes))
        _check_partial_fit_first_call(self, classes)
        if first:
            self._initialize(X.shape[1], len(self.classes_))
        self._train(X, self._encode(y, "partial_fit"), 1)
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, shape (n_samples, n_classes): the softmax of the outputs."""
        out = self._outputs(X)
        out -= out.max(axis=1, keepdims=True)
        np.exp(out, out=out)
        out /= out.sum(axis=1, keepdims=True)
        return out

    def predict_log_proba(self, X: Any) -> np.ndarray:
        """Log of :meth:`predict_proba` (log-softmax of the outputs, computed stably)."""
        out = self._outputs(X)
        out -= out.max(axis=1, keepdims=True)
        out -= np.log(np.exp(out).sum(axis=1, keepdims=True))
        return out

    def predict(self, X: Any) -> np.ndarray:
        """The most probable class of each sample, shape (n_samples,)."""
        out = self._outputs(X)
        return self.classes_[np.argmax(out, axis=1)]


class NeuralNetRegressor(RegressorMixin, _NeuralNet):
    """A glassnet network as a scikit-learn regressor (mean squared error by default;
    one or several targets).

    The parameters and attributes are those of :class:`NeuralNetClassifier` (without
    ``classes_``; the default loss is "mse"), plus ``n_outputs_``. Predictions are float64,
    of shape (n_samples,) for a 1-D ``y``, (n_samples, n_outputs) otherwise. Scaling ``y``
    (``sklearn.compose.TransformedTargetRegressor``) helps when it is far from unit scale.

    Example
    -------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 3)); y = X @ [1.0, -2.0, 0.5]
    >>> reg = NeuralNetRegressor(hidden_layer_sizes=(32,), max_epochs=40, random_state=0)
    >>> reg.fit(X, y).score(X, y) > 0.9
    True
    """

    def __sklearn_tags__(self) -> Any:  # scikit-learn >= 1.6
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def _more_tags(self) -> dict:  # scikit-learn < 1.6
        return {"multioutput": True}

    def _default_module(self, n_in: int, n_out: int) -> nn.Module:
        return MLP([n_in, *self.hidden_layer_sizes, n_out], activation=self.activation,
                   output="regression", dropout=self.dropout)

    def _xy(self, X: Any, y: Any, reset: bool) -> tuple[np.ndarray, np.ndarray]:
        X, y = _validate_data(self, X, y, reset=reset, dtype=_FLOATS, multi_output=True,
                              y_numeric=True)
        y = np.asarray(y, dtype=np.float64)
        if not reset and y.ndim != self._y_ndim or (y.ndim == 2 and not reset
                                                     and y.shape[1] != self.n_outputs_):
            raise ArgumentError(f"{type(self).__name__}: y has shape {y.shape}, the network "
                                f"was fitted on {self.n_outputs_} target(s) of ndim "
                                f"{self._y_ndim}")
        return X, y

    def _start(self, X: np.ndarray, y: np.ndarray) -> None:
        self._y_ndim = y.ndim
        self.n_outputs_ = 1 if y.ndim == 1 else y.shape[1]
        self._initialize(X.shape[1], self.n_outputs_)

    def fit(self, X: Any, y: Any) -> "NeuralNetRegressor":
        """Train for ``max_epochs`` epochs (from scratch unless ``warm_start``); returns self."""
        fresh = self._fresh()
        X, y = self._xy(X, y, reset=fresh)
        if fresh:
            self._start(X, y)
        self._train(X, y, self.max_epochs)
        return self

    def partial_fit(self, X: Any, y: Any) -> "NeuralNetRegressor":
        """One epoch over (X, y) (the first call builds the network); returns self."""
        first = not hasattr(self, "module_")
        X, y = self._xy(X, y, reset=first)
        if first:
            self._start(X, y)
        self._train(X, y, 1)
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Predicted targets (float64), shaped like the ``y`` of fit."""
        out = self._outputs(X)
        return out.reshape(len(out)) if self._y_ndim == 1 else out


def _part(net: nn.Module, name: str) -> nn.Module | None:
    """The ``encoder`` or ``decoder`` sub-module of an autoencoder, or None."""
    part = getattr(net, name, None)
    return part if isinstance(part, nn.Module) else None


def _encoder(net: nn.Module) -> nn.Module:
    enc = _part(net, "encoder")
    if enc is None:
        raise ArgumentError(f"NeuralNetTransformer: the module ({type(net).__name__}) has no "
                            f"'encoder' sub-module to transform with")
    return enc


def _decoder(net: nn.Module) -> nn.Module:
    dec = _part(net, "decoder")
    if dec is None:   # pragma: no cover - available_if hides inverse_transform then
        raise ArgumentError(f"NeuralNetTransformer: the module ({type(net).__name__}) has no "
                            f"'decoder' sub-module to decode with")
    return dec


def _has_decoder(est: "NeuralNetTransformer") -> bool:
    net = getattr(est, "module_", None)
    if net is None:   # before fit: the built-in autoencoder has one; a user module may not
        m = est.module
        return m is None or not isinstance(m, nn.Module) or _part(m, "decoder") is not None
    return _part(net, "decoder") is not None


class NeuralNetTransformer(ClassNamePrefixFeaturesOutMixin, TransformerMixin, _NeuralNet):
    """An autoencoder as a scikit-learn transformer: ``fit`` trains the network to
    reconstruct X (mean squared error), ``transform`` gives the encoder's code,
    ``inverse_transform`` decodes a code back to the input space.

    Parameters
    ----------
    module : None, nn.Module class or factory, or nn.Module instance
        None builds ``Autoencoder(n_features, [*hidden_layer_sizes, n_components],
        activation, output_activation="identity")``. A module of your own maps X to its
        reconstruction and has an ``encoder`` sub-module (for ``transform``) and, for
        ``inverse_transform``, a ``decoder`` one. A factory gets ``n_features_in`` and
        ``n_outputs`` (= ``n_components``) when it takes them.
    n_components : int
        Code size of the built-in autoencoder.
    hidden_layer_sizes : tuple of int
        Encoder widths before the code (the decoder mirrors them).
    activation : str
        Activation after each encoder layer, the code included, and each hidden decoder
        layer (default "tanh").

    Notes
    -----
    The other parameters are those of :class:`NeuralNetClassifier` (the default loss is
    "mse"). Attributes: ``n_components_`` (the code size), ``n_features_in_``,
    ``module_``, ``trainer_``, ``history_``, ``n_iter_``, ``loss_curve_``.
    ``score(X)`` is the negative mean squared reconstruction error (greater is better),
    so a search needs no scorer.

    Example
    -------
    >>> from glassnet.data import load_digits
    >>> X, _ = load_digits()
    >>> ae = NeuralNetTransformer(n_components=8, hidden_layer_sizes=(32,), max_epochs=3,
    ...                           random_state=0)
    >>> ae.fit_transform(X / 16).shape
    (1797, 8)
    """

    def __init__(self, module: Any = None, *, n_components: int = 2,
                 hidden_layer_sizes: tuple = (64,), activation: str = "tanh",
                 dropout: float = 0.0, loss: Any = None, optimizer: Any = "adam",
                 lr: float = 0.001, max_epochs: int = 100, batch_size: int | None = 32,
                 shuffle: bool = True, validation_split: float | None = None,
                 callbacks: list | None = None, warm_start: bool = False, verbose: int = 0,
                 random_state: Any = None, module_params: dict | None = None,
                 optimizer_params: dict | None = None) -> None:
        super().__init__(module, hidden_layer_sizes=hidden_layer_sizes, activation=activation,
                         dropout=dropout, loss=loss, optimizer=optimizer, lr=lr,
                         max_epochs=max_epochs, batch_size=batch_size, shuffle=shuffle,
                         validation_split=validation_split, callbacks=callbacks,
                         warm_start=warm_start, verbose=verbose, random_state=random_state,
                         module_params=module_params, optimizer_params=optimizer_params)
        self.n_components = n_components

    def __sklearn_tags__(self) -> Any:  # scikit-learn >= 1.6
        tags = super().__sklearn_tags__()
        # the code has the network's dtype (glassnet's default, float32 unless changed)
        tags.transformer_tags.preserves_dtype = [np.dtype(backend.get_default_dtype()).name]
        return tags

    def _more_tags(self) -> dict:  # scikit-learn < 1.6
        return {"preserves_dtype": [np.dtype(backend.get_default_dtype()).name]}

    def _default_module(self, n_in: int, n_out: int) -> nn.Module:
        if self.dropout:
            raise ArgumentError(f"{type(self).__name__}.fit: the built-in autoencoder has no "
                                f"dropout; pass a module of your own, got dropout="
                                f"{self.dropout!r}")
        return Autoencoder(n_in, [*self.hidden_layer_sizes, n_out], activation=self.activation,
                           output_activation="identity")

    def _x(self, X: Any, reset: bool) -> np.ndarray:
        return _validate_data(self, X, reset=reset, dtype=_FLOATS)

    def _start(self, X: np.ndarray) -> None:
        self._initialize(X.shape[1], self.n_components)
        code = run_in_batches(self.module_, _encoder(self.module_), X[:1])
        self.n_components_ = int(code.reshape(1, -1).shape[1])

    def fit(self, X: Any, y: Any = None) -> "NeuralNetTransformer":
        """Train to reconstruct X for ``max_epochs`` epochs (``y`` is ignored); returns self."""
        fresh = self._fresh()
        X = self._x(X, reset=fresh)
        if fresh:
            self._start(X)
        self._train(X, X, self.max_epochs)
        return self

    def partial_fit(self, X: Any, y: Any = None) -> "NeuralNetTransformer":
        """One epoch of reconstruction training (the first call builds the network)."""
        first = not hasattr(self, "module_")
        X = self._x(X, reset=first)
        if first:
            self._start(X)
        self._train(X, X, 1)
        return self

    @property
    def _n_features_out(self) -> int:
        return self.n_components_

    def transform(self, X: Any) -> np.ndarray:
        """The code of each sample, shape (n_samples, n_components_)."""
        check_is_fitted(self, "module_")
        X = self._x(X, reset=False)
        return run_in_batches(self.module_, _encoder(self.module_), X).reshape(len(X), -1)

    @available_if(_has_decoder)
    def inverse_transform(self, X: Any) -> np.ndarray:
        """Decode codes (n_samples, n_components_) back to the input space."""
        check_is_fitted(self, "module_")
        from sklearn.utils import check_array
        Z = check_array(X, dtype=_FLOATS)
        if Z.shape[1] != self.n_components_:
            raise ArgumentError(f"{type(self).__name__}.inverse_transform: X has {Z.shape[1]} "
                                f"columns, the code has {self.n_components_}")
        return run_in_batches(self.module_, _decoder(self.module_), Z)

    def score(self, X: Any, y: Any = None) -> float:
        """Negative mean squared reconstruction error of X (greater is better)."""
        check_is_fitted(self, "module_")
        X = self._x(X, reset=False)
        R = np.asarray(self.trainer_.predict(X), dtype=np.float64).reshape(X.shape)
        return -float(np.mean((R - X) ** 2))
