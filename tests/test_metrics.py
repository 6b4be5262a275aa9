"""glassnet.metrics against scikit-learn on random data."""
from __future__ import annotations

import numpy as np
import pytest

from glassnet import metrics as M

skm = pytest.importorskip("sklearn.metrics")


def _labels(seed, n=200, k=4, p_correct=0.6):
    r = np.random.default_rng(seed)
    y = r.integers(0, k, n)
    pred = np.where(r.random(n) < p_correct, y, r.integers(0, k, n))
    return y, pred


@pytest.mark.parametrize("seed", range(4))
def test_accuracy_and_confusion_matrix(seed):
    y, p = _labels(seed)
    assert M.accuracy(y, p) == pytest.approx(skm.accuracy_score(y, p))
    np.testing.assert_array_equal(M.confusion_matrix(y, p), skm.confusion_matrix(y, p))
    np.testing.assert_array_equal(M.confusion_matrix(y, p, num_classes=6),
                                  skm.confusion_matrix(y, p, labels=range(6)))
    scores = np.eye(4)[p] + 0.01
    assert M.accuracy(y, scores) == M.accuracy(y, p)  # scores -> arg-max


def test_confusion_matrix_layout_and_string_labels():
    cm = M.confusion_matrix([0, 1, 1, 2], [0, 0, 1, 1])
    np.testing.assert_array_equal(cm, [[1, 0, 0], [1, 1, 0], [0, 1, 0]])  # rows = true
    y = np.array(["cat", "dog", "dog", "eel"])
    p = np.array(["dog", "dog", "eel", "eel"])
    np.testing.assert_array_equal(M.confusion_matrix(y, p), skm.confusion_matrix(y, p))
    with pytest.raises(ValueError, match="y_pred has 3"):
        M.confusion_matrix([0, 1], [0, 1, 1])


@pytest.mark.parametrize("average", [None, "macro", "micro", "weighted"])
@pytest.mark.parametrize("seed", range(3))
def test_precision_recall_f1_match_sklearn(average, seed):
    y, p = _labels(seed, k=5, p_correct=0.4)
    p[p == 3] = 4  # class 3 never predicted: a zero-division case
    for zd in (0.0, 1.0):
        ours = M.precision_recall_f1(y, p, average=average, zero_division=zd)
        ref = skm.precision_recall_fscore_support(y, p, average=average, zero_division=zd)
        for a, b in zip(ours[:3], ref[:3]):
            np.testing.assert_allclose(a, b, rtol=1e-12)
        if average is None:
            np.testing.assert_array_equal(ours[3], ref[3])
        assert M.f1_score(y, p, average=average, zero_division=zd) == pytest.approx(
            skm.f1_score(y, p, average=average, zero_division=zd))
        assert M.precision(y, p, average=average, zero_division=zd) == pytest.approx(
            skm.precision_score(y, p, average=average, zero_division=zd))
        assert M.recall(y, p, average=average, zero_division=zd) == pytest.approx(
            skm.recall_score(y, p, average=average, zero_division=zd))


def test_binary_fbeta_and_nan_zero_division():
    y, p = _labels(7, k=2)
    assert M.f1_score(y, p, average="binary") == pytest.approx(skm.f1_score(y, p))
    f2 = M.precision_recall_f1(y, p, average="binary", beta=2.0)[2]
    assert f2 == pytest.approx(skm.fbeta_score(y, p, beta=2.0))
    y, p = np.array([0, 0, 1, 2]), np.array([0, 0, 1, 1])
    ours = M.precision(y, p, average=None, zero_division=np.nan)
    ref = skm.precision_score(y, p, average=None, zero_division=np.nan)
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(ref))
    assert M.precision(y, p, average="macro", zero_division=np.nan) == pytest.approx(
        skm.precision_score(y, p, average="macro", zero_division=np.nan))
    with pytest.raises(ValueError, match="average"):
        M.f1_score(y, p, average="samples")


@pytest.mark.parametrize("digits", [2, 4])
def test_classification_report_matches_sklearn(digits):
    y, p = _labels(3)
    assert M.classification_report(y, p, digits=digits) == \
        skm.classification_report(y, p, digits=digits)
    names = ["zero", "one", "two", "three-long-name"]
    assert M.classification_report(y, p, target_names=names) == \
        skm.classification_report(y, p, target_names=names)


@pytest.mark.parametrize("seed", range(4))
def test_roc_curve_and_auc_with_ties(seed):
    r = np.random.default_rng(seed)
    y = r.integers(0, 2, 300)
    s = np.round(y * 0.3 + r.random(300), 1)  # rounding creates many ties
    fpr, tpr, thr = M.roc_curve(y, s)
    rf, rt, rthr = skm.roc_curve(y, s)
    np.testing.assert_allclose(fpr, rf)
    np.testing.assert_allclose(tpr, rt)
    np.testing.assert_allclose(thr[1:], rthr[1:])
    assert M.roc_auc(y, s) == pytest.approx(skm.roc_auc_score(y, s), rel=1e-12)
    assert M.roc_auc(y, s) == pytest.approx(np.trapezoid(tpr, fpr), rel=1e-12)
    f2, t2, _ = M.roc_curve(y, s, drop_intermediate=False)
    rf2, rt2, _ = skm.roc_curve(y, s, drop_intermediate=False)
    np.testing.assert_allclose(f2, rf2)
    np.testing.assert_allclose(t2, rt2)


