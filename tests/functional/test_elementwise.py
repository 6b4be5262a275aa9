"""Float64 finite-difference gradient checks of the elementwise Functions and the type
promotion rule (glassnet's own tests; the torch comparison is tests/parity)."""
import numpy as np
import pytest

import glassnet as gn
from glassnet.autograd import gradcheck
from glassnet.functional import elementwise as E

R = np.random.default_rng(5)
X = R.standard_normal((3, 4))
P = R.random((3, 4)) + 0.5
U = R.random((3, 4)) * 1.6 - 0.8
B = R.random((3, 4)) + 1.5

UNARY = {"exp": X, "exp2": X, "expm1": X, "log": P, "log2": P, "log10": P, "log1p": P,
         "sin": X, "cos": X, "tan": U, "asin": U, "acos": U, "atan": X, "sinh": X,
         "cosh": X, "asinh": X, "acosh": B, "atanh": U, "sqrt": P, "rsqrt": P,
         "reciprocal": P, "abs": X, "neg": X, "square": X, "frac": X * 3 + 0.1,
         "sigmoid": X, "tanh": X, "relu": X}


@pytest.mark.parametrize("name", list(UNARY))
def test_unary_gradcheck(name):
    gradcheck(lambda a: getattr(gn, name)(a), [UNARY[name].copy()])


BINARY = {
    "atan2": (lambda a, b: gn.atan2(a, b), [X, P]),
    "pow tensor": (lambda a, b: a ** b, [P, X]),
    "rpow": (lambda a: 2.0 ** a, [X]),
    "remainder": (lambda a, b: gn.remainder(a, b), [X * 3, P]),
    "fmod": (lambda a, b: gn.fmod(a, b), [X * 3, P]),
    "lerp": (lambda a, b, w: gn.lerp(a, b, w), [X, P, U]),
    "clamp tensor bounds": (lambda a, lo, hi: gn.clamp(a, lo, hi),
                            [X, -np.abs(U) - 0.05, np.abs(U) + 0.05]),
    "clamp numbers": (lambda a: gn.clamp(a, -0.5, 0.5), [X]),
    "maximum": (lambda a, b: gn.maximum(a, b), [X, P - 1]),
    "addcdiv": (lambda a, b, c: gn.addcdiv(a, b, c, value=0.5), [X, X, P]),
}


@pytest.mark.parametrize("name", list(BINARY))
def test_binary_gradcheck(name):
    fn, arrays = BINARY[name]
    gradcheck(fn, [a.copy() for a in arrays])


@pytest.mark.parametrize("a,b,want", [
    ("float32", "float64", "float64"), ("int64", "float16", "float16"),
    ("uint8", "int8", "int16"), ("bool", "int32", "int32"), ("bool", "bool", "bool"),
    ("int32", "int64", "int64"), ("complex64", "float64", "complex128"),
])
def test_promote_types(a, b, want):
    assert E.promote_types(np.dtype(a), np.dtype(b)) == np.dtype(want)
    assert E.promote_types(np.dtype(b), np.dtype(a)) == np.dtype(want)


def test_result_type_groups():
    f32, i64 = gn.ones(2), gn.tensor([1, 2])
    assert E.result_type(f32, 2.5) == gn.float32
    assert E.result_type(i64, 2.5) == gn.float32
    assert E.result_type(i64, 2) == gn.int64
    assert E.result_type(f32, gn.tensor(1.0, dtype=gn.float64)) == gn.float32   # 0-d weaker
    assert E.result_type(i64, gn.tensor(1.0, dtype=gn.float64)) == gn.float64   # category up
    assert E.result_type(gn.tensor([True]), 3) == gn.int64
    with pytest.raises(TypeError, match="result_type"):
        E.result_type(f32, "x")


def test_comparisons_return_bool_and_compare_in_promoted_dtype():
    x = gn.tensor([1, 2, 3])
    assert (x < 2.5).dtype == gn.bool and (x < 2.5).tolist() == [True, True, False]
    assert (gn.tensor([0.1]) == 0.1).item() is True
    assert (x == None) is False  # noqa: E711
