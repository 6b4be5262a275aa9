"""Elementwise math, comparisons and logic against PyTorch 2.13: values, dtypes (integer
input of exp/sin/sqrt... computes in float32, abs/floor/round... keep int), broadcasting,
Python scalars on either side, bool results of comparisons, and gradients."""
import numpy as np
import pytest

import glassnet as gn

from ._compare import TORCH_REASON, assert_same
from .test_reduce import check

torch = pytest.importorskip("torch", reason=TORCH_REASON)

R = np.random.default_rng(7)
X = R.standard_normal((3, 4)).astype(np.float32)
Y = R.standard_normal((3, 4)).astype(np.float32)
ROW = R.standard_normal(4).astype(np.float32)
POS = (R.random((3, 4)) + 0.5).astype(np.float32)
UNIT = (R.random((3, 4)) * 1.6 - 0.8).astype(np.float32)     # inside (-1, 1)
BIG = (R.random((3, 4)) + 1.5).astype(np.float32)            # > 1
HALVES = np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 0.0, -0.0], dtype=np.float32)
INTS = np.array([[1, -2, 3, 0], [4, 4, -1, 2], [0, 7, 2, 2]], dtype=np.int64)
PINTS = np.array([[1, 2, 3], [4, 5, 6]], dtype=np.int64)
BOOLS = np.array([[True, False, True], [False, True, True]])
BOOLS2 = np.array([[True, True, False], [False, False, True]])
SPECIAL = np.array([1.0, np.nan, np.inf, -np.inf, 0.0, -2.0], dtype=np.float32)

UNARY = {   # name -> input
    "exp": X, "exp2": X, "expm1": X, "log": POS, "log2": POS, "log10": POS, "log1p": POS,
    "sin": X, "cos": X, "tan": UNIT, "asin": UNIT, "acos": UNIT, "atan": X, "sinh": X,
    "cosh": X, "tanh": X, "asinh": X, "acosh": BIG, "atanh": UNIT, "sigmoid": X, "relu": X,
    "abs": X, "sqrt": POS, "rsqrt": POS, "square": X, "sign": X, "sgn": X, "floor": X * 3,
    "ceil": X * 3, "round": HALVES, "trunc": X * 3, "frac": X * 3, "neg": X,
    "reciprocal": POS, "negative": X, "absolute": X, "fix": X * 3,
}


@pytest.mark.parametrize("name", list(UNARY))
def test_unary_method_values(name):
    check(lambda T, x: getattr(x, name)(), [UNARY[name]])


@pytest.mark.parametrize("name", ["exp", "log", "sin", "cos", "tanh", "sigmoid", "relu",
                                  "abs", "sqrt", "neg", "square", "floor", "round",
                                  "reciprocal"])
def test_unary_top_level_values(name):
    check(lambda T, x: getattr(T, name)(x), [UNARY[name]])


INT_UNARY = ["exp", "log", "sqrt", "sin", "sigmoid", "tanh", "abs", "neg", "sign", "floor",
             "ceil", "round", "trunc", "square", "relu", "reciprocal", "rsqrt", "log1p",
             "expm1", "cos", "atan"]


@pytest.mark.parametrize("name", INT_UNARY)
def test_unary_on_int_tensor_dtype(name):
    """exp/sin/sqrt... of an int tensor are float32; abs/floor/round... stay int64."""
    with np.errstate(all="ignore"):
        check(lambda T, x: getattr(x, name)(), [PINTS], atol=1e-5)


@pytest.mark.parametrize("name", ["exp", "expm1", "log", "log2", "log10", "log1p", "sin",
                                  "cos", "tan", "asin", "acos", "atan", "sinh", "cosh",
                                  "tanh", "asinh", "acosh", "atanh", "sigmoid", "relu", "abs",
                                  "sqrt", "rsqrt", "square", "reciprocal", "neg", "frac",
                                  "exp2", "floor", "sign"])
def test_unary_gradients(name):
    check(lambda T, x: getattr(x, name)(), [UNARY[name]], grad=True, rtol=1e-7, atol=1e-9)


