"""Multiclass classification from binary classifiers: one-vs-rest and one-vs-one.

A K-class problem is split into binary ones:

* **one-vs-rest** (one-vs-all), :class:`OneVsRestClassifier`: K classifiers, classifier
  k sees class k as positive and every other class as negative; a sample goes to the
  class whose classifier is most confident (the largest decision value);
* **one-vs-one**, :class:`OneVsOneClassifier`: K(K-1)/2 classifiers, one per pair of
  classes (i, j), i < j, each trained only on the samples of its two classes with j as
  the positive class; every classifier votes for one of its two classes and a sample
  goes to the class with the most votes, ties broken by the summed confidences.

The names, attributes and the voting follow ``sklearn.multiclass`` (``estimators_``,
``classes_``, ``fit`` / ``predict`` / ``decision_function`` / ``predict_proba``), and
the binary classifier is either

* an estimator (anything with ``fit(X, y)`` and ``decision_function`` or
  ``predict_proba``, such as :class:`glassnet.sklearn.NeuralNetClassifier`): it is
  copied for every binary problem (``sklearn.base.clone`` when it has ``get_params``
  and scikit-learn is installed, else a deep copy), or
* a module factory (a callable returning an ``nn.Module`` with one output, a logit) or
  an ``nn.Module`` instance (copied and re-initialised for every problem): each one is
  trained with binary cross-entropy on the logit by a :class:`~glassnet.training.Trainer`
  (``epochs``, ``batch_size``, ``lr``, ``optimizer``), and its decision value is the logit.

scikit-learn is not needed for module factories.
"""
from __future__ import annotations

import copy
from typing import Any, Callable

import numpy as np

from . import backend, nn
from .autograd.function import no_grad
from .autograd.tensor import Tensor
from .errors import ArgumentError, ArgumentTypeError
from .training import Trainer

__all__ = ["OneVsRestClassifier", "OneVsOneClassifier", "BinaryModuleClassifier",
           "ovo_decision"]

_SEED_MAX = 2**31 - 1


