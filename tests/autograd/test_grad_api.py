"""``autograd.grad`` / ``backward`` arguments, second derivatives (gradchecked), hooks on
non-leaf tensors, grad modes."""
import numpy as np
import pytest

import glassnet as gn
from glassnet import functional as F
from glassnet.autograd import gradcheck

R = np.random.default_rng(11)
C32 = gn.tensor(R.random((3, 2)), dtype="float64")
C43 = gn.tensor(R.random((4, 3)), dtype="float64")
C2 = gn.tensor(R.random(2), dtype="float64")
C31 = gn.tensor(R.random((3, 1)), dtype="float64")
C4 = gn.tensor(R.random(4), dtype="float64")


def _grad_fn(f):
    """x -> df/dx as a differentiable function of x (for gradcheck of the second
    derivative)."""
    def g(*xs):
        xs = [x if x.requires_grad else x.detach().requires_grad_() for x in xs]
        with gn.enable_grad():
            gs = gn.autograd.grad(f(*xs), xs, create_graph=True)
        return gs[0] if len(gs) == 1 else sum(gi.sum() for gi in gs)
    return g


SECOND = {
    "tanh": (lambda x: F.tanh(x).sum(), [R.random(4) - 0.5]),
    "sigmoid": (lambda x: F.sigmoid(x).sum(), [R.random(4) - 0.5]),
    "cube": (lambda x: (x ** 3).sum(), [R.random(4) + 0.2]),
    "exp_log": (lambda x: (x.exp() * (x * x + 1).log()).sum(), [R.random(4)]),
    "div_sqrt": (lambda x: (1 / (x * x + 1).sqrt()).sum(), [R.random(4)]),
    "mean_var": (lambda x: ((x - x.mean()) ** 2).mean(), [R.random(5)]),
    "matmul": (lambda w: F.tanh(w @ C32).sum(),
               [R.random((2, 3))]),
    "linear_bias": (lambda w: F.tanh(F.linear(C43, w, C2)).sum(),
                    [R.random((2, 3))]),
    "softmax": (lambda x: (F.softmax(x, axis=-1) ** 2).sum(), [R.random((2, 3))]),
    "log_softmax": (lambda x: (F.log_softmax(x, axis=-1) ** 2).sum(), [R.random((2, 3))]),
    "getitem_reshape_T": (lambda x: (x.reshape(2, 3).transpose(0, 1)[1:] ** 3).sum(),
                          [R.random(6)]),
    "sum_axis_broadcast": (lambda x: ((x * C31)
                                      .sum(axis=0) ** 2).sum(), [R.random(4)]),
    "max": (lambda x: (x.amax(dim=1) ** 2).sum(), [R.random((3, 4))]),
    "mse": (lambda x: F.mse_loss(F.tanh(x), C4),
            [R.random(4)]),
    "concat": (lambda x: (F.concat([x, x * x], axis=0) ** 2).sum(), [R.random(3)]),
    "two_inputs": (lambda a, b: (a * b * b + a / b).sum(), [R.random(3), R.random(3) + 1]),
}


@pytest.mark.parametrize("name", sorted(SECOND))
def test_second_derivative_gradcheck(name):
    f, inputs = SECOND[name]
    gradcheck(_grad_fn(f), inputs, rtol=1e-5)


def test_hessian_vector_product_matches_finite_differences():
    A = R.standard_normal((3, 3))
    v = R.standard_normal(3)

    def grad_at(w0):
        w = gn.tensor(w0, dtype="float64", requires_grad=True)
        y = F.tanh(w @ gn.tensor(A, dtype="float64") @ w)
        g, = gn.autograd.grad(y, w, create_graph=True)
        return w, g
    w0 = R.standard_normal(3) * 0.3
    w, g = grad_at(w0)
    hv, = gn.autograd.grad((g * gn.tensor(v, dtype="float64")).sum(), w)
    eps = 1e-6
    fd = (grad_at(w0 + eps * v)[1].numpy() - grad_at(w0 - eps * v)[1].numpy()) / (2 * eps)
    np.testing.assert_allclose(hv.numpy(), fd, rtol=1e-5, atol=1e-8)


