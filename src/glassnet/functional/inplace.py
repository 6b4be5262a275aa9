"""In-place operations (``add_``, ``mul_``, ``x[idx] = v``, ``p -= lr * p.grad``...) with
PyTorch's rules.

Each one changes the SAME tensor object and memory and raises its version counter
(``t._version``):

* on a leaf that requires grad it is refused while recording (outside ``no_grad``), as in
  PyTorch, and allowed inside ``no_grad`` (parameter updates);
* otherwise, when recording is on and the tensor or the other operand requires grad, the
  operation is recorded: the tensor's ``grad_fn`` becomes the new node, whose input is the
  tensor's previous version;
* a node whose backward needs a value that was changed in place since it was recorded
  raises at backward (``... is at version 2; expected version 1 instead``) instead of
  giving a wrong gradient;
* the dtype never changes: a result of a higher category (float into an integer tensor,
  an integer into a bool tensor) raises ``result type Float can't be cast to the desired
  output type Long``, as in PyTorch.

``Tensor.data`` is a detached alias: changing it is neither recorded nor checked (PyTorch's
``.data``). The augmented assignments (``+= -= *= /= **=``, and ``//= %= &= |= ^=`` on
integer tensors) are these in-place ops; ``@=`` is not in PyTorch either (Python then
rebinds the name to a new tensor).

>>> w = gn.tensor([1.0, 2.0], requires_grad=True)
>>> (w * w).sum().backward()
>>> with gn.no_grad():
...     w -= 0.5 * w.grad
>>> w, w._version
(tensor([0., 0.], requires_grad=True), 1)
"""
from __future__ import annotations

import numbers

import numpy as np

from .. import backend
from ..autograd import function as _f
from ..autograd.function import Function, bump_version, unbroadcast
from ..autograd.generator import numpy_draws
from ..autograd.tensor import Tensor
from . import elementwise as _ew
from . import math as _m
from . import reduce as _red

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # annotations only
    import numpy.typing as npt

    from glassnet._typing import DTypeLike, TensorLike
    from glassnet.autograd.generator import Generator
    from glassnet.autograd.tensor import Tensor


__all__ = ["Fill", "CopyFrom", "MaskedFill", "SetItem", "IndexFill"]

_LEAF = "a leaf Variable that requires grad is being used in an in-place operation."
_VIEW_LEAF = ("a view of a leaf Variable that requires grad is being used in an in-place "
              "operation.")

_TORCH_NAMES = {"float32": "Float", "float64": "Double", "float16": "Half",
                "bfloat16": "BFloat16", "int64": "Long", "int32": "Int", "int16": "Short",
                "int8": "Char", "uint8": "Byte", "bool": "Bool", "complex64": "ComplexFloat",
                "complex128": "ComplexDouble"}
_RANK = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}

# which inputs each elementwise Function's backward reads (for the version check and to
# know when the in-place op must keep a copy of the previous value)
_m.Add._saved_inputs = ()
_m.Sub._saved_inputs = ()
_m.Neg._saved_inputs = ()
_m.Exp._saved_inputs = ()
_m.Sqrt._saved_inputs = ()
_m.Cast._saved_inputs = ()
_m.Reshape._saved_inputs = ()
_m.Transpose._saved_inputs = ()
_red.Sum._saved_inputs = ()
_red.Mean._saved_inputs = ()
_m.GetItem._saved_inputs = ()
_m.Mul._saved_inputs = (0, 1)
_m.Div._saved_inputs = (0, 1)
_m.Pow._saved_inputs = (0, 1)
_ew.Clamp._saved_inputs = (0,)


def _tname(dt: DTypeLike) -> str:
    return _TORCH_NAMES.get(np.dtype(dt).name, np.dtype(dt).name)


def _cast_check(self: Tensor, result_dtype: DTypeLike, name: str) -> None:
    """PyTorch's rule for in-place results: the category (bool < integer < float <
    complex) may not go up."""
    sd = self._data.dtype
    rd = np.dtype(result_dtype)
    if _RANK.get(rd.kind, 0) > _RANK.get(sd.kind, 0):
        raise RuntimeError(f"result type {_tname(rd)} can't be cast to the desired output "
                           f"type {_tname(sd)}")


