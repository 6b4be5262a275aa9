"""PyTorch-style ``autograd.Function`` subclasses: ``@staticmethod forward(ctx, ...)`` and
``@staticmethod backward(ctx, *grad_outputs)`` on Tensors.

:func:`make_torch_style` is called by ``Function.__init_subclass__`` for such a subclass.
It gives the class an ``apply`` that runs ``forward`` with recording off and records one
node, an instance of a generated ``<Name>Backward`` class that follows glassnet's raw-array
contract, so the engine treats it like any other Function. The node is also the ``ctx``
forward and backward receive.
"""
from __future__ import annotations

import numpy as np

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from . import function as _f

if TYPE_CHECKING:  # annotations only
    from glassnet.autograd.tensor import Tensor

_Fn = TypeVar("_Fn")

__all__ = ["BackwardCFunction", "make_torch_style", "once_differentiable"]


def once_differentiable(fn: _Fn) -> _Fn:
    """Decorator for a PyTorch-style backward that is not itself differentiable (accepted
    for compatibility: glassnet runs such a backward without recording anyway unless
    ``create_graph=True``)."""
    return fn


class BackwardCFunction(_f.Function):
    """The node (and ``ctx``) of a PyTorch-style Function call."""

    _user: Any = None       # the user's Function subclass
    _saved: tuple[Tensor | None, ...] = ()
    _saved_versions: tuple[int, ...] = ()
    _non_diff: tuple[Tensor, ...] = ()
    _dirty_inputs: tuple[Tensor, ...] = ()

    # ---------------------------------------------------------------- ctx API
    def save_for_backward(self, *tensors: Tensor | None) -> None:
        """Keep tensors (or None) for backward; read them back with ``saved_tensors``."""
        T = _f._tensor_type[0]
        for t in tensors:
            if t is not None and not isinstance(t, T):
                raise TypeError(f"save_for_backward can only save variables, but argument "
                                f"{tensors.index(t)} is of type {type(t).__name__}")
        self._saved = tensors
        self._saved_versions = tuple(getattr(t, "_ver", 0) if t is not None else 0
                                     for t in tensors)

    @property
    def saved_tensors(self) -> tuple[Any, ...]:
        """The tensors given to ``save_for_backward``; raises when one was changed in place
        since, or when the graph was freed by a backward."""
        if self._freed:
            raise RuntimeError(_f._FREED)
        for t, v in zip(self._saved, self._saved_versions):
            if t is not None and getattr(t, "_ver", 0) != v:
                raise _f._modified_error(_f._describe(t), t._ver, v)
        return tuple(self._saved)

    def mark_non_differentiable(self, *outputs: Tensor) -> None:
        """Outputs that get ``requires_grad=False`` (indices, masks)."""
        self._non_diff = tuple(outputs)

    def mark_dirty(self, *tensors: Tensor) -> None:
        """Inputs that forward changed in place (and returns)."""
        self._dirty_inputs = tuple(tensors)

    def set_materialize_grads(self, value: bool) -> None:
        """With False, backward gets None (not zeros) for outputs that received no
        gradient."""
        self._materialize = bool(value)

    # -------------------------------------------------------------- the node
    @property
    def name(self) -> str:
        return type(self).__name__

    def _call_backward(self, grads: Sequence[Any], graph: bool) -> tuple[Any, ...]:
        T = _f._tensor_type[0]
        if graph:
            gts = grads
            with _f.enable_grad():
                res = self._user.backward(self, *gts)
        else:
            gts = [T._from_op(g, None, 0, False) if g is not None else None for g in grads]
            with _f.no_grad():
                res = self._user.backward(self, *gts)
        if not isinstance(res, tuple):
            res = (res,)
        n = len(self.inputs)
        if len(res) != n:
            if len(res) > n and all(r is None for r in res[n:]):
                res = res[:n]
            else:
                raise RuntimeError(f"function {self.name} returned an incorrect number of "
                                   f"gradients (expected {n}, got {len(res)})")
        out: list[Any] = []
        for i, (r, x) in enumerate(zip(res, self.inputs)):
            if r is None or x is None:
                out.append(None)
                continue
            if graph:
                if not isinstance(r, T):
                    r = T._from_op(np.asarray(r, dtype=x._data.dtype), None, 0, False)
                out.append(r)
                continue
            a = r._data if isinstance(r, T) else np.asarray(r)
            if a.shape != x._data.shape:
                try:
                    np.broadcast_shapes(a.shape, x._data.shape)
                    ok = a.ndim >= x._data.ndim or a.size == 1
                except ValueError:
                    ok = False
                if not ok:
                    raise RuntimeError(f"Function {self.name} returned an invalid gradient at "
                                       f"index {i} - got {list(a.shape)} but expected shape "
                                       f"compatible with {list(x._data.shape)}")
            out.append(a)
        return tuple(out)

    def backward(self, *grads: Any) -> tuple[Any, ...]:
        return self._call_backward(grads, False)

    def _graph_backward(self, *grads: Any) -> tuple[Any, ...]:
        return self._call_backward(grads, True)


