"""``Tensor``: an array plus the bookkeeping reverse-mode autodiff needs."""
from __future__ import annotations

import operator

import numpy as np

from .. import backend
from . import api as _api
from . import function as _function
from .function import run_backward

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # annotations only
    from glassnet._typing import TensorLike
    from glassnet._typing import DTypeLike
    from glassnet._typing import Dims
    from glassnet.autograd.function import Function


# the factory functions (tensor, zeros, arange, randn, ...) live in autograd/factories.py
__all__ = ["Tensor", "Size", "as_array", "as_input"]


class Size(tuple):
    """A tensor's shape, as ``torch.Size``: a tuple of ints that also has :meth:`numel`.

    >>> s = gn.zeros(2, 3).size(); s
    glassnet.Size([2, 3])
    >>> s.numel(), s[0], s == (2, 3)
    (6, 2, True)
    """

    __slots__ = ()

    def numel(self) -> int:
        """The number of elements a tensor of this shape holds."""
        n = 1
        for d in self:
            n *= d
        return n

    def __repr__(self) -> str:
        return f"glassnet.Size({list(self)})"

    def __getitem__(self, key: Any) -> Any:   # an int, or a Size for a slice
        r = tuple.__getitem__(self, key)
        return Size(r) if isinstance(key, slice) else r

    def __add__(self, other: Iterable[Any]) -> Size:
        return Size(tuple.__add__(self, tuple(other)))

    def __reduce__(self) -> tuple[type[Size], tuple[tuple[int, ...]]]:
        return (Size, (tuple(self),))


