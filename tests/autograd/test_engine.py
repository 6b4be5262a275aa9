import numpy as np
import pytest

import glassnet as gn
from glassnet import functional as F
from glassnet.autograd import GradcheckError, gradcheck


def test_scalar_chain_rule_matches_hand_derivative():
    x = gn.tensor(3.0, requires_grad=True)
    y = x * x * 2 + x  # dy/dx = 4x + 1 = 13
    y.backward()
    assert x.grad.item() == pytest.approx(13.0)


def test_gradient_accumulates_for_reused_tensor_and_across_calls():
    x = gn.tensor([1.0, 2.0], requires_grad=True)
    (x * x + x).sum().backward()   # 2x + 1
    np.testing.assert_allclose(x.grad.numpy(), [3, 5])
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [6, 8])


def test_shared_upstream_gradient_is_not_aliased_between_leaves():
    a = gn.tensor([1.0, 2.0], requires_grad=True)
    b = gn.tensor([3.0, 4.0], requires_grad=True)
    (a + b).sum().backward()
    a.grad.numpy()[...] += 10
    np.testing.assert_allclose(b.grad.numpy(), [1, 1])


def test_broadcasting_gradients_are_summed():
    a = gn.tensor(np.ones((3, 4)), requires_grad=True)
    b = gn.tensor(np.ones((4,)), requires_grad=True)
    (a * b).sum().backward()
    np.testing.assert_allclose(b.grad.numpy(), [3, 3, 3, 3])


def test_graph_is_freed_unless_retained():
    x = gn.tensor([1.0], requires_grad=True)
    y = (x * 2).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [4])
    with pytest.raises(RuntimeError, match="freed"):
        y.backward()


def test_no_grad_records_nothing():
    x = gn.tensor([1.0], requires_grad=True)
    with gn.no_grad():
        y = x * 2
    assert not y.requires_grad and y.grad_fn is None


def test_float32_default_and_float64_on_request():
    assert gn.tensor([1.0]).dtype == np.float32
    assert gn.tensor([1.0], dtype="float64").dtype == np.float64
    assert gn.tensor([1, 2]).dtype.kind == "i"
    x = gn.tensor([1.0]) * 2.5
    assert x.dtype == np.float32


def test_retain_grad_keeps_intermediate_gradient():
    x = gn.tensor([1.0, -2.0], requires_grad=True)
    h = x * 3
    assert h.retain_grad() is None      # torch's retain_grad returns None
    (h * h).sum().backward()
    np.testing.assert_allclose(h.grad.numpy(), 2 * h.numpy())


def test_backward_on_non_scalar_needs_gradient():
    x = gn.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="scalar"):
        (x * 2).backward()


def test_gradcheck_catches_a_wrong_derivative():
    class Bad(gn.Function):
        def forward(self, a):
            return a * a

        def backward(self, g):
            return g * 3  # wrong: should be 2a

    with pytest.raises(GradcheckError, match="input 0"):
        gradcheck(lambda a: Bad.apply(a), [np.random.rand(4) + 2])


