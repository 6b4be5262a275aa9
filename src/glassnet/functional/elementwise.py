"""Elementwise math, comparisons, logic, dtype promotion and dtype conversions, as PyTorch
defines them.

Type promotion
--------------
:func:`result_type` is the one rule every binary op uses (``add``, ``sub``, ``mul``,
``div``, ``pow``, ``maximum``, ``minimum``, ``where``, the comparisons...). Operands fall
in three groups, strongest first: tensors with at least one dimension, 0-d tensors, and
Python (or NumPy) scalars. Within the strongest group present the dtypes promote as
:func:`promote_types` says; a weaker group only matters when it is of a higher *category*
(bool < integer < floating < complex), and then a Python float brings the default dtype
(float32), not float64. So float32 (op) 2.5 stays float32, an int64 tensor (op) 2.5 is
float32, float32 (op) a float64 tensor is float64, and int / int (true division) is float32.

>>> x = gn.tensor([1, 2, 3])
>>> (x * 2).dtype, (x * 2.5).dtype, (x / x).dtype
(dtype('int64'), dtype('float32'), dtype('float32'))
>>> result_type(gn.tensor([1.0]), gn.tensor(1.0, dtype=gn.float64))
dtype('float32')

Each differentiable op is a :class:`~glassnet.autograd.function.Function` with its
derivative beside it; integer and bool inputs of the functions that are real-valued
(``exp``, ``sin``, ``sqrt``, ``sigmoid``...) are computed in the default dtype first, as
PyTorch does; ``abs``, ``neg``, ``sign``, ``floor``, ``round``, ``square``... keep the
integer dtype.
"""
from __future__ import annotations

import builtins
import math as _pymath
import numbers

import numpy as np

from .. import backend
from ..autograd.function import Function, unbroadcast
from ..autograd.tensor import Tensor
from ..backend import devices as _devices
from ..backend import dtypes as _dtypes
from ..errors import ArgumentError, ArgumentTypeError

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, overload
from typing import cast as _cast

if TYPE_CHECKING:  # annotations only
    from typing import Protocol

    import numpy.typing as npt

    from glassnet._typing import DeviceLike, DTypeLike, TensorLike
    from glassnet.autograd.tensor import Tensor
    from glassnet.backend.devices import device

    class _UnaryFn(Protocol):
        """A function of one tensor (``exp``, ``isnan``...), made by a factory below."""
        __name__: str
        __qualname__: str

        def __call__(self, input: Tensor) -> Tensor: ...  # noqa: A002

    class _BinaryFn(Protocol):
        """A function of two operands (``eq``, ``logical_and``...), made by a factory below."""
        __name__: str
        __qualname__: str

        def __call__(self, input: TensorLike, other: TensorLike) -> Tensor: ...  # noqa: A002


__all__ = [
    "promote_types", "result_type", "can_cast", "is_tensor", "is_floating_point",
    "is_complex", "numel",
    # unary math
    "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sin", "cos", "tan", "asin",
    "acos", "atan", "sigmoid", "tanh", "relu", "arcsin", "arccos", "arctan", "sinh", "cosh", "asinh", "acosh", "atanh",
    "sqrt", "rsqrt", "square", "abs", "absolute", "neg", "negative", "sign", "sgn", "floor",
    "ceil", "round", "trunc", "fix", "frac", "reciprocal", "clamp", "clip", "atan2", "arctan2",
    "lerp", "addcmul", "addcdiv", "floor_divide", "remainder", "fmod", "maximum", "minimum",
    # comparisons and logic
    "eq", "ne", "lt", "le", "gt", "ge", "greater", "greater_equal", "less", "less_equal",
    "not_equal", "equal", "isclose", "allclose", "isnan", "isinf", "isfinite", "isposinf",
    "isneginf", "isreal", "logical_and", "logical_or", "logical_not", "logical_xor",
    "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not",
]

_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}


def _dt(x: DTypeLike, who: str = "promote_types") -> np.dtype:
    return _dtypes.resolve(x, "dtype", who)


def promote_types(type1: DTypeLike, type2: DTypeLike) -> np.dtype:
    """The smallest dtype both ``type1`` and ``type2`` convert to, as ``torch.promote_types``:
    a floating type wins over any integer (int64 with float16 is float16, NumPy says float64),
    integers of mixed sign widen (uint8 with int8 is int16), bool gives way to everything.

    >>> promote_types(gn.int64, gn.float32), promote_types(gn.uint8, gn.int8)
    (dtype('float32'), dtype('int16'))
    """
    a, b = _dt(type1), _dt(type2)
    if a == b:
        return a
    ca, cb = _CATEGORY[a.kind], _CATEGORY[b.kind]
    if ca == cb:
        return np.promote_types(a, b)
    hi, lo = (a, b) if ca > cb else (b, a)
    if hi.kind == "c" and lo.kind == "f":
        return np.promote_types(hi, lo)
    return hi


def _scalar_dtype(x: object) -> np.dtype | None:
    """The dtype a Python/NumPy scalar brings to a promotion (None: not a number)."""
    if isinstance(x, (bool, np.bool_)):
        return _dtypes.bool_
    if isinstance(x, numbers.Integral):
        return _dtypes.int64
    if isinstance(x, numbers.Real):
        return backend.get_default_dtype()
    if isinstance(x, numbers.Complex):
        return (_dtypes.complex128 if backend.get_default_dtype() == np.float64
                else _dtypes.complex64)
    return None


def _promote_opt(a: np.dtype | None, b: np.dtype | None) -> np.dtype | None:
    if a is None:
        return b
    if b is None:
        return a
    return promote_types(a, b)


def _combine(higher: np.dtype | None, lower: np.dtype | None) -> np.dtype | None:
    """PyTorch's rule for a stronger group ``higher`` meeting a weaker group ``lower``."""
    if higher is None:
        return lower
    if lower is None:
        return higher
    if higher.kind == "c":
        return higher
    if lower.kind == "c":
        if higher.kind == "f":
            return np.promote_types(higher, np.complex64)
        return lower
    if higher.kind == "f":
        return higher
    if higher.kind == "b" or lower.kind == "f":
        return promote_types(higher, lower)
    return higher


