"""Second derivatives (``create_graph=True``) through the shape and indexing Functions of
functional/shape.py and functional/indexing.py: the gradient is gradchecked against finite
differences, and a few Hessian-vector products are compared with torch."""
import numpy as np
import pytest

import glassnet as gn
from glassnet.autograd import gradcheck
from glassnet.functional import double_backward as DB
from glassnet.functional import indexing as IX
from glassnet.functional import shape as SH

R = np.random.default_rng(14)
M34 = gn.tensor(R.random((3, 4)), dtype="float64")
V4 = gn.tensor(R.random(4), dtype="float64")
MASK = gn.tensor(R.random((2, 3)) > 0.5)
IDX = gn.tensor(np.array([[2, 0, 2], [1, 1, 0]]))
SEL = gn.tensor(np.array([2, 0, 2]))


def _grad_fn(f):
    """x -> df/dx (recorded), so that gradcheck checks the second derivative."""
    def g(*xs):
        xs = [x if x.requires_grad else x.detach().requires_grad_() for x in xs]
        with gn.enable_grad():
            gs = gn.autograd.grad(f(*xs), xs, create_graph=True)
        return gs[0] if len(gs) == 1 else sum((gi * gi).sum() for gi in gs)
    return g


def _cube(t):
    return (t ** 3).sum()