def _result_dtype(self: Tensor, other: TensorLike) -> np.dtype:
    """The dtype PyTorch's promotion gives ``self (op) other`` (enough for the rule)."""
    a = self._data
    if isinstance(other, Tensor):
        other = other._data
    if isinstance(other, bool):
        return a.dtype
    if isinstance(other, numbers.Integral) and not isinstance(other, np.ndarray):
        return np.dtype(np.int64) if a.dtype.kind == "b" else a.dtype
    if isinstance(other, numbers.Real) and not isinstance(other, np.ndarray):
        return backend.get_default_dtype() if a.dtype.kind in "iub" else a.dtype
    if isinstance(other, numbers.Complex) and not isinstance(other, np.ndarray):
        return np.dtype(np.complex64)
    o = np.asarray(other)
    if o.ndim == 0 and a.ndim > 0 and _RANK.get(o.dtype.kind, 0) <= _RANK.get(a.dtype.kind, 0):
        return a.dtype           # a 0-dim tensor does not raise the dtype of a full one
    ra, ro = _RANK.get(a.dtype.kind, 0), _RANK.get(o.dtype.kind, 0)
    if ra != ro:                 # across categories the higher one's dtype wins
        return a.dtype if ra > ro else o.dtype
    return np.result_type(a, o)


def _check_shape(self: Tensor, other_shape: Sequence[int]) -> None:
    shape = self._data.shape
    try:
        b = np.broadcast_shapes(shape, tuple(other_shape))
    except ValueError:
        raise RuntimeError(f"The size of tensor a ({list(shape)}) must match the size of "
                           f"tensor b ({list(other_shape)})") from None
    if b != shape:
        raise RuntimeError(f"output with shape {list(shape)} doesn't match the broadcast "
                           f"shape {list(b)}")


def _records(self: Tensor, *others: object) -> bool:
    """Whether the in-place op must be recorded; raises PyTorch's leaf errors."""
    if not _f._grad_mode.enabled:
        return False
    if self._requires_grad:
        if self._ctx is None:
            raise RuntimeError(_LEAF)
        _view_check(self)
        return True
    return any(isinstance(o, Tensor) and o._requires_grad for o in others)


def _view_check(self: Tensor) -> None:
    """An in-place change of a tensor that shares memory with the input of its own node
    (a view made by indexing, reshape, transpose...)."""
    ctx = self._ctx
    assert ctx is not None   # called for a tensor made by a node only
    for inp in ctx.inputs:
        data = None if inp is None else inp._data      # None: an Edge's freed array
        if data is None or data is self._data or not np.may_share_memory(data, self._data):
            continue
        if inp._ctx is None and inp._requires_grad:
            raise RuntimeError(_VIEW_LEAF)
        raise RuntimeError(
            f"in-place operation on a view ({ctx.name} output) of a tensor that is part of the "
            f"graph: glassnet cannot record it (PyTorch rewrites the base tensor's history); "
            f"change the base tensor instead (base[index] = ...) or work on a copy (.clone())")


def _previous(self: Tensor, keep_copy: bool) -> Tensor:
    """A tensor standing for this tensor's value before the in-place op, in the graph."""
    ctx = self._ctx
    if ctx is not None and _f._holds(ctx, self._data):
        # the node that made this tensor saved it: its backward would read the new values
        dirty = ctx._dirty or []
        dirty.append((self._out_index, self, self._version))
        ctx._dirty = dirty
    data = self._data.copy() if keep_copy else self._data
    return Tensor._from_op(data, ctx, self._out_index, self._requires_grad)


def _adopt(self: Tensor, res: Tensor) -> Tensor:
    """Make ``self`` (same object and memory) the output of ``res``'s node."""
    data = self._data
    if res._data.shape != data.shape:
        _check_shape(self, res._data.shape)
    np.copyto(data, res._data, casting="unsafe")
    fn = res._ctx
    if fn is not None:
        fn.output_dtypes = tuple(data.dtype if i == 0 else d
                                 for i, d in enumerate(fn.output_dtypes))
    self._ctx = fn
    self._out_index = res._out_index
    self._requires_grad = res._requires_grad
    bump_version(self)
    if fn is not None:
        fn._g = _f._clock.now       # made after the bump: its own inputs are current
    return self