def result_type(*operands: TensorLike) -> np.dtype:
    """The dtype PyTorch gives an elementwise op on ``operands`` (tensors, arrays or
    Python scalars); see the module docstring for the rule.

    >>> result_type(gn.tensor([1, 2]), 1.5), result_type(gn.tensor([1.0]), 2)
    (dtype('float32'), dtype('float32'))
    """
    dim: np.dtype | None = None
    zero: np.dtype | None = None
    wrapped: np.dtype | None = None
    for x in operands:
        if isinstance(x, Tensor):
            a = x._data
        elif isinstance(x, np.ndarray):
            a = x
        else:
            d = _scalar_dtype(x)
            if d is None:
                raise ArgumentTypeError(f"result_type: expected tensors or numbers, got "
                                        f"{type(x).__name__}")
            wrapped = _promote_opt(wrapped, d)
            continue
        if a.ndim:
            dim = _promote_opt(dim, a.dtype)
        else:
            zero = _promote_opt(zero, a.dtype)
    # None only when no operand is given
    return _cast("np.dtype", _combine(dim, _combine(zero, wrapped)))


def can_cast(from_: DTypeLike, to: DTypeLike) -> bool:
    """Whether PyTorch's type promotion allows casting ``from_`` to ``to`` (no move to a
    lower category: float to int, or anything but bool to bool, is refused)."""
    a, b = _dt(from_, "can_cast"), _dt(to, "can_cast")
    return _CATEGORY[a.kind] <= _CATEGORY[b.kind]


@overload
def _as(x: Tensor, dt: np.dtype) -> Tensor: ...
@overload
def _as(x: TensorLike, dt: np.dtype) -> Tensor | np.ndarray: ...
def _as(x: TensorLike, dt: np.dtype) -> Tensor | np.ndarray:  # noqa: E302
    """Operand ``x`` of a promoted op as dtype ``dt``: a Tensor cast through the graph when
    its dtype differs, a scalar or array as a (0-d) array of ``dt``."""
    if isinstance(x, Tensor):
        return x if x._data.dtype == dt else cast(x, dt)
    a = np.asarray(x)
    if a.dtype != dt:
        a = a.astype(dt)
    return a


def _operands(a: TensorLike, b: TensorLike) -> tuple[Tensor | np.ndarray, Tensor | np.ndarray, np.dtype]:
    """``(a, b)`` converted to their common dtype (:func:`result_type`), and that dtype.
    The common case (two tensors of one dtype, a float tensor and a Python number) is
    decided without the full rule."""
    if isinstance(a, Tensor):
        da = a._data.dtype
        if isinstance(b, Tensor):
            if b._data.dtype == da:
                return a, b, da
        elif type(b) in (float, int) and da.kind == "f":
            return a, np.asarray(b, dtype=da), da
        elif type(b) is int and da == np.int64 and -2**63 <= b < 2**63:
            return a, np.asarray(b, dtype=da), da        # index arithmetic: i + block_size
    elif isinstance(b, Tensor) and type(a) in (float, int) and b._data.dtype.kind == "f":
        return np.asarray(a, dtype=b._data.dtype), b, b._data.dtype
    elif isinstance(b, Tensor) and type(a) is int and b._data.dtype == np.int64 \
            and -2**63 <= a < 2**63:
        return np.asarray(a, dtype=np.int64), b, b._data.dtype
    dt = result_type(a, b)
    return _as(a, dt), _as(b, dt), dt


def _is_operand(x: object) -> bool:
    return isinstance(x, (Tensor, np.ndarray)) or _scalar_dtype(x) is not None


def is_tensor(obj: object) -> bool:
    """True when ``obj`` is a glassnet Tensor (``torch.is_tensor``)."""
    return isinstance(obj, Tensor)


def is_floating_point(input: Tensor) -> bool:  # noqa: A002
    """True when ``input``'s dtype is a floating type (float16, float32, float64)."""
    return input.dtype.kind == "f"


def is_complex(input: Tensor) -> bool:  # noqa: A002
    """True when ``input``'s dtype is complex."""
    return input.dtype.kind == "c"


def numel(input: Tensor) -> int:  # noqa: A002
    """The number of elements of ``input``."""
    return int(np.size(input._data if isinstance(input, Tensor) else input))


def _floating(x: TensorLike) -> Tensor:
    """``x`` itself when floating (or complex), else cast to the default dtype (PyTorch
    computes exp/sin/sqrt... of integer tensors in float32)."""
    if not isinstance(x, Tensor):
        x = Tensor(np.asarray(x))
    if x._data.dtype.kind in "fc":
        return x
    return cast(x, backend.get_default_dtype())


def _tensor(x: object, who: str) -> Tensor:
    if isinstance(x, Tensor):
        return x
    raise ArgumentTypeError(f"{who}(): argument 'input' must be a Tensor, got "
                            f"{type(x).__name__}")


# ------------------------------------------------------------------ casts
class Cast(Function):
    """z = a as another dtype; the gradient is cast back to a's dtype."""

    def forward(self, a: np.ndarray, dtype: DTypeLike = None) -> np.ndarray:
        self.dt = a.dtype
        return a.astype(dtype)

    def backward(self, g: np.ndarray) -> np.ndarray | None:
        return g.astype(self.dt) if self.dt.kind in "fc" else None


def _resolve_dtype(dtype: DTypeLike, who: str) -> np.dtype:
    # Python's float is float64 for Tensor.to/type, as in PyTorch (torch.double)
    if dtype is builtins.float:
        return _dtypes.float64
    if dtype is builtins.complex:
        return _dtypes.complex128
    return _dtypes.resolve(dtype, "dtype", who)


def cast(input: Tensor, dtype: DTypeLike, copy: bool = False) -> Tensor:  # noqa: A002
    """``input`` as ``dtype``, through the graph when the result is floating (the gradient
    is cast back); an integer or bool result is a new leaf. The same tensor comes back when
    the dtype already matches (as ``Tensor.to`` does), unless ``copy``."""
    dt = _resolve_dtype(dtype, "to")
    if dt == input._data.dtype and not copy:
        return input
    if dt.kind in "fc":
        return Cast.apply(input, dtype=dt)
    return Tensor._from_op(input._data.astype(dt), None, 0, False)