CASES = {
    "view": (lambda x: _cube(x.view(3, 2)), [R.random(6)]),
    "reshape_flatten": (lambda x: _cube(x.reshape(2, 3).flatten()), [R.random(6)]),
    "permute": (lambda x: _cube(x.permute(2, 0, 1) * gn.arange(24.0).reshape(4, 2, 3)),
                [R.random((2, 3, 4))]),
    "transpose_mT": (lambda x: _cube(x.transpose(0, 1).mT * 2), [R.random((2, 3, 4))]),
    "unsqueeze_squeeze": (lambda x: _cube(x.unsqueeze(0).squeeze(0)), [R.random(3)]),
    "expand": (lambda x: _cube(x.expand(4, 3) * M34.T), [R.random((1, 3))]),
    "expand_new_axis": (lambda x: _cube(x.expand(2, 3, 4)), [R.random((3, 4))]),
    "repeat": (lambda x: _cube(x.repeat(2, 3) * gn.arange(24.0).reshape(4, 6)),
               [R.random((2, 2))]),
    "repeat_new_axes": (lambda x: _cube(x.repeat(2, 1, 2)), [R.random(3)]),
    "split": (lambda x: sum(_cube(p) * (i + 1) for i, p in enumerate(x.split(2))),
              [R.random(5)]),
    "split_one_piece_used": (lambda x: _cube(x.split([1, 3], dim=1)[1]), [R.random((2, 4))]),
    "chunk": (lambda x: _cube(x.chunk(2, dim=1)[0] * x.chunk(2, dim=1)[1]),
              [R.random((3, 4))]),
    "unbind": (lambda x: sum(_cube(p) * (i + 1) for i, p in enumerate(x.unbind(1))),
               [R.random((2, 3))]),
    "slice": (lambda x: _cube(x[1:, ::2]), [R.random((3, 4))]),
    "slice_int_none": (lambda x: _cube(x[None, 1, ..., 2]), [R.random((3, 4, 5))]),
    "narrow": (lambda x: _cube(x.narrow(0, 1, 2)), [R.random(4)]),
    "flip": (lambda x: _cube(x.flip(0) * gn.arange(4.0)), [R.random(4)]),
    "roll": (lambda x: _cube(x.roll(1, 1) * gn.arange(12.0).reshape(3, 4)),
             [R.random((3, 4))]),
    "roll_flat": (lambda x: _cube(x.roll(2) * gn.arange(6.0).reshape(2, 3)),
                  [R.random((2, 3))]),
    "cat": (lambda x, y: _cube(gn.cat([x, y * x], dim=1)), [R.random((2, 2)), R.random((2, 3))
                                                          [:, :2]]),
    "stack": (lambda x, y: _cube(gn.stack([x, x * y], dim=1)), [R.random(3), R.random(3)]),
    "clone": (lambda x: _cube(x.clone()), [R.random(3)]),
    "matmul_2d": (lambda a, b: _cube(a @ b), [R.random((2, 3)), R.random((3, 2))]),
    "matmul_mv": (lambda a, b: _cube(a @ b), [R.random((2, 3)), R.random(3)]),
    "matmul_vm": (lambda a, b: _cube(a @ b), [R.random(3), R.random((3, 2))]),
    "matmul_dot": (lambda a, b: (a @ b) ** 3, [R.random(3), R.random(3)]),
    "matmul_batched_broadcast": (lambda a, b: _cube(a @ b),
                                 [R.random((2, 2, 3)), R.random((3, 2))]),
    "matmul_vec_batch": (lambda a, b: _cube(a @ b), [R.random(3), R.random((2, 3, 2))]),
    "bmm": (lambda a, b: _cube(a.bmm(b)), [R.random((2, 2, 3)), R.random((2, 3, 2))]),
    "einsum_mm": (lambda a, b: _cube(gn.einsum("ij,jk->ik", a, b)),
                  [R.random((2, 3)), R.random((3, 2))]),
    "einsum_outer_sum": (lambda a, b: _cube(gn.einsum("i,j->i", a, b)),
                         [R.random(3), R.random(2)]),
    "einsum_ellipsis": (lambda a: _cube(gn.einsum("...ij->...ji", a)), [R.random((2, 2, 3))]),
    "getitem_advanced": (lambda x: _cube(x[[0, 2, 0]]), [R.random((3, 2))]),
    "getitem_mask": (lambda x: _cube(x[MASK]), [R.random((2, 3))]),
    "masked_fill": (lambda x: _cube(x.masked_fill(MASK, 0.5)), [R.random((2, 3))]),
    "masked_fill_value_tensor": (lambda x, v: _cube(x.masked_fill(MASK, v) * v),
                                 [R.random((2, 3)), R.random(())]),
    "where": (lambda x, y: _cube(gn.where(MASK, x, y * y)),
              [R.random((2, 3)), R.random((1, 3))]),
    "where_scalar": (lambda x: _cube(gn.where(MASK, x, 2.0)), [R.random((2, 3))]),
    "gather": (lambda x: _cube(x.gather(1, IDX)), [R.random((2, 3))]),
    "take_along_dim": (lambda x: _cube(x.take_along_dim(IDX, 1)), [R.random((2, 3))]),
    "scatter": (lambda x, s: _cube(x.scatter(1, gn.tensor([[2, 0], [0, 1]]), s)),
                [R.random((2, 3)), R.random((2, 3))]),
    "scatter_value": (lambda x: _cube(x.scatter(1, IDX[:, :1], 0.5)), [R.random((2, 3))]),
    "scatter_add": (lambda x, s: _cube(x.scatter_add(1, IDX, s * s)),
                    [R.random((2, 3)), R.random((2, 3))]),
    "index_select": (lambda x: _cube(x.index_select(1, SEL)), [R.random((2, 3))]),
    "index_select_dim0": (lambda x: _cube(x.index_select(0, SEL)), [R.random((3, 2))]),
    "tril_triu": (lambda x: _cube(x.tril(1)) + _cube(x.triu(-1) * 2), [R.random((3, 4))]),
    "diagonal": (lambda x: _cube(x.diagonal(1, 0, 2)), [R.random((3, 2, 4))]),
    "diag_matrix": (lambda x: _cube(x.diag(-1)), [R.random((3, 3))]),
    "diag_embed": (lambda x: _cube(x.diag(1) * gn.arange(16.0).reshape(4, 4)),
                   [R.random(3)]),
    "masked_select": (lambda x: _cube(x.masked_select(MASK[0])), [R.random((2, 3))]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_second_derivative_gradcheck(name):
    f, inputs = CASES[name]
    gradcheck(_grad_fn(f), inputs, rtol=1e-5)


def test_third_derivative_through_slice_and_gather():
    x = gn.tensor(R.random((2, 3)), requires_grad=True)
    y = (x[:, 1:] ** 4).sum() + (x.gather(1, IDX) ** 4).sum() + (x.diagonal() ** 4).sum()
    g, = gn.autograd.grad(y, x, create_graph=True)
    h, = gn.autograd.grad(g.sum(), x, create_graph=True)
    t, = gn.autograd.grad(h.sum(), x)
    xd = x.detach().numpy()
    cnt = np.zeros((2, 3))
    cnt[:, 1:] += 1
    np.add.at(cnt, (np.arange(2)[:, None], IDX.numpy()), 1)
    cnt[[0, 1], [0, 1]] += 1
    np.testing.assert_allclose(t.numpy(), 24 * xd * cnt, rtol=1e-12)


def test_einsum_diagonal_operand_says_so():
    x = gn.tensor(R.random((3, 3)), requires_grad=True)
    with pytest.raises(RuntimeError, match="einsum with a repeated subscript"):
        gn.autograd.grad(gn.einsum("ii->i", x).sum() ** 2, x, create_graph=True)


def test_every_shape_and_indexing_function_is_registered():
    from glassnet.autograd.function import Function
    for mod in (SH, IX):
        for v in vars(mod).values():
            if isinstance(v, type) and issubclass(v, Function) and v.__module__ == mod.__name__:
                assert v in DB.TABLE, v.__name__


# ------------------------------------------------------------------ torch parity
PARITY = {
    "permute_view": lambda T, x, w: ((x.permute(1, 0).reshape(-1) * w.reshape(-1)) ** 3).sum(),
    "matmul_tanh": lambda T, x, w: T.tanh(x @ w.T).pow(2).sum(),
    "cat_slice": lambda T, x, w: (T.cat([x, w * x], 1)[:, 1:5] ** 3).sum(),
    "gather_where": lambda T, x, w: (T.where(x > 0.5, x.gather(1, T.tensor([[1, 0, 2, 2],
                                                                          [0, 0, 1, 3]]))
                                             ** 2, w) ** 2).sum(),
    "expand_repeat": lambda T, x, w: ((x[:1].expand(2, 4) * w.repeat(1, 1)) ** 3).sum(),
    "index_select_flip": lambda T, x, w: ((x.index_select(1, T.tensor([3, 0, 3])).flip(0)
                                           * w[:, :3]) ** 2).sum(),
    "einsum_bilinear": lambda T, x, w: T.einsum("ij,kj->ik", x, w).sin().sum(),
}


@pytest.mark.parametrize("name", sorted(PARITY))
def test_hessian_vector_product_matches_torch(name):
    torch = pytest.importorskip("torch", reason="torch 2.13 not installed: parity skipped")
    f = PARITY[name]
    xa, wa, va = R.random((2, 4)), R.random((2, 4)), R.random((2, 4))
    out = []
    for T in (gn, torch):
        x = T.tensor(xa, requires_grad=True)
        w = T.tensor(wa, requires_grad=True)
        gx, gw = T.autograd.grad(f(T, x, w), (x, w), create_graph=True)
        hv = T.autograd.grad((gx * T.tensor(va)).sum() + (gw * gw).sum(), (x, w))
        out.append([h.detach().numpy() for h in hv] + [gx.detach().numpy()])
    for a, b in zip(*out):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