class BinaryModuleClassifier:
    """A binary classifier from a glassnet module with one output (a logit): trained
    with ``BCEWithLogitsLoss`` by a Trainer; ``decision_function`` is the logit and
    ``predict_proba`` its sigmoid.

    Parameters
    ----------
    module : callable returning an nn.Module, or an nn.Module
        The network, (N, n_features) -> (N, 1) or (N,). A module instance is deep-copied
        and re-initialised (``reset_parameters`` of each layer that has it) at every fit.
    epochs, batch_size, lr, optimizer
        The training: ``optimizer`` is a name of ``glassnet.optim.get`` ("adam", "sgd").
    random_state : int or None
        Seeds the weights and the shuffling (None: glassnet's generator).

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]]); y = np.array([0, 0, 1, 1])
    >>> clf = BinaryModuleClassifier(lambda: nn.Linear(1, 1), epochs=200, lr=0.1,
    ...                              random_state=0).fit(X, y)
    >>> clf.predict(X).tolist()
    [0, 0, 1, 1]
    """

    def __init__(self, module: Any, *, epochs: int = 30, batch_size: int | None = 32,
                 lr: float = 0.01, optimizer: str = "adam",
                 random_state: int | None = None) -> None:
        self.module = module
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.optimizer = optimizer
        self.random_state = random_state

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor's arguments (scikit-learn's convention)."""
        return {k: getattr(self, k) for k in ("module", "epochs", "batch_size", "lr",
                                              "optimizer", "random_state")}

    def set_params(self, **params: Any) -> "BinaryModuleClassifier":
        for k, v in params.items():
            if k not in self.get_params():
                raise ArgumentError(f"BinaryModuleClassifier.set_params: unknown parameter "
                                    f"{k!r}; expected one of {sorted(self.get_params())}")
            setattr(self, k, v)
        return self

    def _build(self) -> nn.Module:
        m = self.module
        if isinstance(m, nn.Module):
            net = copy.deepcopy(m)
            for sub in net.modules():
                reset = getattr(sub, "reset_parameters", None)
                if callable(reset):
                    reset()
            return net
        if not callable(m):
            raise ArgumentTypeError(f"BinaryModuleClassifier: module must be an nn.Module or a "
                                    f"callable returning one, got {type(m).__name__}")
        net = m()
        if not isinstance(net, nn.Module):
            raise ArgumentTypeError(f"BinaryModuleClassifier: module() must return an "
                                    f"nn.Module, got {type(net).__name__}")
        return net

    def fit(self, X: Any, y: Any) -> "BinaryModuleClassifier":
        """Train on X (N, F) and 0/1 (or two-valued) labels y (N,); returns self."""
        X = np.asarray(X)
        y = np.asarray(y).reshape(-1)
        if len(X) != len(y):
            raise ArgumentError(f"BinaryModuleClassifier.fit: X has {len(X)} samples but y has "
                                f"{len(y)}")
        self.classes_ = np.unique(y)
        if len(self.classes_) > 2:
            raise ArgumentError(f"BinaryModuleClassifier.fit: y must hold at most 2 classes, "
                                f"got {len(self.classes_)} ({self.classes_[:5].tolist()}...)")
        target = (y == self.classes_[-1]).astype(np.float64)[:, None]
        if len(self.classes_) == 1:     # a constant problem still trains toward its class
            target[:] = 1.0
        rng = np.random.default_rng(self.random_state if self.random_state is not None
                                    else int(backend.rng().integers(_SEED_MAX)))
        saved = backend.rng().bit_generator.state
        try:
            backend.manual_seed(int(rng.integers(_SEED_MAX)))
            self.module_ = self._build()
            dtype = self.module_.dtype
            self._check_output(X[:1].astype(dtype))
            self.trainer_ = Trainer(self.module_, nn.BCEWithLogitsLoss(), self.optimizer,
                                    lr=self.lr)
            self.trainer_.fit(X.astype(dtype), target.astype(dtype), epochs=int(self.epochs),
                              batch_size=self.batch_size, verbose=0,
                              seed=int(rng.integers(_SEED_MAX)))
        finally:
            backend.rng().bit_generator.state = saved
        return self

    def _check_output(self, x: np.ndarray) -> None:
        was = self.module_.training
        self.module_.eval()
        try:
            with no_grad():
                shape = tuple(self.module_(Tensor(x)).shape)
        finally:
            self.module_.train(was)
        if shape not in ((1,), (1, 1)):
            raise ArgumentError(f"BinaryModuleClassifier: the module must output one logit "
                                f"per sample, (N, 1) or (N,), got shape {shape} for one sample")

    def decision_function(self, X: Any) -> np.ndarray:
        """The logit of each sample, float64 (N,): positive means ``classes_[-1]``."""
        if not hasattr(self, "module_"):
            raise ArgumentError("BinaryModuleClassifier: call fit before decision_function")
        X = np.asarray(X, dtype=self.module_.dtype)
        out = np.asarray(self.trainer_.predict(X), dtype=np.float64)
        if out.size != len(X):
            raise ArgumentError(f"BinaryModuleClassifier: the module must output one logit "
                                f"per sample, got outputs of shape {out.shape}")
        score = out.reshape(len(X))
        if len(self.classes_) == 1:
            return np.full(len(X), np.inf)
        return score

    def predict_proba(self, X: Any) -> np.ndarray:
        """(N, 2): the sigmoid of the logit for ``classes_[-1]`` and its complement."""
        p = 1.0 / (1.0 + np.exp(-np.clip(self.decision_function(X), -500, 500)))
        return np.column_stack([1.0 - p, p])

    def predict(self, X: Any) -> np.ndarray:
        """The class of each sample (logit > 0: ``classes_[-1]``)."""
        return self.classes_[(self.decision_function(X) > 0).astype(int)
                             if len(self.classes_) == 2 else np.zeros(len(X), int)]


def _as_binary(estimator: Any, epochs: int, batch_size: int | None, lr: float,
               optimizer: str, seed: int | None) -> Any:
    """A fresh unfitted binary classifier built from the wrapper's ``estimator``."""
    if hasattr(estimator, "fit") and not isinstance(estimator, (type, nn.Module)):
        if hasattr(estimator, "get_params"):
            try:
                from sklearn.base import clone
            except ImportError:
                return copy.deepcopy(estimator)
            return clone(estimator)
        return copy.deepcopy(estimator)
    if isinstance(estimator, nn.Module) or callable(estimator):
        return BinaryModuleClassifier(estimator, epochs=epochs, batch_size=batch_size, lr=lr,
                                      optimizer=optimizer, random_state=seed)
    raise ArgumentTypeError(f"estimator must be an estimator with fit, an nn.Module or a "
                            f"callable returning one, got {type(estimator).__name__}")


