"""Shape idioms against PyTorch 2.13: size(), views, permutations, splitting, joining,
products. Each case is one idiom, run on both libraries with the same values; the result
(type, shape, dtype, values) and the gradient of every input are compared.

The silent cases of issue 14 are at the top: ``x.transpose(0, 1)`` on a matrix,
``x.flatten()`` (everything, not from axis 1), ``x.size(0)``.
"""
import numpy as np
import pytest

import glassnet as gn

from ._compare import TORCH_REASON, assert_same

torch = pytest.importorskip("torch", reason=TORCH_REASON)


def _inputs(shapes, grad, seed=0):
    rng = np.random.default_rng(seed)
    gs, ts = [], []
    for s in shapes:
        if isinstance(s, np.ndarray):
            a = s
        else:
            a = rng.standard_normal(s).astype(np.float64)
        rg = grad and a.dtype.kind == "f"
        gs.append(gn.tensor(a.copy(), dtype=a.dtype, requires_grad=rg))
        ts.append(torch.tensor(a.copy(), requires_grad=rg))
    return gs, ts


def _backward(out_g, out_t, seed=1):
    """Backward of sum(out * w) for a fixed random w, on every float tensor output."""
    outs = [(out_g, out_t)] if not isinstance(out_t, (tuple, list)) else list(zip(out_g, out_t))
    rng = np.random.default_rng(seed)
    lg, lt = None, None
    for g, t in outs:
        if not (hasattr(t, "requires_grad") and t.requires_grad):
            continue
        w = rng.standard_normal(tuple(t.shape))
        pg = (g * gn.tensor(w, dtype=g.dtype)).sum()
        pt = (t * torch.tensor(w, dtype=t.dtype)).sum()
        lg = pg if lg is None else lg + pg
        lt = pt if lt is None else lt + pt
    if lt is not None:
        lg.backward()
        lt.backward()
        return True
    return False


def run_case(fn, shapes, grad=True, **kw):
    gs, ts = _inputs(shapes, grad)
    out_t = fn(torch, *ts)
    out_g = fn(gn, *gs)
    assert_same(out_g, out_t, **kw)
    if grad and _backward(out_g, out_t):
        for g, t in zip(gs, ts):
            if t.requires_grad:
                assert_same(g.grad, t.grad, what="grad", **kw)


# (id, fn(m, *tensors), input shapes)
SILENT = [
    ("transpose_matrix_0_1", lambda m, x: x.transpose(0, 1), [(2, 3)]),
    ("flatten_all", lambda m, x: x.flatten(), [(2, 3, 4)]),
    ("size_0", lambda m, x: x.size(0), [(2, 3)]),
    ("size_neg", lambda m, x: x.size(-1), [(2, 3, 5)]),
    ("size_all", lambda m, x: x.size(), [(2, 3)]),
    ("top_flatten_default", lambda m, x: m.flatten(x), [(4, 2, 3)]),
    ("top_transpose_matrix", lambda m, x: m.transpose(x, 0, 1), [(3, 2)]),
]

