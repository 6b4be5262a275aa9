"""nn.functional's p-norms with p = inf / -inf (pairwise_distance, normalize,
triplet_margin_loss): the largest / smallest |x| as a Tensor, gradients shared among ties.

mypy found these returning max()'s (values, indices) named tuple (and the largest |x| for
p = -inf too) once nn/functional.py was type-checked."""
from __future__ import annotations

import math

import numpy as np
import pytest

import glassnet as gn
import glassnet.nn.functional as F

A = np.array([[1.0, -3.0, 3.0], [2.0, 0.5, -1.0]])
B = np.array([[0.0, 0.0, 0.5], [1.0, 1.0, 1.0]])


@pytest.mark.parametrize("p, want", [(math.inf, [3.0, 2.0]), (-math.inf, [1.0, 0.5])])
def test_pairwise_distance_inf_is_the_extreme_absolute_difference(p, want):
    d = F.pairwise_distance(gn.tensor(A), gn.tensor(B), p=p, eps=0.0)
    assert isinstance(d, gn.Tensor)
    np.testing.assert_allclose(d.numpy(), want)


def test_normalize_inf_divides_by_the_largest_absolute_value_and_shares_ties():
    x = gn.tensor(A, requires_grad=True)
    y = F.normalize(x, p=math.inf, dim=1)
    np.testing.assert_allclose(y.numpy(), A / np.array([[3.0], [2.0]]))
    y.sum().backward()
    # row 0: |-3| and |3| tie for the max, so d(max)/dx is 1/2 at each (sign included)
    s0 = A[0].sum()
    g0 = 1.0 / 3.0 - s0 / 9.0 * np.array([0.0, -0.5, 0.5])
    np.testing.assert_allclose(x.grad.numpy()[0], g0, rtol=1e-6)


def test_triplet_margin_loss_with_p_inf_is_a_number():
    a, p_, n = (gn.tensor(v) for v in (A, B, -B))
    loss = F.triplet_margin_loss(a, p_, n, p=math.inf)
    assert isinstance(loss, gn.Tensor) and loss.ndim == 0


@pytest.mark.parametrize("p", [math.inf, -math.inf])
def test_inf_norms_match_torch(p):
    torch = pytest.importorskip("torch")
    x = gn.tensor(A, requires_grad=True)
    tx = torch.tensor(A, requires_grad=True)
    (F.pairwise_distance(x, gn.tensor(B), p=p) * gn.tensor([1.0, 2.0])).sum().backward()
    (torch.nn.functional.pairwise_distance(tx, torch.tensor(B), p=p)
     * torch.tensor([1.0, 2.0])).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), atol=1e-12)
    x = gn.tensor(A, requires_grad=True)
    tx = torch.tensor(A, requires_grad=True)
    y = F.normalize(x, p=p, dim=1)
    ty = torch.nn.functional.normalize(tx, p=p, dim=1)
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), atol=1e-12)
    (y * gn.tensor(B)).sum().backward()
    (ty * torch.tensor(B)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), atol=1e-12)