def _binary_score(est: Any) -> Callable[[Any], np.ndarray]:
    """The confidence of a fitted binary estimator for its positive class, as scikit-learn
    takes it: ``decision_function`` when there is one, else ``predict_proba[:, 1]``."""
    if hasattr(est, "decision_function"):
        def score(X: Any) -> np.ndarray:
            s = np.asarray(est.decision_function(X), dtype=np.float64)
            return s.reshape(len(s), -1)[:, -1] if s.ndim > 1 else s
        return score
    if hasattr(est, "predict_proba"):
        def proba(X: Any) -> np.ndarray:
            return np.asarray(est.predict_proba(X), dtype=np.float64)[:, 1]
        return proba
    raise ArgumentTypeError(f"the binary estimator ({type(est).__name__}) has neither "
                            f"decision_function nor predict_proba")


def _check_xy(X: Any, y: Any, who: str) -> tuple[np.ndarray, np.ndarray]:
    X = np.asarray(X)
    y = np.asarray(y)
    if y.ndim != 1:
        raise ArgumentError(f"{who}: y must be 1-D class labels, got shape {y.shape}")
    if X.ndim < 2 or len(X) != len(y):
        raise ArgumentError(f"{who}: X must be (n_samples, ...) with n_samples = len(y) = "
                            f"{len(y)}, got shape {X.shape}")
    return X, y


