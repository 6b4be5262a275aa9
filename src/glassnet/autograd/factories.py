"""The factory functions, with PyTorch 2.13's names, arguments and dtype rules.

Every factory takes ``dtype=``, ``device=`` (only the CPU exists: anything else is a clear
error, :func:`glassnet.backend.devices.check`) and ``requires_grad=``; the random ones also
``generator=`` (a :class:`glassnet.Generator`): ``randint`` and ``randperm`` draw exactly
PyTorch's numbers from it, or without one from the default generator that
``glassnet.manual_seed`` reseeds (so ``manual_seed(0); randperm(5)`` is PyTorch's); rand,
randn, normal, bernoulli and multinomial draw from NumPy's generators (seeded the same way,
reproducible, but not PyTorch's numbers). Sizes are given as ints or as one tuple / list / Size.

dtype inference (``tensor``, ``full``, ``arange``) is PyTorch's: a Python float gives the
default dtype (float32), a Python int int64, a bool bool; NumPy arrays, NumPy scalars and
Tensors keep their own dtype (``tensor(np.zeros(2))`` is float64, as in PyTorch).

Example
-------
>>> gn.tensor([1, 2]).dtype, gn.tensor([1.0]).dtype, gn.tensor(np.zeros(2)).dtype
(dtype('int64'), dtype('float32'), dtype('float64'))
>>> gn.arange(3).tolist(), gn.full((2,), 7).dtype
([0, 1, 2], dtype('int64'))
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from .. import backend
from ..backend import devices as _devices
from ..backend import dtypes as _dtypes
from ..errors import ArgumentError, ArgumentTypeError
from .generator import Generator, default_generator
from .tensor import Tensor

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, overload

if TYPE_CHECKING:  # annotations only
    from glassnet._typing import DTypeLike
    from glassnet._typing import DeviceLike
    from glassnet._typing import TensorLike
    from glassnet.autograd.generator import Generator
    from glassnet.autograd.tensor import Tensor


__all__ = ["tensor", "as_tensor", "from_numpy", "zeros", "ones", "empty", "full", "eye",
           "arange", "linspace", "logspace", "zeros_like", "ones_like", "empty_like",
           "full_like", "rand_like", "randn_like", "randint_like", "rand", "randn", "randint",
           "randperm", "normal", "bernoulli", "multinomial"]


# ------------------------------------------------------------------------- helpers
@overload
def _dtype(dtype: None, where: str) -> None: ...
@overload
def _dtype(dtype: str | np.dtype[Any] | type, where: str) -> np.dtype[Any]: ...
def _dtype(dtype: DTypeLike, where: str) -> np.dtype[Any] | None:
    # Python's float and complex as a dtype are float64 / complex128 in PyTorch
    if dtype is float:
        return np.dtype(np.float64)
    if dtype is complex:
        return np.dtype(np.complex128)
    return None if dtype is None else _dtypes.resolve(dtype, "dtype", where)


def _float_dtype(dtype: DTypeLike, where: str) -> np.dtype[Any]:
    """``dtype`` (default: the default dtype), which must be floating (rand, randn, ...)."""
    dt = backend.get_default_dtype() if dtype is None else _dtype(dtype, where)
    if dt.kind not in "fc":
        raise ArgumentTypeError(f"{where}: dtype must be a floating dtype, got {dt}")
    return dt


def _default_complex() -> np.dtype[Any]:
    return np.dtype(np.complex64 if backend.get_default_dtype() == np.float32 else np.complex128)


def _make(arr: np.ndarray, requires_grad: bool, device: DeviceLike, where: str) -> Tensor:
    _devices.check(device, "device", where)
    if requires_grad and arr.dtype.kind not in "fc":
        raise RuntimeError(f"{where}: only Tensors of floating point and complex dtype can "
                           f"require gradients, got dtype {arr.dtype}")
    return Tensor(arr, requires_grad=bool(requires_grad))


def _size(size: Sequence[Any], where: str, kw: Any = None) -> tuple[int, ...]:
    """A shape tuple from ``*size`` (ints, or one tuple/list/Size) or the ``size=`` keyword."""
    if kw is not None:
        if size:
            raise ArgumentTypeError(f"{where}: size given both by position and as size=")
        size = (kw,)
    if len(size) == 1 and isinstance(size[0], (tuple, list)) or (
            len(size) == 1 and isinstance(size[0], Tensor) and size[0].ndim == 1):
        size = tuple(size[0])
    out = []
    for s in size:
        if isinstance(s, Tensor) and s.ndim == 0 and s.dtype.kind in "iu":
            s = int(s._data)
        if isinstance(s, bool) or not isinstance(s, (int, np.integer)):
            raise ArgumentTypeError(f"{where}: size must be ints or one tuple of ints, got "
                                    f"{type(s).__name__} {s!r} in {tuple(size)!r}")
        if s < 0:
            raise RuntimeError(f"{where}: negative dimension {int(s)} in size {tuple(size)!r}")
        out.append(int(s))
    return tuple(out)


def _np_rng(generator: Generator | None, where: str) -> np.random.Generator:
    """The NumPy generator to draw from: glassnet's global one, or one over ``generator``'s
    Mersenne Twister (so the draws advance that generator)."""
    if generator is None:
        return backend.rng()
    bits = getattr(generator, "_bits", None)
    if not isinstance(generator, Generator) or bits is None:
        raise ArgumentTypeError(f"{where}: generator must be a glassnet Generator "
                                f"(glassnet.Generator().manual_seed(seed)) or None, got "
                                f"{type(generator).__name__}")
    return np.random.Generator(bits)


def _like(input: Tensor, where: str) -> Tensor:
    if not isinstance(input, Tensor):
        raise ArgumentTypeError(f"{where}: input must be a Tensor, got {type(input).__name__}")
    return input


# ------------------------------------------------------------------------- from data
def _typed_leaves(data: Sequence[Any], typed: set[np.dtype[Any]], kinds: set[str]) -> None:
    """Collect the dtypes of NumPy / Tensor leaves of a nested list and the kinds of its
    Python scalars (each list level is read by one ``map``, not element by element)."""
    types = set(map(type, data))
    for t in types:
        if t in (list, tuple):
            for sub in data:
                if type(sub) in (list, tuple):
                    _typed_leaves(sub, typed, kinds)
        elif t is bool:
            kinds.add("b")
        elif t is float:
            kinds.add("f")
        elif t is complex:
            kinds.add("c")
        elif issubclass(t, bool) or issubclass(t, numbers.Integral) and not issubclass(
                t, np.generic):
            kinds.add("i")
        elif issubclass(t, (np.ndarray, np.generic, Tensor)):
            for x in data:
                if type(x) is t:
                    typed.add(np.dtype(x.dtype))
        elif issubclass(t, numbers.Real):
            kinds.add("f")


def _infer(data: Sequence[Any]) -> np.ndarray:
    """PyTorch's dtype for ``data``: NumPy / Tensor leaves keep theirs, Python floats take
    the default dtype, Python ints int64, bools bool."""
    arr = np.array(data)
    if arr.dtype.kind not in "fc":
        return arr
    typed: set[np.dtype[Any]] = set()
    kinds: set[str] = set()
    _typed_leaves(data, typed, kinds)
    tf = [d for d in typed if d.kind in "fc"]
    if arr.dtype.kind == "c":
        if any(d.kind == "c" for d in tf):
            want = np.result_type(*tf)
        else:
            want = _default_complex() if not tf else np.result_type(*tf, np.complex64)
    elif tf:
        want = np.result_type(*tf)
    else:
        want = backend.get_default_dtype()
    return arr if arr.dtype == want else arr.astype(want)


def tensor(data: TensorLike, *, dtype: DTypeLike = None, device: DeviceLike = None,
           requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data`` (a scalar, a nested list/tuple, a NumPy array
    or a Tensor).

    Without ``dtype``: Python floats give the default dtype (float32), Python ints int64,
    bools bool, complex numbers complex64; NumPy arrays and scalars and Tensors keep theirs
    (a float64 array stays float64).

    >>> gn.tensor([[1, 2], [3, 4]]).dtype, gn.tensor(2.5).dtype
    (dtype('int64'), dtype('float32'))
    """
    where = "tensor"
    dt = _dtype(dtype, where)
    if isinstance(data, Tensor):
        arr = np.array(data._data, dtype=dt)
    elif isinstance(data, (np.ndarray, np.generic)):
        arr = np.array(data, dtype=dt)
    elif dt is not None:
        arr = np.array(data, dtype=dt)
    elif isinstance(data, (list, tuple)):
        try:
            arr = _infer(data)
        except ValueError as e:
            raise ValueError(f"tensor: the nested sequence has ragged or mismatched lengths "
                             f"({e})") from None
    elif isinstance(data, bool):
        arr = np.array(data)
    elif isinstance(data, numbers.Integral):
        arr = np.array(data, dtype=np.int64)
    elif isinstance(data, complex):
        arr = np.array(data, dtype=_default_complex())
    elif isinstance(data, numbers.Real):
        arr = np.array(data, dtype=backend.get_default_dtype())
    else:
        raise ArgumentTypeError(f"tensor: data must be a number, a (nested) list or tuple of "
                                f"numbers, a NumPy array or a Tensor, got "
                                f"{type(data).__name__}")
    if arr.dtype.kind in "OUSVMm":     # torch: ValueError for a sequence of strings
        raise ArgumentError(f"tensor: could not make a numeric tensor from "
                                f"{str(data)[:120]} (it holds {arr.dtype} values; a tensor "
                                f"holds numbers or bools)")
    return _make(arr, requires_grad, device, where)