_TYPE_NAMES = {
    "float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor",
    "int64": "LongTensor", "int32": "IntTensor", "int16": "ShortTensor",
    "int8": "CharTensor", "uint8": "ByteTensor", "bool": "BoolTensor",
    "complex64": "ComplexFloatTensor", "complex128": "ComplexDoubleTensor",
}
_TYPE_DTYPES = {v: np.dtype(k) for k, v in _TYPE_NAMES.items()}


def _type(self: Tensor, dtype: DTypeLike = None, non_blocking: bool = False,
          **kwargs: Any) -> str | Tensor:
    """``t.type()`` names the tensor type (``'glassnet.FloatTensor'``); ``t.type(dtype)``
    casts (a dtype, or a name such as ``'torch.LongTensor'``)."""
    if dtype is None:
        return "glassnet." + _TYPE_NAMES.get(self._data.dtype.name, self._data.dtype.name)
    if isinstance(dtype, str):
        key = dtype.rpartition(".")[2]
        if key in _TYPE_DTYPES:
            return cast(self, _TYPE_DTYPES[key])
    elif isinstance(dtype, type) and dtype.__name__ in _TYPE_DTYPES and \
            not issubclass(dtype, np.generic):
        return cast(self, _TYPE_DTYPES[dtype.__name__])
    return cast(self, dtype)


def _to(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
    """``Tensor.to(dtype)``, ``to(device)``, ``to(other)``, ``to(device, dtype)``,
    ``to(dtype=, device=, non_blocking=, copy=)``: the same tensor when nothing changes
    (unless ``copy=True``); the device must be the CPU (a clear error otherwise)."""
    dtype = kwargs.pop("dtype", None)
    device = kwargs.pop("device", None)
    kwargs.pop("non_blocking", None)
    copy = bool(kwargs.pop("copy", False))
    kwargs.pop("memory_format", None)
    if kwargs:
        raise ArgumentTypeError(f"to(): unexpected keyword argument {next(iter(kwargs))!r}")
    flags = []
    for a in args:
        if isinstance(a, Tensor):
            dtype = a._data.dtype
        elif isinstance(a, bool):
            flags.append(a)
        elif _devices.is_device_spec(a) or (isinstance(a, int) and not flags):
            device = a
        elif a is None:
            continue
        else:
            dtype = a
    if len(flags) > 1:
        copy = copy or flags[1]
    if device is not None:
        _devices.check(device, "device", "Tensor.to")
    if dtype is None:
        if copy:
            return cast(self, self._data.dtype, copy=True)
        return self
    return cast(self, dtype, copy=copy)


def _cpu(self: Tensor, memory_format: object = None) -> Tensor:
    """The tensor itself (glassnet computes on the CPU)."""
    return self


def _cuda(self: Tensor, device: DeviceLike | int = None, non_blocking: bool = False,
          **kwargs: Any) -> Tensor:
    """Refused with a clear error: glassnet has no CUDA device."""
    _devices.check("cuda" if device is None else device, "device", "Tensor.cuda")
    return self


# ------------------------------------------------------------------ unary math
def _unary(name: str, f: Callable[[np.ndarray], np.ndarray], df: _Vjp, doc: str,
           keep_int: bool = False, int_error: str | None = None
           ) -> tuple[type[Function], _UnaryFn]:
    """Make the Function ``name`` computing ``f(a)``, with ``df(g, a, out)`` its vector-
    Jacobian product, and its wrapper (integer inputs promoted to the default dtype unless
    ``keep_int``; ``int_error``: the message when integer input is refused)."""
    def forward(self: Any, a: np.ndarray) -> np.ndarray:
        self.a = a
        self.out = f(a)
        return self.out

    def backward(self: Any, g: np.ndarray) -> np.ndarray:
        return df(g, self.a, self.out)

    cls = _cast("type[Function]",
                type(name, (Function,), {"forward": forward, "backward": backward,
                                         "__doc__": doc, "__module__": __name__}))

    def wrapper(input: Tensor) -> Tensor:  # noqa: A002
        x = _tensor(input, wrapper.__name__) if not isinstance(input, Tensor) else input
        if x._data.dtype.kind not in "fc":
            if int_error:
                raise ArgumentTypeError(f"{wrapper.__name__}: {int_error}, got dtype "
                                        f"{x._data.dtype}")
            if not keep_int:
                x = _floating(x)
        return cls.apply(x)
    return cls, wrapper


def _zero(g: np.ndarray, a: np.ndarray, out: np.ndarray) -> np.ndarray:
    return np.zeros_like(g)


_LN2, _LN10 = _pymath.log(2.0), _pymath.log(10.0)

_Vjp = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]   # (g, a, out) -> da
_Entry = tuple[str, Callable[[np.ndarray], np.ndarray], _Vjp, str]
_UNARY: dict[str, _Entry] = {
    # name: (Function name, f, vjp, doc, keep_int)
    "exp": ("Exp", np.exp, lambda g, a, o: g * o, "z = e^a;  dz/da = z."),
    "exp2": ("Exp2", np.exp2, lambda g, a, o: g * o * _LN2, "z = 2^a;  dz/da = z ln 2."),
    "expm1": ("Expm1", np.expm1, lambda g, a, o: g * (o + 1), "z = e^a - 1;  dz/da = z + 1."),
    "log": ("Log", np.log, lambda g, a, o: g / a, "z = ln a;  dz/da = 1/a."),
    "log2": ("Log2", np.log2, lambda g, a, o: g / (a * _LN2), "z = log2 a;  dz/da = 1/(a ln 2)."),
    "log10": ("Log10", np.log10, lambda g, a, o: g / (a * _LN10),
              "z = log10 a;  dz/da = 1/(a ln 10)."),
    "log1p": ("Log1p", np.log1p, lambda g, a, o: g / (1 + a), "z = ln(1 + a);  dz/da = 1/(1+a)."),
    "sin": ("Sin", np.sin, lambda g, a, o: g * np.cos(a), "z = sin a;  dz/da = cos a."),
    "cos": ("Cos", np.cos, lambda g, a, o: -g * np.sin(a), "z = cos a;  dz/da = -sin a."),
    "tan": ("Tan", np.tan, lambda g, a, o: g * (1 + o * o), "z = tan a;  dz/da = 1 + z^2."),
    "asin": ("Asin", np.arcsin, lambda g, a, o: g / np.sqrt(1 - a * a),
             "z = asin a;  dz/da = 1/sqrt(1 - a^2)."),
    "acos": ("Acos", np.arccos, lambda g, a, o: -g / np.sqrt(1 - a * a),
             "z = acos a;  dz/da = -1/sqrt(1 - a^2)."),
    "atan": ("Atan", np.arctan, lambda g, a, o: g / (1 + a * a),
             "z = atan a;  dz/da = 1/(1 + a^2)."),
    "sinh": ("Sinh", np.sinh, lambda g, a, o: g * np.cosh(a), "z = sinh a;  dz/da = cosh a."),
    "cosh": ("Cosh", np.cosh, lambda g, a, o: g * np.sinh(a), "z = cosh a;  dz/da = sinh a."),
    "asinh": ("Asinh", np.arcsinh, lambda g, a, o: g / np.sqrt(a * a + 1),
              "z = asinh a;  dz/da = 1/sqrt(a^2 + 1)."),
    "acosh": ("Acosh", np.arccosh, lambda g, a, o: g / np.sqrt(a * a - 1),
              "z = acosh a;  dz/da = 1/sqrt(a^2 - 1)."),
    "atanh": ("Atanh", np.arctanh, lambda g, a, o: g / (1 - a * a),
              "z = atanh a;  dz/da = 1/(1 - a^2)."),
    "sqrt": ("Sqrt", np.sqrt, lambda g, a, o: g / (2 * o), "z = sqrt a;  dz/da = 1/(2 z)."),
    "rsqrt": ("Rsqrt", lambda a: 1 / np.sqrt(a), lambda g, a, o: -0.5 * g * o * o * o,
              "z = 1/sqrt a;  dz/da = -z^3 / 2."),
    "reciprocal": ("Reciprocal", lambda a: 1 / a, lambda g, a, o: -g * o * o,
                   "z = 1/a;  dz/da = -z^2."),
}
_UNARY_INT: dict[str, _Entry] = {
    "abs": ("Abs", np.abs, lambda g, a, o: g * np.sign(a), "z = |a|;  dz/da = sign a (0 at 0)."),
    "neg": ("Neg", np.negative, lambda g, a, o: -g, "z = -a;  dz/da = -1."),
    "sign": ("Sign", np.sign, _zero, "z = sign a (-1, 0, +1);  dz/da = 0."),
    "floor": ("Floor", np.floor, _zero, "z = floor a;  dz/da = 0."),
    "ceil": ("Ceil", np.ceil, _zero, "z = ceil a;  dz/da = 0."),
    "trunc": ("Trunc", np.trunc, _zero, "z = a rounded toward 0;  dz/da = 0."),
    "square": ("Square", np.square, lambda g, a, o: 2 * g * a, "z = a^2;  dz/da = 2a."),
}