class Tensor:
    """A NumPy array that remembers how it was computed.

    Attributes
    ----------
    data : Tensor
        PyTorch's ``.data``: the same values (shared memory) as a tensor cut from the graph
        (``requires_grad=False``). Changing it in place is not recorded and not checked by
        autograd; assigning ``t.data = x`` replaces the values. Inside glassnet the raw
        ndarray is ``t._data``; from outside, ``t.numpy()`` or ``np.asarray(t)``.
    grad : Tensor or None
        Filled by :meth:`backward` for leaves with ``requires_grad=True``.
    requires_grad : bool
        Whether operations on this tensor are recorded.

    Example
    -------
    >>> x = gn.tensor([1.0, 2.0], requires_grad=True)
    >>> (x * x).sum().backward(); x.grad.numpy()   # 2x
    array([2., 4.], dtype=float32)
    """

    __slots__ = ("_data", "grad", "_requires_grad", "_ctx", "_out_index", "_grad_hooks",
                 "name", "_ver", "_vhist", "__weakref__")
    __array_priority__ = 1000  # so ndarray (op) Tensor defers to Tensor

    _data: Any          # an ndarray (a CuPy array on a GPU device)
    grad: Tensor | None
    _requires_grad: bool
    _ctx: Any           # the Function that made this tensor, or None for a leaf
    _out_index: int
    _grad_hooks: list[Callable[[Tensor], Tensor | None]] | None
    name: str | None
    _ver: int
    _vhist: list[int]

    def __init__(self, data: TensorLike, requires_grad: bool = False,
                 name: str | None = None) -> None:
        a: Any = data._data if isinstance(data, Tensor) else data
        if not isinstance(a, np.ndarray) and type(a).__module__.split(".")[0] != "cupy":
            a = np.asarray(a)
            if a.dtype.kind == "f" and a.dtype != backend.get_default_dtype():
                a = a.astype(backend.get_default_dtype())
        if requires_grad and a.dtype.kind not in "fc":
            raise RuntimeError(f"only Tensors of floating point and complex dtype can require "
                               f"gradients (Tensor: got dtype {a.dtype})")
        self._data = a
        self.grad = None
        self._requires_grad = bool(requires_grad)
        self._ctx = None
        self._out_index = 0
        self._grad_hooks = None
        self.name = name

    @classmethod
    def _from_op(cls, data: Any, ctx: Function | None, index: int,
                 requires_grad: bool) -> Tensor:
        t = cls.__new__(cls)
        t._data = data
        t.grad = None
        t._requires_grad = requires_grad
        t._ctx = ctx
        t._out_index = index
        t._grad_hooks = None
        t.name = None
        return t

    # ----------------------------------------------------------------- basics
    @property
    def data(self) -> "Tensor":
        return Tensor._from_op(self._data, None, 0, False)

    @data.setter
    def data(self, value: TensorLike) -> None:
        if isinstance(value, Tensor):
            value = value._data
        elif not isinstance(value, np.ndarray):
            value = np.asarray(value)
        self._data = value

    def __array__(self, dtype: DTypeLike = None, copy: bool | None = None) -> np.ndarray:
        a = backend.to_numpy(self._data)
        if dtype is not None and a.dtype != dtype:
            return a.astype(dtype)
        return a.copy() if copy else a

    @property
    def shape(self) -> tuple[int, ...]:
        """The shape, a plain tuple of ints (``size()`` gives it as a :class:`Size`)."""
        return self._data.shape

    @property
    def dtype(self) -> np.dtype[Any]:
        return self._data.dtype

    @property
    def ndim(self) -> int:
        return self._data.ndim

    def size(self, dim: int | None = None) -> Any:   # Size, or an int with dim
        """``size()`` is the shape as a :class:`Size`; ``size(dim)`` the length of one axis
        (negative dims count from the end), as ``torch.Tensor.size``.

        >>> x = gn.zeros(2, 3); x.size(), x.size(0), x.size(-1)
        (glassnet.Size([2, 3]), 2, 3)
        """
        shape = self._data.shape
        if dim is None:
            return Size(shape)
        n = len(shape)
        if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
            from ..errors import ArgumentTypeError  # noqa: PLC0415
            raise ArgumentTypeError(f"size: dim must be an int, got {type(dim).__name__}")
        if not -max(n, 1) <= dim < max(n, 1) or (n == 0 and dim not in (0, -1)):
            raise IndexError(f"size: dimension out of range (expected to be in range of "
                             f"[{-max(n, 1)}, {max(n, 1) - 1}], but got {dim})")
        if n == 0:
            raise IndexError("size: a 0-d tensor has no dimensions to ask the size of")
        return int(shape[dim])

    @property
    def is_leaf(self) -> bool:
        return self._ctx is None

    @property
    def grad_fn(self) -> Any:
        """The Function that produced this tensor (None for leaves)."""
        return self._ctx

    @property
    def T(self) -> Tensor:
        return self.transpose()

    def __iter__(self) -> Iterator[Tensor]:
        """Rows along the first axis, as PyTorch iterates a tensor (a 0-d tensor is not
        iterable). Without a gradient to carry, the rows are views made directly."""
        a = self._data
        if a.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        if self._requires_grad:
            return (self[i] for i in range(a.shape[0]))
        return (Tensor._from_op(row, None, 0, False) for row in a)

    def __len__(self) -> int:
        return len(self._data)

    def numel(self) -> int:
        return int(self._data.size)

    def dim(self) -> int:
        return self._data.ndim

    def numpy(self) -> np.ndarray:
        """The values as a NumPy array (shares memory; no gradient)."""
        if self.requires_grad and self._ctx is None:
            pass  # reading a leaf is fine
        return backend.to_numpy(self._data)

    def item(self) -> Any:   # a Python float, int or bool
        if self._data.size != 1:
            raise ValueError(f"item: tensor has {self._data.size} elements, expected exactly 1")
        return self._data.reshape(()).item()

    def tolist(self) -> Any:
        return self._data.tolist()

    def detach(self) -> "Tensor":
        """A new leaf sharing the values, cut from the graph."""
        return Tensor(self._data)

    def _set_requires_grad(self, flag: bool) -> None:
        flag = bool(flag)
        if self._ctx is not None:
            if flag:
                raise RuntimeError("you can only change requires_grad flags of leaf variables.")
            raise RuntimeError("you can only change requires_grad flags of leaf variables. If "
                               "you want to use a computed variable in a subgraph that doesn't "
                               "require differentiation use var_no_grad = var.detach().")
        if flag and self._data.dtype.kind not in "fc":
            raise RuntimeError(f"only Tensors of floating point and complex dtype can require "
                               f"gradients (this one has dtype {self._data.dtype})")
        self._requires_grad = flag

    # read through a C getter (attrgetter): nearly as fast as a plain attribute
    requires_grad = property(
        operator.attrgetter("_requires_grad"), _set_requires_grad,
        doc="Whether operations on this tensor are recorded. Only floating (and complex) "
            "tensors may require gradients, and only a leaf's flag can be changed (as in "
            "PyTorch: use ``detach()`` to cut a computed tensor from the graph).")

    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        """Set :attr:`requires_grad` in place and return this tensor (leaves only; True on a
        computed tensor is accepted, as it already requires grad)."""
        if self._ctx is not None and requires_grad:
            return self
        self.requires_grad = requires_grad
        return self

    @property
    def _version(self) -> int:
        """How many in-place operations changed this tensor (PyTorch's version counter)."""
        try:
            return self._ver
        except AttributeError:
            return 0

    def retain_grad(self) -> None:
        """Keep ``.grad`` for this non-leaf tensor after backward (a no-op on a leaf)."""
        if not self._requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self._ctx is None:
            return None
        lst = self._ctx._retained
        if lst is None:
            lst = []
            self._ctx._retained = lst
        for i, (idx, t, keep) in enumerate(lst):
            if t is self:
                lst[i] = (idx, t, True)
                return None
        lst.append((self._out_index, self, True))
        return None

    @property
    def retains_grad(self) -> bool:
        """True for a non-leaf tensor on which :meth:`retain_grad` was called."""
        ctx = self._ctx
        return ctx is not None and bool(ctx._retained) and any(t is self and keep
                                                               for _, t, keep in ctx._retained)

    def register_hook(self, hook: Callable[[Tensor], Tensor | None]) -> _HookHandle:
        """Call ``hook(grad)`` (grad a Tensor) each time the gradient with respect to this
        tensor is computed, leaf or not; a hook that returns a Tensor replaces the gradient.
        Returns a handle whose ``remove()`` unregisters the hook.

        >>> x = gn.tensor([1.0, 2.0], requires_grad=True)
        >>> h = x.register_hook(lambda g: g * 10)
        >>> (x * 1).sum().backward(); x.grad
        tensor([10., 10.])
        """
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require "
                               "gradient")
        if self._grad_hooks is None:
            self._grad_hooks = []
        self._grad_hooks.append(hook)
        ctx = self._ctx
        if ctx is not None:
            taps = ctx._retained
            if taps is None:
                taps = ctx._retained = []
            if not any(t is self for _, t, _ in taps):
                taps.append((self._out_index, self, False))
        return _HookHandle(self, hook)

    def zero_grad(self) -> None:
        self.grad = None

    def backward(self, gradient: TensorLike | None = None, retain_graph: bool | None = None,
                 create_graph: bool = False,
                 inputs: Tensor | Sequence[Tensor] | None = None) -> None:
        """Compute the gradient of this tensor with respect to every leaf that requires it
        and add it into their ``.grad`` (``torch.Tensor.backward``).

        ``gradient`` defaults to 1 for a one-element tensor; give it for other tensors.
        ``retain_graph`` (default: ``create_graph``) keeps the graph for another backward;
        ``create_graph=True`` records the backward itself, so the gradients can be
        differentiated again; ``inputs`` limits the accumulation to those tensors.
        """
        if gradient is None and inputs is None and not create_graph and self._requires_grad \
                and self._data.size == 1:
            # the everyday call, loss.backward(): straight to the engine
            run_backward(self, np.ones_like(self._data), retain_graph=bool(retain_graph))
            return
        _api.backward(self, gradient, retain_graph=retain_graph, create_graph=create_graph,
                      inputs=inputs)

    def __repr__(self) -> str:
        a = backend.to_numpy(self._data)
        # PyTorch's layout: four fixed decimals unless every value is integral (1., 2.)
        fixed = a.dtype.kind == "f" and a.size and not np.all(
            np.equal(np.mod(a[np.isfinite(a)], 1), 0))
        arr = np.array2string(a, precision=4, separator=", ", prefix="tensor(",
                              floatmode="fixed" if fixed else "maxprec")
        extra = ""
        if self._ctx is not None:
            extra = f", grad_fn=<{self._ctx.name}>"
        elif self.requires_grad:
            extra = ", requires_grad=True"
        if self.dtype != backend.get_default_dtype() and self.dtype.kind == "f":
            extra = f", dtype={self.dtype}" + extra
        return f"tensor({arr}{extra})"

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise ValueError("The truth value of a tensor with more than one element is ambiguous")
        return bool(self._data)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError(f"only integer tensors of a single element can be converted to an "
                            f"index; this one has dtype {self._data.dtype} and shape "
                            f"{self._data.shape}")
        return int(self._data.reshape(()).item())

    def __hash__(self) -> int:
        return id(self)

    # Operators and methods are attached in glassnet.functional.math to keep the
    # math beside its derivative; see _install_tensor_methods there.

    if TYPE_CHECKING:
        # What glassnet.functional attaches at import (_install_tensor_methods in
        # functional/math.py and its neighbours), as the type checker sees it: the
        # operators, elementwise and comparison alike, give a Tensor; the ~230 named
        # methods (sum, view, reshape, ...) are reached through __getattr__, typed Any.
        def __add__(self, other: TensorLike) -> Tensor: ...
        def __and__(self, other: TensorLike) -> Tensor: ...
        def __floordiv__(self, other: TensorLike) -> Tensor: ...
        def __ge__(self, other: TensorLike) -> Tensor: ...
        def __gt__(self, other: TensorLike) -> Tensor: ...
        def __le__(self, other: TensorLike) -> Tensor: ...
        def __lt__(self, other: TensorLike) -> Tensor: ...
        def __matmul__(self, other: TensorLike) -> Tensor: ...
        def __mod__(self, other: TensorLike) -> Tensor: ...
        def __mul__(self, other: TensorLike) -> Tensor: ...
        def __or__(self, other: TensorLike) -> Tensor: ...
        def __pow__(self, other: TensorLike) -> Tensor: ...
        def __radd__(self, other: TensorLike) -> Tensor: ...
        def __rand__(self, other: TensorLike) -> Tensor: ...
        def __rfloordiv__(self, other: TensorLike) -> Tensor: ...
        def __rmatmul__(self, other: TensorLike) -> Tensor: ...
        def __rmod__(self, other: TensorLike) -> Tensor: ...
        def __rmul__(self, other: TensorLike) -> Tensor: ...
        def __ror__(self, other: TensorLike) -> Tensor: ...
        def __rpow__(self, other: TensorLike) -> Tensor: ...
        def __rsub__(self, other: TensorLike) -> Tensor: ...
        def __rtruediv__(self, other: TensorLike) -> Tensor: ...
        def __rxor__(self, other: TensorLike) -> Tensor: ...
        def __sub__(self, other: TensorLike) -> Tensor: ...
        def __truediv__(self, other: TensorLike) -> Tensor: ...
        def __xor__(self, other: TensorLike) -> Tensor: ...
        def __iadd__(self, other: TensorLike) -> Tensor: ...
        def __iand__(self, other: TensorLike) -> Tensor: ...
        def __ifloordiv__(self, other: TensorLike) -> Tensor: ...
        def __imod__(self, other: TensorLike) -> Tensor: ...
        def __imul__(self, other: TensorLike) -> Tensor: ...
        def __ior__(self, other: TensorLike) -> Tensor: ...
        def __ipow__(self, other: TensorLike) -> Tensor: ...
        def __isub__(self, other: TensorLike) -> Tensor: ...
        def __itruediv__(self, other: TensorLike) -> Tensor: ...
        def __ixor__(self, other: TensorLike) -> Tensor: ...
        def __eq__(self, other: object) -> Tensor: ...  # type: ignore[override]
        def __ne__(self, other: object) -> Tensor: ...  # type: ignore[override]
        def __neg__(self) -> Tensor: ...
        def __abs__(self) -> Tensor: ...
        def __invert__(self) -> Tensor: ...
        def __getitem__(self, index: Any) -> Tensor: ...
        def __setitem__(self, index: Any, value: TensorLike) -> None: ...
        def __getattr__(self, name: str) -> Any: ...



