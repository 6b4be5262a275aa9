"""functional.losses: float64 gradient checks, parity with PyTorch for every reduction,
stability, known values, the class-index path of cross_entropy."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassnet as gn
from glassnet import functional as F
from glassnet.autograd import gradcheck


R = np.random.default_rng(1)


REDUCTIONS = ["mean", "sum", "none"]


def rnd(*shape):
    return R.standard_normal(shape)


def probs(*shape):
    return R.uniform(0.05, 0.95, shape)


def labels(*shape, c=4):
    return R.integers(0, c, shape)


# ------------------------------------------------------------------ gradchecks
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_gradcheck_regression_losses(reduction):
    y, t = rnd(4, 3), rnd(4, 3)
    for half in (False, True):
        rep = gradcheck(lambda a, b: F.mse_loss(a, b, reduction, half), [y, t])
        assert max(rep.values()) < 1e-6
    rep = gradcheck(lambda a, b: F.l1_loss(a, b, reduction), [y, t])
    assert max(rep.values()) < 1e-6


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_gradcheck_bce(reduction):
    p, t, w = probs(5, 3), probs(5, 3), R.uniform(0.5, 2, 3)
    rep = gradcheck(lambda a, b: F.binary_cross_entropy(a, b, w, reduction), [p, t])
    assert max(rep.values()) < 1e-6
    rep = gradcheck(lambda a: F.binary_cross_entropy(a, (t > 0.5) * 1.0, None, reduction), [p])
    assert rep[0] < 1e-6


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_gradcheck_bce_with_logits(reduction):
    x, t = rnd(5, 3) * 3, probs(5, 3)
    w, pw = R.uniform(0.5, 2, (5, 1)), R.uniform(0.5, 3, 3)
    for kw in ({}, {"weight": w}, {"pos_weight": pw}, {"weight": w, "pos_weight": pw}):
        rep = gradcheck(lambda a, b: F.binary_cross_entropy_with_logits(
            a, b, reduction=reduction, **kw), [x, t])
        assert max(rep.values()) < 1e-6, kw


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_gradcheck_class_losses(reduction):
    x = rnd(6, 4)
    y = labels(6)
    y[2] = -100
    w = R.uniform(0.5, 2, 4)
    rep = gradcheck(lambda a: F.nll_loss(a, y, w, reduction=reduction), [x])
    assert rep[0] < 1e-6
    y3 = labels(2, 3, 3)
    rep = gradcheck(lambda a: F.nll_loss(a, y3, reduction=reduction), [rnd(2, 4, 3, 3)])
    assert rep[0] < 1e-6
    y6 = labels(6)
    rep = gradcheck(lambda a: F.cross_entropy(a, y6, reduction), [x])
    assert rep[0] < 1e-6
    for p in (1, 2):
        for kw in ({}, {"weight": w}, {"class_average": False, "margin": 0.5}):
            rep = gradcheck(lambda a: F.multi_margin_loss(a, y6, p, reduction=reduction,
                                                          **kw), [x])
            assert rep[0] < 1e-6, (p, kw)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_gradcheck_margin_losses(reduction):
    x = rnd(5, 3)
    t = np.where(R.random((5, 3)) > 0.5, 1.0, -1.0)
    rep = gradcheck(lambda a: F.hinge_embedding_loss(a, t, 0.7, reduction), [x])
    assert rep[0] < 1e-6
    rep = gradcheck(lambda a, b: F.margin_ranking_loss(a, b, t, 0.3, reduction),
                    [x, rnd(5, 3)])
    assert max(rep.values()) < 1e-6


# ------------------------------------------------------------- torch parity
def _parity(torch, fg, ft, diff, fixed, dtype, tol):
    """``fg(*tensors, *fixed)`` vs ``ft(*torch_tensors, *torch_fixed)``; ``diff`` are the
    float arrays whose gradients are compared."""
    diff = [a.astype(dtype) for a in diff]
    fixed_t = [torch.from_numpy(np.ascontiguousarray(f)) if isinstance(f, np.ndarray) else f
               for f in fixed]
    ts = [gn.Tensor(a.copy(), requires_grad=True) for a in diff]
    out = fg(*ts, *fixed)
    assert out.dtype == dtype
    g = R.standard_normal(out.shape).astype(dtype)
    out.backward(g)
    tt = [torch.from_numpy(a.copy()).requires_grad_() for a in diff]
    ref = ft(*tt, *fixed_t)
    ref.backward(torch.from_numpy(np.asarray(g)))
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=tol, atol=tol)
    for a, b in zip(ts, tt):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=tol, atol=tol)


def _cases(torch):
    tf = torch.nn.functional
    x, t = rnd(6, 4) * 2, rnd(6, 4)
    p, pt = probs(6, 4), (R.random((6, 4)) > 0.5) * 1.0
    w4, pw4 = R.uniform(0.5, 2, 4), R.uniform(0.5, 3, 4)
    y = labels(6)
    y_ign = y.copy()
    y_ign[1] = -100
    pm = np.where(R.random((6, 4)) > 0.5, 1.0, -1.0)
    x3, y3 = rnd(2, 4, 3), labels(2, 3)

    def wt(a, dtype):  # a weight array for torch, of the case's dtype
        return torch.from_numpy(a.astype(dtype))

    return [
        ("mse", lambda r, d: (lambda a, b: F.mse_loss(a, b, r), lambda a, b: tf.mse_loss(
            a, b, reduction=r), [x, t], [])),
        ("l1", lambda r, d: (lambda a, b: F.l1_loss(a, b, r), lambda a, b: tf.l1_loss(
            a, b, reduction=r), [x, t], [])),
        ("bce", lambda r, d: (lambda a: F.binary_cross_entropy(a, pt.astype(d), w4, r),
                              lambda a: tf.binary_cross_entropy(a, torch.from_numpy(
                                  pt.astype(d)), wt(w4, d), reduction=r), [p], [])),
        ("bce_soft", lambda r, d: (lambda a, b: F.binary_cross_entropy(a, b, reduction=r),
                                   lambda a, b: tf.binary_cross_entropy(a, b, reduction=r),
                                   [p, probs(6, 4)], [])),
        ("bce_logits", lambda r, d: (
            lambda a, b: F.binary_cross_entropy_with_logits(a, b, w4, pw4, r),
            lambda a, b: tf.binary_cross_entropy_with_logits(
                a, b, wt(w4, d), reduction=r, pos_weight=wt(pw4, d)), [x, probs(6, 4)], [])),
        ("bce_logits_plain", lambda r, d: (
            lambda a: F.binary_cross_entropy_with_logits(a, pt.astype(d), reduction=r),
            lambda a: tf.binary_cross_entropy_with_logits(a, torch.from_numpy(pt.astype(d)),
                                                          reduction=r), [x * 10], [])),
        ("cross_entropy", lambda r, d: (lambda a: F.cross_entropy(a, y, r, weight=w4),
                                        lambda a: tf.cross_entropy(a, torch.from_numpy(y),
                                                                   wt(w4, d), reduction=r),
                                        [x], [])),
        ("nll", lambda r, d: (lambda a: F.nll_loss(a, y_ign, w4, reduction=r),
                              lambda a: tf.nll_loss(a, torch.from_numpy(y_ign), wt(w4, d),
                                                    reduction=r), [x], [])),
        ("nll_3d", lambda r, d: (lambda a: F.nll_loss(a, y3, reduction=r),
                                 lambda a: tf.nll_loss(a, torch.from_numpy(y3), reduction=r),
                                 [x3], [])),
        ("hinge_embedding", lambda r, d: (
            lambda a: F.hinge_embedding_loss(a, pm, 0.5, r),
            lambda a: tf.hinge_embedding_loss(a, torch.from_numpy(pm.astype(d)), 0.5,
                                              reduction=r), [x], [])),
        ("margin_ranking", lambda r, d: (
            lambda a, b: F.margin_ranking_loss(a, b, pm, 0.2, r),
            lambda a, b: tf.margin_ranking_loss(a, b, torch.from_numpy(pm.astype(d)), 0.2,
                                                reduction=r), [x, t], [])),
        ("multi_margin_p1", lambda r, d: (
            lambda a: F.multi_margin_loss(a, y, 1, 0.8, w4, r),
            lambda a: tf.multi_margin_loss(a, torch.from_numpy(y), 1, 0.8, wt(w4, d),
                                           reduction=r), [x], [])),
        ("multi_margin_p2", lambda r, d: (
            lambda a: F.multi_margin_loss(a, y, 2, reduction=r),
            lambda a: tf.multi_margin_loss(a, torch.from_numpy(y), 2, reduction=r), [x], [])),
    ]


CASE_NAMES = ["mse", "l1", "bce", "bce_soft", "bce_logits", "bce_logits_plain", "cross_entropy",
              "nll", "nll_3d", "hinge_embedding", "margin_ranking", "multi_margin_p1",
              "multi_margin_p2"]


@pytest.mark.parametrize("dtype,tol", [(np.float32, 1e-5), (np.float64, 1e-10)])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", CASE_NAMES)
def test_matches_torch(torch, name, reduction, dtype, tol):
    cases = dict(_cases(torch))
    fg, ft, diff, fixed = cases[name](reduction, dtype)
    _parity(torch, fg, ft, diff, fixed, dtype, tol)


def test_multi_margin_on_a_single_score_vector(torch):
    s = np.array([3.2, 5.1, -1.7])
    out = F.multi_margin_loss(gn.Tensor(s), np.int64(0), reduction="none")
    ref = torch.nn.functional.multi_margin_loss(torch.from_numpy(s)[None], torch.tensor([0]),
                                                reduction="none")
    assert out.shape == () and out.item() == pytest.approx(ref.item())


# ---------------------------------------------------------------- stability
def test_no_overflow_at_1000():
    x = gn.Tensor(np.array([[-1000.0, 1000.0], [1000.0, -1000.0]], np.float32),
                  requires_grad=True)
    t = np.array([[0.0, 1.0], [0.0, 1.0]], np.float32)
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise"):
        warnings.simplefilter("error")
        loss = F.binary_cross_entropy_with_logits(x, t, reduction="none")
        np.testing.assert_allclose(loss.numpy(), [[0.0, 0.0], [1000.0, 1000.0]])
        loss.sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), [[0.0, 0.0], [1.0, -1.0]])
        p = gn.Tensor(np.array([0.0, 1.0, 0.0, 1.0], np.float32), requires_grad=True)
        bce = F.binary_cross_entropy(p, np.array([1.0, 0.0, 0.0, 1.0]), reduction="none")
        np.testing.assert_allclose(bce.numpy(), [100.0, 100.0, 0.0, 0.0])  # clamped logs
        bce.sum().backward()
        assert np.all(np.isfinite(p.grad.numpy()))
        ce = F.cross_entropy(x, np.array([0, 0]), reduction="none")
        np.testing.assert_allclose(ce.numpy(), [2000.0, 0.0])
        mm = F.multi_margin_loss(x, np.array([0, 0]), reduction="none")
        np.testing.assert_allclose(mm.numpy(), [2001.0 / 2, 0.0])


# ------------------------------------------------------------- known values
def test_course_svm_and_ranking_objective():
    # scores of a cat image: cat 3.2, car 5.1, frog -1.7; Delta = 1
    s = gn.Tensor(np.array([[3.2, 5.1, -1.7]]))
    svm = F.multi_margin_loss(s, [0], margin=1.0, class_average=False)
    assert svm.item() == pytest.approx(max(0, 5.1 - 3.2 + 1) + max(0, -1.7 - 3.2 + 1))
    assert F.multi_margin_loss(s, [0]).item() == pytest.approx(2.9 / 3)
    # max(0, Delta + s_c - s): x1 = s_c (wrong), x2 = s (right), target -1
    rank = F.margin_ranking_loss(gn.Tensor(np.array([5.1, -1.7])), gn.Tensor(np.array([3.2, 3.2])),
                                 np.array([-1.0, -1.0]), margin=1.0, reduction="sum")
    assert rank.item() == pytest.approx(2.9)


def test_targets_may_be_tensors_and_get_gradients():
    y = gn.tensor([[0.5, -0.5]], requires_grad=True)
    t = gn.tensor([[1.0, 1.0]], requires_grad=True)
    F.mse_loss(y, t, "sum").backward()
    np.testing.assert_allclose(t.grad.numpy(), [[1.0, 3.0]])  # 2 (t - y)
    tt = gn.tensor([[1.0, 0.0]])
    assert F.binary_cross_entropy_with_logits(y, tt).item() == pytest.approx(
        F.binary_cross_entropy_with_logits(y, np.array([[1.0, 0.0]])).item())
    assert F.nll_loss(gn.tensor([[-0.1, -2.0]]), gn.tensor(np.array([1]))).item() == \
        pytest.approx(2.0)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_cross_entropy_index_path_equals_one_hot_path(reduction):
    """Class indices take a path without a one-hot matrix; it must agree with the
    probability-target path, keep ignored rows out, and survive a retained graph."""
    r = np.random.default_rng(0)
    z = r.normal(size=(7, 5)) * 3
    t = np.array([0, 4, 2, -100, 1, 1, 3])
    keep = t != -100
    onehot = np.zeros((7, 5))
    onehot[np.arange(7)[keep], t[keep]] = 1
    a = gn.tensor(z, requires_grad=True, dtype="float64")
    b = gn.tensor(z[keep], requires_grad=True, dtype="float64")
    la = F.cross_entropy(a, t, reduction=reduction)
    lb = F.cross_entropy(b, onehot[keep], reduction=reduction)
    np.testing.assert_allclose(la.item(), lb.item(), rtol=1e-12)
    la.backward(retain_graph=True)
    lb.backward()
    np.testing.assert_allclose(a.grad.numpy()[keep], b.grad.numpy(), rtol=1e-12, atol=1e-15)
    assert np.all(a.grad.numpy()[~keep] == 0)
    first = a.grad.numpy().copy()
    a.grad = None
    la.backward()          # the saved softmax was not overwritten by the first backward
    np.testing.assert_array_equal(a.grad.numpy(), first)
    with pytest.raises(IndexError, match=r"cross_entropy: target class out of range \[0, 5\)"):
        F.cross_entropy(a, np.array([0, 1, 2, 3, 4, 5, 0]))
    with pytest.raises(IndexError, match=r"cross_entropy: target class out of range"):
        F.cross_entropy(a, np.array([0, 1, 2, 3, 4, -2, 0]))


def test_cross_entropy_over_many_row_blocks_and_threads(monkeypatch):
    """Class-index cross-entropy runs its softmax over blocks of rows on glassnet's
    threads: the loss and gradient equal the whole-matrix formulas, bit for bit for one
    thread and three, and a bad class in a late block is still the named error."""
    from glassnet.functional import losses as FL
    monkeypatch.setattr(FL, "_ROW_BLOCK_ELEMENTS", 300)      # 3 rows of 100 per block
    rng = np.random.default_rng(3)
    z = (rng.standard_normal((2000, 100)) * 4).astype(np.float32)
    t = rng.integers(0, 100, 2000)
    assert 4 * z.size >= gn.backend.PARALLEL_MIN_ELEMENTS      # large enough to be threaded
    got = []
    for n in (1, 3):
        gn.set_num_threads(n)
        try:
            tz = gn.tensor(z, requires_grad=True)
            loss = FL.cross_entropy(tz, t)
            loss.backward()
            got.append((loss.numpy(), tz.grad.numpy()))
        finally:
            gn.set_num_threads(gn.backend.config.cpu_threads())
    np.testing.assert_array_equal(got[0][0], got[1][0])
    np.testing.assert_array_equal(got[0][1], got[1][1])
    z64 = z.astype(np.float64)
    lse = np.log(np.exp(z64 - z64.max(1, keepdims=True)).sum(1)) + z64.max(1)
    want = (lse - z64[np.arange(2000), t]).mean()
    np.testing.assert_allclose(got[0][0], want, rtol=1e-5)
    p = np.exp(z64 - lse[:, None])
    p[np.arange(2000), t] -= 1
    np.testing.assert_allclose(got[0][1], p / 2000, atol=1e-7)
    bad = t.copy()
    bad[1990] = 100
    with pytest.raises(FL.ClassIndexError, match=r"out of range \[0, 100\): got 100"):
        FL.cross_entropy(gn.tensor(z), bad)
