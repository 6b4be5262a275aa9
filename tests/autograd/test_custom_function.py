"""PyTorch-style ``autograd.Function`` (staticmethod forward/backward on Tensors, ctx)
beside glassnet's raw-array style."""
import numpy as np
import pytest

import glassnet as gn
from glassnet.autograd import Function, gradcheck

R = np.random.default_rng(7)


class LegendrePolynomial3(Function):
    """tests/third_party/tutorials_polynomial_custom_function's Function, unchanged."""

    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return 0.5 * (5 * input ** 3 - 3 * input)

    @staticmethod
    def backward(ctx, grad_output):
        input, = ctx.saved_tensors
        return grad_output * 1.5 * (5 * input ** 2 - 1)


class RawSquare(Function):
    def forward(self, a):
        self.a = a
        return a * a

    def backward(self, g):
        return 2 * self.a * g


def test_both_styles_coexist():
    gradcheck(lambda a: LegendrePolynomial3.apply(a), [R.random(5)])
    gradcheck(lambda a: RawSquare.apply(a), [R.random(5)])
    assert not hasattr(RawSquare, "_node_cls") and hasattr(LegendrePolynomial3, "_node_cls")


def test_grad_fn_name_and_ctx_attributes():
    x = gn.tensor([1.0, 2.0], requires_grad=True)
    y = LegendrePolynomial3.apply(x)
    assert y.grad_fn.name == "LegendrePolynomial3Backward"
    assert y.grad_fn.needs_input_grad == (True,)


def test_non_tensor_arguments_and_keyword():
    class Affine(Function):
        @staticmethod
        def forward(ctx, x, w, shift, scale=1.0):
            ctx.save_for_backward(x, w)
            ctx.scale = scale
            return (x * w + shift) * scale

        @staticmethod
        def backward(ctx, g):
            x, w = ctx.saved_tensors
            return g * w * ctx.scale, g * x * ctx.scale, None, None

    gradcheck(lambda x, w: Affine.apply(x, w, 3.0, 2.0), [R.random(3), R.random(3)])


def test_needs_input_grad_skips_work():
    seen = {}

    class Mul(Function):
        @staticmethod
        def forward(ctx, a, b):
            ctx.save_for_backward(a, b)
            return a * b

        @staticmethod
        def backward(ctx, g):
            seen["needs"] = ctx.needs_input_grad
            a, b = ctx.saved_tensors
            return (g * b if ctx.needs_input_grad[0] else None,
                    g * a if ctx.needs_input_grad[1] else None)

    a = gn.tensor([1.0, 2.0], requires_grad=True)
    Mul.apply(a, gn.tensor([3.0, 4.0])).sum().backward()
    assert seen["needs"] == (True, False)
    np.testing.assert_array_equal(a.grad.numpy(), [3, 4])


def test_multiple_outputs_materialize_and_not():
    got = {}

    class Two(Function):
        @staticmethod
        def forward(ctx, x, materialize):
            ctx.set_materialize_grads(materialize)
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, g1, g2):
            got["g2"] = g2
            return (g1 * 2 if g2 is None else g1 * 2 + g2 * 3), None

    x = gn.tensor([1.0], requires_grad=True)
    a, b = Two.apply(x, True)
    a.sum().backward()
    assert got["g2"].numpy().tolist() == [0.0] and x.grad.item() == 2.0
    x.grad = None
    a, b = Two.apply(x, False)
    a.sum().backward()
    assert got["g2"] is None and x.grad.item() == 2.0


def test_mark_non_differentiable():
    class Sort(Function):
        @staticmethod
        def forward(ctx, x):
            idx = gn.tensor(np.argsort(x.numpy()))
            ctx.mark_non_differentiable(idx)
            return x * 1, idx

        @staticmethod
        def backward(ctx, g, gi):
            return g

    x = gn.tensor([3.0, 1.0], requires_grad=True)
    v, i = Sort.apply(x)
    assert v.requires_grad and not i.requires_grad


def test_mark_dirty_inplace_function():
    class AddOne_(Function):
        @staticmethod
        def forward(ctx, x):
            x.add_(1)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, g):
            return g

    a = gn.tensor([1.0, 2.0], requires_grad=True)
    y = a * 2
    z = AddOne_.apply(y)
    assert z is y and y._version >= 1
    (z * z).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), 2 * 2 * (2 * a.numpy() + 1))


def test_setup_context_style():
    class Cube(Function):
        @staticmethod
        def forward(x):
            return x ** 3

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(inputs[0])

        @staticmethod
        def backward(ctx, g):
            x, = ctx.saved_tensors
            return 3 * g * x ** 2

    gradcheck(lambda a: Cube.apply(a), [R.random(4)])


def test_wrong_number_of_gradients():
    class Bad(Function):
        @staticmethod
        def forward(ctx, a):
            return a * 1

        @staticmethod
        def backward(ctx, g):
            return g, g

    with pytest.raises(RuntimeError, match="incorrect number of gradients"):
        Bad.apply(gn.ones(2, requires_grad=True)).sum().backward()


def test_saved_tensors_after_free_raise():
    x = gn.ones(2, requires_grad=True)
    y = LegendrePolynomial3.apply(x)
    ctx = y.grad_fn
    y.sum().backward()
    with pytest.raises(RuntimeError, match="second time"):
        ctx.saved_tensors


def test_double_backward_through_custom_function():
    def grad_of(a):
        if not a.requires_grad:          # gradcheck's finite-difference evaluations
            a = a.detach().requires_grad_()
        with gn.enable_grad():
            g, = gn.autograd.grad(LegendrePolynomial3.apply(a).sum(), a, create_graph=True)
        return g
    gradcheck(grad_of, [R.random(4)])


def test_legendre_training_loop_learns():
    x = gn.tensor(np.linspace(-np.pi, np.pi, 200))
    y = gn.tensor(np.sin(np.linspace(-np.pi, np.pi, 200)))
    a, b = gn.tensor(0.0, requires_grad=True), gn.tensor(-1.0, requires_grad=True)
    c, d = gn.tensor(0.0, requires_grad=True), gn.tensor(0.3, requires_grad=True)
    losses = []
    for _ in range(300):
        loss = (a + b * LegendrePolynomial3.apply(c + d * x) - y).pow(2).sum()
        losses.append(loss.item())
        loss.backward()
        with gn.no_grad():
            for p in (a, b, c, d):
                p -= 5e-5 * p.grad
                p.grad = None
    assert losses[-1] < losses[0] / 3