def _record(self: Tensor, F: type[Function], others: tuple[Any, ...],
            kwargs: dict[str, Any] | None = None) -> Tensor:
    saved = F._saved_inputs
    old = _previous(self, saved is None or 0 in saved)
    res = F.apply(old, *others, **(kwargs or {}))
    return _adopt(self, res)


def _operand(other: TensorLike, self: Tensor) -> Tensor | np.ndarray:
    """A Python scalar or array operand in ``self``'s float dtype (as ``a + 2.0`` does)."""
    return _m._c(other, self) if not isinstance(other, Tensor) else other


# ---------------------------------------------------------------- binary ops
def _binary(name: str, F: type[Function], ufunc: np.ufunc) -> Callable[..., Tensor]:
    def op(self: Tensor, other: TensorLike, **kw: Any) -> Tensor:
        alpha = kw.pop("alpha", None)
        if kw:
            raise TypeError(f"{name}() got an unexpected keyword argument {next(iter(kw))!r}")
        if alpha is not None and alpha != 1:
            other = other * alpha
        rd = _result_dtype(self, other)
        if ufunc is np.true_divide and rd.kind in "iub":
            rd = backend.get_default_dtype()       # true division of integers is float
        _cast_check(self, rd, name)
        if _records(self, other):
            t = _operand(other, self)
            _check_shape(self, np.shape(t._data if isinstance(t, Tensor) else t))
            return _record(self, F, (t,))
        o = other._data if isinstance(other, Tensor) else other
        if not isinstance(o, (numbers.Number, np.ndarray)):
            o = np.asarray(o)
        if isinstance(o, np.ndarray) and o.shape != self._data.shape:
            _check_shape(self, o.shape)
        ufunc(self._data, o, out=self._data, casting="unsafe")
        bump_version(self)
        return self
    op.__name__ = name
    op.__doc__ = (f"In-place ``{ufunc.__name__}``: changes this tensor (same memory) and "
                  f"returns it; recorded for autograd as PyTorch's ``{name}``.")
    return op


add_ = _binary("add_", _m.Add, np.add)
sub_ = _binary("sub_", _m.Sub, np.subtract)
mul_ = _binary("mul_", _m.Mul, np.multiply)
div_ = _binary("div_", _m.Div, np.true_divide)
pow_ = _binary("pow_", _m.Pow, np.power)


def _integer_only(name: str, ufunc: np.ufunc) -> Callable[[Tensor, TensorLike], Tensor]:
    def op(self: Tensor, other: TensorLike) -> Tensor:
        _cast_check(self, _result_dtype(self, other), name)
        if _records(self, other):
            raise RuntimeError(f"{name}: the derivative is not implemented (not "
                               f"differentiable)")
        o = other._data if isinstance(other, Tensor) else other
        ufunc(self._data, o, out=self._data, casting="unsafe")
        bump_version(self)
        return self
    op.__name__ = name
    op.__doc__ = f"In-place ``{ufunc.__name__}`` (no gradient)."
    return op


floor_divide_ = _integer_only("floor_divide_", np.floor_divide)
remainder_ = _integer_only("remainder_", np.remainder)
bitwise_and_ = _integer_only("bitwise_and_", np.bitwise_and)
bitwise_or_ = _integer_only("bitwise_or_", np.bitwise_or)
bitwise_xor_ = _integer_only("bitwise_xor_", np.bitwise_xor)


# ----------------------------------------------------------------- unary ops
def _unary(name: str, F: type[Function], func: np.ufunc) -> Callable[[Tensor], Tensor]:
    def op(self: Tensor) -> Tensor:
        if _records(self):
            if self._data.dtype.kind not in "fc":
                _cast_check(self, np.float64, name)
            return _record(self, F, ())
        r = func(self._data)
        if self._data.dtype.kind in "iub" and r.dtype.kind == "f":
            _cast_check(self, backend.get_default_dtype(), name)
        np.copyto(self._data, r, casting="unsafe")
        bump_version(self)
        return self
    op.__name__ = name
    op.__doc__ = f"In-place ``{name[:-1]}``: changes this tensor and returns it."
    return op