class _Wrapper:
    """What both strategies share: parameters, the binary classifiers' construction."""

    def __init__(self, estimator: Any, *, epochs: int = 30, batch_size: int | None = 32,
                 lr: float = 0.01, optimizer: str = "adam",
                 random_state: int | None = None) -> None:
        self.estimator = estimator
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.optimizer = optimizer
        self.random_state = random_state

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor's arguments (scikit-learn's convention)."""
        return {k: getattr(self, k) for k in ("estimator", "epochs", "batch_size", "lr",
                                              "optimizer", "random_state")}

    def set_params(self, **params: Any) -> "_Wrapper":
        for k, v in params.items():
            if k not in self.get_params():
                raise ArgumentError(f"{type(self).__name__}.set_params: unknown parameter "
                                    f"{k!r}; expected one of {sorted(self.get_params())}")
            setattr(self, k, v)
        return self

    def _new_binaries(self, n: int) -> list[Any]:
        seeds = np.random.default_rng(self.random_state).integers(_SEED_MAX, size=n)
        return [_as_binary(self.estimator, self.epochs, self.batch_size, self.lr,
                           self.optimizer, int(s)) for s in seeds]

    def _check_fitted(self, who: str) -> None:
        if not hasattr(self, "estimators_"):
            raise ArgumentError(f"{type(self).__name__}.{who}: call fit first")


class OneVsRestClassifier(_Wrapper):
    """One binary classifier per class, that class against all others (one-vs-all).

    ``decision_function`` stacks the K classifiers' confidences (N, K); ``predict`` picks
    the largest (ties go to the later class, as in scikit-learn); ``predict_proba``
    normalises the K positive-class probabilities to sum to 1. With two classes a single
    classifier is trained (for ``classes_[1]``) and ``decision_function`` is 1-D, as in
    scikit-learn.

    Parameters
    ----------
    estimator : estimator, nn.Module or module factory
        The binary classifier (see :mod:`glassnet.multiclass`).
    epochs, batch_size, lr, optimizer
        Training of module factories (ignored for estimators, which train themselves).
    random_state : int or None
        Seeds each module factory's binary classifier.

    Attributes
    ----------
    classes_ : ndarray (K,)
    estimators_ : list
        K fitted binary classifiers (one for two classes).

    Examples
    --------
    >>> from glassnet.data import load_digits
    >>> X, y = load_digits()
    >>> ovr = OneVsRestClassifier(lambda: nn.Linear(64, 1), epochs=10, lr=0.05,
    ...                           batch_size=256, random_state=0)
    >>> ovr.fit(X / 16, y).score(X / 16, y) > 0.9
    True
    >>> len(ovr.estimators_)
    10
    """

    def fit(self, X: Any, y: Any) -> "OneVsRestClassifier":
        """Train K binary classifiers (class k positive, the rest negative); returns self."""
        X, y = _check_xy(X, y, "OneVsRestClassifier.fit")
        self.classes_ = np.unique(y)
        K = len(self.classes_)
        if K < 2:
            raise ArgumentError(f"OneVsRestClassifier.fit: y holds {K} class; need at least 2")
        positives = self.classes_[1:] if K == 2 else self.classes_
        estimators = self._new_binaries(len(positives))
        for est, c in zip(estimators, positives):
            est.fit(X, (y == c).astype(np.int64))
        self.estimators_ = estimators
        self.n_classes_ = K
        return self

    def decision_function(self, X: Any) -> np.ndarray:
        """Confidences (N, K) of the K classifiers ((N,) with two classes)."""
        self._check_fitted("decision_function")
        scores = np.column_stack([_binary_score(e)(X) for e in self.estimators_])
        return scores[:, 0] if self.n_classes_ == 2 else scores

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities (N, K): each classifier's probability of its class,
        normalised over the K classes (two classes: (1 - p, p))."""
        self._check_fitted("predict_proba")
        if not all(hasattr(e, "predict_proba") for e in self.estimators_):
            raise ArgumentError(f"OneVsRestClassifier.predict_proba: the binary estimator "
                                f"({type(self.estimators_[0]).__name__}) has no predict_proba")
        P = np.column_stack([np.asarray(e.predict_proba(X), dtype=np.float64)[:, 1]
                             for e in self.estimators_])
        if self.n_classes_ == 2:
            return np.column_stack([1.0 - P[:, 0], P[:, 0]])
        total = P.sum(axis=1, keepdims=True)
        return P / np.where(total > 0, total, 1.0)

    def predict(self, X: Any) -> np.ndarray:
        """The class whose classifier is most confident (two classes: score > 0, or
        probability > 0.5 for estimators without decision_function)."""
        self._check_fitted("predict")
        if self.n_classes_ == 2:
            est = self.estimators_[0]
            return self.classes_[np.asarray(est.predict(X)).astype(int).reshape(-1)]
        scores = np.column_stack([_binary_score(e)(X) for e in self.estimators_])
        last_max = scores.shape[1] - 1 - np.argmax(scores[:, ::-1], axis=1)
        return self.classes_[last_max]

    def score(self, X: Any, y: Any) -> float:
        """Accuracy of ``predict(X)`` against ``y``."""
        return float(np.mean(self.predict(X) == np.asarray(y)))


def ovo_decision(predictions: Any, confidences: Any, n_classes: int) -> np.ndarray:
    """One-vs-one votes plus a tie-break, (N, K), as scikit-learn computes them.

    Column k of ``predictions`` (N, P) and ``confidences`` (N, P) belongs to the k-th pair
    (i, j), i < j, in the order (0, 1), (0, 2), ..., (K-2, K-1); prediction 1 is a vote
    for j, 0 a vote for i, and the confidence is for j (taken from i). The result is
    ``votes + s / (3 (|s| + 1))`` with ``s`` the summed confidences of each class: the
    second term lies in (-1/3, 1/3), so it only orders classes with equal votes.

    >>> ovo_decision([[1, 0, 0]], [[0.5, -1.0, -2.0]], 3).round(3)   # pairs 01, 02, 12
    array([[ 1.111,  2.238, -0.25 ]])
    """
    pred = np.asarray(predictions)
    conf = np.asarray(confidences, dtype=np.float64)
    K = int(n_classes)
    n_pairs = K * (K - 1) // 2
    if pred.ndim != 2 or pred.shape != conf.shape or pred.shape[1] != n_pairs:
        raise ArgumentError(f"ovo_decision: predictions and confidences must both be "
                            f"(n_samples, {n_pairs}) for n_classes={K}, got "
                            f"{pred.shape} and {conf.shape}")
    i, j = np.triu_indices(K, k=1)          # the pairs in scikit-learn's order
    onehot_i = np.eye(K)[i]                 # (P, K)
    onehot_j = np.eye(K)[j]
    vote_j = (pred == 1).astype(np.float64)
    vote_i = (pred == 0).astype(np.float64)
    votes = vote_i @ onehot_i + vote_j @ onehot_j
    summed = conf @ onehot_j - conf @ onehot_i
    return votes + summed / (3.0 * (np.abs(summed) + 1.0))