VIEWS = [
    ("shape_attr", lambda m, x: x.shape, [(2, 3)]),
    ("size_numel", lambda m, x: x.size().numel(), [(2, 3, 4)]),
    ("shape_slice", lambda m, x: x.shape[1:], [(2, 3, 4)]),
    ("numel", lambda m, x: x.numel(), [(2, 3, 4)]),
    ("dim", lambda m, x: x.dim(), [(2, 3, 4)]),
    ("view_ints", lambda m, x: x.view(3, 2), [(2, 3)]),
    ("view_tuple", lambda m, x: x.view((6,)), [(2, 3)]),
    ("view_infer", lambda m, x: x.view(-1, 4), [(2, 3, 4)]),
    ("view_as", lambda m, x, y: x.view_as(y), [(2, 6), (3, 4)]),
    ("view_size_of", lambda m, x, y: x.view(y.size()), [(2, 6), (4, 3)]),
    ("reshape_ints", lambda m, x: x.reshape(4, 6), [(2, 3, 4)]),
    ("reshape_tuple", lambda m, x: x.reshape((3, -1)), [(2, 3, 4)]),
    ("reshape_batch_infer", lambda m, x: x.reshape(x.size(0), -1), [(5, 3, 2)]),
    ("top_reshape", lambda m, x: m.reshape(x, (-1,)), [(2, 3)]),
    ("reshape_scalar", lambda m, x: x.reshape(()), [(1,)]),
    ("flatten_1", lambda m, x: x.flatten(1), [(2, 3, 4)]),
    ("flatten_start_end", lambda m, x: x.flatten(1, 2), [(2, 3, 4, 5)]),
    ("flatten_neg", lambda m, x: x.flatten(-2), [(2, 3, 4)]),
    ("flatten_0d", lambda m, x: x.sum().flatten(), [(2, 3)]),
    ("top_flatten_start", lambda m, x: m.flatten(x, 1), [(4, 2, 3)]),
    ("top_flatten_kw", lambda m, x: m.flatten(x, start_dim=0, end_dim=1), [(4, 2, 3)]),
    ("unflatten", lambda m, x: x.unflatten(1, (2, 3)), [(4, 6)]),
    ("unflatten_infer", lambda m, x: x.unflatten(-1, (-1, 2)), [(4, 6)]),
    ("top_unflatten", lambda m, x: m.unflatten(x, 0, (2, 2)), [(4, 3)]),
    ("squeeze_all", lambda m, x: x.squeeze(), [(1, 3, 1, 2)]),
    ("squeeze_dim", lambda m, x: x.squeeze(0), [(1, 3, 1)]),
    ("squeeze_non1_noop", lambda m, x: x.squeeze(1), [(1, 3, 1)]),
    ("squeeze_neg", lambda m, x: x.squeeze(-1), [(2, 3, 1)]),
    ("squeeze_tuple", lambda m, x: x.squeeze((0, 2)), [(1, 3, 1, 1)]),
    ("top_squeeze", lambda m, x: m.squeeze(x, 1), [(2, 1, 3)]),
    ("unsqueeze_0", lambda m, x: x.unsqueeze(0), [(2, 3)]),
    ("unsqueeze_end", lambda m, x: x.unsqueeze(-1), [(2, 3)]),
    ("unsqueeze_mid", lambda m, x: x.unsqueeze(1), [(2, 3)]),
    ("unsqueeze_kw", lambda m, x: m.unsqueeze(x, dim=2), [(2, 3)]),
    ("none_index", lambda m, x: x[:, None], [(2, 3)]),
    ("contiguous", lambda m, x: x.transpose(0, 1).contiguous().view(-1), [(2, 3)]),
    ("clone", lambda m, x: x.clone() * 2, [(2, 3)]),
    ("top_clone", lambda m, x: m.clone(x), [(2, 3)]),
]

PERMS = [
    ("transpose_3d", lambda m, x: x.transpose(0, 2), [(2, 3, 4)]),
    ("transpose_neg", lambda m, x: x.transpose(-1, -2), [(2, 3, 4)]),
    ("transpose_same", lambda m, x: x.transpose(1, 1), [(2, 3)]),
    ("swapaxes", lambda m, x: x.swapaxes(0, 1), [(2, 3, 4)]),
    ("swapdims", lambda m, x: x.swapdims(2, 0), [(2, 3, 4)]),
    ("permute_ints", lambda m, x: x.permute(2, 0, 1), [(2, 3, 4)]),
    ("permute_tuple", lambda m, x: x.permute((1, 2, 0)), [(2, 3, 4)]),
    ("permute_neg", lambda m, x: x.permute(-1, 0, 1), [(2, 3, 4)]),
    ("permute_4d_nchw", lambda m, x: x.permute(0, 2, 3, 1), [(2, 3, 4, 5)]),
    ("top_permute", lambda m, x: m.permute(x, (1, 0)), [(2, 3)]),
    ("t_matrix", lambda m, x: x.t(), [(2, 3)]),
    ("t_vector", lambda m, x: x.t(), [(3,)]),
    ("top_t", lambda m, x: m.t(x), [(2, 3)]),
    ("T_matrix", lambda m, x: x.T, [(2, 3)]),
    ("mT_batch", lambda m, x: x.mT, [(4, 2, 3)]),
    ("mH_batch", lambda m, x: x.mH, [(4, 2, 3)]),
    ("movedim", lambda m, x: x.movedim(0, -1), [(2, 3, 4)]),
    ("movedim_tuple", lambda m, x: m.movedim(x, (0, 1), (2, 0)), [(2, 3, 4)]),
    ("moveaxis", lambda m, x: x.moveaxis(2, 0), [(2, 3, 4)]),
]

