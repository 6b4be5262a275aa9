"""Float64 finite-difference checks of every shape and indexing Function (glassnet's own
backward against central differences, no torch needed)."""
import numpy as np
import pytest

import glassnet as gn
from glassnet.autograd import gradcheck

R = np.random.default_rng(0)
IDX = gn.tensor(np.array([[0, 2], [1, 1], [3, 0]]))
MASK = gn.tensor(R.random((3, 4)) > 0.5)

CASES = {
    "view": (lambda a: a.view(4, 3), [R.random((2, 6))]),
    "flatten": (lambda a: a.flatten(), [R.random((2, 3, 2))]),
    "unflatten": (lambda a: a.unflatten(1, (2, 3)), [R.random((2, 6))]),
    "squeeze_unsqueeze": (lambda a: a.squeeze(1).unsqueeze(0), [R.random((2, 1, 3))]),
    "permute": (lambda a: a.permute(2, 0, 1), [R.random((2, 3, 4))]),
    "transpose": (lambda a: a.transpose(0, 1), [R.random((2, 3))]),
    "mT": (lambda a: a.mT, [R.random((2, 3, 4))]),
    "movedim": (lambda a: a.movedim(0, 2), [R.random((2, 3, 4))]),
    "expand": (lambda a: a.expand(2, 3, 4), [R.random((3, 1))]),
    "repeat": (lambda a: a.repeat(2, 1, 3), [R.random((2, 3))]),
    "chunk": (lambda a: a.chunk(3, 1)[1] * a.chunk(3, 1)[2][:, :1], [R.random((2, 5))]),
    "split_list": (lambda a: gn.cat(a.split([2, 1], 0)[::-1]), [R.random((3, 2))]),
    "unbind": (lambda a: a.unbind(1)[0] * a.unbind(1)[2], [R.random((2, 3))]),
    "narrow": (lambda a: a.narrow(1, 1, 2), [R.random((2, 4))]),
    "flip": (lambda a: a.flip(0, 1), [R.random((2, 3))]),
    "roll": (lambda a: a.roll((1, -1), (0, 1)), [R.random((3, 3))]),
    "roll_flat": (lambda a: a.roll(2), [R.random((3, 3))]),
    "cat": (lambda a, b: gn.cat([a, b, a], dim=1), [R.random((2, 3)), R.random((2, 1))]),
    "stack": (lambda a, b: gn.stack([a, b], -1), [R.random((2, 3)), R.random((2, 3))]),
    "clone": (lambda a: a.clone() * a, [R.random((2, 3))]),
    "matmul_2d": (lambda a, b: a @ b, [R.random((2, 3)), R.random((3, 4))]),
    "matmul_dot": (lambda a, b: a @ b, [R.random(3), R.random(3)]),
    "matmul_vec_batch": (lambda a, b: a @ b, [R.random(3), R.random((2, 3, 4))]),
    "matmul_batch_vec": (lambda a, b: a @ b, [R.random((2, 4, 3)), R.random(3)]),
    "matmul_bcast": (lambda a, b: a @ b, [R.random((2, 1, 2, 3)), R.random((3, 3, 2))]),
    "bmm": (lambda a, b: gn.bmm(a, b), [R.random((2, 2, 3)), R.random((2, 3, 2))]),
    "einsum_mm": (lambda a, b: gn.einsum("ij,jk->ik", a, b), [R.random((2, 3)), R.random((3, 2))]),
    "einsum_trace": (lambda a: gn.einsum("ii", a), [R.random((3, 3))]),
    "einsum_diag": (lambda a: gn.einsum("ii->i", a), [R.random((3, 3))]),
    "einsum_unused": (lambda a, b: gn.einsum("ij,kl->ik", a, b), [R.random((2, 3)), R.random((2, 2))]),
    "einsum_three": (lambda a, b, c: gn.einsum("ij,jk,kl->il", a, b, c),
                     [R.random((2, 3)), R.random((3, 2)), R.random((2, 2))]),
    "einsum_ellipsis": (lambda a, b: gn.einsum("...ij,...jk", a, b),
                        [R.random((2, 2, 3)), R.random((2, 3, 2))]),
    "getitem_basic": (lambda a: a[1:, None, ::2], [R.random((3, 4))]),
    "getitem_fancy_repeat": (lambda a: a[[0, 2, 0], 1:], [R.random((3, 4))]),
    "getitem_mask": (lambda a: a[MASK], [R.random((3, 4))]),
    "masked_fill": (lambda a: a.masked_fill(MASK, 0.5), [R.random((3, 4))]),
    "masked_fill_tensor": (lambda a, v: a.masked_fill(MASK, v), [R.random((3, 4)), R.random(())]),
    "where": (lambda a, b: gn.where(MASK, a, b), [R.random((3, 4)), R.random(4)]),
    "gather": (lambda a: a.gather(1, IDX), [R.random((3, 4))]),
    # scatter: distinct targets per row (with repeats one write wins, as in torch)
    "scatter": (lambda a, s: a.scatter(1, gn.tensor(np.array([[0, 2], [1, 3], [3, 0]])), s),
                [R.random((3, 4)), R.random((3, 3))]),
    "scatter_add": (lambda a, s: a.scatter_add(1, IDX, s), [R.random((3, 4)), R.random((3, 2))]),
    "index_select": (lambda a: a.index_select(1, gn.tensor(np.array([3, 0, 3]))), [R.random((2, 4))]),
    "take_along_dim": (lambda a: gn.take_along_dim(a, gn.tensor(np.array([[[1, 0]]])), 2),
                       [R.random((2, 3, 4))]),
    "masked_select": (lambda a: a.masked_select(MASK[0]), [R.random((3, 4))]),
    "tril": (lambda a: a.tril(-1), [R.random((2, 3, 3))]),
    "triu": (lambda a: gn.triu(a, 1), [R.random((3, 4))]),
    "diag_vec": (lambda a: gn.diag(a, -1), [R.random(3)]),
    "diag_mat": (lambda a: gn.diag(a, 1), [R.random((3, 4))]),
    "diagonal": (lambda a: a.diagonal(0, -1, 0), [R.random((3, 2, 3))]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradcheck(name):
    fn, inputs = CASES[name]
    gradcheck(fn, inputs)


def test_functional_flatten_keeps_torch_default_and_math_keeps_batch():
    from glassnet.functional import math as M
    x = gn.zeros(2, 3, 4)
    assert gn.functional.flatten(x).shape == (24,)
    assert M.flatten(x).shape == (2, 12)           # nn.Flatten's internal helper
    assert gn.nn.Flatten()(x).shape == (2, 12)


def test_legacy_axis_alias_of_cat_and_stack():
    a, b = gn.zeros(2, 3), gn.ones(2, 3)
    assert gn.functional.cat([a, b], axis=1).shape == (2, 6)
    assert gn.functional.stack([a, b], axis=1).shape == (2, 2, 3)
    assert gn.squeeze(gn.zeros(1, 2), axis=0).shape == (2,)
