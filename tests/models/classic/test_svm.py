"""LinearSVM and the hinge losses (functional/svm_losses.py): hand-computed values, gradcheck,
and learning on the digits against scikit-learn's LinearSVC."""
import numpy as np
import pytest

import glassnet as gn
from glassnet.autograd.gradcheck import gradcheck
from glassnet.errors import ArgumentError
from glassnet.functional.svm_losses import crammer_singer_loss, ovr_hinge_loss
from glassnet.models.classic import LinearSVM


def test_crammer_singer_by_hand():
    s = gn.tensor([[2.0, 1.5, -1.0], [0.0, 1.0, 0.2], [3.0, 0.0, 0.0]])
    y = np.array([0, 2, 0])
    # row 0: 1 + 1.5 - 2 = 0.5; row 1: 1 + 1 - 0.2 = 1.8; row 2: 1 + 0 - 3 < 0 -> 0
    np.testing.assert_allclose(crammer_singer_loss(s, y, reduction="none").numpy(),
                               [0.5, 1.8, 0.0], rtol=1e-6)
    np.testing.assert_allclose(crammer_singer_loss(s, y, p=2, reduction="sum").item(),
                               0.25 + 3.24, rtol=1e-6)


def test_ovr_hinge_by_hand():
    s = gn.tensor([[2.0, 0.5, -1.0]])
    # true class 0: max(0, 1 - 2) = 0; others t = -1: max(0, 1 + 0.5) = 1.5, max(0, 0) = 0
    assert ovr_hinge_loss(s, np.array([0])).item() == pytest.approx(1.5)
    assert ovr_hinge_loss(s, np.array([1]), p=2).item() == pytest.approx(9 + 0.25 + 0)


@pytest.mark.parametrize("fn", [crammer_singer_loss, ovr_hinge_loss])
@pytest.mark.parametrize("p", [1, 2])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_gradcheck(fn, p, reduction):
    rng = np.random.default_rng(1)
    y = np.array([0, 2, 1, 1, 3, 0])
    gradcheck(lambda s: fn(s, y, p=p, reduction=reduction), [rng.normal(size=(6, 4))])


def test_bad_arguments():
    s = gn.tensor(np.zeros((2, 3)))
    with pytest.raises(ArgumentError, match="p must be"):
        crammer_singer_loss(s, np.array([0, 1]), p=3)
    with pytest.raises(ValueError, match="target shape"):
        ovr_hinge_loss(s, np.array([0, 1, 2]))
    with pytest.raises(ValueError, match=r"scores \(N, C\)"):
        crammer_singer_loss(gn.tensor(np.zeros(3)), np.array([0]))
    with pytest.raises(ValueError, match="features"):
        LinearSVM(64, 10).fit(np.zeros((5, 3)), np.zeros(5, int))
    with pytest.raises(ArgumentError, match="multi_class"):
        LinearSVM(4, 2, multi_class="ovo")


@pytest.fixture(scope="module")
def digits():
    X, y = gn.data.load_digits()
    rng = np.random.default_rng(0)
    p = rng.permutation(len(X))
    return (X / 16)[p[:1300]], y[p[:1300]], (X / 16)[p[1300:]], y[p[1300:]]


@pytest.mark.parametrize("mc", ["ovr", "crammer_singer"])
def test_digits_against_linearsvc(digits, mc):
    sk = pytest.importorskip("sklearn.svm")
    Xtr, ytr, Xte, yte = digits
    svm = LinearSVM(64, 10, C=1.0, multi_class=mc, seed=0).fit(Xtr, ytr, epochs=30)
    assert svm.losses_[-1] < svm.losses_[0]
    ours = svm.score(Xte, yte)
    ref = sk.LinearSVC(C=1.0, multi_class=mc, max_iter=5000).fit(Xtr, ytr)
    theirs = ref.score(Xte, yte)
    assert ours > 0.95 and ours >= theirs - 0.02
    # the objective we minimise, evaluated at liblinear's solution, is not lower than ours
    # by more than a little (liblinear also penalises the intercept, so it is not our optimum)
    n = len(Xtr)

    def J(W, b):
        s = gn.tensor((Xtr @ W.T + b).astype(np.float64))
        return float(svm.hinge(s, ytr)) + 0.5 * (W ** 2).sum() / (svm.C * n)
    ours_J = J(svm.linear.weight.numpy().astype(np.float64), svm.linear.bias.numpy())
    assert ours_J <= J(ref.coef_, ref.intercept_) * 1.05
