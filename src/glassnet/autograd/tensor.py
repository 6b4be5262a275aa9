"""``Tensor``: an array plus the bookkeeping reverse-mode autodiff needs."""
from __future__ import annotations

import numpy as np

from .. import backend
from . import function as _function
from .function import run_backward

__all__ = ["Tensor", "Size", "tensor", "zeros", "ones", "randn", "rand", "arange", "as_tensor",
           "as_array"]


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

    def __repr__(self):
        return f"glassnet.Size({list(self)})"

    def __getitem__(self, key):
        r = tuple.__getitem__(self, key)
        return Size(r) if isinstance(key, slice) else r

    def __add__(self, other):
        return Size(tuple.__add__(self, tuple(other)))

    def __reduce__(self):
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

    __slots__ = ("_data", "grad", "requires_grad", "_ctx", "_out_index", "_grad_hooks",
                 "name", "__weakref__")
    __array_priority__ = 1000  # so ndarray (op) Tensor defers to Tensor

    def __init__(self, data, requires_grad: bool = False, name: str | None = None):
        if isinstance(data, Tensor):
            data = data._data
        if not isinstance(data, np.ndarray) and type(data).__module__.split(".")[0] != "cupy":
            data = np.asarray(data)
            if data.dtype.kind == "f" and data.dtype != backend.get_default_dtype():
                data = data.astype(backend.get_default_dtype())
        if requires_grad and data.dtype.kind not in "fc":
            raise TypeError(f"Tensor: only floating tensors can require gradients, got dtype "
                            f"{data.dtype}")
        self._data = data
        self.grad = None
        self.requires_grad = bool(requires_grad)
        self._ctx = None
        self._out_index = 0
        self._grad_hooks = None
        self.name = name

    @classmethod
    def _from_op(cls, data, ctx, index, requires_grad):
        t = cls.__new__(cls)
        t._data = data
        t.grad = None
        t.requires_grad = requires_grad
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
    def data(self, value):
        if isinstance(value, Tensor):
            value = value._data
        elif not isinstance(value, np.ndarray):
            value = np.asarray(value)
        self._data = value

    def __array__(self, dtype=None, copy=None):
        a = backend.to_numpy(self._data)
        if dtype is not None and a.dtype != dtype:
            return a.astype(dtype)
        return a.copy() if copy else a

    @property
    def shape(self) -> tuple:
        """The shape, a plain tuple of ints (``size()`` gives it as a :class:`Size`)."""
        return self._data.shape

    @property
    def dtype(self):
        return self._data.dtype

    @property
    def ndim(self):
        return self._data.ndim

    def size(self, dim=None):
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
    def grad_fn(self):
        """The Function that produced this tensor (None for leaves)."""
        return self._ctx

    @property
    def T(self):
        return self.transpose()

    def __len__(self):
        return len(self._data)

    def numel(self) -> int:
        return int(self._data.size)

    def dim(self) -> int:
        return self._data.ndim

    def numpy(self):
        """The values as a NumPy array (shares memory; no gradient)."""
        if self.requires_grad and self._ctx is None:
            pass  # reading a leaf is fine
        return backend.to_numpy(self._data)

    def item(self):
        if self._data.size != 1:
            raise ValueError(f"item: tensor has {self._data.size} elements, expected exactly 1")
        return self._data.reshape(()).item()

    def tolist(self):
        return self._data.tolist()

    def detach(self) -> "Tensor":
        """A new leaf sharing the values, cut from the graph."""
        return Tensor(self._data)

    def requires_grad_(self, flag: bool = True) -> "Tensor":
        if flag and self._data.dtype.kind not in "fc":
            raise TypeError(f"requires_grad_: dtype {self._data.dtype} cannot require gradients")
        self.requires_grad = bool(flag)
        return self

    def retain_grad(self) -> "Tensor":
        """Keep ``.grad`` for this non-leaf tensor after backward (for inspection)."""
        if self._ctx is None:
            return self
        lst = getattr(self._ctx, "_retained", None)
        if lst is None:
            lst = []
            self._ctx._retained = lst
        if not any(t is self for _, t in lst):
            lst.append((self._out_index, self))
        return self

    def register_hook(self, hook):
        """Call ``hook(grad_array)`` when this leaf's gradient arrives; it may return a new one."""
        if self._grad_hooks is None:
            self._grad_hooks = []
        self._grad_hooks.append(hook)
        return hook

    def zero_grad(self):
        self.grad = None

    def backward(self, gradient=None, retain_graph: bool = False) -> None:
        """Compute the gradient of this tensor with respect to every leaf that requires it.

        ``gradient`` defaults to 1 for a scalar; give it for non-scalar tensors.
        """
        if not self.requires_grad:
            raise RuntimeError("backward: this tensor does not require grad and has no grad_fn "
                               "(did you compute it under no_grad, or from tensors without "
                               "requires_grad=True?)")
        if gradient is None:
            if self._data.size != 1:
                raise RuntimeError(f"backward: gradient can be implicit only for scalar outputs; "
                                   f"this tensor has shape {self.shape}")
            g = np.ones_like(self._data)
        else:
            g = as_array(gradient)
            if g.shape != self.shape:
                raise ValueError(f"backward: gradient has shape {g.shape}, expected {self.shape}")
            g = g.astype(self.dtype, copy=True)
        run_backward(self, g, retain_graph=retain_graph)

    def __repr__(self):
        arr = np.array2string(backend.to_numpy(self._data), precision=4, separator=", ",
                              prefix="tensor(")
        extra = ""
        if self._ctx is not None:
            extra = f", grad_fn=<{self._ctx.name}>"
        elif self.requires_grad:
            extra = ", requires_grad=True"
        if self.dtype != backend.get_default_dtype() and self.dtype.kind == "f":
            extra = f", dtype={self.dtype}" + extra
        return f"tensor({arr}{extra})"

    def __bool__(self):
        if self._data.size != 1:
            raise ValueError("The truth value of a tensor with more than one element is ambiguous")
        return bool(self._data)

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError(f"only integer tensors of a single element can be converted to an "
                            f"index; this one has dtype {self._data.dtype} and shape "
                            f"{self._data.shape}")
        return int(self._data.reshape(()).item())

    def __hash__(self):
        return id(self)

    # Operators and methods are attached in glassnet.functional.math to keep the
    # math beside its derivative; see _install_tensor_methods there.


