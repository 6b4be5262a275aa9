"""Indexing idioms against PyTorch 2.13: ``x[...]`` with every kind of index, masked_fill,
where, gather / scatter / scatter_add, index_select, take_along_dim, masked_select,
nonzero, tril / triu, diag / diagonal. Values, shapes, dtypes and input gradients."""
import numpy as np
import pytest

import glassnet as gn

from ._compare import TORCH_REASON, assert_same
from .test_shape import run_case

torch = pytest.importorskip("torch", reason=TORCH_REASON)

I = np.array  # noqa: E741  (index arrays keep their dtype: int64)
MASK = np.array([[True, False, True, False], [False, False, True, True],
                 [True, True, False, False]])


def _t(m, a):
    """``a`` as a tensor of module m (torch or glassnet), dtype kept."""
    return m.tensor(a) if m is torch else gn.tensor(a, dtype=a.dtype)


GETITEM = [
    ("int", lambda m, x: x[1], [(3, 4)]),
    ("neg_int", lambda m, x: x[-1], [(3, 4)]),
    ("int_int", lambda m, x: x[1, 2], [(3, 4)]),
    ("slice", lambda m, x: x[1:], [(3, 4)]),
    ("slice_step", lambda m, x: x[::2, 1::2], [(3, 4)]),
    ("col", lambda m, x: x[:, 0], [(3, 4)]),
    ("last_col", lambda m, x: x[..., -1], [(2, 3, 4)]),
    ("ellipsis_mid", lambda m, x: x[0, ..., 1], [(2, 3, 4)]),
    ("none", lambda m, x: x[None], [(3, 4)]),
    ("none_mid", lambda m, x: x[:, None, :], [(3, 4)]),
    ("list", lambda m, x: x[[0, 2]], [(3, 4)]),
    ("list_repeat", lambda m, x: x[[0, 0, 2]], [(3, 4)]),
    ("long_tensor", lambda m, x: x[_t(m, I([2, 0]))], [(3, 4)]),
    ("long_tensor_2d", lambda m, x: x[_t(m, I([[0, 1], [2, 2]]))], [(3, 4)]),
    ("tensor_0d", lambda m, x: x[_t(m, I(1))], [(3, 4)]),
    ("two_arrays", lambda m, x: x[_t(m, I([0, 1, 2])), _t(m, I([3, 2, 1]))], [(3, 4)]),
    ("arange_labels", lambda m, x: x[m.arange(3), _t(m, I([1, 0, 3]))], [(3, 4)]),
    ("slice_and_array", lambda m, x: x[:, [1, 3]], [(3, 4)]),
    ("array_then_slice", lambda m, x: x[[0, 2], 1:], [(3, 4)]),
    ("separated_arrays", lambda m, x: x[[0, 1], :, [1, 2]], [(2, 3, 4)]),
    ("bool_mask", lambda m, x: x[_t(m, MASK)], [(3, 4)]),
    ("bool_mask_rows", lambda m, x: x[_t(m, I([True, False, True]))], [(3, 4)]),
    ("compare_mask", lambda m, x: x[x > 0], [(3, 4)]),
    ("mask_cols", lambda m, x: x[:, _t(m, I([True, False, False, True]))], [(3, 4)]),
    ("index_of_index", lambda m, x: x[1:][0], [(3, 4)]),
]

MASKED = [
    ("masked_fill", lambda m, x: x.masked_fill(_t(m, MASK), 0.0), [(3, 4)]),
    ("masked_fill_inf", lambda m, x: x.masked_fill(_t(m, MASK), float("-inf")).exp(),
     [(3, 4)]),
    ("masked_fill_broadcast", lambda m, x: x.masked_fill(_t(m, I([True, False, True, False])),
                                                         5.0), [(3, 4)]),
    ("masked_fill_cmp", lambda m, x: x.masked_fill(x < 0, 0), [(3, 4)]),
    ("masked_fill_tril", lambda m, x: x.masked_fill(m.tril(m.ones(3, 4)) == 0, -1e9),
     [(3, 4)]),
    ("masked_fill_top", lambda m, x: m.masked_fill(x, x > 0.5, 1.0), [(3, 4)]),
    ("masked_select", lambda m, x: x.masked_select(_t(m, MASK)), [(3, 4)]),
    ("masked_select_bcast", lambda m, x: m.masked_select(x, _t(m, I([True, False, True,
                                                                     True]))), [(3, 4)]),
    ("where", lambda m, x, y: m.where(x > 0, x, y), [(3, 4), (3, 4)]),
    ("where_scalar_other", lambda m, x: m.where(x > 0, x, 0.0), [(3, 4)]),
    ("where_scalar_input", lambda m, x: m.where(x > 0, 1.0, x), [(3, 4)]),
    ("where_broadcast", lambda m, x, y: m.where(x > 0, x, y), [(3, 4), (4,)]),
    ("where_method", lambda m, x, y: x.where(x > 0, y), [(3, 4), (3, 4)]),
    ("where_two_scalars", lambda m, x: m.where(x > 0, 1.0, -1.0), [(3, 4)]),
    ("where_int_scalars", lambda m, x: m.where(x > 0, 1, 0), [(3, 4)]),
    ("where_one_arg", lambda m, x: m.where(x > 0), [(3, 4)]),
    ("where_relu_ish", lambda m, x: m.where(x > 0, x, x * 0.1), [(3, 4)]),
]

