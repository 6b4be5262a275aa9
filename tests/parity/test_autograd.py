"""Parity with PyTorch: autograd's API (issue 14): ``autograd.grad`` and ``backward``
arguments, second derivatives with ``create_graph``, PyTorch-style ``autograd.Function``,
hooks on non-leaf tensors, ``retain_grad``, the grad modes, ``requires_grad`` rules, and the
hand-written SGD loops of the PyTorch tutorials (which trained nothing before: ``p -= ...``
made a new tensor).

Each case is the same code run with ``torch`` bound to torch and to glassnet; ``out`` is
compared with ``assert_same``; error cases must raise the same type with the key text.
"""
import numpy as np
import pytest

import glassnet as gn

from ._compare import TORCH_REASON, assert_same

torch = pytest.importorskip("torch", reason=TORCH_REASON)


def run(code, T):
    ns = {"torch": T, "np": np, "F": T.nn.functional if T is torch else gn.functional}
    exec(code, ns)
    return ns["out"]


X = "x = torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64, requires_grad=True)\n"
LEGENDRE = '''
class P3(torch.autograd.Function):
    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return 0.5 * (5 * input ** 3 - 3 * input)

    @staticmethod
    def backward(ctx, grad_output):
        input, = ctx.saved_tensors
        return grad_output * 1.5 * (5 * input ** 2 - 1)
'''
SCALE = '''
class Scale(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, k, flag=True):
        ctx.k = k
        ctx.flags = ctx.needs_input_grad
        return x * k

    @staticmethod
    def backward(ctx, g):
        return g * ctx.k, None, None
'''
TWO_OUT = '''
class SplitMax(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        idx = (x > 0)
        ctx.mark_non_differentiable(idx)
        ctx.save_for_backward(x)
        return x * 2, idx

    @staticmethod
    def backward(ctx, g, g_idx):
        return g * 2
'''