def as_tensor(data: TensorLike, *, dtype: DTypeLike = None, device: DeviceLike = None) -> Tensor:
    """``data`` as a tensor, sharing memory where possible: a Tensor of the right dtype is
    returned itself, a NumPy array of the right dtype is wrapped without a copy (keeping
    its dtype, float64 included); anything else is converted as by :func:`tensor`.

    >>> a = np.zeros(3); t = gn.as_tensor(a); a[0] = 1; t[0].item()
    1.0
    """
    dt = _dtype(dtype, "as_tensor")
    _devices.check(device, "device", "as_tensor")
    if isinstance(data, Tensor):
        if dt is None or data.dtype == dt:
            return data
        return data.astype(dt)          # a recorded cast, as torch.as_tensor's .to(dtype)
    if isinstance(data, np.ndarray):
        return Tensor(data if dt is None else data.astype(dt, copy=False))
    return tensor(data, dtype=dt)


def from_numpy(ndarray: np.ndarray) -> Tensor:
    """A tensor sharing ``ndarray``'s memory (changes to one show in the other), with its
    dtype.

    >>> a = np.arange(3); t = gn.from_numpy(a); t += 1; a.tolist()  # doctest: +SKIP
    [1, 2, 3]
    """
    if not isinstance(ndarray, np.ndarray):
        raise ArgumentTypeError(f"from_numpy: expected np.ndarray (got {type(ndarray).__name__})")
    if ndarray.dtype == object or ndarray.dtype.kind in "USV":
        raise ArgumentTypeError(f"from_numpy: can't convert np.ndarray of type {ndarray.dtype}; "
                                f"the supported types are numbers and bool")
    return Tensor(ndarray)