CASES = {
    "x + y": (lambda T, x, y: x + y, [X, Y]),
    "x - y": (lambda T, x, y: x - y, [X, Y]),
    "x * y": (lambda T, x, y: x * y, [X, Y]),
    "x / y": (lambda T, x, y: x / y, [X, POS]),
    "x + row (broadcast)": (lambda T, x, y: x + y, [X, ROW]),
    "x * row[:, None]": (lambda T, x, y: x * y[:3, None], [X, ROW]),
    "x + 2.5": (lambda T, x: x + 2.5, [X]),
    "2.5 - x": (lambda T, x: 2.5 - x, [X]),
    "1 / x": (lambda T, x: 1 / x, [POS]),
    "x ** 2": (lambda T, x: x ** 2, [X]),
    "x ** 0.5": (lambda T, x: x ** 0.5, [POS]),
    "2 ** x": (lambda T, x: 2 ** x, [X]),
    "x ** y": (lambda T, x, y: x ** y, [POS, Y]),
    "x.pow(3)": (lambda T, x: x.pow(3), [X]),
    "T.pow(x, 2)": (lambda T, x: T.pow(x, 2), [X]),
    "x.pow(int tensor)": (lambda T, x, n: x.pow(n % 3), [POS[:2, :3], PINTS]),
    "int ** 2": (lambda T, n: n ** 2, [PINTS]),
    "int ** 0.5": (lambda T, n: n ** 0.5, [PINTS]),
    "x // 2": (lambda T, x: x // 2, [X * 5]),
    "int // 2": (lambda T, n: n // 2, [INTS]),
    "x % 2": (lambda T, x: x % 2, [X * 5]),
    "int % 3": (lambda T, n: n % 3, [INTS]),
    "T.fmod(x, 2)": (lambda T, x: T.fmod(x, 2), [X * 5]),
    "T.remainder(x, -1.5)": (lambda T, x: T.remainder(x, -1.5), [X * 5]),
    "T.add(x, y, alpha=2)": (lambda T, x, y: T.add(x, y, alpha=2), [X, Y]),
    "x.sub(y, alpha=0.5)": (lambda T, x, y: x.sub(y, alpha=0.5), [X, Y]),
    "T.div(x, y, rounding_mode='floor')":
        (lambda T, x, y: T.div(x, y, rounding_mode="floor"), [X * 4, POS]),
    "T.div(n, 3, rounding_mode='trunc')":
        (lambda T, n: T.div(n, 3, rounding_mode="trunc"), [INTS]),
    "-x": (lambda T, x: -x, [X]),
    "abs(x)": (lambda T, x: abs(x), [X]),
    "T.maximum(x, y)": (lambda T, x, y: T.maximum(x, y), [X, Y]),
    "T.minimum(x, row)": (lambda T, x, y: T.minimum(x, y), [X, ROW]),
    "T.fmax(x, nan)": (lambda T, x, y: T.fmax(x, y), [SPECIAL, SPECIAL[::-1].copy()]),
    "x.clamp(-0.5, 0.5)": (lambda T, x: x.clamp(-0.5, 0.5), [X]),
    "x.clamp(min=0)": (lambda T, x: x.clamp(min=0), [X]),
    "x.clamp(max=0.1)": (lambda T, x: x.clamp(max=0.1), [X]),
    "T.clamp(x, min=t, max=u)": (lambda T, x, a, b: T.clamp(x, min=a, max=b),
                                 [X, -np.abs(ROW), np.abs(ROW)]),
    "x.clip(0, 1)": (lambda T, x: x.clip(0, 1), [X]),
    "int x.clamp(min=0.5)": (lambda T, n: n.clamp(min=0.5), [INTS]),
    "int x.clamp(0, 3)": (lambda T, n: n.clamp(0, 3), [INTS]),
    "T.atan2(x, y)": (lambda T, x, y: T.atan2(x, y), [X, Y]),
    "T.lerp(x, y, 0.3)": (lambda T, x, y: T.lerp(x, y, 0.3), [X, Y]),
    "x.lerp(y, w)": (lambda T, x, y, w: x.lerp(y, w), [X, Y, POS]),
    "T.addcmul(x, y, x, value=0.5)": (lambda T, x, y: T.addcmul(x, y, x, value=0.5), [X, Y]),
    "T.addcdiv(x, y, p, value=2)": (lambda T, x, y, p: T.addcdiv(x, y, p, value=2),
                                    [X, Y, POS]),
    "T.where(x > 0, x, y)": (lambda T, x, y: T.where(x > 0, x, y), [X, Y]),
    "T.where(x > 0, x, 0.0)": (lambda T, x: T.where(x > 0, x, 0.0), [X]),
    "T.where(n > 0, n, 1.5)": (lambda T, n: T.where(n > 0, n, 1.5), [INTS]),
    "T.where(cond)": (lambda T, x: T.where(x > 0), [X]),
    "x.round(decimals=1)": (lambda T, x: x.round(decimals=1), [X]),
}


@pytest.mark.parametrize("idiom", list(CASES))
def test_binary_and_misc_values(idiom):
    fn, arrays = CASES[idiom]
    with np.errstate(all="ignore"):
        check(fn, arrays, atol=1e-5)


GRAD = ["x + y", "x - y", "x * y", "x / y", "x + row (broadcast)", "x * row[:, None]",
        "2.5 - x", "1 / x", "x ** 2", "x ** 0.5", "2 ** x", "x ** y", "x % 2",
        "T.remainder(x, -1.5)", "T.add(x, y, alpha=2)", "-x", "abs(x)", "T.maximum(x, y)",
        "T.minimum(x, row)", "x.clamp(-0.5, 0.5)", "x.clamp(min=0)",
        "T.clamp(x, min=t, max=u)", "T.atan2(x, y)", "T.lerp(x, y, 0.3)", "x.lerp(y, w)",
        "T.addcmul(x, y, x, value=0.5)", "T.addcdiv(x, y, p, value=2)",
        "T.where(x > 0, x, y)", "T.where(x > 0, x, 0.0)"]


@pytest.mark.parametrize("idiom", GRAD)
def test_binary_gradients(idiom):
    fn, arrays = CASES[idiom]
    check(fn, arrays, grad=True, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("idiom", ["pow at 0", "pow exponent 0", "maximum ties",
                                   "clamp at the bound", "abs at 0", "sqrt of 4"])
def test_gradient_edge_conventions(idiom):
    fn, arrays = {
        "pow at 0": (lambda T, x: x ** 2, [np.array([0.0, 1.0, -2.0])]),
        "pow exponent 0": (lambda T, x, e: x ** e, [np.array([0.0, 2.0]),
                                                    np.array([0.0, 0.0])]),
        "maximum ties": (lambda T, x, y: T.maximum(x, y), [np.array([1.0, 2.0, 3.0]),
                                                           np.array([1.0, 0.0, 3.0])]),
        "clamp at the bound": (lambda T, x: x.clamp(0.0, 1.0), [np.array([0.0, 0.5, 1.0])]),
        "abs at 0": (lambda T, x: x.abs(), [np.array([0.0, -1.0, 2.0])]),
        "sqrt of 4": (lambda T, x: x.sqrt(), [np.array([4.0, 1.0])]),
    }[idiom]
    check(fn, arrays, grad=True, rtol=1e-7, atol=1e-9)


COMPARE = {
    "x == y": (lambda T, x, y: x == y, [X, np.where(R.random((3, 4)) < 0.5, X, Y)]),
    "x != y": (lambda T, x, y: x != y, [X, Y]),
    "x < y": (lambda T, x, y: x < y, [X, Y]),
    "x <= row": (lambda T, x, y: x <= y, [X, ROW]),
    "x > 0": (lambda T, x: x > 0, [X]),
    "x >= 0.5": (lambda T, x: x >= 0.5, [X]),
    "0 < x": (lambda T, x: 0 < x, [X]),
    "int == 2.0": (lambda T, n: n == 2.0, [INTS]),
    "int < 2.5": (lambda T, n: n < 2.5, [INTS]),
    "x.eq(y)": (lambda T, x, y: x.eq(y), [X, X]),
    "x.ne(0)": (lambda T, x: x.ne(0), [INTS]),
    "x.lt(y)": (lambda T, x, y: x.lt(y), [X, Y]),
    "x.le(y)": (lambda T, x, y: x.le(y), [X, Y]),
    "x.gt(y)": (lambda T, x, y: x.gt(y), [X, Y]),
    "x.ge(y)": (lambda T, x, y: x.ge(y), [X, Y]),
    "T.greater(x, y)": (lambda T, x, y: T.greater(x, y), [X, Y]),
    "T.less_equal(x, 0)": (lambda T, x: T.less_equal(x, 0), [X]),
    "T.not_equal(x, y)": (lambda T, x, y: T.not_equal(x, y), [X, Y]),
    "T.eq(x, y)": (lambda T, x, y: T.eq(x, y), [INTS, INTS[::-1].copy()]),
    "(pred == labels).sum().item()": (lambda T, p, q: (p == q).sum().item(),
                                      [INTS, INTS[:, ::-1].copy()]),
    "(x > 0).float().mean()": (lambda T, x: (x > 0).float().mean(), [X]),
    "T.equal(x, x)": (lambda T, x: T.equal(x, x), [X]),
    "T.equal(x, y)": (lambda T, x, y: T.equal(x, y), [X, Y]),
    "x.equal(int same values)": (lambda T, n: n.equal(n.float()), [INTS]),
    "T.isclose(x, y)": (lambda T, x, y: T.isclose(x, x + y * 1e-6), [X, Y]),
    "T.allclose(x, x + 1e-7)": (lambda T, x: T.allclose(x, x + 1e-7), [X]),
    "T.allclose(x, y)": (lambda T, x, y: T.allclose(x, y), [X, Y]),
    "x.allclose(y, atol=10)": (lambda T, x, y: x.allclose(y, atol=10), [X, Y]),
    "T.isclose(nan, equal_nan=True)": (lambda T, x: T.isclose(x, x, equal_nan=True),
                                       [SPECIAL]),
    "x.isnan()": (lambda T, x: x.isnan(), [SPECIAL]),
    "T.isinf(x)": (lambda T, x: T.isinf(x), [SPECIAL]),
    "x.isfinite()": (lambda T, x: x.isfinite(), [SPECIAL]),
    "T.isposinf(x)": (lambda T, x: T.isposinf(x), [SPECIAL]),
    "T.isneginf(x)": (lambda T, x: T.isneginf(x), [SPECIAL]),
    "T.logical_and(a, b)": (lambda T, a, b: T.logical_and(a, b), [BOOLS, BOOLS2]),
    "a.logical_or(b)": (lambda T, a, b: a.logical_or(b), [BOOLS, BOOLS2]),
    "T.logical_not(x)": (lambda T, x: T.logical_not(x), [INTS]),
    "T.logical_xor(x, y)": (lambda T, x, y: T.logical_xor(x, y), [X, Y]),
    "a & b": (lambda T, a, b: a & b, [BOOLS, BOOLS2]),
    "a | b": (lambda T, a, b: a | b, [BOOLS, BOOLS2]),
    "a ^ b": (lambda T, a, b: a ^ b, [BOOLS, BOOLS2]),
    "~a": (lambda T, a: ~a, [BOOLS]),
    "~int": (lambda T, n: ~n, [INTS]),
    "n & 3": (lambda T, n: n & 3, [INTS]),
    "(x > 0) & (x < 1)": (lambda T, x: (x > 0) & (x < 1), [X]),
    "T.bitwise_xor(n, m)": (lambda T, n, m: T.bitwise_xor(n, m), [INTS, INTS[::-1].copy()]),
    "a + b (bool)": (lambda T, a, b: a + b, [BOOLS, BOOLS2]),
    "a * b (bool)": (lambda T, a, b: a * b, [BOOLS, BOOLS2]),
    "a.sum() (bool)": (lambda T, a: a.sum(), [BOOLS]),
    "x == None": (lambda T, x: x == None, [X]),  # noqa: E711
}


@pytest.mark.parametrize("idiom", list(COMPARE))
def test_comparisons_and_logic(idiom):
    fn, arrays = COMPARE[idiom]
    check(fn, arrays)


@pytest.mark.parametrize("idiom", ["-bool", "bool - bool", "frac of int", "int ** -1",
                                   "float & float", "clamp without bounds",
                                   "isclose float32 vs float64", "T.maximum(x, 2)"])
def test_errors_where_torch_raises(idiom):
    fn = {
        "-bool": lambda T: -T.tensor([True]),
        "bool - bool": lambda T: T.tensor([True]) - T.tensor([False]),
        "frac of int": lambda T: T.tensor([1, 2]).frac(),
        "int ** -1": lambda T: T.tensor([1, 2]) ** -1,
        "float & float": lambda T: T.tensor([1.0]) & T.tensor([1.0]),
        "clamp without bounds": lambda T: T.clamp(T.tensor([1.0])),
        "isclose float32 vs float64": lambda T: T.isclose(T.tensor([1.0]),
                                                          T.tensor([1.0], dtype=T.float64)),
        "T.maximum(x, 2)": lambda T: T.maximum(T.tensor([1.0]), 2),
    }[idiom]
    with pytest.raises(Exception):
        fn(torch)
    with pytest.raises((ValueError, TypeError)):
        fn(gn)


def test_bool_results_are_bool_tensors_usable_as_masks():
    x = np.array([-1.0, 2.0, -3.0, 4.0], dtype=np.float32)
    g, t = gn.tensor(x), torch.tensor(x)
    assert_same(g[g > 0], t[t > 0])
    assert (g > 0).dtype == gn.bool
    assert_same(((g > 0) == (g >= 0)).all().item(), ((t > 0) == (t >= 0)).all().item())