def _torch_apply(cls: Any, *args: Any, **kwargs: Any) -> Any:
    T = _f._tensor_type[0]
    node = cls._node_cls.__new__(cls._node_cls)
    needs = tuple(isinstance(a, T) and a._requires_grad for a in args)
    node.needs_input_grad = needs
    record = _f._grad_mode.enabled and any(needs)
    with _f.no_grad():
        if cls._has_setup:
            out = cls.forward(*args, **kwargs)
            cls.setup_context(node, args, out)
        else:
            out = cls.forward(node, *args, **kwargs)
    single = not isinstance(out, tuple)
    outs = (out,) if single else out
    if not record:
        return out
    node.inputs = [a if isinstance(a, T) else None for a in args]
    g = _f._clock.now
    if g:
        node._g = g
    node.n_outputs = len(outs)
    shapes: list[tuple[int, ...]] = []
    dtypes: list[np.dtype[Any]] = []
    results: list[Any] = []
    non_diff = {id(t) for t in node._non_diff}
    dirty = {id(t) for t in node._dirty_inputs}
    for i, o in enumerate(outs):
        if not isinstance(o, T):
            results.append(o)
            shapes.append(())
            dtypes.append(np.dtype("float32"))
            continue
        shapes.append(o._data.shape)
        dtypes.append(o._data.dtype)
        if id(o) in dirty:
            if o._ctx is None and o._requires_grad:
                raise RuntimeError("a leaf Variable that requires grad is being used in an "
                                   "in-place operation.")
            k = next(j for j, a in enumerate(args) if a is o)
            node.inputs[k] = T._from_op(o._data, o._ctx, o._out_index, o._requires_grad)
            _f.bump_version(o)
            t = o
        elif any(o is a for a in args) or o._ctx is not None:
            t = T._from_op(o._data, None, 0, False)   # an input returned as is: an alias
        else:
            t = o
        if id(o) in non_diff or o._data.dtype.kind not in "fc":
            t._ctx, t._requires_grad = None, False
        else:
            t._ctx, t._out_index, t._requires_grad = node, i, True
        results.append(t)
    node.output_shapes = tuple(shapes)
    node.output_dtypes = tuple(dtypes)
    return results[0] if single else tuple(results)


def _defining(cls: type) -> set[str]:
    names: set[str] = set()
    for k in cls.__mro__:
        if k is _f.Function:
            break
        names.update(k.__dict__)
    return names


def make_torch_style(cls: Any) -> None:
    """Give a PyTorch-style Function subclass its node class and ``apply``."""
    cls._node_cls = type(cls.__name__ + "Backward", (BackwardCFunction,),
                         {"_user": cls, "__module__": cls.__module__,
                          "__doc__": f"The backward node of {cls.__name__}."})
    cls._has_setup = "setup_context" in _defining(cls)
    cls.apply = classmethod(_torch_apply)


_f._torch_style[0] = make_torch_style