GATHER = [
    ("gather_1", lambda m, x: x.gather(1, _t(m, I([[0, 0], [1, 0], [3, 2]]))), [(3, 4)]),
    ("gather_0", lambda m, x: m.gather(x, 0, _t(m, I([[0, 1, 2, 0]]))), [(3, 4)]),
    ("gather_labels", lambda m, x: x.gather(1, _t(m, I([1, 0, 3])).unsqueeze(1)).squeeze(1),
     [(3, 4)]),
    ("gather_neg_dim", lambda m, x: x.gather(-1, _t(m, I([[[1], [0], [2]]]))), [(1, 3, 4)]),
    ("gather_kw", lambda m, x: m.gather(x, dim=1, index=_t(m, I([[2], [2], [2]]))), [(3, 4)]),
    ("scatter_src", lambda m, x, s: x.scatter(1, _t(m, I([[0, 1], [2, 3], [1, 0]])), s),
     [(3, 4), (3, 2)]),
    ("scatter_value", lambda m, x: x.scatter(1, _t(m, I([[0], [2], [3]])), 1.0), [(3, 4)]),
    ("scatter_onehot", lambda m, z: m.zeros(3, 4).scatter(1, _t(m, I([[1], [0], [3]])), 1.0)
     + z, [(3, 4)]),
    ("scatter_top", lambda m, x, s: m.scatter(x, 0, _t(m, I([[2, 1, 0, 2]])), s),
     [(3, 4), (1, 4)]),
    ("scatter_add", lambda m, x, s: x.scatter_add(1, _t(m, I([[0, 0], [1, 1], [3, 3]])), s),
     [(3, 4), (3, 2)]),
    ("scatter_add_top", lambda m, x, s: m.scatter_add(x, 0, _t(m, I([[0, 0, 0, 0],
                                                                      [0, 1, 2, 0]])), s),
     [(3, 4), (2, 4)]),
    ("scatter_add_small_src", lambda m, x, s: x.scatter_add(0, _t(m, I([[1, 2]])), s.detach()),
     [(3, 4), (2, 3)]),
    ("index_select_0", lambda m, x: x.index_select(0, _t(m, I([2, 0, 2]))), [(3, 4)]),
    ("index_select_1", lambda m, x: m.index_select(x, 1, _t(m, I([3, 1]))), [(3, 4)]),
    ("index_select_neg", lambda m, x: m.index_select(x, -1, _t(m, I([0]))), [(2, 3, 4)]),
    ("take_along_dim", lambda m, x: m.take_along_dim(x, _t(m, I([[0], [3], [1]])), dim=1),
     [(3, 4)]),
    ("take_along_dim_argmax", lambda m, x: m.take_along_dim(x, x.argmax(1).unsqueeze(1), 1)
     if m is torch else m.take_along_dim(x, m.tensor(np.argmax(x.numpy(), 1)[:, None]), 1),
     [(3, 4)]),
    ("take_along_dim_flat", lambda m, x: m.take_along_dim(x, _t(m, I([0, 5, 11]))), [(3, 4)]),
    ("take_along_dim_bcast", lambda m, x: m.take_along_dim(x, _t(m, I([[[1, 2]]])), dim=2),
     [(2, 3, 4)]),
]

OTHER = [
    ("nonzero", lambda m, x: (x > 0).nonzero(), [(3, 4)]),
    ("nonzero_tuple", lambda m, x: m.nonzero(x > 0, as_tuple=True), [(3, 4)]),
    ("tril", lambda m, x: x.tril(), [(4, 4)]),
    ("tril_k", lambda m, x: m.tril(x, 1), [(3, 4)]),
    ("tril_neg_k", lambda m, x: m.tril(x, diagonal=-1), [(3, 4)]),
    ("triu", lambda m, x: x.triu(), [(4, 3)]),
    ("triu_k_batch", lambda m, x: m.triu(x, 1), [(2, 3, 3)]),
    ("tril_ones_causal", lambda m, x: m.tril(m.ones(4, 4)) + x, [(4, 4)]),
    ("diag_vec", lambda m, x: m.diag(x), [(3,)]),
    ("diag_vec_k", lambda m, x: x.diag(1), [(3,)]),
    ("diag_mat", lambda m, x: m.diag(x), [(3, 4)]),
    ("diag_mat_neg", lambda m, x: x.diag(-1), [(3, 4)]),
    ("diagonal", lambda m, x: x.diagonal(), [(3, 4)]),
    ("diagonal_batch", lambda m, x: m.diagonal(x, 0, -2, -1), [(2, 3, 3)]),
    ("diagonal_offset", lambda m, x: x.diagonal(offset=1, dim1=1, dim2=2), [(2, 3, 4)]),
]