EXPAND = [
    ("expand", lambda m, x: x.expand(3, 4), [(3, 1)]),
    ("expand_minus1", lambda m, x: x.expand(-1, 5), [(3, 1)]),
    ("expand_new_lead", lambda m, x: x.expand(2, 3, 4), [(1, 4)]),
    ("expand_tuple", lambda m, x: x.expand((2, 3)), [(3,)]),
    ("expand_as", lambda m, x, y: x.expand_as(y), [(1, 3), (4, 3)]),
    ("repeat", lambda m, x: x.repeat(2, 3), [(2, 3)]),
    ("repeat_more_dims", lambda m, x: x.repeat(2, 1, 2), [(2, 3)]),
    ("repeat_tuple", lambda m, x: x.repeat((3,)), [(2,)]),
]

SPLITS = [
    ("chunk_even", lambda m, x: x.chunk(3), [(6, 2)]),
    ("chunk_uneven", lambda m, x: x.chunk(3, dim=1), [(2, 7)]),
    ("chunk_fewer", lambda m, x: x.chunk(4), [(6,)]),
    ("top_chunk", lambda m, x: m.chunk(x, 2, -1), [(3, 4)]),
    ("split_int", lambda m, x: x.split(2), [(5, 3)]),
    ("split_list", lambda m, x: x.split([1, 3, 1], dim=0), [(5, 3)]),
    ("top_split_dim", lambda m, x: m.split(x, 2, dim=1), [(3, 4)]),
    ("split_one_piece_used", lambda m, x: x.split(2)[1] * 3, [(5, 3)]),
    ("unbind", lambda m, x: x.unbind(), [(3, 2)]),
    ("unbind_dim", lambda m, x: m.unbind(x, dim=1), [(3, 2)]),
    ("unpack_rows", lambda m, x: tuple(x), [(3, 2)]),
    ("narrow", lambda m, x: x.narrow(1, 1, 2), [(3, 4)]),
    ("narrow_neg_start", lambda m, x: m.narrow(x, 0, -2, 2), [(3, 4)]),
]

OTHERS = [
    ("flip", lambda m, x: x.flip(0), [(3, 4)]),
    ("flip_list", lambda m, x: m.flip(x, [0, 1]), [(3, 4)]),
    ("flip_ints", lambda m, x: x.flip(1, 2), [(2, 3, 4)]),
    ("roll", lambda m, x: x.roll(1), [(3, 4)]),
    ("roll_dim", lambda m, x: m.roll(x, -1, 1), [(3, 4)]),
    ("roll_dims", lambda m, x: m.roll(x, (1, 2), (0, 1)), [(3, 4)]),
]

