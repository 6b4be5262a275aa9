"""PyTorch's type promotion and dtype conversions against torch 2.13.

The grid runs every pair of dtypes through the binary ops (result dtype and values), for
two dimensioned tensors, a tensor with a 0-d tensor and a tensor with Python scalars;
then the conversions (``float()``, ``long()``, ``to(...)``, ``type(...)``...)."""
import itertools

import numpy as np
import pytest

import glassnet as gn

from ._compare import TORCH_REASON, assert_same

torch = pytest.importorskip("torch", reason=TORCH_REASON)

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32",
          "float64"]
VALS = np.array([[1, 0, 3], [2, 1, 1]])


def _pair(name, shape_from=VALS):
    a = shape_from.astype(name)
    return gn.tensor(a, dtype=np.dtype(name)), torch.tensor(a)


def _ops(x, y, T):
    out = {"+": x + y, "*": x * y, "max": T.maximum(x, y), "==": x == y, "<": x < y,
           "where": T.where(x > 1, x, y)}
    if T.bool not in (x.dtype, y.dtype):     # torch refuses '-' with a bool operand
        out["-"] = x - y
    out["/"] = x / (y + 1)
    return out


@pytest.mark.parametrize("a,b", list(itertools.product(DTYPES, DTYPES)))
def test_promotion_grid_dimensioned(a, b):
    gx, tx = _pair(a)
    gy, ty = _pair(b, VALS[::-1])
    assert np.dtype(gn.result_type(gx, gy)).name == str(torch.result_type(tx, ty))[6:]
    assert gn.promote_types(np.dtype(a), np.dtype(b)).name == \
        str(torch.promote_types(tx.dtype, ty.dtype))[6:]
    g, t = _ops(gx, gy, gn), _ops(tx, ty, torch)
    for k in t:
        assert_same(g[k], t[k], rtol=2e-3, atol=1e-3, what=f"{a} {k} {b}")


@pytest.mark.parametrize("a,b", list(itertools.product(DTYPES, DTYPES)))
def test_promotion_grid_with_zero_dim(a, b):
    gx, tx = _pair(a)
    gz = gn.tensor(np.array(2).astype(b), dtype=np.dtype(b))
    tz = torch.tensor(np.array(2).astype(b))
    assert np.dtype(gn.result_type(gx, gz)).name == str(torch.result_type(tx, tz))[6:]
    assert_same(gx * gz, tx * tz, rtol=2e-3, what=f"{a} * 0-d {b}")
    assert_same(gz + gx, tz + tx, rtol=2e-3, what=f"0-d {b} + {a}")


SCALARS = [True, 2, 2.5, -1]


@pytest.mark.parametrize("a,s", list(itertools.product(DTYPES, SCALARS)))
def test_promotion_with_python_scalars(a, s):
    gx, tx = _pair(a)
    assert np.dtype(gn.result_type(gx, s)).name == str(torch.result_type(tx, s))[6:]
    assert_same(gx * s, tx * s, rtol=2e-3, what=f"{a} * {s!r}")
    assert_same(s + gx, s + tx, rtol=2e-3, what=f"{s!r} + {a}")
    if not (a == "bool" or isinstance(s, bool)):
        assert_same(gx - s, tx - s, rtol=2e-3, what=f"{a} - {s!r}")
    assert_same(gx / 2, tx / 2, rtol=2e-3, what=f"{a} / 2")
    assert_same(gx > s, tx > s, what=f"{a} > {s!r}")


@pytest.mark.parametrize("idiom", [
    "float32 + 0.1 stays float32", "int64 * 2.5 is float32", "int / int is float32",
    "float32 + float64 tensor is float64", "int64 + 3 stays int64", "float32 ** int tensor",
    "int ** float", "x * np.float64 scalar stays float32", "float16 + float32",
    "bool + bool", "int32 + int64 tensor"])
def test_promotion_idioms(idiom):
    fn = {
        "float32 + 0.1 stays float32": lambda T: T.ones(3) + 0.1,
        "int64 * 2.5 is float32": lambda T: T.arange(3) * 2.5,
        "int / int is float32": lambda T: T.tensor([1, 2, 3]) / T.tensor([2, 2, 2]),
        "float32 + float64 tensor is float64":
            lambda T: T.ones(2) + T.ones(2, dtype=T.float64),
        "int64 + 3 stays int64": lambda T: T.tensor([1, 2]) + 3,
        "float32 ** int tensor": lambda T: T.tensor([1.5, 2.0]).pow(T.tensor([2, 3])),
        "int ** float": lambda T: T.tensor([1, 4]) ** 0.5,
        "x * np.float64 scalar stays float32": lambda T: T.ones(2) * np.float64(3.0),
        "float16 + float32": lambda T: T.ones(2, dtype=T.float16) + T.ones(2),
        "bool + bool": lambda T: T.tensor([True, False]) + T.tensor([True, True]),
        "int32 + int64 tensor": lambda T: T.tensor([1], dtype=T.int32) + T.tensor([2]),
    }[idiom]
    assert_same(fn(gn), fn(torch))


@pytest.mark.parametrize("idiom", ["bool - bool", "int - True", "bool - 1", "1 - bool",
                                   "float - bool tensor"])
def test_subtraction_with_bool_is_refused(idiom):
    fn = {"bool - bool": lambda T: T.tensor([True]) - T.tensor([False]),
          "int - True": lambda T: T.tensor([1]) - True,
          "bool - 1": lambda T: T.tensor([True]) - 1,
          "1 - bool": lambda T: 1 - T.tensor([True]),
          "float - bool tensor": lambda T: T.ones(1) - T.tensor([True])}[idiom]
    with pytest.raises(RuntimeError):
        fn(torch)
    with pytest.raises(TypeError, match="bool"):
        fn(gn)