class OneVsOneClassifier(_Wrapper):
    """One binary classifier per pair of classes, K(K-1)/2 in all, voting.

    The classifier of the pair (i, j), i < j, is trained on the samples of classes i and
    j only, with j positive. ``decision_function`` gives :func:`ovo_decision` of their
    predictions and confidences (votes, ties broken by summed confidences, as
    ``sklearn.multiclass.OneVsOneClassifier``); ``predict`` its argmax. With two classes
    ``decision_function`` is 1-D, as in scikit-learn.

    Parameters and attributes are those of :class:`OneVsRestClassifier`;
    ``estimators_`` holds K(K-1)/2 classifiers, ``pairs_`` their (i, j) class indices.

    >>> from glassnet.data import load_digits
    >>> X, y = load_digits()
    >>> keep = y < 4
    >>> ovo = OneVsOneClassifier(lambda: nn.Linear(64, 1), epochs=10, lr=0.05,
    ...                           batch_size=256, random_state=0)
    >>> ovo.fit(X[keep] / 16, y[keep]).score(X[keep] / 16, y[keep]) > 0.9
    True
    >>> len(ovo.estimators_)          # 4 * 3 / 2
    6
    """

    def fit(self, X: Any, y: Any) -> "OneVsOneClassifier":
        """Train K(K-1)/2 pairwise classifiers; returns self."""
        X, y = _check_xy(X, y, "OneVsOneClassifier.fit")
        self.classes_ = np.unique(y)
        K = len(self.classes_)
        if K < 2:
            raise ArgumentError(f"OneVsOneClassifier.fit: y holds {K} class; need at least 2")
        i, j = np.triu_indices(K, k=1)
        self.pairs_ = list(zip(i.tolist(), j.tolist()))
        estimators = self._new_binaries(len(self.pairs_))
        for est, (a, b) in zip(estimators, self.pairs_):
            keep = (y == self.classes_[a]) | (y == self.classes_[b])
            est.fit(X[keep], (y[keep] == self.classes_[b]).astype(np.int64))
        self.estimators_ = estimators
        self.n_classes_ = K
        return self

    def decision_function(self, X: Any) -> np.ndarray:
        """Votes plus the confidence tie-break (N, K) ((N,) with two classes)."""
        self._check_fitted("decision_function")
        preds = np.column_stack([np.asarray(e.predict(X)).reshape(-1)
                                 for e in self.estimators_])
        confs = np.column_stack([_binary_score(e)(X) for e in self.estimators_])
        D = ovo_decision(preds, confs, self.n_classes_)
        return D[:, 1] if self.n_classes_ == 2 else D

    def predict(self, X: Any) -> np.ndarray:
        """The class with the most votes (ties: the larger summed confidence)."""
        D = self.decision_function(X)
        if self.n_classes_ == 2:   # confidences are probabilities without decision_function
            thresh = 0.0 if hasattr(self.estimators_[0], "decision_function") else 0.5
            return self.classes_[(D > thresh).astype(int)]
        return self.classes_[np.argmax(D, axis=1)]

    def score(self, X: Any, y: Any) -> float:
        """Accuracy of ``predict(X)`` against ``y``."""
        return float(np.mean(self.predict(X) == np.asarray(y)))
