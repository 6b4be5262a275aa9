"""Parity with PyTorch: in-place operations, augmented assignment, ``x[idx] = v``, the leaf
rule, the version counter and in-place dtype rules (issue 14: ``p -= lr * p.grad`` used to
rebind the name to a new tensor and train nothing).

Each case is one PyTorch idiom, run as the same code with ``torch`` bound to torch and to
glassnet; ``out`` is compared with ``assert_same``. A case whose ``out`` is ``RAISES`` must
raise on both sides, with the same exception type and a message containing the key text.
"""
import numpy as np
import pytest

import glassnet as gn

from ._compare import TORCH_REASON, assert_same

torch = pytest.importorskip("torch", reason=TORCH_REASON)


def run(code, T):
    ns = {"torch": T, "np": np}
    exec(code, ns)
    return ns["out"]


CASES = {
    # ----- the silent case of the issue: augmented assignment keeps the object
    "isub_keeps_object": "w = torch.tensor([1.0, 2.0], requires_grad=True)\n"
                         "(w * w).sum().backward()\nidw = id(w)\n"
                         "with torch.no_grad():\n    w -= 0.1 * w.grad\n"
                         "out = (w, id(w) == idw, w.is_leaf, w.requires_grad, w._version)",
    "iadd_no_grad": "w = torch.ones(3, requires_grad=True)\n"
                    "with torch.no_grad():\n    w += 1\nout = (w, w._version)",
    "imul": "x = torch.tensor([1.0, 2.0, 3.0])\ny = x\ny *= 2\nout = (x, y is x)",
    "itruediv": "x = torch.tensor([1.0, 2.0, 3.0])\nx /= 4\nout = x",
    "ipow": "x = torch.tensor([1.0, 2.0, 3.0])\nx **= 2\nout = x",
    "isub_tensor": "x = torch.tensor([1.0, 2.0])\nx -= torch.tensor([0.5, 0.5])\nout = x",
    "iadd_broadcast": "x = torch.zeros(2, 3)\nx += torch.tensor([1.0, 2.0, 3.0])\nout = x",
    "add_alpha": "x = torch.tensor([1.0, 2.0])\nx.add_(torch.tensor([1.0, 1.0]), alpha=3)\nout = x",
    "sub_alpha": "x = torch.tensor([1.0, 2.0])\nx.sub_(torch.tensor([1.0, 1.0]), alpha=0.5)\n"
                 "out = x",
    "mul_returns_self": "x = torch.tensor([1.0, 2.0])\ny = x.mul_(3)\nout = (y, y is x)",
    "div_": "x = torch.tensor([1.0, 2.0])\nx.div_(2)\nout = x",
    "pow_": "x = torch.tensor([1.0, 2.0])\nx.pow_(3)\nout = x",
    "neg_": "x = torch.tensor([1.0, -2.0])\nx.neg_()\nout = x",
    "exp_": "x = torch.tensor([0.0, 1.0])\nx.exp_()\nout = x",
    "sqrt_": "x = torch.tensor([4.0, 9.0])\nx.sqrt_()\nout = x",
    "zero_": "x = torch.tensor([4.0, 9.0])\nx.zero_()\nout = (x, x._version)",
    "fill_": "x = torch.zeros(2, 2)\nx.fill_(7.5)\nout = x",
    "fill_int": "x = torch.zeros(3, dtype=torch.int64)\nx.fill_(2)\nout = x",
    "clamp_": "x = torch.tensor([-2.0, 0.5, 3.0])\nx.clamp_(-1, 1)\nout = x",
    "clamp_min_only": "x = torch.tensor([-2.0, 0.5, 3.0])\nx.clamp_(min=0)\nout = x",
    "clip_": "x = torch.tensor([-2.0, 0.5, 3.0])\nx.clip_(max=1.0)\nout = x",
    "copy_": "x = torch.zeros(2, 2)\nx.copy_(torch.tensor([1.0, 2.0]))\nout = x",
    "copy_cast": "x = torch.zeros(2, dtype=torch.int64)\nx.copy_(torch.tensor([1.7, 2.2]))\n"
                 "out = x",
    "masked_fill_": "x = torch.zeros(3)\nx.masked_fill_(torch.tensor([True, False, True]), -1.0)"
                    "\nout = x",
    "index_fill_": "x = torch.zeros(2, 3)\nx.index_fill_(1, torch.tensor([0, 2]), 5.0)\nout = x",
    "uniform_range": "torch.manual_seed(0)\nx = torch.zeros(1000)\nx.uniform_(2, 3)\n"
                     "out = (bool(x.min() >= 2), bool(x.max() < 3))",
    "normal_stats": "torch.manual_seed(0)\nx = torch.zeros(20000)\nx.normal_(1.0, 2.0)\n"
                    "out = (abs(x.mean().item() - 1) < 0.1, abs(((x - x.mean()) ** 2).mean().sqrt().item() - 2) < 0.1)",
    "requires_grad_": "x = torch.zeros(2)\ny = x.requires_grad_()\nout = (y is x, x.requires_grad)",
    "int_iadd_int": "x = torch.tensor([1, 2])\nx += 3\nout = x",
    "int_imul_int": "x = torch.tensor([1, 2], dtype=torch.int32)\nx *= 2\nout = x",
    "float32_iadd_float64": "x = torch.ones(2)\nx += torch.ones(2, dtype=torch.float64)\n"
                            "out = x",
    "ifloordiv_int": "x = torch.tensor([7, 8])\nx //= 2\nout = x",
    "iand_bool": "x = torch.tensor([True, False])\nx &= torch.tensor([True, True])\nout = x",
    "version_counts": "x = torch.zeros(2)\nx.add_(1)\nx.mul_(2)\nx[0] = 3.0\nout = x._version",
    "data_not_tracked": "x = torch.zeros(2)\nx.data.add_(1)\nout = (x, x._version)",
    # ----- setitem
    "setitem_scalar": "x = torch.zeros(3)\nx[1] = 2.0\nout = x",
    "setitem_slice_tensor": "x = torch.zeros(2, 3)\nx[:, 1:] = torch.ones(2, 2)\nout = x",
    "setitem_mask": "x = torch.tensor([1.0, -1.0, 2.0])\nx[x < 0] = 0.0\nout = x",
    "setitem_int_trunc": "x = torch.tensor([1, 2])\nx[0] = 1.7\nout = x",
    "setitem_grad_value": "x = torch.zeros(2, 3)\nv = torch.ones(3, requires_grad=True)\n"
                          "x[0] = v * 2\nx.sum().backward()\n"
                          "out = (x, v.grad, x.is_leaf, x.requires_grad)",
    "setitem_grad_base": "a = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)\ny = a * 2\n"
                         "y[1] = 0.0\n(y * y).sum().backward()\nout = (y, a.grad)",
    "setitem_broadcast_grad": "x = torch.zeros(3, 2)\nv = torch.tensor([1.0, 2.0], "
                              "requires_grad=True)\nx[1:] = v\n(x * x).sum().backward()\n"
                              "out = v.grad",
    # ----- recorded in-place on non-leaves
    "nonleaf_iadd_grad": "a = torch.tensor([1.0, 2.0], requires_grad=True)\ny = a * 3\n"
                         "y += 1\ny.sum().backward()\nout = (y, a.grad, y._version)",
    "nonleaf_mul_self_grad": "a = torch.tensor([1.0, 2.0], requires_grad=True)\ny = a + 1\n"
                             "y.mul_(a)\ny.sum().backward()\nout = (y, a.grad)",
    "nonleaf_div_grad": "a = torch.tensor([1.0, 2.0], requires_grad=True)\n"
                        "b = torch.tensor([4.0, 8.0], requires_grad=True)\ny = a * 1\n"
                        "y /= b\ny.sum().backward()\nout = (a.grad, b.grad)",
    "nonleaf_pow_grad": "a = torch.tensor([1.0, 2.0], requires_grad=True)\ny = a * 1\n"
                        "y.pow_(3)\ny.sum().backward()\nout = a.grad",
    "nonleaf_exp_grad": "a = torch.tensor([0.0, 1.0], requires_grad=True)\ny = a * 2\n"
                        "y.exp_()\ny.sum().backward()\nout = a.grad",
    "nonleaf_clamp_grad": "a = torch.tensor([-2.0, 0.5, 3.0], requires_grad=True)\ny = a * 1\n"
                          "y.clamp_(-1, 1)\ny.sum().backward()\nout = a.grad",
    "nonleaf_zero_grad": "a = torch.tensor([1.0, 2.0], requires_grad=True)\ny = a * 2\n"
                         "y.zero_()\ny.sum().backward()\nout = a.grad",
    "nonleaf_copy_grad": "a = torch.tensor([1.0, 2.0], requires_grad=True)\n"
                         "s = torch.tensor([5.0], requires_grad=True)\ny = a * 2\ny.copy_(s)\n"
                         "(y * y).sum().backward()\nout = (a.grad, s.grad)",
    "nonleaf_masked_fill_grad": "a = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)\n"
                                "y = a * 2\ny.masked_fill_(torch.tensor([True, False, True]), "
                                "0.0)\ny.sum().backward()\nout = a.grad",
    "leaf_no_grad_gets_grad_fn": "x = torch.zeros(2)\nw = torch.ones(2, requires_grad=True)\n"
                                 "x += w\nout = (x.is_leaf, x.requires_grad)",
    "inplace_under_no_grad_nonleaf": "a = torch.ones(2, requires_grad=True)\ny = a + 0\n"
                                     "with torch.no_grad():\n    y.add_(1)\n"
                                     "y.sum().backward()\nout = (y, a.grad)",
    # ----- errors
    "leaf_inplace_raises": ("w = torch.ones(2, requires_grad=True)\nw.add_(1)",
                            RuntimeError, "a leaf Variable that requires grad"),
    "leaf_isub_raises": ("w = torch.ones(2, requires_grad=True)\nw -= 1",
                         RuntimeError, "a leaf Variable that requires grad"),
    "leaf_setitem_raises": ("w = torch.ones(2, requires_grad=True)\nw[0] = 2.0",
                            RuntimeError, "leaf Variable that requires grad"),
    "leaf_zero_raises": ("w = torch.ones(2, requires_grad=True)\nw.zero_()",
                         RuntimeError, "a leaf Variable that requires grad"),
    "int_iadd_float_raises": ("x = torch.tensor([1, 2])\nx += 1.5",
                              RuntimeError, "result type Float can't be cast to the desired "
                                            "output type Long"),
    "int_idiv_raises": ("x = torch.tensor([1, 2])\nx /= 2",
                        RuntimeError, "can't be cast to the desired output type Long"),
    "bool_iadd_int_raises": ("x = torch.tensor([True])\nx += 1",
                             RuntimeError, "result type Long can't be cast to the desired "
                                           "output type Bool"),
    "int32_iadd_float_tensor_raises": ("x = torch.tensor([1], dtype=torch.int32)\n"
                                       "x += torch.tensor([1.0])",
                                       RuntimeError, "result type Float can't be cast to the "
                                                     "desired output type Int"),
    "broadcast_out_raises": ("x = torch.ones(3)\nx.add_(torch.ones(2, 3))",
                             RuntimeError, "doesn't match the broadcast shape"),
    "saved_input_modified": ("w = torch.ones(3, requires_grad=True)\nz = w * w\n"
                             "with torch.no_grad():\n    w.mul_(2)\nz.sum().backward()",
                             RuntimeError, "modified by an inplace operation"),
    "saved_output_modified": ("w = torch.ones(3, requires_grad=True)\nz = w.exp()\n"
                              "z.add_(1)\nz.sum().backward()",
                              RuntimeError, "modified by an inplace operation"),
    "saved_twice_versions": ("w = torch.ones(3, requires_grad=True)\nz = w * w\n"
                             "with torch.no_grad():\n    w.add_(1)\n    w.add_(1)\n"
                             "z.sum().backward()",
                             RuntimeError, "is at version 2; expected version 0"),
    "masked_fill_int_mask_raises": ("x = torch.zeros(2)\nx.masked_fill_(torch.tensor([1, 0]), 1.0)",
                                    RuntimeError, "only supports boolean masks"),
}

OK_CASES = {k: v for k, v in CASES.items() if isinstance(v, str)}
ERR_CASES = {k: v for k, v in CASES.items() if not isinstance(v, str)}


@pytest.mark.parametrize("name", sorted(OK_CASES))
def test_inplace_idiom(name):
    code = OK_CASES[name]
    assert_same(run(code, gn), run(code, torch), what=name)


@pytest.mark.parametrize("name", sorted(ERR_CASES))
def test_inplace_error_idiom(name):
    code, exc, text = ERR_CASES[name]
    with pytest.raises(exc, match=None) as et:
        run(code, torch)
    assert text in str(et.value), f"torch's message changed: {et.value}"
    with pytest.raises(exc) as eg:
        run(code, gn)
    assert text in str(eg.value), f"{name}: glassnet says {eg.value!r}"
