"""Nodes link to non-leaf inputs through Edges: an intermediate result that no backward
reads is freed as soon as the user's code drops it (as in PyTorch), while gradients,
double backward, the in-place checks and next_functions stay as before."""
import gc
import weakref

import numpy as np
import pytest

import glassnet as gn
import glassnet.nn.functional as F
from glassnet import nn
from glassnet.autograd.function import Edge, input_tensor
from glassnet.backend import threads as T


def _dropped_data(make):
    """make() -> (consumer output, intermediate Tensor); the intermediate is dropped and a
    weak reference to its array returned with the output."""
    out, mid = make()
    ref = weakref.ref(mid._data)
    del mid
    gc.collect()
    return out, ref


@pytest.mark.parametrize("threads", [1, 2])
def test_a_convolution_output_is_freed_once_relu_has_it(monkeypatch, threads):
    monkeypatch.setattr(T, "PARALLEL_MIN_ELEMENTS", 0)     # the pool runs the conv blocks
    prev = T.get_num_threads()
    T.set_num_threads(threads)
    try:
        w = gn.tensor(np.ones((4, 1, 3, 3), np.float32), requires_grad=True)
        x = gn.tensor(np.ones((8, 1, 6, 6), np.float32))

        def make():
            z = F.conv2d(x, w, padding=1)
            return F.relu(z), z
        a, ref = _dropped_data(make)
        assert ref() is None                  # neither the ReLU node nor a pool thread
        a.sum().backward()
        np.testing.assert_allclose(w.grad.numpy(), _conv_ones_grad(), rtol=1e-6)
    finally:
        T.set_num_threads(prev)


def _conv_ones_grad():
    """dL/dw for L = sum(relu(conv(ones(8, 1, 6, 6), ones, pad 1))): every output is > 0,
    so each weight gets the number of (sample, position) pairs whose window covers a real
    input pixel at that offset."""
    x = np.pad(np.ones((6, 6)), 1)
    g = np.array([[x[i:i + 6, j:j + 6].sum() for j in range(3)] for i in range(3)])
    return np.broadcast_to(8 * g, (4, 1, 3, 3)).astype(np.float32)


def test_linear_output_freed_and_the_mlp_step_unchanged():
    gn.manual_seed(0)
    net = nn.Sequential(nn.Linear(5, 7), nn.ReLU(), nn.Linear(7, 3))
    x = gn.tensor(np.random.default_rng(0).standard_normal((4, 5)))

    def make():
        h = net[0](x)
        return net[2](net[1](h)), h
    y, ref = _dropped_data(make)
    assert ref() is None
    y.sum().backward()
    grads = [p.grad.numpy().copy() for p in net.parameters()]
    net.zero_grad()
    net(x).sum().backward()                   # the same graph, all of it alive
    for a, p in zip(grads, net.parameters()):
        np.testing.assert_array_equal(a, p.grad.numpy())


def test_an_intermediate_a_node_saves_stays_alive():
    x = gn.tensor(np.arange(1.0, 7.0).reshape(2, 3), requires_grad=True)

    def make():
        a = x * 2.0
        return a * a, a                         # Mul saves its operands
    y, ref = _dropped_data(make)
    assert ref() is not None
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 8 * x.numpy())


def test_edges_route_gradients_and_show_in_next_functions():
    x = gn.tensor(np.ones(3), requires_grad=True)
    a = x * 3.0
    y = a.sin()
    e = y.grad_fn.inputs[0]
    assert type(e) is Edge and e._ctx is a.grad_fn and e.shape == (3,)
    assert y.grad_fn.next_functions[0] == (a.grad_fn, 0)
    assert input_tensor(y.grad_fn, 0) is a      # the live Tensor itself
    assert "Edge(Mul" in repr(e)
    leaf = a.grad_fn.inputs[0]
    assert leaf is x                            # leaves stay Tensors


def test_a_freed_input_names_its_node():
    x = gn.tensor(np.ones(3), requires_grad=True)
    y = F.relu(x * 1.0)                         # ReLU keeps the mask, not its input
    gc.collect()
    with pytest.raises(RuntimeError, match="input 0 of ReLU was freed"):
        input_tensor(y.grad_fn, 0)


def test_an_in_place_change_of_a_dropped_intermediate_is_still_caught():
    x = gn.tensor(np.ones(3), requires_grad=True)
    c = gn.tensor(np.full(3, 2.0))
    a = x * 1.0
    y = a * c                                    # Mul saves a
    a.add_(1.0)
    del a
    gc.collect()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


