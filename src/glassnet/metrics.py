"""Classification metrics on NumPy arrays: accuracy, precision/recall/F1, confusion matrix,
ROC curve and AUC, top-k accuracy, Hamming loss, and a plain-text report.

Labels may be any sortable values; predictions may be labels, or scores of shape
(n, C) (the arg-max is taken). Multi-label data, where each sample may belong to several
classes, is given as two 0/1 indicator matrices of shape (n, C) (multi-hot targets and
thresholded predictions): ``accuracy`` is then the subset accuracy (every label of a
sample right), ``precision`` / ``recall`` / ``f1_score`` count per label column (with the
``"samples"`` average as well) and ``hamming_loss`` is the fraction of wrong labels.
Results agree with scikit-learn's (tested).
"""
from __future__ import annotations

import numpy as np

from .autograd.tensor import as_array
from .validation import check_choice, check_int, check_samples

from typing import TYPE_CHECKING, Any, overload

if TYPE_CHECKING:  # annotations only
    from collections.abc import Sequence

    import numpy.typing as npt

    from glassnet._typing import TensorLike


__all__ = ["accuracy", "confusion_matrix", "precision_recall_f1", "precision", "recall",
           "f1_score", "classification_report", "roc_curve", "roc_auc", "top_k_accuracy",
           "hamming_loss"]

_AVERAGES = (None, "binary", "micro", "macro", "weighted", "samples")


def _np(a: TensorLike, name: str, who: str) -> np.ndarray:
    return check_samples(as_array(a), name, who)


def _pair(y_true: Any, y_pred: Any, who: str) -> tuple[np.ndarray, np.ndarray]:
    """Label arrays (scores of shape (n, C) turned into arg-max labels), same length."""
    y_true = _np(y_true, "y_true", who)
    y_pred = _np(y_pred, "y_pred", who)
    if y_pred.ndim == 2 and y_true.ndim == 2 and y_pred.shape[1] > 1 and y_true.shape[1] > 1:
        if not (_is_01(y_true) and (y_true.sum(axis=1) == 1).all()):
            raise ValueError(f"{who}: y_true and y_pred are 2-D and y_true is not one-hot: "
                             f"multi-label data is not supported here (accuracy, precision, "
                             f"recall, f1_score and hamming_loss take it)")
        y_true, y_pred = y_true.argmax(axis=1), y_pred.argmax(axis=1)   # one-hot, scores
    if y_pred.ndim == 2 and y_true.ndim == 1:
        y_pred = y_pred.argmax(axis=1)
    if y_true.ndim == 2 and y_true.shape[1] > 1 and y_pred.ndim == 1:
        y_true = y_true.argmax(axis=1)  # one-hot targets
    y_true, y_pred = y_true.reshape(len(y_true), -1), y_pred.reshape(len(y_pred), -1)
    if y_true.shape[1] != 1 or y_pred.shape[1] != 1:
        raise ValueError(f"{who}: expected 1-D labels, got y_true {y_true.shape} and y_pred "
                         f"{y_pred.shape}")
    y_true, y_pred = y_true[:, 0], y_pred[:, 0]
    if len(y_true) != len(y_pred):
        raise ValueError(f"{who}: y_true has {len(y_true)} samples but y_pred has {len(y_pred)}")
    return y_true, y_pred


def _is_01(a: np.ndarray) -> bool:
    return a.dtype.kind == "b" or (a.dtype.kind in "iuf" and bool(np.isin(a, (0, 1)).all()))


def _multilabel(y_true: TensorLike, y_pred: TensorLike,
                who: str) -> tuple[np.ndarray, np.ndarray] | None:
    """Both indicator matrices as bool (n, C) when the data is multi-label (two 2-D arrays
    of the same shape, C > 1); None for single-label data. One-hot targets with 2-D scores
    are single-label (their arg-maxes are compared); a multi-hot target with predictions
    that are not 0/1 is refused (threshold them first)."""
    t = _np(y_true, "y_true", who)
    p = _np(y_pred, "y_pred", who)
    if t.ndim != 2 or p.ndim != 2 or t.shape[1] < 2 or p.shape[1] < 2:
        return None
    if t.shape != p.shape:
        raise ValueError(f"{who}: multi-label y_true and y_pred must have the same shape "
                         f"(n, C), got {t.shape} and {p.shape}")
    if not _is_01(t):
        raise ValueError(f"{who}: a 2-D y_true must be a 0/1 indicator matrix (multi-hot "
                         f"targets), got values {np.unique(t)[:5].tolist()}")
    if not _is_01(p):
        if (t.sum(axis=1) == 1).all():
            return None           # one-hot targets, scores: single-label by arg-max
        raise ValueError(f"{who}: multi-hot y_true needs a 0/1 y_pred of the same shape; got "
                         f"values such as {np.unique(p)[:3].tolist()} (threshold the scores "
                         f"first, e.g. y_pred > 0.5 for probabilities)")
    return t.astype(bool), p.astype(bool)