def test_gradient_of_mixed_dtype_op_has_the_leaf_dtype():
    g32 = gn.tensor([1.0, 2.0], requires_grad=True)
    g64 = gn.tensor([3.0, 4.0], dtype=gn.float64, requires_grad=True)
    t32 = torch.tensor([1.0, 2.0], requires_grad=True)
    t64 = torch.tensor([3.0, 4.0], dtype=torch.float64, requires_grad=True)
    go, to = g32 * g64, t32 * t64
    assert_same(go, to)
    go.sum().backward()
    to.sum().backward()
    assert_same(None, None, grads=([g32, g64], [t32, t64]))


CONVERSIONS = {
    "x.float()": lambda T, x: x.float(),
    "x.double()": lambda T, x: x.double(),
    "x.half()": lambda T, x: x.half(),
    "x.long()": lambda T, x: x.long(),
    "x.int()": lambda T, x: x.int(),
    "x.short()": lambda T, x: x.short(),
    "x.char()": lambda T, x: x.char(),
    "x.byte()": lambda T, x: x.byte(),
    "x.bool()": lambda T, x: x.bool(),
    "x.to(T.float64)": lambda T, x: x.to(T.float64),
    "x.to(T.long)": lambda T, x: x.to(T.long),
    "x.to(float)": lambda T, x: x.to(float),
    "x.to(int)": lambda T, x: x.to(int),
    "x.to(dtype=T.int32)": lambda T, x: x.to(dtype=T.int32),
    "x.to('cpu')": lambda T, x: x.to("cpu"),
    "x.to(T.device('cpu'))": lambda T, x: x.to(T.device("cpu")),
    "x.to('cpu', T.float64)": lambda T, x: x.to("cpu", T.float64),
    "x.to(device='cpu', dtype=T.float16)": lambda T, x: x.to(device="cpu", dtype=T.float16),
    "x.to(other)": lambda T, x: x.to(T.zeros(1, dtype=T.int16)),
    "x.to(T.float32, copy=True)": lambda T, x: x.to(T.float32, copy=True),
    "x.to(T.float64, non_blocking=True)": lambda T, x: x.to(T.float64, non_blocking=True),
    "x.type(T.int64)": lambda T, x: x.type(T.int64),
    "x.type('torch.DoubleTensor')": lambda T, x: x.type("torch.DoubleTensor"),
    "x.type_as(int tensor)": lambda T, x: x.type_as(T.tensor([1])),
    "x.cpu()": lambda T, x: x.cpu(),
    "x.is_floating_point()": lambda T, x: x.is_floating_point(),
    "x.element_size()": lambda T, x: x.element_size(),
    "x.long().is_floating_point()": lambda T, x: x.long().is_floating_point(),
    "x.double().element_size()": lambda T, x: x.double().element_size(),
    "T.is_floating_point(x)": lambda T, x: T.is_floating_point(x),
    "T.is_tensor(x)": lambda T, x: T.is_tensor(x),
    "T.is_tensor([1])": lambda T, x: T.is_tensor([1]),
    "T.numel(x)": lambda T, x: T.numel(x),
    "(x * 10).long().float()": lambda T, x: (x * 10).long().float(),
    "bool x.float()": lambda T, x: (x > 0.5).float(),
    "int x.float().mean()": lambda T, x: x.long().float().mean(),
}
XV = np.array([[0.25, 1.75, -2.5], [3.5, 0.0, 9.25]], dtype=np.float32)


@pytest.mark.parametrize("idiom", list(CONVERSIONS))
def test_conversions(idiom):
    fn = CONVERSIONS[idiom]
    assert_same(fn(gn, gn.tensor(XV)), fn(torch, torch.tensor(XV)))


def test_type_names_the_tensor_type():
    for dt in ("float32", "float64", "int64", "int32", "bool", "uint8"):
        g = gn.tensor(np.zeros(1, dtype=dt), dtype=np.dtype(dt))
        t = torch.tensor(np.zeros(1, dtype=dt))
        assert g.type().split(".")[-1] == t.type().split(".")[-1]
        assert g.type().startswith("glassnet.")


def test_same_dtype_returns_the_same_tensor_and_copy_does_not():
    x, t = gn.ones(2), torch.ones(2)
    assert (x.to(gn.float32) is x) == (t.to(torch.float32) is t) is True
    assert (x.float() is x) == (t.float() is t) is True
    assert (x.cpu() is x) == (t.cpu() is t) is True
    assert (x.to(gn.float32, copy=True) is x) == (t.to(torch.float32, copy=True) is t) is False


def test_requires_grad_and_gradient_through_float_casts():
    g = gn.tensor(XV, requires_grad=True)
    t = torch.tensor(XV, requires_grad=True)
    gd, td = g.double(), t.double()
    assert gd.requires_grad and td.requires_grad
    (gd * gd).sum().backward()
    (td * td).sum().backward()
    assert_same(g.grad, t.grad)
    gl, tl = g.long(), t.long()
    assert gl.requires_grad == tl.requires_grad is False


def test_cuda_is_a_clear_error():
    with pytest.raises(ValueError, match="cpu"):
        gn.ones(2).cuda()
    with pytest.raises(ValueError, match="cpu"):
        gn.ones(2).to("cuda")
    with pytest.raises(ValueError, match="cpu"):
        gn.ones(2).to("cuda:0", gn.float64)
    assert gn.ones(2).is_cuda is False and torch.ones(2).is_cuda is False


def test_format_of_a_0d_tensor_is_its_number():
    assert f"{gn.tensor(1.23456):.4f}" == f"{torch.tensor(1.23456):.4f}" == "1.2346"
    assert f"{gn.tensor(3)}" == f"{torch.tensor(3)}" == "3"