JOIN = [
    ("cat_dim0", lambda m, x, y: m.cat([x, y]), [(2, 3), (4, 3)]),
    ("cat_dim1", lambda m, x, y: m.cat((x, y), dim=1), [(2, 3), (2, 1)]),
    ("cat_neg", lambda m, x, y: m.cat([x, y], -1), [(2, 3), (2, 2)]),
    ("cat_axis_alias", lambda m, x, y: m.cat([x, y], axis=1), [(2, 3), (2, 2)]),
    ("concat", lambda m, x, y: m.concat([x, y]), [(2, 3), (1, 3)]),
    ("concatenate", lambda m, x, y: m.concatenate([x, y], dim=0), [(2, 3), (1, 3)]),
    ("cat_three", lambda m, x, y, z: m.cat([x, y, z], 1), [(2, 1), (2, 2), (2, 3)]),
    ("cat_same_twice", lambda m, x: m.cat([x, x]), [(2, 3)]),
    ("stack_dim0", lambda m, x, y: m.stack([x, y]), [(2, 3), (2, 3)]),
    ("stack_dim1", lambda m, x, y: m.stack((x, y), dim=1), [(2, 3), (2, 3)]),
    ("stack_end", lambda m, x, y: m.stack([x, y], -1), [(2, 3), (2, 3)]),
    ("stack_axis_alias", lambda m, x, y: m.stack([x, y], axis=2), [(2, 3), (2, 3)]),
    ("hstack", lambda m, x, y: m.hstack([x, y]), [(2, 3), (2, 1)]),
    ("vstack_1d", lambda m, x, y: m.vstack([x, y]), [(3,), (3,)]),
]

PRODUCTS = [
    ("mm", lambda m, a, b: m.mm(a, b), [(2, 3), (3, 4)]),
    ("mm_method", lambda m, a, b: a.mm(b), [(2, 3), (3, 4)]),
    ("bmm", lambda m, a, b: m.bmm(a, b), [(5, 2, 3), (5, 3, 4)]),
    ("matmul_2d", lambda m, a, b: a @ b, [(2, 3), (3, 4)]),
    ("matmul_dot", lambda m, a, b: a @ b, [(3,), (3,)]),
    ("matmul_mat_vec", lambda m, a, b: a @ b, [(2, 3), (3,)]),
    ("matmul_vec_mat", lambda m, a, b: a @ b, [(3,), (3, 4)]),
    ("matmul_batch_vec", lambda m, a, b: m.matmul(a, b), [(5, 2, 3), (3,)]),
    ("matmul_vec_batch", lambda m, a, b: m.matmul(a, b), [(3,), (5, 3, 4)]),
    ("matmul_batch_mat", lambda m, a, b: a @ b, [(5, 2, 3), (3, 4)]),
    ("matmul_mat_batch", lambda m, a, b: a @ b, [(2, 3), (5, 3, 4)]),
    ("matmul_broadcast_batch", lambda m, a, b: a.matmul(b), [(2, 1, 2, 3), (4, 3, 2)]),
    ("matmul_4d", lambda m, a, b: a @ b, [(2, 3, 4, 5), (2, 3, 5, 2)]),
    ("einsum_mm", lambda m, a, b: m.einsum("ij,jk->ik", a, b), [(2, 3), (3, 4)]),
    ("einsum_batch", lambda m, a, b: m.einsum("bij,bjk->bik", a, b), [(2, 2, 3), (2, 3, 4)]),
    ("einsum_trace", lambda m, a: m.einsum("ii", a), [(3, 3)]),
    ("einsum_diag", lambda m, a: m.einsum("ii->i", a), [(3, 3)]),
    ("einsum_outer", lambda m, a, b: m.einsum("i,j->ij", a, b), [(3,), (4,)]),
    ("einsum_implicit", lambda m, a, b: m.einsum("ij,jk", a, b), [(2, 3), (3, 4)]),
    ("einsum_sum_out", lambda m, a: m.einsum("ij->j", a), [(2, 3)]),
    ("einsum_ellipsis", lambda m, a, b: m.einsum("...ij,...jk->...ik", a, b),
     [(5, 2, 3), (5, 3, 2)]),
    ("einsum_list", lambda m, a, b: m.einsum("ij,ij->i", [a, b]), [(2, 3), (2, 3)]),
    ("einsum_attention", lambda m, q, k: m.einsum("bhqd,bhkd->bhqk", q, k),
     [(2, 2, 3, 4), (2, 2, 5, 4)]),
    ("einsum_three", lambda m, a, b, c: m.einsum("ij,jk,kl->il", a, b, c),
     [(2, 3), (3, 4), (4, 2)]),
    ("einsum_unused_letter", lambda m, a, b: m.einsum("ij,kl->ik", a, b), [(2, 3), (4, 5)]),
]