R = np.random.default_rng(1)
CASES = {
    "add": (lambda a, b: a + b, [R.random((3, 4)), R.random((4,))]),
    "sub": (lambda a, b: a - b, [R.random((3, 1)), R.random((3, 4))]),
    "mul": (lambda a, b: a * b, [R.random((3, 4)), R.random((3, 4))]),
    "div": (lambda a, b: a / b, [R.random((3, 4)), R.random((4,)) + 1]),
    "pow_scalar": (lambda a: a ** 3, [R.random((3, 4)) + 0.5]),
    "pow_tensor": (lambda a, b: a ** b, [R.random((3,)) + 0.5, R.random((3,))]),
    "rsub_rdiv": (lambda a: (2 - a) + 1 / (a + 1), [R.random((5,))]),
    "neg": (lambda a: -a, [R.random((2, 3))]),
    "matmul": (lambda a, b: a @ b, [R.random((3, 4)), R.random((4, 2))]),
    "matmul_batched": (lambda a, b: a @ b, [R.random((2, 3, 4)), R.random((4, 5))]),
    "matmul_vec": (lambda a, b: a @ b, [R.random((3, 4)), R.random((4,))]),
    "exp": (lambda a: F.exp(a), [R.random((3, 4))]),
    "log": (lambda a: F.log(a), [R.random((3, 4)) + 0.5]),
    "sqrt": (lambda a: F.sqrt(a), [R.random((3, 4)) + 0.5]),
    "abs": (lambda a: F.abs(a), [R.random((3, 4)) - 0.5]),
    "clip": (lambda a: F.clip(a, 0.2, 0.7), [np.array([0.1, 0.3, 0.5, 0.8])]),
    "maximum": (lambda a, b: F.maximum(a, b), [np.array([1.0, 2, 3]), np.array([2.0, 1, 4])]),
    "minimum": (lambda a, b: F.minimum(a, b), [np.array([1.0, 2, 3]), np.array([2.0, 1, 4])]),
    "where": (lambda a, b: F.where(np.array([True, False, True]), a, b),
              [R.random(3), R.random(3)]),
    "sum_axis": (lambda a: a.sum(axis=1), [R.random((3, 4))]),
    "sum_keep": (lambda a: a.sum(axis=0, keepdims=True), [R.random((3, 4))]),
    "mean": (lambda a: a.mean(axis=(0, 2)), [R.random((2, 3, 4))]),
    "var": (lambda a: F.var(a, axis=1), [R.random((3, 4))]),
    "max": (lambda a: a.max(axis=1).values, [R.random((3, 4))]),
    "amax": (lambda a: a.amax(dim=1), [R.random((3, 4))]),
    "min": (lambda a: a.min(), [R.random((3, 4))]),
    "reshape": (lambda a: a.reshape(4, 3) * np.arange(12.0).reshape(4, 3), [R.random((3, 4))]),
    "transpose": (lambda a: a.permute(2, 0, 1), [R.random((2, 3, 4))]),
    "T": (lambda a: a.T @ a, [R.random((3, 4))]),
    "getitem_slice": (lambda a: a[1:, ::2], [R.random((3, 4))]),
    "getitem_fancy": (lambda a: a[np.array([0, 2, 0])], [R.random((3, 4))]),
    "concat": (lambda a, b: F.concat([a, b], axis=1), [R.random((2, 3)), R.random((2, 2))]),
    "stack": (lambda a, b: F.stack([a, b], axis=1), [R.random((2, 3)), R.random((2, 3))]),
    "linear": (lambda x, w, b: F.linear(x, w, b), [R.random((5, 3)), R.random((4, 3)), R.random(4)]),
    "linear_3d": (lambda x, w: F.linear(x, w), [R.random((2, 5, 3)), R.random((4, 3))]),
    "cast_roundtrip": (lambda a: (a.astype("float64") * 2), [R.random(3)]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradcheck_math_ops(name):
    fn, inputs = CASES[name]
    report = gradcheck(fn, inputs)
    assert all(v < 1e-6 for v in report.values())


def test_deep_chain_and_diamonds_walk_in_topological_order():
    """A 3000-node chain (no recursion limit), and a diamond whose two branches must both
    reach the shared node before it runs its own backward."""
    x = gn.tensor([0.5], requires_grad=True, dtype="float64")
    y = x
    for _ in range(3000):
        y = y * 1.0001
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0001 ** 3000], rtol=1e-12)
    a = gn.tensor([2.0], requires_grad=True, dtype="float64")
    s = a * a                      # shared: ds/da = 2a
    out = (s * 3 + s.exp() + (s * s)).sum()   # d/ds = 3 + e^s + 2s
    out.backward()
    sv = 4.0
    np.testing.assert_allclose(a.grad.numpy(), [(3 + np.exp(sv) + 2 * sv) * 4.0], rtol=1e-12)


def test_backward_through_a_partly_freed_graph_names_the_fix():
    x = gn.tensor([1.0], requires_grad=True)
    h = x * 2
    (h * 3).sum().backward()       # frees h's node too
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        (h * 5).sum().backward()


@pytest.mark.parametrize("shape,dims", [((2, 3), (0, 1)), ((2, 3), (1, 0)), ((2, 3), (0, 0)),
                                        ((2, 3), (-1, -2)), ((2, 3, 4), (0, 2)),
                                        ((2, 3, 4), (-2, -1)), ((3,), (0, 0))])
def test_transpose_of_two_dims_swaps_them_as_torch_does(torch, shape, dims):
    """x.transpose(0, 1) on a matrix is its transpose (it used to return the matrix itself,
    NumPy's meaning of the axes tuple (0, 1)); values and gradients equal torch's."""
    a = np.random.default_rng(0).random(shape)
    x = gn.tensor(a, dtype=np.float64, requires_grad=True)
    t = torch.tensor(a, requires_grad=True)
    y, yt = x.transpose(*dims), t.transpose(*dims)
    assert y.shape == tuple(yt.shape)
    np.testing.assert_array_equal(y.numpy(), yt.detach().numpy())
    w = np.random.default_rng(1).random(y.shape)
    (y * gn.tensor(w, dtype=np.float64)).sum().backward()
    (yt * torch.tensor(w)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())