# what the loops below define (declared for readers and type checkers)
Exp: type[Function]
Exp2: type[Function]
Expm1: type[Function]
Log: type[Function]
Log2: type[Function]
Log10: type[Function]
Log1p: type[Function]
Sin: type[Function]
Cos: type[Function]
Tan: type[Function]
Asin: type[Function]
Acos: type[Function]
Atan: type[Function]
Sinh: type[Function]
Cosh: type[Function]
Asinh: type[Function]
Acosh: type[Function]
Atanh: type[Function]
Sqrt: type[Function]
Rsqrt: type[Function]
Reciprocal: type[Function]
Abs: type[Function]
Neg: type[Function]
Sign: type[Function]
Floor: type[Function]
Ceil: type[Function]
Trunc: type[Function]
Square: type[Function]
exp: _UnaryFn
exp2: _UnaryFn
expm1: _UnaryFn
log: _UnaryFn
log2: _UnaryFn
log10: _UnaryFn
log1p: _UnaryFn
sin: _UnaryFn
cos: _UnaryFn
tan: _UnaryFn
asin: _UnaryFn
acos: _UnaryFn
atan: _UnaryFn
sinh: _UnaryFn
cosh: _UnaryFn
asinh: _UnaryFn
acosh: _UnaryFn
atanh: _UnaryFn
sqrt: _UnaryFn
rsqrt: _UnaryFn
reciprocal: _UnaryFn
abs: _UnaryFn  # noqa: A001
sign: _UnaryFn
floor: _UnaryFn
ceil: _UnaryFn
trunc: _UnaryFn
square: _UnaryFn

for _name, (_cls_name, _f, _df, _doc) in _UNARY.items():
    _cls, _fn = _unary(_cls_name, _f, _df, _doc)
    _fn.__name__ = _fn.__qualname__ = _name
    _fn.__doc__ = f"Elementwise {_doc.split(';')[0][4:]} (integer input in the default dtype)."
    globals()[_cls_name], globals()[_name] = _cls, _fn
for _name, (_cls_name, _f, _df, _doc) in _UNARY_INT.items():
    _cls, _fn = _unary(_cls_name, _f, _df, _doc, keep_int=True)
    _fn.__name__ = _fn.__qualname__ = _name
    _fn.__doc__ = f"Elementwise {_doc.split(';')[0][4:]} (keeps integer dtypes)."
    globals()[_cls_name], globals()[_name] = _cls, _fn
Frac, frac = _unary("Frac", lambda a: a - np.trunc(a), lambda g, a, o: g,
                    "z = a - trunc a;  dz/da = 1.", int_error="frac needs a floating tensor")
frac.__name__ = frac.__qualname__ = "frac"
frac.__doc__ = "The fractional part a - trunc(a), sign kept (floating tensors only)."
del _name, _cls_name, _f, _df, _doc, _cls, _fn

_neg_kept = _cast("_UnaryFn", globals()["neg"])