ALL = GETITEM + MASKED + GATHER + OTHER


@pytest.mark.parametrize("fn,shapes", [c[1:] for c in ALL], ids=[c[0] for c in ALL])
def test_indexing_idiom(fn, shapes):
    run_case(fn, shapes)


@pytest.mark.parametrize("dtype", [np.float32, np.int64, np.bool_])
@pytest.mark.parametrize("op", [
    lambda m, x: x[1:, [0, 1]], lambda m, x: x[x != 0] if m is torch else x[x != 0],
    lambda m, x: x.gather(0, _t(m, I([[1, 0]]))), lambda m, x: x.tril(),
    lambda m, x: x.index_select(1, _t(m, I([1, 1]))), lambda m, x: m.where(x != 0, x, x)],
    ids=["getitem", "mask", "gather", "tril", "index_select", "where"])
def test_dtypes_kept(op, dtype):
    a = (np.arange(6).reshape(3, 2) % 3).astype(dtype)
    run_case(op, [a], grad=False)


@pytest.mark.parametrize("xd,other", [(np.int64, 0.5), (np.float64, 0), (np.int32, 2),
                                      (np.float32, np.ones(4, np.float64)),
                                      (np.int64, np.ones(4, np.float32))])
def test_where_promotes_like_torch(xd, other):
    x = (np.arange(12).reshape(3, 4) - 5).astype(xd)
    gx, tx = gn.tensor(x, dtype=x.dtype), torch.tensor(x)
    if isinstance(other, np.ndarray):
        go, to = gn.tensor(other, dtype=other.dtype), torch.tensor(other)
    else:
        go = to = other
    assert_same(gn.where(gx > 0, gx, go), torch.where(tx > 0, tx, to))


def test_masked_fill_value_tensor_gets_gradient():
    v = np.array(2.0)
    gx = gn.tensor(np.ones((2, 3)), dtype=np.float64, requires_grad=True)
    tx = torch.ones(2, 3, dtype=torch.float64, requires_grad=True)
    gv, tv = gn.tensor(v, dtype=v.dtype, requires_grad=True), torch.tensor(v, requires_grad=True)
    gm, tm = gn.tensor(MASK[:2, :3]), torch.tensor(MASK[:2, :3])
    (gx.masked_fill(gm, gv) * 3).sum().backward()
    (tx.masked_fill(tm, tv) * 3).sum().backward()
    assert_same(gv.grad, tv.grad)
    assert_same(gx.grad, tx.grad)


@pytest.mark.parametrize("fn,exc", [
    (lambda m, x: x[3], IndexError),
    (lambda m, x: x[0, 0, 0], IndexError),
    (lambda m, x: x[1.0], (TypeError, IndexError)),
    (lambda m, x: x.gather(1, _t(m, I([[4]]))), (RuntimeError, IndexError)),
    (lambda m, x: x.gather(1, _t(m, I([0, 1]))), (RuntimeError, ValueError)),
    (lambda m, x: x.index_select(0, _t(m, I([[0]]))), (RuntimeError, ValueError, IndexError)),
    (lambda m, x: x.masked_fill(_t(m, I([True, False])), 0.0), (RuntimeError, ValueError)),
    (lambda m, x: m.tril(x[0]), (RuntimeError, ValueError)),
    (lambda m, x: m.diag(x[None]), (RuntimeError, ValueError)),
], ids=["int_out_of_range", "too_many", "float_index", "gather_oob", "gather_ndim",
        "index_select_2d", "mask_shape", "tril_1d", "diag_3d"])
def test_errors_where_torch_raises(fn, exc):
    a = np.arange(12.0).reshape(3, 4)
    with pytest.raises(exc):
        fn(torch, torch.tensor(a))
    with pytest.raises(exc):
        fn(gn, gn.tensor(a))


def test_cross_entropy_by_hand_with_fancy_index():
    """The textbook NLL: -log_probs[range(N), targets].mean()."""
    a = np.random.default_rng(3).standard_normal((4, 5))
    y = I([1, 0, 4, 2])
    gx, tx = gn.tensor(a, dtype=a.dtype, requires_grad=True), torch.tensor(a, requires_grad=True)
    gl = -(gx - gx.exp().sum(1, keepdims=True).log())[gn.arange(4), gn.tensor(y)].mean()
    tl = -(tx - tx.exp().sum(1, keepdim=True).log())[torch.arange(4), torch.tensor(y)].mean()
    gl.backward()
    tl.backward()
    assert_same(gx.grad, tx.grad)
