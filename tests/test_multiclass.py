"""glassnet.multiclass: one-vs-rest and one-vs-one around glassnet binary classifiers,
against scikit-learn's wrappers on digits, and the voting rule on hand-made scores."""
from __future__ import annotations

import numpy as np
import pytest

from glassnet import nn
from glassnet.data import load_digits
from glassnet.errors import ArgumentError
from glassnet.multiclass import (BinaryModuleClassifier, OneVsOneClassifier,
                                 OneVsRestClassifier, ovo_decision)


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits()
    X = X / 16.0
    rng = np.random.default_rng(0)
    order = rng.permutation(len(X))
    tr, te = order[:1257], order[1257:]
    return X[tr], y[tr], X[te], y[te]


def logistic():
    return nn.Linear(64, 1)


FAST = dict(epochs=30, lr=0.05, batch_size=128, random_state=0)


@pytest.mark.integration   # about 5 s with scikit-learn's side
def test_ovr_on_digits_close_to_sklearn(digits):
    sk = pytest.importorskip("sklearn.multiclass")
    from sklearn.linear_model import LogisticRegression
    Xtr, ytr, Xte, yte = digits
    ours = OneVsRestClassifier(logistic, **FAST).fit(Xtr, ytr)
    theirs = sk.OneVsRestClassifier(LogisticRegression(max_iter=2000)).fit(Xtr, ytr)
    assert len(ours.estimators_) == len(theirs.estimators_) == 10
    assert ours.classes_.tolist() == list(range(10))
    acc, ref = ours.score(Xte, yte), theirs.score(Xte, yte)
    assert acc > 0.93 and abs(acc - ref) < 0.03, (acc, ref)
    D = ours.decision_function(Xte)
    assert D.shape == (len(Xte), 10)
    assert np.array_equal(ours.predict(Xte), ours.classes_[D.argmax(1)])
    P = ours.predict_proba(Xte)
    assert P.shape == (len(Xte), 10) and np.allclose(P.sum(1), 1.0)
    # each classifier's probability is the sigmoid of its logit, normalised over classes
    sig = 1 / (1 + np.exp(-D))
    assert np.allclose(P, sig / sig.sum(1, keepdims=True))


@pytest.mark.integration   # about 5 s with scikit-learn's side
def test_ovo_on_digits_close_to_sklearn(digits):
    sk = pytest.importorskip("sklearn.multiclass")
    from sklearn.linear_model import LogisticRegression
    Xtr, ytr, Xte, yte = digits
    ours = OneVsOneClassifier(logistic, **FAST).fit(Xtr, ytr)
    theirs = sk.OneVsOneClassifier(LogisticRegression(max_iter=2000)).fit(Xtr, ytr)
    assert len(ours.estimators_) == len(theirs.estimators_) == 10 * 9 // 2
    assert ours.pairs_[:3] == [(0, 1), (0, 2), (0, 3)] and ours.pairs_[-1] == (8, 9)
    acc, ref = ours.score(Xte, yte), theirs.score(Xte, yte)
    assert acc > 0.93 and abs(acc - ref) < 0.03, (acc, ref)
    # the pair (0, 1) classifier saw only classes 0 and 1, class 1 positive
    est = ours.estimators_[0]
    x01 = Xte[(yte == 0) | (yte == 1)]
    assert np.mean(est.predict(x01) == yte[(yte == 0) | (yte == 1)]) > 0.95


@pytest.mark.parametrize("K", [3, 4, 5])
def test_ovo_trains_k_k_minus_1_over_2(K):
    rng = np.random.default_rng(K)
    centres = rng.normal(scale=4, size=(K, 2))
    y = np.repeat(np.arange(K), 20)
    X = centres[y] + rng.normal(size=(len(y), 2))
    ovo = OneVsOneClassifier(lambda: nn.Linear(2, 1), epochs=3, random_state=0).fit(X, y)
    assert len(ovo.estimators_) == K * (K - 1) // 2
    assert ovo.decision_function(X).shape == (len(X), K)


def test_ovo_votes_and_tie_break_by_hand():
    # 3 classes, pairs (0,1), (0,2), (1,2); prediction 1 votes for the pair's second class
    preds = np.array([[1, 0, 1],     # votes: 0 -> 1 (pair 02), 1 -> 1 (01), 2 -> 1 (12): tie
                      [0, 0, 0],     # 0 wins twice, 1 once
                      [1, 1, 1]])    # 1 once, 2 twice
    confs = np.array([[0.2, -0.1, 0.9],
                      [-1.0, -2.0, -0.5],
                      [3.0, 1.0, 2.0]])
    D = ovo_decision(preds, confs, 3)
    votes = np.array([[1, 1, 1], [2, 1, 0], [0, 1, 2]])
    # summed confidences: class i loses pair (i, j)'s confidence, class j gains it
    s = np.stack([-confs[:, 0] - confs[:, 1],
                  confs[:, 0] - confs[:, 2],
                  confs[:, 1] + confs[:, 2]], axis=1)
    assert np.allclose(D, votes + s / (3 * (np.abs(s) + 1)))
    assert D.argmax(1).tolist() == [2, 0, 2]     # the tie goes to the best summed confidence
    assert np.array_equal(np.floor(D + 1 / 3).astype(int), votes)   # never overturns a vote