def accuracy(y_true: TensorLike, y_pred: TensorLike) -> float:
    """Fraction of correct predictions, :math:`\\frac1n \\sum_i [\\hat y_i = y_i]`.

    ``y_pred`` may be labels (n,) or scores (n, C). For multi-label 0/1 matrices (n, C)
    this is the subset accuracy: a sample counts only when all C of its labels are right
    (scikit-learn's ``accuracy_score``; see :func:`hamming_loss` for the label-wise rate).

    Example
    -------
    >>> accuracy([0, 1, 2, 2], [0, 2, 2, 2])
    0.75
    >>> accuracy([[1, 0, 1], [0, 1, 0]], [[1, 0, 1], [0, 1, 1]])   # multi-label: subset
    0.5
    """
    ml = _multilabel(y_true, y_pred, "accuracy")
    if ml is not None:
        return float(np.mean((ml[0] == ml[1]).all(axis=1)))
    y_true, y_pred = _pair(y_true, y_pred, "accuracy")
    if len(y_true) == 0:
        raise ValueError("accuracy: no samples")
    return float(np.mean(y_true == y_pred))


def _label_set(y_true: np.ndarray, y_pred: np.ndarray, labels: npt.ArrayLike | None,
               num_classes: int | None) -> np.ndarray:
    if labels is not None:
        return np.asarray(labels)
    if num_classes is not None:
        return np.arange(int(num_classes))
    return np.unique(np.concatenate([y_true, y_pred]))


def _encode(values: np.ndarray, labels: np.ndarray, name: str, who: str,
            strict: bool) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(labels, kind="stable")
    sorted_labels = labels[order]
    pos = np.clip(np.searchsorted(sorted_labels, values), 0, max(len(labels) - 1, 0))
    ok = sorted_labels[pos] == values if len(labels) else np.zeros(len(values), bool)
    if strict and not np.all(ok):
        bad = np.unique(values[~ok])[:5].tolist()
        raise ValueError(f"{who}: {name} has values {bad} outside the labels "
                         f"{labels.tolist()[:10]}")
    return order[pos], ok


def confusion_matrix(y_true: TensorLike, y_pred: TensorLike, num_classes: int | None = None,
                     labels: npt.ArrayLike | None = None) -> np.ndarray:
    """Counts ``C[i, j]`` of samples of true class i predicted as class j (rows: true).

    Classes are ``labels`` (in that order), else ``0 .. num_classes-1``, else the
    sorted labels seen in either array. Returns int64 (k, k).

    Example
    -------
    >>> confusion_matrix([0, 1, 1], [0, 0, 1])
    array([[1, 0],
           [1, 1]])
    """
    who = "confusion_matrix"
    y_true, y_pred = _pair(y_true, y_pred, who)
    lab = _label_set(y_true, y_pred, labels, num_classes)
    k = len(lab)
    t, ok_t = _encode(y_true, lab, "y_true", who, strict=labels is None)
    p, ok_p = _encode(y_pred, lab, "y_pred", who, strict=labels is None)
    keep = ok_t & ok_p  # with explicit labels, samples of other labels are left out
    return np.bincount(t[keep] * k + p[keep], minlength=k * k).reshape(k, k).astype(np.int64)


def _safe_div(num: npt.ArrayLike, den: npt.ArrayLike, zero_division: float) -> np.ndarray:
    num, den = np.asarray(num, np.float64), np.asarray(den, np.float64)
    out = np.full(np.broadcast(num, den).shape, float(zero_division))
    np.divide(num, den, out=out, where=den != 0)
    return out


def _zd(zero_division: float | str, who: str) -> float:
    if zero_division == "warn":
        return 0.0
    zd = float(zero_division)
    if not (zd in (0.0, 1.0) or np.isnan(zd)):
        raise ValueError(f"{who}: zero_division must be 0, 1, nan or 'warn', got {zero_division!r}")
    return zd