def test_multiclass_auc_and_errors():
    r = np.random.default_rng(0)
    y = r.integers(0, 4, 200)
    s = r.random((200, 4)) + np.eye(4)[y] * 0.5
    s /= s.sum(1, keepdims=True)
    for avg in ("macro", "weighted"):
        assert M.roc_auc(y, s, average=avg) == pytest.approx(
            skm.roc_auc_score(y, s, multi_class="ovr", average=avg), rel=1e-12)
    with pytest.raises(ValueError, match="both positive and negative"):
        M.roc_auc([1, 1, 1], [0.2, 0.3, 0.4])


@pytest.mark.parametrize("k", [1, 2, 3])
def test_top_k_accuracy(k):
    r = np.random.default_rng(k)
    y = r.integers(0, 5, 100)
    s = np.round(r.random((100, 5)), 1)  # ties
    assert M.top_k_accuracy(y, s, k=k) == pytest.approx(
        skm.top_k_accuracy_score(y, s, k=k, labels=range(5)))


# ---------------------------------------------------------------- issue 17: multi-label
def _multihot(seed, n=120, C=5):
    r = np.random.default_rng(seed)
    Y = (r.random((n, C)) < [0.5, 0.3, 0.2, 0.05, 0.0]).astype(np.int64)   # col 4: never true
    flip = r.random((n, C)) < 0.25
    P = np.where(flip, 1 - Y, Y)
    P[:, 3] = 0                        # col 3 never predicted: zero divisions
    P[:5] = 0                          # samples with no predicted label
    Y[5:10] = 0                        # samples with no true label
    return Y, P


@pytest.mark.parametrize("seed", range(4))
def test_multilabel_accuracy_and_hamming_loss_match_sklearn(seed):
    Y, P = _multihot(seed)
    assert M.accuracy(Y, P) == pytest.approx(skm.accuracy_score(Y, P), abs=1e-15)
    assert M.hamming_loss(Y, P) == pytest.approx(skm.hamming_loss(Y, P), abs=1e-15)
    assert M.accuracy(Y.astype(bool), P.astype(float)) == M.accuracy(Y, P)
    y, p = _labels(seed)
    assert M.hamming_loss(y, p) == pytest.approx(skm.hamming_loss(y, p))


@pytest.mark.parametrize("average", [None, "micro", "macro", "weighted", "samples"])
@pytest.mark.parametrize("seed", range(3))
def test_multilabel_precision_recall_f1_match_sklearn(average, seed):
    import warnings
    Y, P = _multihot(seed)
    for zd in (0.0, 1.0, np.nan):
        for beta in (1.0, 0.5):
            ours = M.precision_recall_f1(Y, P, average=average, zero_division=zd, beta=beta)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ref = skm.precision_recall_fscore_support(Y, P, average=average, beta=beta,
                                                          zero_division=zd)
            for a, b in zip(ours[:3], ref[:3]):
                np.testing.assert_allclose(a, b, rtol=1e-12, equal_nan=True)
            if average is None:
                np.testing.assert_array_equal(ours[3], ref[3])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert M.f1_score(Y, P, average=average, zero_division=zd) == pytest.approx(
                skm.f1_score(Y, P, average=average, zero_division=zd), nan_ok=True)
            assert M.precision(Y, P, average=average, zero_division=zd) == pytest.approx(
                skm.precision_score(Y, P, average=average, zero_division=zd), nan_ok=True)
            assert M.recall(Y, P, average=average, zero_division=zd) == pytest.approx(
                skm.recall_score(Y, P, average=average, zero_division=zd), nan_ok=True)
    # a subset of the label columns
    ours = M.precision_recall_f1(Y, P, average="macro", labels=[0, 2])
    ref = skm.precision_recall_fscore_support(Y, P, average="macro", labels=[0, 2])
    np.testing.assert_allclose(ours[:3], ref[:3], rtol=1e-12)


def test_multilabel_errors_and_one_hot_scores_stay_single_label():
    Y, P = _multihot(0)
    with pytest.raises(ValueError, match="threshold the scores"):
        M.f1_score(Y, P + 0.3)
    with pytest.raises(ValueError, match="same shape"):
        M.accuracy(Y, P[:, :3])
    with pytest.raises(ValueError, match="average='binary'"):
        M.f1_score(Y, P, average="binary")
    with pytest.raises(ValueError, match="samples' is for multi-label"):
        M.f1_score([0, 1, 1], [0, 1, 0], average="samples")
    with pytest.raises(ValueError, match="column indices"):
        M.recall(Y, P, labels=[7])
    y, p = _labels(1)
    scores = np.eye(4)[p] + 0.01            # one-hot targets with scores: arg-max of both
    assert M.accuracy(np.eye(4)[y], scores) == M.accuracy(y, p)