_function._tensor_type[0] = Tensor


class _HookHandle:
    """What :meth:`Tensor.register_hook` returns: ``remove()`` unregisters the hook."""

    __slots__ = ("_tensor", "_hook")

    def __init__(self, tensor: Tensor, hook: Callable[[Tensor], Tensor | None]) -> None:
        self._tensor, self._hook = tensor, hook

    def remove(self) -> None:
        hooks = self._tensor._grad_hooks
        if hooks and self._hook in hooks:
            hooks.remove(self._hook)

    # older glassnet code called the returned value as the hook itself
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._hook(*args, **kwargs)



def as_array(x: Any, dtype: DTypeLike = None) -> np.ndarray:
    """The array behind ``x``: a Tensor's ``._data`` (the same array, no copy, no graph), or
    ``np.asarray(x, dtype)`` for anything else (arrays pass through, lists are converted).

    The one way a function that reads values but records nothing takes "a Tensor or an
    array" (labels, masks, lengths, metric inputs).

    >>> as_array(gn.tensor([1.0, 2.0])), as_array([0, 1])
    (array([1., 2.], dtype=float32), array([0, 1]))
    """
    return np.asarray(x._data if isinstance(x, Tensor) else x, dtype=dtype)


def as_input(x: TensorLike) -> Tensor:
    """A module's NumPy / list input as a Tensor: a Tensor passes through; float arrays take
    the default dtype (float32), as glassnet's layers have always read NumPy input; other
    dtypes stay. (This cast is glassnet's convenience for NumPy input, not PyTorch's
    ``as_tensor``, which keeps a float64 array float64.)

    >>> as_input(np.zeros(2)).dtype
    dtype('float32')
    """
    if isinstance(x, Tensor):
        return x
    arr = np.asarray(x)
    if arr.dtype.kind == "f" and arr.dtype != backend.get_default_dtype():
        arr = arr.astype(backend.get_default_dtype())
    return Tensor(arr)