neg_ = _unary("neg_", _m.Neg, np.negative)
exp_ = _unary("exp_", _m.Exp, np.exp)
sqrt_ = _unary("sqrt_", _m.Sqrt, np.sqrt)


def clamp_(self: Tensor, min: TensorLike | None = None,  # noqa: A002 - PyTorch's names
           max: TensorLike | None = None) -> Tensor:  # noqa: A002
    """In-place ``clamp``: values below ``min`` become ``min``, above ``max`` become ``max``
    (gradient 1 inside, 0 where clamped)."""
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    lo = min._data if isinstance(min, Tensor) else min
    hi = max._data if isinstance(max, Tensor) else max
    for v in (lo, hi):
        if v is not None:
            _cast_check(self, _result_dtype(self, v), "clamp_")
    if _records(self):
        return _record(self, _ew.Clamp, (), {"lo": lo, "hi": hi})
    np.clip(self._data, lo, hi, out=self._data, casting="unsafe")
    bump_version(self)
    return self


# ------------------------------------------------------------- fill, copy
class Fill(Function):
    """z = a filled with a constant (``fill_``, ``zero_``, ``uniform_``...); no gradient to
    the previous values (zeros)."""

    _saved_inputs = ()

    def forward(self, a: np.ndarray, values: npt.ArrayLike | None = None) -> np.ndarray:
        self.shape, self.dtype = a.shape, a.dtype
        return np.broadcast_to(np.asarray(values, dtype=a.dtype), a.shape).copy()

    def backward(self, g: np.ndarray) -> np.ndarray:
        return np.zeros(self.shape, dtype=g.dtype)


def _fill_with(self: Tensor, values: npt.ArrayLike, name: str) -> Tensor:
    if _records(self):
        return _record(self, Fill, (), {"values": values})
    self._data[...] = values
    bump_version(self)
    return self


def fill_(self: Tensor, value: TensorLike) -> Tensor:
    """Set every element to ``value`` (a number or a one-element tensor)."""
    if isinstance(value, Tensor):
        if value._data.ndim != 0:
            raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor "
                               f"with {value._data.ndim} dimensions.")
        value = value._data.item()
    return _fill_with(self, value, "fill_")


def zero_(self: Tensor) -> Tensor:
    """Set every element to 0."""
    return _fill_with(self, 0, "zero_")


def uniform_(self: Tensor, a: float = 0.0, b: float = 1.0,
             generator: Generator | None = None) -> Tensor:
    """Fill with draws from U(a, b) (glassnet's generator, seeded by ``manual_seed``)."""
    _float_only(self, "uniform_")
    rng = numpy_draws(generator, "uniform_")
    vals = (a + (b - a) * rng.random(self._data.shape)).astype(self._data.dtype)
    return _fill_with(self, vals, "uniform_")


def normal_(self: Tensor, mean: float = 0.0, std: float = 1.0,
            generator: Generator | None = None) -> Tensor:
    """Fill with draws from N(mean, std^2)."""
    _float_only(self, "normal_")
    rng = numpy_draws(generator, "normal_")
    vals = (mean + std * rng.standard_normal(self._data.shape)).astype(self._data.dtype)
    return _fill_with(self, vals, "normal_")


def _float_only(self: Tensor, name: str) -> None:
    if self._data.dtype.kind not in "fc":
        raise RuntimeError(f"\"{name}\" not implemented for '{_tname(self._data.dtype)}'")