CASES = {
    # ----- autograd.grad
    "grad_tuple": X + "g = torch.autograd.grad((x * x).sum(), x)\nout = (g, x.grad)",
    "grad_two_inputs": X + "y = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64, "
                           "requires_grad=True)\nout = torch.autograd.grad((x * y).sum(), [x, y])",
    "grad_outputs": X + "out = torch.autograd.grad(x * 3, x, grad_outputs=torch.ones(3, "
                        "dtype=torch.float64) * 2)",
    "grad_allow_unused": X + "u = torch.ones(2, requires_grad=True)\n"
                             "out = torch.autograd.grad((x * 2).sum(), [x, u], allow_unused=True)",
    "grad_materialize": X + "u = torch.ones(2, requires_grad=True)\n"
                            "out = torch.autograd.grad((x * 2).sum(), [x, u], "
                            "materialize_grads=True)",
    "grad_nonleaf_input": X + "h = x * 2\nout = torch.autograd.grad((h * h).sum(), h)",
    "grad_retain": X + "y = (x * x).sum()\na = torch.autograd.grad(y, x, retain_graph=True)\n"
                       "b = torch.autograd.grad(y, x)\nout = (a, b)",
    "grad_multiple_outputs": X + "out = torch.autograd.grad([(x * 2).sum(), (x * x).sum()], x)",
    # ----- second derivatives
    "d2_tanh": X + "g, = torch.autograd.grad(F.tanh(x).sum(), x, create_graph=True)\n"
                   "out = (g, torch.autograd.grad(g.sum(), x))",
    "d2_cube": X + "g, = torch.autograd.grad((x ** 3).sum(), x, create_graph=True)\n"
                   "out = torch.autograd.grad(g.sum(), x)",
    "d3_cube": X + "g, = torch.autograd.grad((x ** 3).sum(), x, create_graph=True)\n"
                   "h, = torch.autograd.grad(g.sum(), x, create_graph=True)\n"
                   "out = torch.autograd.grad(h.sum(), x)",
    "d2_sigmoid": X + "g, = torch.autograd.grad(F.sigmoid(x).sum(), x, create_graph=True)\n"
                      "out = torch.autograd.grad(g.sum(), x)",
    "d2_exp_log": X + "y = (x.exp() * (x * x + 1).log()).sum()\n"
                      "g, = torch.autograd.grad(y, x, create_graph=True)\n"
                      "out = torch.autograd.grad(g.sum(), x)",
    "d2_div_sqrt": X + "y = (1 / (x * x + 1).sqrt()).sum()\n"
                       "g, = torch.autograd.grad(y, x, create_graph=True)\n"
                       "out = torch.autograd.grad(g.sum(), x)",
    "d2_mean_sub": X + "y = ((x - x.mean()) ** 2).mean()\n"
                       "g, = torch.autograd.grad(y, x, create_graph=True)\n"
                       "out = torch.autograd.grad((g * g).sum(), x)",
    "hvp_matmul": "A = torch.tensor([[2.0, 1.0], [1.0, 3.0]], dtype=torch.float64)\n"
                  "w = torch.tensor([1.0, -1.0], dtype=torch.float64, requires_grad=True)\n"
                  "v = torch.tensor([0.5, 2.0], dtype=torch.float64)\n"
                  "y = F.tanh(w @ A @ w)\ng, = torch.autograd.grad(y, w, create_graph=True)\n"
                  "out = torch.autograd.grad((g * v).sum(), w)",
    "hvp_linear_mse": "torch.manual_seed(0)\n"
                      "W = torch.tensor([[0.3, -0.2], [0.1, 0.4], [-0.5, 0.2]], "
                      "dtype=torch.float64, requires_grad=True)\n"
                      "xx = torch.tensor([[1.0, 2.0], [-1.0, 0.5]], dtype=torch.float64)\n"
                      "t = torch.ones(2, 3, dtype=torch.float64)\n"
                      "loss = F.mse_loss(F.tanh(F.linear(xx, W)), t)\n"
                      "g, = torch.autograd.grad(loss, W, create_graph=True)\n"
                      "out = torch.autograd.grad((g * g).sum(), W)",
    "d2_relu_getitem": X + "y = (F.relu(x)[1:] ** 2).sum()\n"
                           "g, = torch.autograd.grad(y, x, create_graph=True)\n"
                           "out = torch.autograd.grad(g.sum(), x)",
    "d2_reshape_transpose": X + "y = (x.reshape(3, 1) @ x.reshape(1, 3)).transpose(0, 1)\n"
                                "g, = torch.autograd.grad((y ** 2).sum(), x, create_graph=True)\n"
                                "out = torch.autograd.grad(g.sum(), x)",
    "backward_create_graph": X + "(x ** 3).sum().backward(create_graph=True)\n"
                                 "g = x.grad\nx.grad = None\ng.sum().backward()\n"
                                 "out = x.grad",
    "gradient_penalty": X + "y = (x ** 2).sum()\ng, = torch.autograd.grad(y, x, create_graph=True)"
                            "\n(y + (g ** 2).sum()).backward()\nout = x.grad",
    # ----- Tensor.backward and autograd.backward
    "backward_accumulates": X + "(x * 2).sum().backward()\n(x * x).sum().backward()\nout = x.grad",
    "backward_gradient": X + "(x * 3).backward(torch.ones(3, dtype=torch.float64) * 0.5)\n"
                             "out = x.grad",
    "backward_inputs": X + "y = torch.ones(3, dtype=torch.float64, requires_grad=True)\n"
                           "(x * y).sum().backward(inputs=[y])\nout = (x.grad, y.grad)",
    "autograd_backward": X + "torch.autograd.backward([(x * 2).sum(), (x * x).sum()])\n"
                             "out = x.grad",
    "backward_retain_twice": X + "y = (x * 2).sum()\ny.backward(retain_graph=True)\n"
                                 "y.backward()\nout = x.grad",
    "grad_none_after_zero": X + "(x * 2).sum().backward()\nx.grad = None\n"
                                "(x * 3).sum().backward()\nout = x.grad",
    # ----- PyTorch-style Function
    "custom_legendre": LEGENDRE + X + "y = P3.apply(x)\ny.sum().backward()\n"
                                      "out = (y, x.grad, y.requires_grad, y.is_leaf)",
    "custom_nontensor_args": SCALE + X + "y = Scale.apply(x, 3.0)\ny.sum().backward()\n"
                                         "out = (y, x.grad)",
    "custom_needs_input_grad": SCALE + X + "c = torch.ones(3)\ny = Scale.apply(c, 2.0)\n"
                                           "out = (y.requires_grad, y.is_leaf)",
    "custom_non_differentiable": TWO_OUT + X + "y, idx = SplitMax.apply(x)\ny.sum().backward()\n"
                                               "out = (idx.requires_grad, x.grad)",
    "custom_no_grad_mode": LEGENDRE + X + "with torch.no_grad():\n    y = P3.apply(x)\n"
                                          "out = (y, y.requires_grad)",
    "custom_double_backward": LEGENDRE + X + "g, = torch.autograd.grad(P3.apply(x).sum(), x, "
                                             "create_graph=True)\n"
                                             "out = torch.autograd.grad(g.sum(), x)",
    "custom_in_chain": LEGENDRE + X + "y = (F.tanh(P3.apply(x * 2)) * x).sum()\n"
                                      "y.backward()\nout = x.grad",
    # ----- hooks, retain_grad
    "hook_leaf_replace": X + "h = x.register_hook(lambda g: g * 10)\n(x * 2).sum().backward()\n"
                             "out = x.grad",
    "hook_nonleaf_sees_grad": X + "seen = []\nh = x * 2\nh.register_hook(lambda g: "
                                  "seen.append(g.clone() if hasattr(g, 'clone') else g * 1))\n"
                                  "(h * h).sum().backward()\nout = (seen[0], x.grad)",
    "hook_nonleaf_replace": X + "h = x * 2\nh.register_hook(lambda g: g * 0)\n"
                                "(h * h).sum().backward()\nout = x.grad",
    "hook_remove": X + "hd = x.register_hook(lambda g: g * 10)\nhd.remove()\n"
                       "(x * 2).sum().backward()\nout = x.grad",
    "retain_grad": X + "h = x * 3\nr = h.retain_grad()\n(h * h).sum().backward()\n"
                       "out = (r is None, h.grad, h.retains_grad)",
    "nonleaf_grad_is_none": X + "h = x * 3\n(h * h).sum().backward()\nout = (h.grad is None,)",
    # ----- grad modes
    "no_grad_ctx": X + "with torch.no_grad():\n    y = x * 2\nout = (y.requires_grad, y.is_leaf)",
    "no_grad_decorator": X + "@torch.no_grad()\ndef f(a):\n    return a * 2\n"
                             "out = f(x).requires_grad",
    "enable_grad_inside_no_grad": X + "with torch.no_grad():\n    with torch.enable_grad():\n"
                                      "        y = x * 2\nout = y.requires_grad",
    "set_grad_enabled_call": X + "torch.set_grad_enabled(False)\ny = x * 2\n"
                                 "state = torch.is_grad_enabled()\ntorch.set_grad_enabled(True)\n"
                                 "out = (y.requires_grad, state, torch.is_grad_enabled())",
    "set_grad_enabled_ctx": X + "with torch.set_grad_enabled(False):\n    y = x * 2\n"
                                "out = (y.requires_grad, torch.is_grad_enabled())",
    "set_grad_enabled_decorator": X + "@torch.set_grad_enabled(False)\ndef f(a):\n"
                                      "    return a * 2\nout = (f(x).requires_grad, "
                                      "torch.is_grad_enabled())",
    "inference_mode_ctx": X + "with torch.inference_mode():\n    y = x * 2\n"
                              "out = (y.requires_grad, torch.is_grad_enabled())",
    "inference_mode_decorator": X + "@torch.inference_mode()\ndef f(a):\n    return a * 2\n"
                                    "out = f(x).requires_grad",
    "inference_mode_false": X + "with torch.inference_mode(False):\n    y = x * 2\n"
                                "out = y.requires_grad",
    # ----- requires_grad rules
    "requires_grad_setter_leaf": "x = torch.ones(2)\nx.requires_grad = True\n"
                                 "out = (x.requires_grad, x.is_leaf)",
    "detach_cuts": X + "d = (x * 2).detach()\nout = (d.requires_grad, d.is_leaf, d.grad_fn is None)",
    "nonleaf_requires_grad_true_ok": X + "y = x * 2\nz = y.requires_grad_()\n"
                                         "out = (z is y, y.requires_grad)",
    # ----- the tutorials' hand-written loops
    "sgd_loop_polynomial": "torch.manual_seed(0)\n"
                           "xs = torch.tensor(np.linspace(-3.14159, 3.14159, 200), "
                           "dtype=torch.float32)\n"
                           "ys = torch.tensor(np.sin(np.linspace(-3.14159, 3.14159, 200)), "
                           "dtype=torch.float32)\n"
                           "a = torch.tensor(0.0, requires_grad=True)\n"
                           "b = torch.tensor(-1.0, requires_grad=True)\n"
                           "c = torch.tensor(0.0, requires_grad=True)\n"
                           "d = torch.tensor(0.3, requires_grad=True)\n"
                           "losses = []\nfor t in range(200):\n"
                           "    loss = ((a + b * xs + c * xs ** 2 + d * xs ** 3 - ys) ** 2).sum()\n"
                           "    losses.append(loss.item())\n    loss.backward()\n"
                           "    with torch.no_grad():\n"
                           "        for p in (a, b, c, d):\n            p -= 1e-5 * p.grad\n"
                           "            p.grad = None\n"
                           "out = (torch.tensor(losses[::20]), a, b, c, d)",
    "sgd_loop_parameters": "W = torch.tensor([[0.1, -0.2, 0.3]], requires_grad=True)\n"
                           "B = torch.tensor([0.0], requires_grad=True)\n"
                           "xs = torch.tensor(np.linspace(-1, 1, 50), dtype=torch.float32)\n"
                           "P = xs.reshape(-1, 1) ** torch.tensor([1.0, 2.0, 3.0])\n"
                           "ys = torch.tensor(np.sin(np.linspace(-1, 1, 50)), dtype=torch.float32)\n"
                           "losses = []\nfor t in range(100):\n"
                           "    loss = ((F.linear(P, W, B).reshape(-1) - ys) ** 2).sum()\n"
                           "    losses.append(loss.item())\n    loss.backward()\n"
                           "    with torch.no_grad():\n        for p in [W, B]:\n"
                           "            p -= 1e-2 * p.grad\n            p.grad.zero_()\n"
                           "out = (torch.tensor(losses[::10]), W, B, losses[-1] < losses[0] / 5)",
    "legendre_loop": LEGENDRE + "xs = torch.tensor(np.linspace(-3.14159, 3.14159, 200), "
                                "dtype=torch.float32)\n"
                                "ys = torch.tensor(np.sin(np.linspace(-3.14159, 3.14159, 200)), "
                                "dtype=torch.float32)\n"
                                "a = torch.tensor(0.0, requires_grad=True)\n"
                                "b = torch.tensor(-1.0, requires_grad=True)\n"
                                "c = torch.tensor(0.0, requires_grad=True)\n"
                                "d = torch.tensor(0.3, requires_grad=True)\n"
                                "for t in range(300):\n"
                                "    loss = (a + b * P3.apply(c + d * xs) - ys).pow(2).sum()\n"
                                "    loss.backward()\n    with torch.no_grad():\n"
                                "        a -= 5e-5 * a.grad\n        b -= 5e-5 * b.grad\n"
                                "        c -= 5e-5 * c.grad\n        d -= 5e-5 * d.grad\n"
                                "        a.grad = None\n        b.grad = None\n"
                                "        c.grad = None\n        d.grad = None\n"
                                "out = (loss, a, b, c, d)",
    # ----- errors
    "grad_unused_raises": (X + "u = torch.ones(2, requires_grad=True)\n"
                           "torch.autograd.grad((x * 2).sum(), [x, u])",
                           RuntimeError, "appears to not have been used in the graph"),
    "backward_twice_raises": (X + "y = (x * x).sum()\ny.backward()\ny.backward()",
                              RuntimeError, "backward through the graph a second time"),
    "backward_nonscalar_raises": (X + "(x * 2).backward()", RuntimeError,
                                  "grad can be implicitly created only for scalar outputs"),
    "backward_no_grad_raises": ("x = torch.ones(2)\n(x * 2).sum().backward()", RuntimeError,
                                "does not require grad and does not have a grad_fn"),
    "grad_shape_mismatch_raises": (X + "(x * 2).backward(torch.ones(2, dtype=torch.float64))",
                                   RuntimeError, "Mismatch in shape"),
    "int_requires_grad_raises": ("x = torch.tensor([1, 2])\nx.requires_grad = True",
                                 RuntimeError, "only Tensors of floating point"),
    "nonleaf_requires_grad_false_raises": (X + "y = x * 2\ny.requires_grad = False",
                                           RuntimeError, "you can only change requires_grad "
                                                         "flags of leaf variables"),
    "nonleaf_set_true_raises": (X + "y = x * 2\ny.requires_grad = True", RuntimeError,
                                "you can only change requires_grad flags of leaf variables."),
    "custom_wrong_grad_count_raises": ('''
class Bad(torch.autograd.Function):
    @staticmethod
    def forward(ctx, a):
        return a * 2

    @staticmethod
    def backward(ctx, g):
        return g, g
''' + X + "Bad.apply(x).sum().backward()", RuntimeError, "returned an incorrect number of "
                                                          "gradients (expected 1, got 2)"),
    "hook_on_no_grad_raises": ("x = torch.ones(2)\nx.register_hook(lambda g: g)", RuntimeError,
                               "cannot register a hook on a tensor that doesn't require"),
    "retain_grad_no_grad_raises": ("x = torch.ones(2)\nx.retain_grad()", RuntimeError,
                                   "can't retain_grad on Tensor that has requires_grad=False"),
    "saved_tensors_modified_raises": (LEGENDRE + X + "y = x * 1\nz = P3.apply(y)\n"
                                      "y.add_(1)\nz.sum().backward()", RuntimeError,
                                      "modified by an inplace operation"),
}