def neg(input: Tensor) -> Tensor:  # noqa: A002
    """-input (refused for bool tensors, as PyTorch does: use ``~`` or logical_not)."""
    if isinstance(input, Tensor) and input._data.dtype == np.bool_:
        raise ArgumentTypeError("neg: negation, the '-' operator, on a bool tensor is not "
                                "supported; use the '~' operator or logical_not() instead")
    return _neg_kept(input)


negative = neg
absolute = abs
sgn = sign
fix = trunc
arcsin, arccos, arctan = asin, acos, atan


class Round(Function):
    """z = a rounded half to even (``decimals`` places);  dz/da = 0."""

    def forward(self, a: np.ndarray, decimals: int = 0) -> np.ndarray:
        return np.round(a, decimals)

    def backward(self, g: np.ndarray) -> np.ndarray:
        return np.zeros_like(g)


def round(input: Tensor, *, decimals: int = 0) -> Tensor:  # noqa: A001,A002
    """Round half to even, as ``torch.round`` (``decimals`` places; integers kept)."""
    return Round.apply(_tensor(input, "round"), decimals=int(decimals))


def _clamped(a: np.ndarray, lo: npt.ArrayLike | None, hi: npt.ArrayLike | None) -> np.ndarray:
    """min(max(a, lo), hi), either bound None (a new array, never ``a`` itself)."""
    out = a
    if lo is not None:
        out = np.maximum(out, lo)
    if hi is not None:
        out = np.minimum(out, hi)
    return out if out is not a else a.copy()


def _inside(a: np.ndarray, lo: npt.ArrayLike | None, hi: npt.ArrayLike | None) -> np.ndarray:
    """Where lo <= a <= hi (the bounds may broadcast): clamp's gradient passes there."""
    inside = np.ones(a.shape, dtype=bool)
    if lo is not None:
        inside = inside & (a >= lo)
    if hi is not None:
        inside = inside & (a <= hi)
    return inside


class Clamp(Function):
    """z = min(max(a, lo), hi) for number bounds;  dz/da = 1 where lo <= a <= hi, else 0."""

    def forward(self, a: np.ndarray, lo: npt.ArrayLike | None = None,
                hi: npt.ArrayLike | None = None) -> np.ndarray:
        self.a, self.lo, self.hi = a, lo, hi
        return _clamped(a, lo, hi)

    def backward(self, g: np.ndarray) -> np.ndarray:
        a, lo, hi = self.a, self.lo, self.hi
        inside = _inside(a, lo, hi)
        return np.where(inside, g, 0)


def clamp(input: Tensor, min: TensorLike | None = None,  # noqa: A001,A002
          max: TensorLike | None = None) -> Tensor:  # noqa: A002
    """Clamp into [min, max] (numbers or tensors, either may be None but not both), with
    PyTorch's promotion (an int tensor clamped by 0.5 is float32) and gradients.

    >>> clamp(gn.tensor([-1.0, 0.5, 2.0]), min=0, max=1).numpy()
    array([0. , 0.5, 1. ], dtype=float32)
    """
    x = _tensor(input, "clamp")
    if min is None and max is None:
        raise ArgumentError("clamp: at least one of 'min' or 'max' must not be None")
    ops = [x] + [b for b in (min, max) if b is not None]
    dt = result_type(*ops)
    x = _as(x, dt)
    lo = None if min is None else _as(min, dt)
    hi = None if max is None else _as(max, dt)
    tensors = [t for t in (lo, hi) if isinstance(t, Tensor)]
    if not tensors:
        return Clamp.apply(x, lo=lo, hi=hi)
    if lo is not None and hi is not None:
        return _ClampT.apply(x, _as_t(lo), _as_t(hi))
    if lo is not None:
        return _ClampT.apply(x, _as_t(lo), None)
    assert hi is not None   # min and max are not both None (checked above)
    return _ClampT.apply(x, None, _as_t(hi))


def _as_t(x: Tensor | np.ndarray) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor._from_op(np.asarray(x), None, 0, False)


class _ClampT(Function):
    """clamp with tensor bounds (each bound an input with its own gradient)."""

    def forward(self, a: np.ndarray, lo: np.ndarray | None, hi: np.ndarray | None) -> np.ndarray:
        self.a, self.lo, self.hi = a, lo, hi
        return _clamped(a, lo, hi)

    def backward(self, g: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None,
                                               np.ndarray | None]:
        a, lo, hi = self.a, self.lo, self.hi
        inside = _inside(a, lo, hi)
        ga = unbroadcast(np.where(inside, g, 0), a.shape) if self.needs_input_grad[0] else None
        glo = ghi = None
        if lo is not None and self.needs_input_grad[1]:
            take = a < lo
            if hi is not None:
                take = take & (lo <= hi)
            glo = unbroadcast(np.where(take, g, 0), lo.shape)
        if hi is not None and self.needs_input_grad[2]:
            take = a > hi
            if lo is not None:
                take = take | (lo > hi)
            ghi = unbroadcast(np.where(take, g, 0), hi.shape)
        return ga, glo, ghi


clip = clamp