_function._tensor_type[0] = Tensor


def tensor(data, dtype=None, requires_grad: bool = False) -> Tensor:
    """Make a tensor from a list, scalar or array (copying it).

    Floating input takes the default dtype (float32) unless ``dtype`` is given;
    integer input stays integer (class labels).
    """
    if isinstance(data, Tensor):
        data = data._data
    xp = backend.xp()
    if dtype is not None:
        arr = xp.array(data, dtype=np.dtype(dtype))
    else:
        arr = xp.array(data)
        if arr.dtype.kind == "f" and arr.dtype != backend.get_default_dtype():
            arr = arr.astype(backend.get_default_dtype())
        elif arr.dtype == np.bool_:
            pass
    return Tensor(arr, requires_grad=requires_grad)


def as_tensor(data, dtype=None) -> Tensor:
    """Like :func:`tensor` but returns ``data`` itself when it is already a Tensor, and
    avoids a copy when the array already has the right dtype."""
    if isinstance(data, Tensor):
        if dtype is not None and data.dtype != np.dtype(dtype):
            return data.astype(dtype)
        return data
    xp = backend.xp()
    arr = xp.asarray(data)
    if dtype is not None:
        arr = arr.astype(np.dtype(dtype), copy=False)
    elif arr.dtype.kind == "f" and arr.dtype != backend.get_default_dtype():
        arr = arr.astype(backend.get_default_dtype())
    return Tensor(arr)


def as_array(x, dtype=None) -> np.ndarray:
    """The array behind ``x``: a Tensor's ``._data`` (the same array, no copy, no graph), or
    ``np.asarray(x, dtype)`` for anything else (arrays pass through, lists are converted).

    The one way a function that reads values but records nothing takes "a Tensor or an
    array" (labels, masks, lengths, metric inputs).

    >>> as_array(gn.tensor([1.0, 2.0])), as_array([0, 1])
    (array([1., 2.], dtype=float32), array([0, 1]))
    """
    return np.asarray(x._data if isinstance(x, Tensor) else x, dtype=dtype)


def _dt(dtype):
    return np.dtype(dtype) if dtype is not None else backend.get_default_dtype()


def zeros(*shape, dtype=None, requires_grad=False) -> Tensor:
    shape = shape[0] if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
    return Tensor(backend.xp().zeros(shape, dtype=_dt(dtype)), requires_grad=requires_grad)


def ones(*shape, dtype=None, requires_grad=False) -> Tensor:
    shape = shape[0] if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
    return Tensor(backend.xp().ones(shape, dtype=_dt(dtype)), requires_grad=requires_grad)


def randn(*shape, dtype=None, requires_grad=False) -> Tensor:
    shape = shape[0] if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
    a = backend.rng().standard_normal(shape).astype(_dt(dtype))
    return Tensor(backend.xp().asarray(a), requires_grad=requires_grad)


def rand(*shape, dtype=None, requires_grad=False) -> Tensor:
    shape = shape[0] if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
    a = backend.rng().random(shape).astype(_dt(dtype))
    return Tensor(backend.xp().asarray(a), requires_grad=requires_grad)


def arange(*args, dtype=None) -> Tensor:
    return Tensor(backend.xp().arange(*args, dtype=dtype))