_CASES = {
    "mul": lambda a, b: a * b, "div": lambda a, b: a / b, "pow": lambda a, b: a ** b,
    "matmul": lambda a, b: a @ b.T, "linear": lambda a, b: F.linear(a, b),
    "mse": lambda a, b: F.mse_loss(a, b), "einsum": lambda a, b: gn.einsum("ij,kj->ik", a, b),
    "log": lambda a, b: gn.log(a) * b, "sin": lambda a, b: gn.sin(a) * b,
    "cos": lambda a, b: gn.cos(a) * b, "exp": lambda a, b: gn.exp(a) * b,
    "sqrt": lambda a, b: gn.sqrt(a) * b, "tanh": lambda a, b: gn.tanh(a) * b,
    "sigmoid": lambda a, b: gn.sigmoid(a) * b, "relu": lambda a, b: F.relu(a - 1.0) * b,
    "softmax": lambda a, b: F.softmax(a, dim=1) * b,
    "log_softmax": lambda a, b: F.log_softmax(a, dim=1) * b,
    "repeat": lambda a, b: a.repeat(2, 1)[:3] * b,
}


@pytest.mark.parametrize("name", sorted(_CASES))
def test_double_backward_through_dropped_intermediates(name):
    """Every differentiable backward that reads a node's input works when that input was
    an intermediate the user dropped, and equals the same graph with it kept."""
    f = _CASES[name]
    rng = np.random.default_rng(1)
    X, Y = rng.random((3, 4)) + 0.5, rng.random((3, 4)) + 0.5

    def second(keep):
        x, y = gn.tensor(X, requires_grad=True), gn.tensor(Y, requires_grad=True)
        a, b = x * 1.0, y * 1.0
        out = f(a, b).sum()
        if not keep:
            del a, b
            gc.collect()
        gx, gy = gn.autograd.grad(out, [x, y], create_graph=True)
        (gx * gx + gy * gy).sum().backward()
        return [None if t.grad is None else t.grad.numpy() for t in (x, y)]

    kept, dropped = second(True), second(False)
    assert any(k is not None for k in kept)
    for k, d in zip(kept, dropped):
        assert (k is None) == (d is None)
        if k is not None:
            np.testing.assert_allclose(d, k, rtol=1e-12)


def test_every_differentiable_backward_that_reads_an_input_is_covered():
    """Each Function whose double backward reads a node input (found in its source) has a
    case above, so a new one cannot silently fail on a freed intermediate."""
    import inspect
    import re
    from glassnet.autograd import function as fmod
    reads = set()
    for cls, fun in list(fmod.double_backward.items()):
        src = inspect.getsource(fun)
        if re.search(r"(_inp|input_tensor)\(fn, \d", src) or "fn.inputs" in src:
            reads.add(cls.__name__)
    covered = {"Div", "Einsum", "Exp", "Linear", "Log", "LogSoftmax", "MSE", "MatMul", "Mul",
               "Pow", "ReLU", "Repeat", "Sigmoid", "Softmax", "Sqrt", "Tanh"}
    assert reads <= covered, sorted(reads - covered)


@pytest.mark.parametrize("op, factor", [("mul_", 3.0), ("add_", 1.0), ("div_", 0.5)])
def test_a_node_made_before_an_in_place_change_routes_to_the_old_producer(op, factor):
    """y = a + 0 was recorded before a.mul_(3): y's gradient goes to the node that made a
    (edges are fixed when a node is recorded, as in PyTorch), not through the in-place
    node. dL/dx for L = sum(y) + sum(a) after a.mul_(3) is 1 + 3 = 4 (it was 6 when the
    node followed the tensor's current producer)."""
    x = gn.tensor(np.ones(3), requires_grad=True)
    a = x * 1.0
    y = a + 0.0
    arg = {"mul_": 3.0, "add_": 5.0, "div_": 2.0}[op]
    getattr(a, op)(arg)
    (y.sum() + a.sum()).backward()
    np.testing.assert_allclose(x.grad.numpy(), np.full(3, 1.0 + factor))
    torch = pytest.importorskip("torch")
    tx = torch.ones(3, dtype=torch.float64, requires_grad=True)
    ta = tx * 1.0
    ty = ta + 0.0
    getattr(ta, op)(arg)
    (ty.sum() + ta.sum()).backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy())


@pytest.mark.parametrize("name", ["tanh", "sigmoid"])
def test_output_based_derivatives_up_to_third_order(name):
    """Tanh and Sigmoid keep only their output; their differentiable backward goes through
    it (and back through the node), so the second and third derivatives of a dropped
    intermediate's activation equal the closed forms."""
    xs = np.linspace(-2.0, 2.0, 9)
    x = gn.tensor(xs, requires_grad=True)
    f = getattr(gn, name)
    y = f(x * 1.0)                      # the activation's input is a dropped intermediate
    gc.collect()
    g1, = gn.autograd.grad(y.sum(), x, create_graph=True)
    g2, = gn.autograd.grad(g1.sum(), x, create_graph=True)
    g3, = gn.autograd.grad(g2.sum(), x)
    if name == "tanh":
        t = np.tanh(xs)
        ref = (1 - t * t, -2 * t * (1 - t * t), (1 - t * t) * (6 * t * t - 2))
    else:
        s = 1 / (1 + np.exp(-xs))
        ref = (s * (1 - s), s * (1 - s) * (1 - 2 * s), s * (1 - s) * (1 - 6 * s + 6 * s * s))
    for got, want in zip((g1, g2, g3), ref):
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-10, atol=1e-12)
    assert not type(y.grad_fn)._keep_inputs