class Atan2(Function):
    """z = atan2(y, x);  dz/dy = x / (x^2 + y^2), dz/dx = -y / (x^2 + y^2)."""

    def forward(self, y: np.ndarray, x: np.ndarray) -> np.ndarray:
        self.y, self.x = y, x
        return np.arctan2(y, x)

    def backward(self, g: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
        y, x = self.y, self.x
        r = x * x + y * y
        return (unbroadcast(g * x / r, y.shape) if self.needs_input_grad[0] else None,
                unbroadcast(-g * y / r, x.shape) if self.needs_input_grad[1] else None)


def atan2(input: Tensor, other: TensorLike) -> Tensor:  # noqa: A002
    """Elementwise angle of (other, input) in radians, integer inputs in the default dtype."""
    a, b, dt = _operands(input, other)
    if dt.kind not in "fc":
        dt = backend.get_default_dtype()
        a, b = _as(a, dt), _as(b, dt)
    with np.errstate(all="ignore"):
        return Atan2.apply(a, b)


arctan2 = atan2


class Lerp(Function):
    """z = a + w (b - a);  dz/da = 1 - w, dz/db = w, dz/dw = b - a."""

    def forward(self, a: np.ndarray, b: np.ndarray, w: np.ndarray) -> np.ndarray:
        self.a, self.b, self.w = a, b, w
        return a + w * (b - a)

    def backward(self, g: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None,
                                               np.ndarray | None]:
        a, b, w = self.a, self.b, self.w
        n = self.needs_input_grad
        return (unbroadcast(g * (1 - w), np.shape(a)) if n[0] else None,
                unbroadcast(g * w, np.shape(b)) if n[1] else None,
                unbroadcast(g * (b - a), np.shape(w)) if n[2] else None)


def lerp(input: Tensor, end: Tensor, weight: TensorLike) -> Tensor:  # noqa: A002
    """input + weight * (end - input) (weight a number or a tensor)."""
    x = _tensor(input, "lerp")
    if not isinstance(weight, Tensor):
        weight = np.asarray(weight, dtype=x._data.dtype)
    return Lerp.apply(x, end, weight)


def addcmul(input: Tensor, tensor1: Tensor, tensor2: Tensor, *,
            value: complex = 1) -> Tensor:  # noqa: A002
    """input + value * tensor1 * tensor2."""
    return input + value * (tensor1 * tensor2)


def addcdiv(input: Tensor, tensor1: Tensor, tensor2: Tensor, *,
            value: complex = 1) -> Tensor:  # noqa: A002
    """input + value * tensor1 / tensor2."""
    return input + value * (tensor1 / tensor2)


class FloorDivide(Function):
    """z = floor(a / b);  zero gradient."""

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        self.sa, self.sb = np.shape(a), np.shape(b)
        return np.floor_divide(a, b)

    def backward(self, g: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
        return (np.zeros(self.sa, g.dtype) if self.needs_input_grad[0] else None,
                np.zeros(self.sb, g.dtype) if self.needs_input_grad[1] else None)


class Remainder(Function):
    """z = a - floor(a / b) b (the sign of b, Python's %);  dz/da = 1, dz/db = -floor(a/b)."""
    op: staticmethod[..., np.ndarray] = staticmethod(np.remainder)
    quot: staticmethod[..., np.ndarray] = staticmethod(np.floor_divide)

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        self.a, self.b = a, b
        return self.op(a, b)

    def backward(self, g: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
        ga = unbroadcast(g, np.shape(self.a)) if self.needs_input_grad[0] else None
        gb = (unbroadcast(-g * self.quot(self.a, self.b), np.shape(self.b))
              if self.needs_input_grad[1] else None)
        return ga, gb


class Fmod(Remainder):
    """z = a - trunc(a / b) b (the sign of a, C's fmod);  dz/da = 1, dz/db = -trunc(a/b)."""
    op = staticmethod(np.fmod)
    quot = staticmethod(lambda a, b: np.trunc(a / b))


def _int_zero_check(b: Tensor | np.ndarray, dt: np.dtype, who: str) -> None:
    if dt.kind in "iub" and np.any(np.asarray(b._data if isinstance(b, Tensor) else b) == 0):
        raise ZeroDivisionError(f"{who}: integer division by zero")


def floor_divide(input: TensorLike, other: TensorLike) -> Tensor:  # noqa: A002
    """floor(input / other) with PyTorch's promotion (``//``)."""
    a, b, dt = _operands(input, other)
    _int_zero_check(b, dt, "floor_divide")
    with np.errstate(all="ignore"):
        return FloorDivide.apply(a, b)


def remainder(input: TensorLike, other: TensorLike) -> Tensor:  # noqa: A002
    """Python's modulus (the result has the sign of ``other``), as ``%``."""
    a, b, dt = _operands(input, other)
    _int_zero_check(b, dt, "remainder")
    with np.errstate(all="ignore"):
        return Remainder.apply(a, b)


def fmod(input: TensorLike, other: TensorLike) -> Tensor:  # noqa: A002
    """C's fmod (the result has the sign of ``input``)."""
    a, b, dt = _operands(input, other)
    _int_zero_check(b, dt, "fmod")
    with np.errstate(all="ignore"):
        return Fmod.apply(a, b)


class Maximum(Function):
    """z = max(a, b) elementwise; the gradient goes to the larger (split evenly on ties)."""

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        self.a, self.b = a, b
        return np.maximum(a, b)

    def backward(self, g: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
        a, b = self.a, self.b
        wa = (a > b) + 0.5 * (a == b)
        ga = unbroadcast(g * wa, np.shape(a)) if self.needs_input_grad[0] else None
        gb = unbroadcast(g * (1 - wa), np.shape(b)) if self.needs_input_grad[1] else None
        return ga, gb


class Minimum(Function):
    """z = min(a, b) elementwise; the gradient goes to the smaller (split evenly on ties)."""

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        self.a, self.b = a, b
        return np.minimum(a, b)

    def backward(self, g: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
        a, b = self.a, self.b
        wa = (a < b) + 0.5 * (a == b)
        ga = unbroadcast(g * wa, np.shape(a)) if self.needs_input_grad[0] else None
        gb = unbroadcast(g * (1 - wa), np.shape(b)) if self.needs_input_grad[1] else None
        return ga, gb


def maximum(input: Tensor, other: TensorLike) -> Tensor:  # noqa: A002
    """Elementwise maximum of two tensors with PyTorch's promotion (the gradient goes to the
    larger, split evenly on ties)."""
    if not isinstance(other, Tensor) or not isinstance(input, Tensor):
        raise ArgumentTypeError(f"maximum(): argument 'other' must be a Tensor, got "
                                f"{type(other).__name__}")
    a, b, _ = _operands(input, other)
    return Maximum.apply(a, b)


def minimum(input: Tensor, other: TensorLike) -> Tensor:  # noqa: A002
    """Elementwise minimum of two tensors with PyTorch's promotion."""
    if not isinstance(other, Tensor) or not isinstance(input, Tensor):
        raise ArgumentTypeError(f"minimum(): argument 'other' must be a Tensor, got "
                                f"{type(other).__name__}")
    a, b, _ = _operands(input, other)
    return Minimum.apply(a, b)


# ------------------------------------------------------------------ comparisons
def _compare(op: Callable[[Any, Any], Any], name: str) -> _BinaryFn:
    def f(input: TensorLike, other: TensorLike) -> Tensor:  # noqa: A002
        a, b, _ = _operands(input, other)
        a = a._data if isinstance(a, Tensor) else a
        b = b._data if isinstance(b, Tensor) else b
        return Tensor._from_op(np.asarray(op(a, b)), None, 0, False)
    f.__name__ = f.__qualname__ = name
    f.__doc__ = (f"Elementwise ``{name}`` of ``input`` and ``other`` (a tensor or a number, "
                 f"broadcast, compared in their promoted dtype) as a bool tensor.")
    return f


eq = _compare(np.equal, "eq")
ne = _compare(np.not_equal, "ne")
lt = _compare(np.less, "lt")
le = _compare(np.less_equal, "le")
gt = _compare(np.greater, "gt")
ge = _compare(np.greater_equal, "ge")
greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne


def equal(input: Tensor, other: Tensor) -> bool:  # noqa: A002
    """True when both tensors have the same shape and the same values (``torch.equal``)."""
    if tuple(input.shape) != tuple(other.shape):
        return False
    return builtins.bool(eq(input, other)._data.all())


def isclose(input: Tensor, other: TensorLike, rtol: float = 1e-05,  # noqa: A002
            atol: float = 1e-08, equal_nan: bool = False) -> Tensor:
    """|input - other| <= atol + rtol |other| elementwise, as a bool tensor; both tensors
    must have the same dtype (as in PyTorch)."""
    a = input._data if isinstance(input, Tensor) else np.asarray(input)
    b = other._data if isinstance(other, Tensor) else np.asarray(other)
    if a.dtype != b.dtype:
        raise ArgumentTypeError(f"isclose: expected both inputs to have the same dtype, got "
                                f"{a.dtype} and {b.dtype}")
    if a.dtype.kind not in "fc":
        a, b = a.astype(np.float64), b.astype(np.float64)
    return Tensor._from_op(np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan),
                           None, 0, False)


def allclose(input: Tensor, other: TensorLike, rtol: float = 1e-05,  # noqa: A002
             atol: float = 1e-08, equal_nan: bool = False) -> bool:
    """True when every element of ``input`` is close to ``other`` (see :func:`isclose`).

    >>> allclose(gn.tensor([1.0, 2.0]), gn.tensor([1.0, 2.0 + 1e-7]))
    True
    """
    return builtins.bool(isclose(input, other, rtol, atol, equal_nan)._data.all())


def _pred(op: Callable[[np.ndarray], Any], name: str, doc: str) -> _UnaryFn:
    def f(input: Tensor) -> Tensor:  # noqa: A002
        a = _tensor(input, name)._data
        return Tensor._from_op(np.asarray(op(a)), None, 0, False)
    f.__name__ = f.__qualname__ = name
    f.__doc__ = doc
    return f


isnan = _pred(np.isnan, "isnan", "Bool tensor: True where the element is NaN.")
isinf = _pred(np.isinf, "isinf", "Bool tensor: True where the element is +inf or -inf.")
isfinite = _pred(np.isfinite, "isfinite", "Bool tensor: True where the element is finite.")
isposinf = _pred(np.isposinf, "isposinf", "Bool tensor: True where the element is +inf.")
isneginf = _pred(np.isneginf, "isneginf", "Bool tensor: True where the element is -inf.")
isreal = _pred(np.isreal, "isreal", "Bool tensor: True where the imaginary part is 0.")


def _logical(op: Callable[[Any, Any], Any], name: str) -> _BinaryFn:
    def f(input: TensorLike, other: TensorLike) -> Tensor:  # noqa: A002
        a = input._data if isinstance(input, Tensor) else np.asarray(input)
        b = other._data if isinstance(other, Tensor) else np.asarray(other)
        return Tensor._from_op(np.asarray(op(a != 0, b != 0)), None, 0, False)
    f.__name__ = f.__qualname__ = name
    f.__doc__ = f"Elementwise {name[8:]} of the truth values (nonzero) as a bool tensor."
    return f


logical_and = _logical(np.logical_and, "logical_and")
logical_or = _logical(np.logical_or, "logical_or")
logical_xor = _logical(np.logical_xor, "logical_xor")


def logical_not(input: Tensor) -> Tensor:  # noqa: A002
    """Elementwise not of the truth values (zero is False) as a bool tensor."""
    return Tensor._from_op(np.logical_not(_tensor(input, "logical_not")._data), None, 0, False)


def _bitwise(op: Callable[[Any, Any], Any], name: str) -> _BinaryFn:
    def f(input: TensorLike, other: TensorLike) -> Tensor:  # noqa: A002
        a, b, dt = _operands(input, other)
        if dt.kind not in "iub":
            raise ArgumentTypeError(f"{name}: only bool and integer tensors, got dtype {dt}")
        a = a._data if isinstance(a, Tensor) else a
        b = b._data if isinstance(b, Tensor) else b
        return Tensor._from_op(np.asarray(op(a, b)), None, 0, False)
    f.__name__ = f.__qualname__ = name
    f.__doc__ = f"Elementwise {name[8:]} of the bits (bool and integer tensors only)."
    return f


bitwise_and = _bitwise(np.bitwise_and, "bitwise_and")
bitwise_or = _bitwise(np.bitwise_or, "bitwise_or")
bitwise_xor = _bitwise(np.bitwise_xor, "bitwise_xor")


def bitwise_not(input: Tensor) -> Tensor:  # noqa: A002
    """Elementwise not of the bits (logical not for bool tensors)."""
    a = _tensor(input, "bitwise_not")._data
    if a.dtype.kind not in "iub":
        raise ArgumentTypeError(f"bitwise_not: only bool and integer tensors, got dtype "
                                f"{a.dtype}")
    return Tensor._from_op(np.invert(a), None, 0, False)


# ------------------------------------------------------------------ Tensor methods
def _binop(fn: Callable[[Any, Any], Tensor]) -> Callable[[Tensor, object], Tensor]:
    """An operator method: NotImplemented (Python then tries the other side or falls back
    to identity for ==) when the other operand is not a tensor or a number."""
    def op(self: Tensor, other: object) -> Tensor:
        if not _is_operand(other):
            return NotImplemented
        return fn(self, other)
    op.__name__ = fn.__name__
    return op


def _rbinop(fn: Callable[[Any, Any], Tensor]) -> Callable[[Tensor, object], Tensor]:
    def op(self: Tensor, other: object) -> Tensor:
        if not _is_operand(other):
            return NotImplemented
        return fn(other, self)
    op.__name__ = "r" + fn.__name__
    return op


def sigmoid(input: Tensor) -> Tensor:  # noqa: A002
    """1 / (1 + e^-input) (integer input in the default dtype)."""
    from .activations import sigmoid as _f  # noqa: PLC0415  (activations loads later)
    return _f(_floating(_tensor(input, "sigmoid")))


def tanh(input: Tensor) -> Tensor:  # noqa: A002
    """Hyperbolic tangent (integer input in the default dtype)."""
    from .activations import tanh as _f  # noqa: PLC0415
    return _f(_floating(_tensor(input, "tanh")))


def relu(input: Tensor) -> Tensor:  # noqa: A002
    """max(0, input) (keeps integer dtypes)."""
    from .activations import relu as _f  # noqa: PLC0415
    return _f(_tensor(input, "relu"))


def _method_clamp(self: Tensor, min: TensorLike | None = None,  # noqa: A002
                  max: TensorLike | None = None) -> Tensor:  # noqa: A002
    return clamp(self, min, max)


def install() -> None:
    """Set the elementwise, comparison, logic and conversion methods on Tensor."""
    T = Tensor
    for name in ("exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sin", "cos", "tan",
                 "asin", "acos", "atan", "arcsin", "arccos", "arctan", "sinh", "cosh",
                 "asinh", "acosh", "atanh", "sqrt", "rsqrt", "square", "abs", "absolute",
                 "neg", "negative", "sign", "sgn", "floor", "ceil", "round", "trunc", "fix",
                 "frac", "reciprocal", "atan2", "arctan2", "lerp", "addcmul", "addcdiv",
                 "floor_divide", "remainder", "fmod", "maximum", "minimum",
                 "eq", "ne", "lt", "le", "gt", "ge", "greater", "greater_equal", "less",
                 "less_equal", "not_equal", "equal", "isclose", "allclose", "isnan", "isinf",
                 "isfinite", "isposinf", "isneginf", "isreal", "logical_and", "logical_or",
                 "logical_not", "logical_xor", "bitwise_and", "bitwise_or", "bitwise_xor",
                 "bitwise_not", "is_complex", "sigmoid", "tanh", "relu"):
        setattr(T, name, globals()[name])
    setattr(T, "clamp", _method_clamp)
    setattr(T, "clip", _method_clamp)
    setattr(T, "__abs__", abs)
    setattr(T, "__neg__", neg)
    setattr(T, "__eq__", _binop(eq))
    setattr(T, "__ne__", _binop(ne))
    setattr(T, "__lt__", _binop(lt))
    setattr(T, "__le__", _binop(le))
    setattr(T, "__gt__", _binop(gt))
    setattr(T, "__ge__", _binop(ge))
    setattr(T, "__and__", _binop(bitwise_and))
    setattr(T, "__or__", _binop(bitwise_or))
    setattr(T, "__xor__", _binop(bitwise_xor))
    setattr(T, "__rand__", _rbinop(bitwise_and))
    setattr(T, "__ror__", _rbinop(bitwise_or))
    setattr(T, "__rxor__", _rbinop(bitwise_xor))
    setattr(T, "__invert__", bitwise_not)
    setattr(T, "__floordiv__", _binop(floor_divide))
    setattr(T, "__rfloordiv__", _rbinop(floor_divide))
    setattr(T, "__mod__", _binop(remainder))
    setattr(T, "__rmod__", _rbinop(remainder))
    setattr(T, "__hash__", _hash)    # a class defining __eq__ would otherwise drop it
    # conversions
    setattr(T, "astype", cast)
    setattr(T, "to", _to)
    setattr(T, "type", _type)
    setattr(T, "type_as", _type_as)
    setattr(T, "cpu", _cpu)
    setattr(T, "cuda", _cuda)
    setattr(T, "is_floating_point", is_floating_point)
    setattr(T, "element_size", _element_size)
    for name, dt in (("float", _dtypes.float32), ("double", _dtypes.float64),
                     ("half", _dtypes.float16), ("long", _dtypes.int64),
                     ("int", _dtypes.int32), ("short", _dtypes.int16),
                     ("char", _dtypes.int8), ("byte", _dtypes.uint8),
                     ("bool", _dtypes.bool_), ("cfloat", _dtypes.complex64),
                     ("cdouble", _dtypes.complex128)):
        setattr(T, name, _caster(name, dt))
    if "__format__" not in T.__dict__:
        setattr(T, "__format__", _format)
    if not hasattr(T, "is_cuda"):
        setattr(T, "is_cuda", property(_not_cuda))
    if not hasattr(T, "device"):
        setattr(T, "device", property(_cpu_device))


def _not_cuda(self: Tensor) -> bool:
    return False


def _cpu_device(self: Tensor) -> device:
    return _devices.CPU


def _type_as(self: Tensor, other: Tensor) -> Tensor:
    """This tensor as ``other``'s dtype."""
    return cast(self, other._data.dtype)


def _element_size(self: Tensor) -> int:
    """Bytes per element (4 for float32)."""
    return int(self._data.dtype.itemsize)


def _format(self: Tensor, spec: str) -> str:
    """``f'{t:.4f}'``: a one-element 0-d tensor formats as its number (as in PyTorch)."""
    if self._data.ndim == 0:
        return format(self._data.item(), spec)
    return object.__format__(self, spec)


def _hash(self: Tensor) -> int:
    return id(self)


def _caster(name: str, dt: np.dtype) -> Callable[..., Tensor]:
    def f(self: Tensor, memory_format: object = None) -> Tensor:
        return cast(self, dt)
    f.__name__ = f.__qualname__ = name
    f.__doc__ = f"This tensor as {dt} (itself when it already is; gradients flow for floats)."
    return f