def test_ovo_decision_matches_sklearn_private_rule():
    mc = pytest.importorskip("sklearn.utils.multiclass")
    rng = np.random.default_rng(1)
    K = 5
    conf = rng.normal(size=(40, K * (K - 1) // 2))
    pred = (conf > 0).astype(int)
    assert np.allclose(ovo_decision(pred, conf, K), mc._ovr_decision_function(pred, conf, K))


def test_wrapping_a_glassnet_sklearn_estimator(digits):
    pytest.importorskip("sklearn")
    from glassnet.sklearn import NeuralNetClassifier
    Xtr, ytr, Xte, yte = digits
    keep, keep_te = ytr < 3, yte < 3
    base = NeuralNetClassifier(hidden_layer_sizes=(16,), max_epochs=10, lr=0.01, random_state=0)
    ovr = OneVsRestClassifier(base).fit(Xtr[keep], ytr[keep])
    ovo = OneVsOneClassifier(base).fit(Xtr[keep], ytr[keep])
    assert len(ovr.estimators_) == 3 and len(ovo.estimators_) == 3
    assert all(e is not base and hasattr(e, "module_") for e in ovr.estimators_)
    assert not hasattr(base, "module_")            # the template is never trained
    for clf in (ovr, ovo):
        assert clf.score(Xte[keep_te], yte[keep_te]) > 0.9
    assert ovr.predict_proba(Xte[keep_te]).shape == (keep_te.sum(), 3)


def test_two_classes_follow_sklearn_shapes():
    X = np.array([[0.0], [1.0], [2.0], [3.0], [4.0], [5.0]])
    y = np.array(["a", "a", "a", "b", "b", "b"])
    ovr = OneVsRestClassifier(lambda: nn.Linear(1, 1), epochs=200, lr=0.1, batch_size=None,
                              random_state=0).fit(X, y)
    assert len(ovr.estimators_) == 1 and ovr.decision_function(X).shape == (6,)
    assert ovr.predict(X).tolist() == y.tolist()
    assert ovr.predict_proba(X).shape == (6, 2)
    ovo = OneVsOneClassifier(lambda: nn.Linear(1, 1), epochs=200, lr=0.1, batch_size=None,
                             random_state=0).fit(X, y)
    assert len(ovo.estimators_) == 1 and ovo.decision_function(X).shape == (6,)
    assert ovo.predict(X).tolist() == y.tolist()


def test_module_instance_is_copied_and_reinitialised():
    template = nn.Linear(2, 1)
    before = template.weight.numpy().copy()
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]] * 5)
    y = np.array([0, 1, 2, 2] * 5)
    ovr = OneVsRestClassifier(template, epochs=2, random_state=0).fit(X, y)
    assert np.array_equal(template.weight.numpy(), before)
    assert all(e.module_ is not template for e in ovr.estimators_)


def test_seeded_fits_are_equal(digits):
    Xtr, ytr, Xte, _ = digits
    a = OneVsRestClassifier(logistic, epochs=2, random_state=3).fit(Xtr, ytr)
    b = OneVsRestClassifier(logistic, epochs=2, random_state=3).fit(Xtr, ytr)
    assert np.array_equal(a.decision_function(Xte), b.decision_function(Xte))


def test_bad_input_is_named():
    X = np.zeros((4, 2))
    with pytest.raises(ArgumentError, match="1 class"):
        OneVsRestClassifier(lambda: nn.Linear(2, 1)).fit(X, np.zeros(4))
    with pytest.raises(ArgumentError, match="y must be 1-D"):
        OneVsOneClassifier(lambda: nn.Linear(2, 1)).fit(X, np.zeros((4, 2)))
    with pytest.raises(ArgumentError, match="call fit"):
        OneVsOneClassifier(lambda: nn.Linear(2, 1)).predict(X)
    with pytest.raises(ArgumentError, match="at most 2 classes"):
        BinaryModuleClassifier(lambda: nn.Linear(2, 1)).fit(X, [0, 1, 2, 2])
    with pytest.raises(ArgumentError, match="one logit"):
        BinaryModuleClassifier(lambda: nn.Linear(2, 3), epochs=1).fit(X, [0, 1, 0, 1])
    with pytest.raises(ArgumentError, match="predictions and confidences"):
        ovo_decision(np.zeros((2, 2)), np.zeros((2, 2)), 3)
    class NoProba:
        def fit(self, X, y):
            return self

        def decision_function(self, X):
            return np.zeros(len(X))

        def predict(self, X):
            return np.zeros(len(X), int)

    with pytest.raises(ArgumentError, match="no predict_proba"):
        OneVsRestClassifier(NoProba()).fit(X, [0, 1, 2, 2]).predict_proba(X)
    with pytest.raises(TypeError, match="estimator must be"):
        OneVsRestClassifier(3).fit(X, [0, 1, 0, 1])