def test_function_without_double_backward_names_itself():
    x = gn.tensor(R.random((1, 1, 4, 4)), dtype="float64", requires_grad=True)
    w = gn.tensor(R.random((1, 1, 3, 3)), dtype="float64")
    y = F.conv2d(x, w).sum()
    with pytest.raises(RuntimeError, match="create_graph=True: Conv"):
        gn.autograd.grad(y, x, create_graph=True)


def test_grad_does_not_touch_dot_grad():
    x = gn.tensor([1.0, 2.0], requires_grad=True)
    g, = gn.autograd.grad((x * x).sum(), x)
    assert x.grad is None and g.numpy().tolist() == [2.0, 4.0] and not g.requires_grad


def test_create_graph_gradient_is_part_of_graph():
    x = gn.tensor([1.0, 2.0], requires_grad=True)
    g, = gn.autograd.grad((x ** 3).sum(), x, create_graph=True)
    assert g.requires_grad and g.grad_fn is not None


def test_backward_inputs_limits_accumulation():
    a = gn.tensor([1.0], requires_grad=True)
    b = gn.tensor([2.0], requires_grad=True)
    (a * b).sum().backward(inputs=[a])
    assert a.grad.item() == 2.0 and b.grad is None


def test_hooks_get_tensors_and_can_replace():
    x = gn.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    seen = []
    h.register_hook(lambda g: seen.append(type(g).__name__) or g * 0 + 1)
    x.register_hook(lambda g: seen.append("leaf") or None)
    (h * h).sum().backward()
    assert seen == ["Tensor", "leaf"]
    np.testing.assert_array_equal(x.grad.numpy(), [2, 2])


def test_retain_grad_sees_hook_result():
    x = gn.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    h.retain_grad()
    h.register_hook(lambda g: g * 10)
    (h * 1).sum().backward()
    np.testing.assert_array_equal(h.grad.numpy(), [10, 10])


def test_backward_hooks_for_inspect_still_see_arrays():
    x = gn.tensor([1.0, 2.0], requires_grad=True)
    calls = []
    with gn.autograd.backward_hooks(lambda fn, go, gi: calls.append((fn.name, type(go[0])))):
        (x * 3).sum().backward()
    assert [c[0] for c in calls] == ["Sum", "Mul"] and calls[0][1] is np.ndarray


def test_grad_modes():
    x = gn.ones(2, requires_grad=True)

    @gn.no_grad
    def bare(a):
        return a * 2

    assert not bare(x).requires_grad
    with gn.inference_mode():
        assert gn.autograd.is_inference_mode_enabled() and not gn.is_grad_enabled()
    assert gn.is_grad_enabled() and not gn.autograd.is_inference_mode_enabled()
    prev = gn.set_grad_enabled(False)
    try:
        assert not gn.is_grad_enabled() and not (x * 2).requires_grad
    finally:
        gn.set_grad_enabled(True)
    assert "set_grad_enabled(mode=False)" in repr(prev)
    ng = gn.no_grad()
    with ng:
        with ng:                      # one object, nested
            pass
        assert not gn.is_grad_enabled()
    assert gn.is_grad_enabled()


def test_version_counter_on_fresh_tensor_and_grad_accumulation():
    x = gn.tensor([1.0], requires_grad=True)
    assert x._version == 0
    for _ in range(3):
        (x * 2).sum().backward()
    assert x.grad.item() == 6.0


def test_double_backward_found_by_class_name(monkeypatch):
    class Sin(gn.Function):
        def forward(self, a):
            self.a = a
            return np.sin(a)

        def backward(self, g):
            return g * np.cos(self.a)

    class Cos(gn.Function):
        def forward(self, a):
            self.a = a
            return np.cos(a)

        def backward(self, g):
            return -g * np.sin(self.a)

    monkeypatch.setattr(gn.Tensor, "sin", lambda self: Sin.apply(self), raising=False)
    monkeypatch.setattr(gn.Tensor, "cos", lambda self: Cos.apply(self), raising=False)
    gradcheck(_grad_fn(lambda x: x.sin().sum()), [R.random(3)])
    gradcheck(_grad_fn(lambda x: x.cos().sum()), [R.random(3)])