# ------------------------------------------------------------------------- filled
def zeros(*size: int | Sequence[int], dtype: DTypeLike = None, device: DeviceLike = None,
          requires_grad: bool = False, **kw: Any) -> Tensor:
    """A tensor of zeros of the given size (default dtype: float32).

    >>> gn.zeros(2, 3).shape, gn.zeros((2,), dtype=gn.long).dtype
    ((2, 3), dtype('int64'))
    """
    shape = _size(size, "zeros", kw.pop("size", None))
    _no_extra(kw, "zeros")
    dt = backend.get_default_dtype() if dtype is None else _dtype(dtype, "zeros")
    return _make(np.zeros(shape, dt), requires_grad, device, "zeros")


def ones(*size: int | Sequence[int], dtype: DTypeLike = None, device: DeviceLike = None,
         requires_grad: bool = False, **kw: Any) -> Tensor:
    """A tensor of ones of the given size (default dtype: float32)."""
    shape = _size(size, "ones", kw.pop("size", None))
    _no_extra(kw, "ones")
    dt = backend.get_default_dtype() if dtype is None else _dtype(dtype, "ones")
    return _make(np.ones(shape, dt), requires_grad, device, "ones")


def empty(*size: int | Sequence[int], dtype: DTypeLike = None, device: DeviceLike = None,
          requires_grad: bool = False, pin_memory: bool = False,
          memory_format: object | None = None, **kw: Any) -> Tensor:
    """An uninitialised tensor of the given size (its values are whatever memory held)."""
    shape = _size(size, "empty", kw.pop("size", None))
    _no_extra(kw, "empty")
    dt = backend.get_default_dtype() if dtype is None else _dtype(dtype, "empty")
    return _make(np.empty(shape, dt), requires_grad, device, "empty")