ALL = SILENT + VIEWS + PERMS + EXPAND + SPLITS + OTHERS + JOIN + PRODUCTS


@pytest.mark.parametrize("fn,shapes", [c[1:] for c in ALL], ids=[c[0] for c in ALL])
def test_shape_idiom(fn, shapes):
    run_case(fn, shapes)


@pytest.mark.parametrize("dtype", [np.float32, np.int64, np.bool_])
@pytest.mark.parametrize("op", [
    lambda m, x: x.transpose(0, 1), lambda m, x: x.flatten(), lambda m, x: x.view(-1, 2),
    lambda m, x: x.unsqueeze(0).expand(2, -1, -1), lambda m, x: m.cat([x, x], 1),
    lambda m, x: m.stack([x, x]), lambda m, x: x.flip(0), lambda m, x: x.repeat(1, 2)],
    ids=["transpose", "flatten", "view", "expand", "cat", "stack", "flip", "repeat"])
def test_dtypes_kept(op, dtype):
    a = (np.arange(12).reshape(6, 2) % 3).astype(dtype)
    run_case(op, [a], grad=False)


@pytest.mark.parametrize("a,b", [(np.float32, np.float64), (np.int64, np.float32),
                                 (np.int32, np.int64), (np.bool_, np.int64)])
def test_cat_promotes_like_torch(a, b):
    x = np.ones((2, 2), dtype=a)
    y = np.zeros((1, 2), dtype=b)
    run_case(lambda m, x, y: m.cat([x, y]), [x, y], grad=False)


def test_size_is_a_tuple_and_repr():
    s = gn.zeros(2, 3).size()
    assert isinstance(s, tuple) and isinstance(s, gn.Size)
    assert repr(s) == "glassnet.Size([2, 3])"
    assert s == (2, 3) and s.numel() == 6
    # x.shape stays a plain tuple (a Size costs 2x per access and changes every printed
    # shape); it compares equal to torch's Size
    assert gn.zeros(2, 3).shape == torch.zeros(2, 3).shape


@pytest.mark.parametrize("fn,exc", [
    (lambda m, x: x.size(2), IndexError),
    (lambda m, x: x.transpose(0, 2), IndexError),
    (lambda m, x: x.view(4, 2), (RuntimeError, ValueError)),
    (lambda m, x: x.view(-1, -1), (RuntimeError, ValueError)),
    (lambda m, x: x.permute(1, 0, 2), (RuntimeError, ValueError)),
    (lambda m, x: x.expand(4, 3), (RuntimeError, ValueError)),
    (lambda m, x: x.t().t().unsqueeze(0).t(), (RuntimeError, ValueError)),
    (lambda m, x: m.cat([x, x.t()]), (RuntimeError, ValueError)),
    (lambda m, x: m.stack([x, x[:1]]), (RuntimeError, ValueError)),
    (lambda m, x: x.split([1, 2]), (RuntimeError, ValueError)),
    (lambda m, x: m.mm(x, x), (RuntimeError, ValueError)),
    (lambda m, x: x @ x, (RuntimeError, ValueError)),
    (lambda m, x: x.unsqueeze(3), IndexError),
], ids=["size", "transpose", "view", "view_two_infer", "permute_len", "expand", "t_3d",
        "cat_shape", "stack_shape", "split_sum", "mm_shape", "matmul_shape", "unsqueeze"])
def test_errors_where_torch_raises(fn, exc):
    gx, tx = _inputs([(2, 3)], grad=False)
    with pytest.raises(exc):
        fn(torch, *tx)
    with pytest.raises(exc):
        fn(gn, *gx)


def test_expand_then_inplace_grad_reaches_input_once_per_copy():
    gx, tx = _inputs([(3, 1)], grad=True)
    (gx[0].expand(3, 4) * 2).sum().backward()
    (tx[0].expand(3, 4) * 2).sum().backward()
    assert_same(gx[0].grad, tx[0].grad)
