"""functional.penalties: float64 gradient checks of the penalty Functions and their values
against hand sums (the regularizers that use them: tests/nn/test_regularization.py)."""
import numpy as np
import pytest

import glassnet as gn
from glassnet import functional as F
from glassnet.autograd import gradcheck
from glassnet.functional.penalties import ActivityPenalty, ElasticPenalty

R = np.random.default_rng(3)


def test_gradcheck_penalty_functions():
    a, b = R.standard_normal((3, 4)), R.standard_normal((2, 2, 2))
    rep = gradcheck(lambda x, y: ElasticPenalty.apply(x, y, l1=0.3, l2=0.7), [a, b])
    assert max(rep.values()) < 1e-6
    rep = gradcheck(lambda x: ActivityPenalty.apply(x, l1=0.2, l2=0.5),
                    [R.standard_normal((5, 3))])
    assert rep[0] < 1e-6


def test_penalty_values_are_the_formulas():
    a, b = R.standard_normal((3, 4)), R.standard_normal(5)
    P = F.elastic_penalty(gn.tensor(a, dtype="float64"), gn.tensor(b, dtype="float64"), l1=0.3, l2=0.7)
    want = 0.3 * (np.abs(a).sum() + np.abs(b).sum()) + 0.7 * ((a ** 2).sum() + (b ** 2).sum())
    assert P.shape == () and P.item() == pytest.approx(want, rel=1e-12)
    x = R.standard_normal((6, 2, 3))
    P = F.activation_penalty(gn.tensor(x, dtype="float64"), l1=0.2, l2=0.5)
    assert P.item() == pytest.approx((0.2 * np.abs(x).sum() + 0.5 * (x ** 2).sum()) / 6,
                                     rel=1e-12)
    with pytest.raises(ValueError, match="at least one tensor"):
        F.elastic_penalty(l2=1.0)


def test_zero_strength_penalties_give_zero_gradients():
    # l1 = l2 = 0 (the defaults): P = 0 and dP/dp = 0 (ElasticPenalty's backward used to
    # call .astype on None there; found by mypy)
    w = gn.tensor(R.standard_normal((3, 2)), requires_grad=True)
    x = gn.tensor(R.standard_normal((4, 3)), requires_grad=True)
    P = F.elastic_penalty(w) + F.activation_penalty(x)
    P.backward()
    assert P.item() == 0.0
    assert w.grad.dtype == w.dtype and not w.grad.numpy().any()
    assert x.grad.dtype == x.dtype and not x.grad.numpy().any()