class CopyFrom(Function):
    """z = src broadcast to a's shape in a's dtype (``a.copy_(src)``); the gradient goes to
    ``src`` (summed over broadcast axes, in src's dtype), zeros to the previous values."""

    _saved_inputs = ()

    def forward(self, a: np.ndarray, src: np.ndarray) -> np.ndarray:
        self.shape, self.sshape, self.sdt = a.shape, np.shape(src), np.asarray(src).dtype
        return np.broadcast_to(src, a.shape).astype(a.dtype)

    def backward(self, g: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
        ga = np.zeros(self.shape, dtype=g.dtype) if self.needs_input_grad[0] else None
        gs = None
        if self.needs_input_grad[1]:
            gs = unbroadcast(g, self.sshape)
            if self.sdt.kind == "f":
                gs = gs.astype(self.sdt, copy=False)
        return ga, gs


def copy_(self: Tensor, src: Tensor, non_blocking: bool = False) -> Tensor:
    """Copy ``src``'s values into this tensor (broadcast, cast to this dtype)."""
    if not isinstance(src, Tensor):
        raise TypeError(f"copy_(): argument 'src' must be Tensor, not {type(src).__name__}")
    _check_shape(self, src._data.shape)
    if _records(self, src):
        return _record(self, CopyFrom, (src,))
    np.copyto(self._data, src._data, casting="unsafe")
    bump_version(self)
    return self


# ------------------------------------------------------------ masked fill
class MaskedFill(Function):
    """z = where(mask, value, a); the gradient goes to a where the mask is False and, for a
    tensor ``value``, sums to it where the mask is True."""

    def forward(self, a: np.ndarray, value: npt.ArrayLike,
                mask: Any = None) -> np.ndarray:   # mask: a bool array of a's shape
        self.mask = mask
        self.vshape = np.shape(value)
        return np.where(mask, np.asarray(value, dtype=a.dtype), a)

    def backward(self, g: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
        ga = np.where(self.mask, 0, g).astype(g.dtype) if self.needs_input_grad[0] else None
        gv = None
        if self.needs_input_grad[1]:
            gv = np.asarray(np.where(self.mask, g, 0).sum(), dtype=g.dtype).reshape(self.vshape)
        return ga, gv


MaskedFill._saved_inputs = ()


def _as_mask(self: Tensor, mask: TensorLike, name: str) -> np.ndarray:
    m = mask._data if isinstance(mask, Tensor) else np.asarray(mask)
    if m.dtype != np.bool_:
        raise RuntimeError(f"{name} only supports boolean masks, but got mask with dtype "
                           f"{_tname(m.dtype)}")
    _check_shape(self, m.shape)
    return m


def masked_fill_(self: Tensor, mask: Tensor, value: TensorLike) -> Tensor:
    """Set the elements where ``mask`` (bool, broadcast to this shape) is True to
    ``value`` (a number or a 0-dim tensor)."""
    m = _as_mask(self, mask, "masked_fill_")
    if isinstance(value, Tensor) and value._data.ndim != 0:
        raise RuntimeError(f"masked_fill_ only supports a 0-dimensional value tensor, but got "
                           f"tensor with {value._data.ndim} dimension(s).")
    if _records(self, value):
        v = value if isinstance(value, Tensor) else value
        return _record(self, MaskedFill, (v,), {"mask": np.broadcast_to(m, self._data.shape)})
    v = value._data if isinstance(value, Tensor) else value
    if isinstance(v, float) and self._data.dtype.kind in "iub":
        pass  # torch casts the fill value into an integer tensor
    np.copyto(self._data, np.asarray(v).astype(self._data.dtype), where=m, casting="unsafe")
    bump_version(self)
    return self


class IndexFill(Function):
    """z = a with the slices ``index`` along ``dim`` set to a value."""

    _saved_inputs = ()

    def forward(self, a: np.ndarray, dim: int = 0, index: np.ndarray | None = None,
                value: complex = 0.0) -> np.ndarray:
        self.key = (slice(None),) * (dim % max(a.ndim, 1)) + (index,)
        out = a.copy()
        out[self.key] = value
        return out

    def backward(self, g: np.ndarray) -> np.ndarray:
        g = g.copy()
        g[self.key] = 0
        return g


def index_fill_(self: Tensor, dim: int, index: Tensor, value: TensorLike) -> Tensor:
    """Set the slices at ``index`` (a 1-D integer tensor) along ``dim`` to ``value``."""
    idx = index._data if isinstance(index, Tensor) else np.asarray(index)
    if idx.dtype.kind not in "iu":
        raise RuntimeError("index_fill_(): Expected dtype int64 for index")
    v = value._data.item() if isinstance(value, Tensor) else value
    if _records(self):
        return _record(self, IndexFill, (), {"dim": dim, "index": idx, "value": v})
    key = (slice(None),) * (dim % max(self._data.ndim, 1)) + (idx,)
    self._data[key] = v
    bump_version(self)
    return self


# --------------------------------------------------------------- setitem
class SetItem(Function):
    """z = a with ``z[index] = v``; the gradient goes to a outside the written elements and
    to v from them (summed over broadcast axes)."""

    _saved_inputs = ()

    def forward(self, a: np.ndarray, v: npt.ArrayLike, index: Any = None) -> np.ndarray:
        self.index = index
        self.vshape = np.shape(v)
        out = a.copy()
        out[index] = v
        return out

    def backward(self, g: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
        ga = gv = None
        if self.needs_input_grad[0]:
            ga = g.copy()
            ga[self.index] = 0
        if self.needs_input_grad[1]:
            gv = unbroadcast(np.asarray(g[self.index]), self.vshape)
        return ga, gv


def _index(index: Any) -> Any:
    if isinstance(index, Tensor):
        return index._data
    if isinstance(index, tuple):
        return tuple(i._data if isinstance(i, Tensor) else i for i in index)
    if isinstance(index, list) and any(isinstance(i, Tensor) for i in index):
        return [i._data if isinstance(i, Tensor) else i for i in index]
    return index


def setitem(self: Tensor, index: Any, value: TensorLike) -> Tensor | None:
    """``x[index] = value`` (a number, an array or a tensor), in place, recorded for
    autograd through both ``x`` and ``value``."""
    index = _index(index)
    if _f._grad_mode.enabled and self._requires_grad and self._ctx is None:
        raise RuntimeError(_VIEW_LEAF)
    if _records(self, value):
        v = value
        if not isinstance(v, Tensor):
            v = np.asarray(v, dtype=self._data.dtype)
        elif v._data.dtype != self._data.dtype:
            v = _m.cast(v, self._data.dtype)
        return _record(self, SetItem, (v,), {"index": index})
    self._data[index] = value._data if isinstance(value, Tensor) else value
    bump_version(self)
    return None


def _iop(op: Callable[[Tensor, Any], Tensor]) -> Callable[[Tensor, Any], Tensor]:
    def f(self: Tensor, other: TensorLike) -> Tensor:
        return op(self, other)
    f.__name__ = op.__name__
    return f


def _install_tensor_methods() -> None:
    T = Tensor
    for fn in (add_, sub_, mul_, div_, pow_, neg_, exp_, sqrt_, clamp_, fill_, zero_,
               uniform_, normal_, copy_, masked_fill_, index_fill_, floor_divide_,
               remainder_, bitwise_and_, bitwise_or_, bitwise_xor_):
        setattr(T, fn.__name__, fn)
    setattr(T, "clip_", clamp_)
    setattr(T, "negative_", neg_)
    setattr(T, "true_divide_", div_)
    setattr(T, "multiply_", mul_)
    setattr(T, "subtract_", sub_)
    setattr(T, "divide_", div_)
    setattr(T, "__setitem__", setitem)
    setattr(T, "__iadd__", _iop(add_))
    setattr(T, "__isub__", _iop(sub_))
    setattr(T, "__imul__", _iop(mul_))
    setattr(T, "__itruediv__", _iop(div_))
    setattr(T, "__ipow__", _iop(pow_))
    setattr(T, "__ifloordiv__", _iop(floor_divide_))
    setattr(T, "__imod__", _iop(remainder_))
    setattr(T, "__iand__", _iop(bitwise_and_))
    setattr(T, "__ior__", _iop(bitwise_or_))
    setattr(T, "__ixor__", _iop(bitwise_xor_))


_install_tensor_methods()