@overload
def precision_recall_f1(y_true: TensorLike, y_pred: TensorLike, average: None = ...,
                        labels: npt.ArrayLike | None = ..., num_classes: int | None = ...,
                        pos_label: Any = ..., beta: float = ..., zero_division: float | str = ...
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    ...


@overload
def precision_recall_f1(y_true: TensorLike, y_pred: TensorLike, average: str,
                        labels: npt.ArrayLike | None = ..., num_classes: int | None = ...,
                        pos_label: Any = ..., beta: float = ..., zero_division: float | str = ...
                        ) -> tuple[float, float, float, None]:
    ...


@overload
def precision_recall_f1(y_true: TensorLike, y_pred: TensorLike, average: str | None = ...,
                        labels: npt.ArrayLike | None = ..., num_classes: int | None = ...,
                        pos_label: Any = ..., beta: float = ..., zero_division: float | str = ...
                        ) -> tuple[Any, Any, Any, np.ndarray | None]:
    ...


def precision_recall_f1(y_true: TensorLike, y_pred: TensorLike, average: str | None = None,
                        labels: npt.ArrayLike | None = None, num_classes: int | None = None,
                        pos_label: Any = 1, beta: float = 1.0, zero_division: float | str = 0.0
                        ) -> tuple[Any, Any, Any, np.ndarray | None]:
    r"""Precision, recall, F-beta and support, per class or averaged.

    .. math::
        P = \frac{TP}{TP + FP}, \quad R = \frac{TP}{TP + FN}, \quad
        F_\beta = \frac{(1+\beta^2)\,TP}{(1+\beta^2)\,TP + \beta^2 FN + FP}

    ``average``: None (arrays, one value per class), ``"micro"`` (pool all
    counts; equals accuracy for single-label data), ``"macro"`` (unweighted mean
    over classes), ``"weighted"`` (mean weighted by support), ``"binary"`` (the
    class ``pos_label`` only), ``"samples"`` (multi-label only: the ratios of each
    sample's own counts, averaged over samples). A ratio with a zero denominator is
    ``zero_division`` (0, 1 or nan; nan values are left out of the averages).

    Multi-label data (two 0/1 matrices (n, C)) is counted per label column; ``labels``
    then picks columns by index and ``num_classes`` must be C.

    Returns ``(precision, recall, f_beta, support)``; support is None when averaged.

    Example
    -------
    >>> p, r, f, s = precision_recall_f1([0, 1, 1, 2], [0, 1, 2, 2], average="macro")
    >>> Y, P = [[1, 1, 0], [0, 1, 1]], [[1, 0, 0], [0, 1, 1]]      # multi-label
    >>> precision_recall_f1(Y, P, average="samples")[:3]
    (1.0, 0.75, 0.8333333333333333)
    """
    who = "precision_recall_f1"
    check_choice(average, "average", who, _AVERAGES)
    zd = _zd(zero_division, who)
    b2 = float(beta) ** 2
    ml = _multilabel(y_true, y_pred, who)
    if ml is not None:
        return _multilabel_prf(ml[0], ml[1], average, labels, num_classes, b2, zd, who)
    if average == "samples":
        raise ValueError(f"{who}: average='samples' is for multi-label data (0/1 matrices "
                         f"(n, C)); use 'macro', 'micro' or 'weighted'")
    y_true, y_pred = _pair(y_true, y_pred, who)
    if average == "binary":
        present = np.unique(np.concatenate([y_true, y_pred]))
        if len(present) > 2:
            raise ValueError(f"{who}: average='binary' needs two classes, got {present.tolist()}; "
                             f"use average='macro', 'micro' or 'weighted'")
        labels = [pos_label]
    lab = _label_set(y_true, y_pred, labels, num_classes)
    k = len(lab)
    # count per class without building k x k when only a few labels are asked for
    t, ok_t = _encode(y_true, lab, "y_true", who, strict=False)
    p, ok_p = _encode(y_pred, lab, "y_pred", who, strict=False)
    hit = (y_true == y_pred) & ok_t
    tp = np.bincount(t[hit], minlength=k).astype(np.float64)
    pred_pos = np.bincount(p[ok_p], minlength=k).astype(np.float64)
    true_pos = np.bincount(t[ok_t], minlength=k).astype(np.float64)
    return _from_counts(tp, pred_pos, true_pos, average, b2, zd)


def _from_counts(tp: np.ndarray, pred_pos: np.ndarray, true_pos: np.ndarray, average: str | None,
                 b2: float, zd: float) -> tuple:
    """Precision, recall, F-beta (and support) from per-class counts, averaged as asked."""
    k = len(tp)
    if average == "micro":
        tp, pred_pos, true_pos = tp.sum(), pred_pos.sum(), true_pos.sum()
    prec = _safe_div(tp, pred_pos, zd)
    rec = _safe_div(tp, true_pos, zd)
    # F from counts: defined unless TP = FP = FN = 0
    f = _safe_div((1 + b2) * tp, (1 + b2) * tp + b2 * (true_pos - tp) + (pred_pos - tp), zd)
    if average in ("micro", "binary"):
        return float(prec.reshape(-1)[0]), float(rec.reshape(-1)[0]), float(f.reshape(-1)[0]), \
            None
    if average is None:
        return prec, rec, f, true_pos.astype(np.int64)
    w = true_pos if average == "weighted" else np.ones(k)

    def avg(x: np.ndarray) -> float:
        m = ~np.isnan(x)
        if not m.any():
            return zd
        if w[m].sum() == 0:
            return zd if average == "weighted" else float(np.mean(x[m]))
        return float(np.average(x[m], weights=w[m]))

    return avg(prec), avg(rec), avg(f), None


def _multilabel_prf(t: np.ndarray, p: np.ndarray, average: str | None, labels: object,
                    num_classes: int | None, b2: float, zd: float, who: str) -> tuple:
    """precision_recall_f1 on bool indicator matrices (n, C)."""
    C = t.shape[1]
    if num_classes is not None and int(num_classes) != C:
        raise ValueError(f"{who}: num_classes={num_classes} but the multi-label matrices have "
                         f"{C} columns")
    if average == "binary":
        raise ValueError(f"{who}: average='binary' is for two classes; multi-label data takes "
                         f"None, 'micro', 'macro', 'weighted' or 'samples'")
    if labels is not None:
        cols = np.asarray(labels)
        if cols.ndim != 1 or cols.dtype.kind not in "iu" or (cols < 0).any() or (cols >= C).any():
            raise ValueError(f"{who}: for multi-label data, labels are column indices in "
                             f"[0, {C}), got {np.asarray(labels).tolist()}")
        t, p = t[:, cols], p[:, cols]
    both = t & p
    if average == "samples":
        tp, pred_pos, true_pos = (a.sum(axis=1).astype(np.float64) for a in (both, p, t))
        prec = _safe_div(tp, pred_pos, zd)
        rec = _safe_div(tp, true_pos, zd)
        f = _safe_div((1 + b2) * tp, (1 + b2) * tp + b2 * (true_pos - tp) + (pred_pos - tp), zd)

        def mean(x: np.ndarray) -> float:
            m = ~np.isnan(x)
            return float(np.mean(x[m])) if m.any() else zd
        return mean(prec), mean(rec), mean(f), None
    tp, pred_pos, true_pos = (a.sum(axis=0).astype(np.float64) for a in (both, p, t))
    return _from_counts(tp, pred_pos, true_pos, average, b2, zd)


def hamming_loss(y_true: TensorLike, y_pred: TensorLike) -> float:
    """Fraction of wrong labels: for multi-label 0/1 matrices (n, C), the mean over all
    n * C entries of ``y_true != y_pred``; for single-label data, 1 - accuracy
    (as scikit-learn's ``hamming_loss``).

    Example
    -------
    >>> hamming_loss([[1, 0, 1], [0, 1, 0]], [[1, 0, 1], [0, 1, 1]])   # 1 wrong of 6
    0.16666666666666666
    """
    ml = _multilabel(y_true, y_pred, "hamming_loss")
    if ml is not None:
        return float(np.mean(ml[0] != ml[1]))
    yt, yp = _pair(y_true, y_pred, "hamming_loss")
    if len(yt) == 0:
        raise ValueError("hamming_loss: no samples")
    return float(np.mean(yt != yp))


def precision(y_true: TensorLike, y_pred: TensorLike, average: str | None = "macro",
              **kw: Any) -> float | np.ndarray:
    """Precision :math:`TP / (TP + FP)`; see :func:`precision_recall_f1` for the options."""
    return precision_recall_f1(y_true, y_pred, average=average, **kw)[0]


def recall(y_true: TensorLike, y_pred: TensorLike, average: str | None = "macro",
           **kw: Any) -> float | np.ndarray:
    """Recall :math:`TP / (TP + FN)`; see :func:`precision_recall_f1` for the options."""
    return precision_recall_f1(y_true, y_pred, average=average, **kw)[1]


def f1_score(y_true: TensorLike, y_pred: TensorLike, average: str | None = "macro",
             **kw: Any) -> float | np.ndarray:
    """F1, the harmonic mean of precision and recall; see :func:`precision_recall_f1`.

    Example
    -------
    >>> f1_score([0, 1, 1, 2], [0, 1, 2, 2], average=None)
    array([1.        , 0.66666667, 0.66666667])
    """
    return precision_recall_f1(y_true, y_pred, average=average, **kw)[2]


def classification_report(y_true: TensorLike, y_pred: TensorLike,
                          labels: npt.ArrayLike | None = None,
                          target_names: Sequence[str] | None = None, digits: int = 2,
                          zero_division: float | str = 0.0,
                          num_classes: int | None = None) -> str:
    """A plain-text table of precision, recall, F1 and support per class, then the
    accuracy and the macro and weighted averages (laid out like scikit-learn's).

    Example
    -------
    >>> print(classification_report(y_test, model_predictions, target_names=["cat", "dog"]))  # doctest: +SKIP
    """
    who = "classification_report"
    yt, yp = _pair(y_true, y_pred, who)
    lab = _label_set(yt, yp, labels, num_classes)
    if target_names is None:
        names = [str(x) for x in lab.tolist()]
    else:
        names = [str(x) for x in target_names]
        if len(names) != len(lab):
            raise ValueError(f"{who}: {len(lab)} classes but {len(names)} target_names")
    p, r, f, s = precision_recall_f1(yt, yp, average=None, labels=lab, zero_division=zero_division)
    width = max(max(len(n) for n in names), len("weighted avg"), digits)
    headers = ["precision", "recall", "f1-score", "support"]
    out = f"{'':>{width}s} " + "".join(f" {h:>9}" for h in headers) + "\n\n"

    def row(name: str, a: float, b: float, c: float, n: int) -> str:
        return (f"{name:>{width}s} " + f" {a:>9.{digits}f}" + f" {b:>9.{digits}f}"
                + f" {c:>9.{digits}f}" + f" {n:>9}\n")

    for name, a, b, c, n in zip(names, p, r, f, s):
        out += row(name, a, b, c, int(n))
    out += "\n"
    total = int(s.sum())
    in_labels = np.isin(yt, lab) | np.isin(yp, lab)
    micro = precision_recall_f1(yt, yp, average="micro", labels=lab, zero_division=zero_division)
    # micro-averaged F1 is the accuracy when every sample's labels are among the reported ones
    if in_labels.all() and set(np.unique(np.concatenate([yt, yp])).tolist()) <= set(lab.tolist()):
        out += (f"{'accuracy':>{width}s} " + f" {'':>9}" * 2 + f" {micro[2]:>9.{digits}f}"
                + f" {total:>9}\n")
    else:
        out += row("micro avg", micro[0], micro[1], micro[2], total)
    for avg in ("macro", "weighted"):
        a, b, c, _ = precision_recall_f1(yt, yp, average=avg, labels=lab,
                                         zero_division=zero_division)
        out += row(f"{avg} avg", a, b, c, total)
    return out


def _binary_target(y_true: TensorLike, pos_label: Any, who: str) -> np.ndarray:
    y = _np(y_true, "y_true", who).reshape(-1)
    if pos_label is None:
        classes = np.unique(y)
        if len(classes) > 2:
            raise ValueError(f"{who}: y_true has {len(classes)} classes; give pos_label or use "
                             f"scores of shape (n, C) for one-vs-rest")
        if classes.dtype.kind in "iub" and not set(classes.tolist()) <= {0, 1}:
            if not set(classes.tolist()) <= {-1, 1}:
                raise ValueError(f"{who}: y_true has labels {classes.tolist()}; give pos_label")
        pos_label = 1 if (classes.dtype.kind in "iufb") else classes.max()
    return (y == pos_label).astype(np.float64)


def roc_curve(y_true: TensorLike, scores: TensorLike, pos_label: Any = None,
              drop_intermediate: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Receiver operating characteristic: false- and true-positive rates at each threshold.

    Thresholds are the distinct scores in decreasing order, preceded by ``inf``
    (nothing predicted positive); a sample is positive when ``score >= threshold``.
    ``drop_intermediate`` drops points on straight segments (like scikit-learn).
    Returns ``(fpr, tpr, thresholds)``.

    Example
    -------
    >>> fpr, tpr, thr = roc_curve([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    """
    who = "roc_curve"
    y = _binary_target(y_true, pos_label, who)
    s = _np(scores, "scores", who).reshape(-1).astype(np.float64)
    if len(s) != len(y):
        raise ValueError(f"{who}: y_true has {len(y)} samples but scores has {len(s)}")
    order = np.argsort(-s, kind="mergesort")
    s, y = s[order], y[order]
    last_of_value = np.r_[np.flatnonzero(np.diff(s)), len(s) - 1]
    tps = np.cumsum(y)[last_of_value]
    fps = 1 + last_of_value - tps
    thr = s[last_of_value]
    if drop_intermediate and len(fps) > 2:
        keep = np.r_[True, np.logical_or(np.diff(fps, 2), np.diff(tps, 2)), True]
        fps, tps, thr = fps[keep], tps[keep], thr[keep]
    fps, tps, thr = np.r_[0, fps], np.r_[0, tps], np.r_[np.inf, thr]
    if fps[-1] == 0 or tps[-1] == 0:
        raise ValueError(f"{who}: y_true needs both positive and negative samples")
    return fps / fps[-1], tps / tps[-1], thr


def _average_ranks(x: np.ndarray) -> np.ndarray:
    """1-based ranks, ties sharing their average rank."""
    _, inv, counts = np.unique(x, return_inverse=True, return_counts=True)
    ends = np.cumsum(counts)
    return (ends - (counts - 1) / 2.0)[inv.reshape(-1)]


def _binary_auc(y: np.ndarray, s: np.ndarray, who: str) -> float:
    n_pos = y.sum()
    n_neg = len(y) - n_pos
    if n_pos == 0 or n_neg == 0:
        raise ValueError(f"{who}: y_true needs both positive and negative samples (AUC is "
                         f"undefined with one class)")
    ranks = _average_ranks(s)
    # Mann-Whitney U: the probability that a random positive outscores a random negative,
    # ties counting one half; equal to the trapezoidal area under the ROC curve
    return float((ranks[y > 0].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def roc_auc(y_true: TensorLike, scores: TensorLike, pos_label: Any = None,
            average: str | None = "macro") -> float | np.ndarray:
    """Area under the ROC curve, computed from ranks (ties count one half).

    Binary: ``scores`` of shape (n,) (or (n, 2): the second column is used).
    Multi-class: ``scores`` of shape (n, C) and labels 0..C-1 give the
    one-vs-rest AUC of each class, averaged (``"macro"``, ``"weighted"`` by
    support, or None for the per-class array).

    Example
    -------
    >>> roc_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    0.75
    """
    who = "roc_auc"
    s = _np(scores, "scores", who).astype(np.float64)
    if s.ndim == 2 and s.shape[1] == 2 and pos_label is None:
        s = s[:, 1]
    if s.ndim == 2 and s.shape[1] > 2:
        y = _np(y_true, "y_true", who).reshape(-1)
        if len(y) != len(s):
            raise ValueError(f"{who}: y_true has {len(y)} samples but scores has {len(s)}")
        C = s.shape[1]
        if y.min() < 0 or y.max() >= C:
            raise ValueError(f"{who}: labels must be in 0..{C - 1} for scores with {C} columns")
        aucs = np.array([_binary_auc((y == c).astype(np.float64), s[:, c], who)
                         for c in range(C)])
        if average is None:
            return aucs
        if average == "weighted":
            return float(np.average(aucs, weights=np.bincount(y, minlength=C)))
        return float(aucs.mean())
    y = _binary_target(y_true, pos_label, who)
    s = s.reshape(-1)
    if len(s) != len(y):
        raise ValueError(f"{who}: y_true has {len(y)} samples but scores has {len(s)}")
    return _binary_auc(y, s, who)


def top_k_accuracy(y_true: TensorLike, scores: TensorLike, k: int = 5) -> float:
    """Fraction of samples whose true class is among the ``k`` highest scores.

    ``scores`` (n, C), labels 0..C-1. Ties are broken like scikit-learn's
    (a stable sort, so among equal scores the higher class index ranks first).

    Example
    -------
    >>> top_k_accuracy([2, 0], [[0.1, 0.5, 0.4], [0.2, 0.5, 0.3]], k=2)
    0.5
    """
    who = "top_k_accuracy"
    y = _np(y_true, "y_true", who).reshape(-1)
    s = _np(scores, "scores", who)
    if s.ndim != 2 or len(s) != len(y):
        raise ValueError(f"{who}: scores must have shape ({len(y)}, C), got {s.shape}")
    k = check_int(k, "k", who)
    top = np.argsort(s, axis=1, kind="mergesort")[:, ::-1][:, :k]
    return float(np.mean((top == y[:, None]).any(axis=1)))