def _no_extra(kw: dict[str, Any], where: str) -> None:
    if kw:
        raise ArgumentTypeError(f"{where}() got an unexpected keyword argument "
                                f"{next(iter(kw))!r}")


def _scalar_dtype(value: Any) -> np.dtype[Any]:
    if isinstance(value, Tensor):
        return value.dtype
    if isinstance(value, (np.generic, np.ndarray)):
        return np.dtype(value.dtype)
    if isinstance(value, bool):
        return np.dtype(bool)
    if isinstance(value, numbers.Integral):
        return np.dtype(np.int64)
    if isinstance(value, complex):
        return _default_complex()
    if isinstance(value, numbers.Real):
        return backend.get_default_dtype()
    raise ArgumentTypeError(f"full: fill_value must be a number or a bool, got "
                            f"{type(value).__name__}")


def full(size: Sequence[int], fill_value: complex | Tensor, *, dtype: DTypeLike = None,
         device: DeviceLike = None, requires_grad: bool = False) -> Tensor:
    """A tensor of ``size`` filled with ``fill_value``; without ``dtype`` the dtype follows
    the value (int -> int64, float -> float32, bool -> bool), as in PyTorch.

    >>> gn.full((2, 2), 7).dtype, gn.full((2,), 0.5).dtype
    (dtype('int64'), dtype('float32'))
    """
    if not isinstance(size, (tuple, list)):
        raise ArgumentTypeError(f"full: size must be a tuple of ints, got "
                                f"{type(size).__name__} {size!r}")
    shape = _size((tuple(size),), "full")
    dt = _scalar_dtype(fill_value) if dtype is None else _dtype(dtype, "full")
    value = fill_value._data if isinstance(fill_value, Tensor) else fill_value
    return _make(np.full(shape, value, dt), requires_grad, device, "full")


def eye(n: int, m: int | None = None, *, dtype: DTypeLike = None, device: DeviceLike = None,
        requires_grad: bool = False) -> Tensor:
    """The ``n`` x ``m`` (``m`` defaults to ``n``) identity matrix."""
    for name, v in (("n", n), ("m", m)):
        if v is not None and (isinstance(v, bool) or not isinstance(v, (int, np.integer))):
            raise ArgumentTypeError(f"eye: {name} must be an int, got {type(v).__name__}")
        if v is not None and v < 0:
            raise RuntimeError(f"eye: {name} must be greater or equal to 0, got {v}")
    dt = backend.get_default_dtype() if dtype is None else _dtype(dtype, "eye")
    return _make(np.eye(int(n), None if m is None else int(m), dtype=dt), requires_grad,
                 device, "eye")


def _num(v: Any, where: str, name: str) -> Any:
    if isinstance(v, Tensor):
        if v.numel() != 1:
            raise ArgumentError(f"{where}: {name} must be a number, got a Tensor of shape "
                                f"{tuple(v.shape)}")
        return v._data.item()
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, bool) or not isinstance(v, numbers.Real):
        raise ArgumentTypeError(f"{where}: {name} must be a number, got {type(v).__name__}")
    return v


def arange(start: float | Tensor = 0, end: float | Tensor | None = None, step: float | Tensor = 1,
           *, dtype: DTypeLike = None, device: DeviceLike = None,
           requires_grad: bool = False) -> Tensor:
    """``[start, end)`` in steps of ``step`` (``arange(end)`` starts at 0): int64 when all
    three are ints, else the default float dtype, as in PyTorch.

    >>> gn.arange(4).tolist(), gn.arange(0, 1, 0.25).dtype
    ([0, 1, 2, 3], dtype('float32'))
    """
    if end is None:
        start, end = 0, start
    vals = [_num(v, "arange", n) for v, n in ((start, "start"), (end, "end"), (step, "step"))]
    if vals[2] == 0:
        raise RuntimeError("arange: step must be nonzero")
    if (vals[1] - vals[0]) * vals[2] < 0:
        raise RuntimeError(f"arange: upper bound and larger bound inconsistent with step sign "
                           f"(start={vals[0]}, end={vals[1]}, step={vals[2]})")
    if dtype is not None:
        dt = _dtype(dtype, "arange")
    elif all(isinstance(v, numbers.Integral) for v in vals):
        dt = np.dtype(np.int64)
    else:
        dt = backend.get_default_dtype()
    if all(isinstance(v, numbers.Integral) for v in vals):
        arr = np.arange(vals[0], vals[1], vals[2], dtype=np.int64).astype(dt, copy=False)
    else:
        n = max(int(math.ceil((vals[1] - vals[0]) / vals[2])), 0)
        arr = (vals[0] + vals[2] * np.arange(n, dtype=np.float64)).astype(dt)
    return _make(arr, requires_grad, device, "arange")