OK_CASES = {k: v for k, v in CASES.items() if isinstance(v, str)}
ERR_CASES = {k: v for k, v in CASES.items() if not isinstance(v, str)}


@pytest.mark.parametrize("name", sorted(OK_CASES))
def test_autograd_idiom(name):
    code = OK_CASES[name]
    assert_same(run(code, gn), run(code, torch), rtol=1e-4, atol=1e-5, what=name)


@pytest.mark.parametrize("name", sorted(ERR_CASES))
def test_autograd_error_idiom(name):
    code, exc, text = ERR_CASES[name]
    with pytest.raises(exc) as et:
        run(code, torch)
    assert text in str(et.value), f"torch's message changed: {et.value}"
    with pytest.raises(exc) as eg:
        run(code, gn)
    assert text in str(eg.value), f"{name}: glassnet says {eg.value!r}"


def test_sgd_loop_loss_falls_as_in_torch():
    """tests/third_party/tutorials_polynomial_nn lines ~70-80: ``param -= lr * param.grad``
    under no_grad now updates the parameters (it rebound the name before: the loss stayed)."""
    code = OK_CASES["sgd_loop_polynomial"]
    g_losses = run(code, gn)[0].numpy()
    t_losses = run(code, torch)[0].numpy()
    assert g_losses[-1] < g_losses[0] / 2
    np.testing.assert_allclose(g_losses, t_losses, rtol=1e-3)