def _lin(start: float | Tensor, end: float | Tensor, steps: int, where: str) -> np.ndarray:
    start, end = _num(start, where, "start"), _num(end, where, "end")
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)):
        raise ArgumentTypeError(f"{where}: steps must be an int, got {type(steps).__name__}")
    if steps < 0:
        raise RuntimeError(f"{where}: number of steps must be non-negative, got {steps}")
    steps = int(steps)
    # the two ends are exact: the first half counts up from start, the second down from end
    i = np.arange(steps, dtype=np.float64)
    step = (end - start) / (steps - 1) if steps > 1 else 0.0
    half = steps // 2
    return np.where(i < half, start + step * i, end - step * (steps - 1 - i))


def linspace(start: float | Tensor, end: float | Tensor, steps: int, *, dtype: DTypeLike = None,
             device: DeviceLike = None, requires_grad: bool = False) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` (both included).

    >>> gn.linspace(0, 1, 5).tolist()
    [0.0, 0.25, 0.5, 0.75, 1.0]
    """
    dt = backend.get_default_dtype() if dtype is None else _dtype(dtype, "linspace")
    return _make(_lin(start, end, steps, "linspace").astype(dt), requires_grad, device,
                 "linspace")


def logspace(start: float | Tensor, end: float | Tensor, steps: int, base: float = 10.0, *,
             dtype: DTypeLike = None, device: DeviceLike = None,
             requires_grad: bool = False) -> Tensor:
    """``base ** linspace(start, end, steps)``.

    >>> gn.logspace(0, 2, 3).tolist()
    [1.0, 10.0, 100.0]
    """
    dt = backend.get_default_dtype() if dtype is None else _dtype(dtype, "logspace")
    vals = np.power(float(_num(base, "logspace", "base")), _lin(start, end, steps, "logspace"))
    return _make(vals.astype(dt), requires_grad, device, "logspace")


# ------------------------------------------------------------------------- *_like
def _like_dtype(input: Tensor, dtype: DTypeLike, where: str) -> np.dtype[Any]:
    return input.dtype if dtype is None else _dtype(dtype, where)


def zeros_like(input: Tensor, *, dtype: DTypeLike = None, device: DeviceLike = None,
               requires_grad: bool = False, memory_format: object | None = None) -> Tensor:
    """Zeros of ``input``'s shape and dtype (or ``dtype``)."""
    t = _like(input, "zeros_like")
    return _make(np.zeros(t.shape, _like_dtype(t, dtype, "zeros_like")), requires_grad,
                 device, "zeros_like")


def ones_like(input: Tensor, *, dtype: DTypeLike = None, device: DeviceLike = None,
              requires_grad: bool = False, memory_format: object | None = None) -> Tensor:
    """Ones of ``input``'s shape and dtype (or ``dtype``)."""
    t = _like(input, "ones_like")
    return _make(np.ones(t.shape, _like_dtype(t, dtype, "ones_like")), requires_grad,
                 device, "ones_like")


def empty_like(input: Tensor, *, dtype: DTypeLike = None, device: DeviceLike = None,
               requires_grad: bool = False, memory_format: object | None = None) -> Tensor:
    """An uninitialised tensor of ``input``'s shape and dtype (or ``dtype``)."""
    t = _like(input, "empty_like")
    return _make(np.empty(t.shape, _like_dtype(t, dtype, "empty_like")), requires_grad,
                 device, "empty_like")


def full_like(input: Tensor, fill_value: complex | Tensor, *, dtype: DTypeLike = None,
              device: DeviceLike = None, requires_grad: bool = False,
              memory_format: object | None = None) -> Tensor:
    """``fill_value`` in ``input``'s shape and dtype (a float fill of an int tensor is
    truncated, as in PyTorch)."""
    t = _like(input, "full_like")
    dt = _like_dtype(t, dtype, "full_like")
    value = _num(fill_value, "full_like", "fill_value") if not isinstance(
        fill_value, (bool, complex)) else fill_value
    arr = np.empty(t.shape, dt)
    arr[...] = np.trunc(value) if dt.kind in "iu" and isinstance(value, float) else value
    return _make(arr, requires_grad, device, "full_like")


def rand_like(input: Tensor, *, dtype: DTypeLike = None, device: DeviceLike = None,
              requires_grad: bool = False, memory_format: object | None = None,
              generator: Generator | None = None) -> Tensor:
    """Uniform [0, 1) values of ``input``'s shape and (floating) dtype."""
    t = _like(input, "rand_like")
    dt = _float_dtype(_like_dtype(t, dtype, "rand_like"), "rand_like")
    return _make(_np_rng(generator, "rand_like").random(t.shape).astype(dt), requires_grad,
                 device, "rand_like")


def randn_like(input: Tensor, *, dtype: DTypeLike = None, device: DeviceLike = None,
               requires_grad: bool = False, memory_format: object | None = None,
               generator: Generator | None = None) -> Tensor:
    """Standard normal values of ``input``'s shape and (floating) dtype."""
    t = _like(input, "randn_like")
    dt = _float_dtype(_like_dtype(t, dtype, "randn_like"), "randn_like")
    return _make(_np_rng(generator, "randn_like").standard_normal(t.shape).astype(dt),
                 requires_grad, device, "randn_like")


def randint_like(input: Tensor, low: int = 0, high: int | None = None, *, dtype: DTypeLike = None,
                 device: DeviceLike = None, requires_grad: bool = False,
                 memory_format: object | None = None,
                 generator: Generator | None = None) -> Tensor:
    """Integers uniform in ``[low, high)`` of ``input``'s shape and dtype
    (``randint_like(x, high)`` or ``randint_like(x, low, high)``)."""
    t = _like(input, "randint_like")
    if high is None:
        low, high = 0, low
    arr = _randint_array(low, high, t.shape, generator, "randint_like")
    return _make(arr.astype(_like_dtype(t, dtype, "randint_like")), requires_grad, device,
                 "randint_like")


# ------------------------------------------------------------------------- random
def rand(*size: int | Sequence[int], generator: Generator | None = None, dtype: DTypeLike = None,
         device: DeviceLike = None, requires_grad: bool = False, pin_memory: bool = False,
         **kw: Any) -> Tensor:
    """Uniform values in [0, 1) of the given size (default dtype: float32)."""
    shape = _size(size, "rand", kw.pop("size", None))
    _no_extra(kw, "rand")
    dt = _float_dtype(dtype, "rand")
    return _make(_np_rng(generator, "rand").random(shape).astype(dt), requires_grad, device,
                 "rand")


def randn(*size: int | Sequence[int], generator: Generator | None = None, dtype: DTypeLike = None,
          device: DeviceLike = None, requires_grad: bool = False, pin_memory: bool = False,
          **kw: Any) -> Tensor:
    """Standard normal values of the given size (default dtype: float32)."""
    shape = _size(size, "randn", kw.pop("size", None))
    _no_extra(kw, "randn")
    dt = _float_dtype(dtype, "randn")
    return _make(_np_rng(generator, "randn").standard_normal(shape).astype(dt), requires_grad,
                 device, "randn")


def _randint_array(low: Any, high: Any, shape: tuple[int, ...], generator: Generator | None,
                   where: str) -> np.ndarray:
    low, high = _num(low, where, "low"), _num(high, where, "high")
    low, high = int(low), int(high)
    if high <= low:
        raise RuntimeError(f"{where}: expects 'from' to be less than 'to', but got from={low} "
                           f">= to={high}")
    n = int(np.prod(shape, dtype=np.int64))
    if high - low <= (1 << 64):
        if generator is None:
            generator = default_generator()                 # torch.default_generator
        _np_rng(generator, where)                           # checks the generator's type
        r = generator.randint(high - low, n).astype(np.uint64)
        # low + r wraps in uint64 arithmetic to the right int64 (the result is in range)
        return (r + np.uint64(low % (1 << 64))).view(np.int64).reshape(shape)
    return _np_rng(generator, where).integers(low, high, size=shape, dtype=np.int64)


def randint(low: int = 0, high: int | Sequence[int] | None = None,
            size: int | Sequence[int] | None = None, *, generator: Generator | None = None,
            dtype: DTypeLike = None, device: DeviceLike = None,
            requires_grad: bool = False) -> Tensor:
    """Integers uniform in ``[low, high)``: ``randint(high, size)`` or
    ``randint(low, high, size)``; int64 unless ``dtype`` is given. With a ``generator`` the
    values equal PyTorch's for the same seed.

    >>> g = gn.Generator().manual_seed(0)
    >>> gn.randint(10, (5,), generator=g).tolist()      # torch gives the same
    [4, 9, 3, 0, 3]
    """
    if size is None:
        if high is None or not isinstance(high, (tuple, list)):
            raise ArgumentTypeError("randint: size (a tuple of ints) is required: "
                                    "randint(high, size) or randint(low, high, size)")
        low, high, size = 0, low, high
    elif high is None:
        low, high = 0, low
    shape = _size((tuple(size),) if isinstance(size, (tuple, list)) else (size,), "randint")
    dt = np.dtype(np.int64) if dtype is None else _dtype(dtype, "randint")
    arr = _randint_array(low, high, shape, generator, "randint").astype(dt)
    return _make(arr, requires_grad, device, "randint")


def randperm(n: int, *, generator: Generator | None = None, dtype: DTypeLike = None,
             device: DeviceLike = None, requires_grad: bool = False,
             pin_memory: bool = False) -> Tensor:
    """A random permutation of ``0 .. n-1`` (int64). With a ``generator`` it is PyTorch's
    permutation for the same seed.

    >>> gn.randperm(5, generator=gn.Generator().manual_seed(42)).tolist()
    [2, 4, 3, 0, 1]
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise ArgumentTypeError(f"randperm: n must be an int, got {type(n).__name__}")
    if n < 0:
        raise RuntimeError(f"randperm: n must be non-negative, got {n}")
    dt = np.dtype(np.int64) if dtype is None else _dtype(dtype, "randperm")
    if generator is None:
        generator = default_generator()                     # torch.default_generator
    _np_rng(generator, "randperm")
    arr = generator.randperm(int(n))
    return _make(arr.astype(dt, copy=False), requires_grad, device, "randperm")


def normal(mean: float | Tensor = 0.0, std: float | Tensor = 1.0,
           size: int | Sequence[int] | None = None, *, generator: Generator | None = None,
           dtype: DTypeLike = None, device: DeviceLike = None,
           requires_grad: bool = False) -> Tensor:
    """Normal samples with the given ``mean`` and ``std``: both numbers with a ``size``, or
    either one a Tensor (the result takes the broadcast shape of the Tensors).

    >>> gn.normal(2.0, 3.0, size=(4,)).shape
    (4,)
    """
    tm, ts = isinstance(mean, Tensor), isinstance(std, Tensor)
    if not (tm or ts):
        if size is None:
            raise ArgumentTypeError("normal: with a number mean and std, size is required "
                                    "(normal(mean, std, size))")
        shape = _size((tuple(size),) if isinstance(size, (tuple, list)) else (size,), "normal")
        dt = _float_dtype(dtype, "normal")
        m, s = float(_num(mean, "normal", "mean")), float(_num(std, "normal", "std"))
    else:
        if size is not None:
            raise ArgumentTypeError("normal: size is only accepted when mean and std are "
                                    "numbers")
        m = mean._data if isinstance(mean, Tensor) else float(_num(mean, "normal", "mean"))
        s = std._data if isinstance(std, Tensor) else float(_num(std, "normal", "std"))
        dts = [t.dtype for t in (mean, std) if isinstance(t, Tensor)]
        dt = _float_dtype(np.result_type(*dts) if dtype is None else dtype, "normal")
        shape = np.broadcast_shapes(np.shape(m), np.shape(s))
    if np.any(np.asarray(s) < 0):
        raise RuntimeError("normal: expects std >= 0.0")
    z = _np_rng(generator, "normal").standard_normal(shape)
    return _make((m + s * z).astype(dt), requires_grad, device, "normal")


def bernoulli(input: Tensor, p: float | None = None, *,
              generator: Generator | None = None) -> Tensor:
    """0/1 samples: element i is 1 with probability ``input[i]`` (or ``p`` for every element
    when given); the result has ``input``'s shape and dtype."""
    t = _like(input, "bernoulli")
    probs = t._data if p is None else np.full(t.shape, float(_num(p, "bernoulli", "p")))
    if np.any((probs < 0) | (probs > 1)):
        raise RuntimeError("bernoulli: all probabilities must be in [0, 1]")
    u = _np_rng(generator, "bernoulli").random(t.shape)
    return Tensor((u < probs).astype(t.dtype))


def multinomial(input: Tensor, num_samples: int, replacement: bool = False, *,
                generator: Generator | None = None) -> Tensor:
    """``num_samples`` indices per row drawn with probabilities proportional to ``input``
    (1-D: one distribution, 2-D: one per row); int64. Without ``replacement`` each index is
    drawn at most once per row.

    >>> gn.multinomial(gn.tensor([0.0, 1.0, 0.0]), 2, replacement=True).tolist()
    [1, 1]
    """
    t = _like(input, "multinomial")
    w = t._data.astype(np.float64)
    if w.ndim not in (1, 2):
        raise RuntimeError(f"multinomial: prob_dist must be 1 or 2 dim, got {w.ndim}")
    if isinstance(num_samples, bool) or not isinstance(num_samples, (int, np.integer)) \
            or num_samples <= 0:
        raise RuntimeError(f"multinomial: num_samples must be a positive int, got "
                           f"{num_samples!r}")
    rows = w.reshape(-1, w.shape[-1])
    if np.any(~np.isfinite(rows)) or np.any(rows < 0):
        raise RuntimeError("multinomial: probability tensor contains either inf, nan or "
                           "element < 0")
    total = rows.sum(axis=1, keepdims=True)
    if np.any(total <= 0):
        raise RuntimeError("multinomial: invalid multinomial distribution (sum of "
                           "probabilities <= 0)")
    k = rows.shape[1]
    if not replacement and num_samples > k:
        raise RuntimeError(f"multinomial: cannot sample n_sample={num_samples} > "
                           f"prob_dist.size(-1)={k} samples without replacement")
    rng = _np_rng(generator, "multinomial")
    if replacement:
        cdf = np.cumsum(rows / total, axis=1)
        u = rng.random((rows.shape[0], num_samples))
        idx = (u[:, :, None] >= cdf[:, None, :]).sum(axis=2)
        idx = np.minimum(idx, k - 1)
    else:
        # Gumbel-top-k: the k largest of log(w) + Gumbel noise are a draw without replacement
        with np.errstate(divide="ignore"):
            keys = np.log(rows) - np.log(-np.log(rng.random(rows.shape)))
        idx = np.argsort(-keys, axis=1, kind="stable")[:, :num_samples]
    idx = idx.astype(np.int64)
    return Tensor(idx[0] if w.ndim == 1 else idx)


def _legacy_constructor(name: str, dtype: type) -> Callable[..., Tensor]:
    def make(*args: Any) -> Tensor:
        if not args:
            return Tensor(np.empty((0,), dtype=dtype))
        if all(isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in args):
            return Tensor(np.zeros(tuple(int(a) for a in args), dtype=dtype))
        if len(args) == 1:
            data = args[0]
            if isinstance(data, Tensor):
                data = data._data
            return Tensor(np.array(data, dtype=dtype))
        raise ArgumentTypeError(f"{name}(): expected sizes (ints) or one sequence of data, "
                                f"got {args!r}")
    make.__name__ = make.__qualname__ = name
    make.__doc__ = (f"PyTorch's legacy constructor: ``{name}(data)`` is a {np.dtype(dtype)} "
                    f"tensor of ``data``; ``{name}(*sizes)`` a tensor of that shape (zeros "
                    f"here; PyTorch leaves it uninitialised).")
    return make


LEGACY_CONSTRUCTORS = {n: _legacy_constructor(n, d) for n, d in [
    ("FloatTensor", np.float32), ("DoubleTensor", np.float64), ("HalfTensor", np.float16),
    ("LongTensor", np.int64), ("IntTensor", np.int32), ("ShortTensor", np.int16),
    ("CharTensor", np.int8), ("ByteTensor", np.uint8), ("BoolTensor", np.bool_)]}
