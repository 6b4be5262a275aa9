"""The Function contract and the reverse-mode engine.

A :class:`Function` sees raw arrays: ``forward(*arrays)`` returns an array (or a
tuple of arrays for several outputs) and ``backward(*grads_out)`` returns one
gradient per input (``None`` where the input needs none). Whatever backward
needs is saved on ``self`` during forward. ``Function.apply`` wraps this in
Tensors and records the node on the tape when some input requires a gradient.

The engine (:func:`run_backward`) sorts the recorded Functions topologically
and walks them in reverse, summing gradients of tensors used more than once,
then frees each node's saved buffers unless ``retain_graph`` is set.

A node links to a non-leaf input through an :class:`Edge` (the node that made it and its
output index, fixed when the node is recorded), not through the input Tensor itself, so
an intermediate result is freed as soon as nothing else holds it when the node's backward
does not need it (a ReLU keeps its mask, not the convolution output it was given), as in
PyTorch. Leaf inputs (parameters, data) stay referenced.
"""
from __future__ import annotations

import collections
import contextlib
import threading
import weakref
from typing import Any, Literal

import numpy as np

from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast

if TYPE_CHECKING:  # annotations only
    from glassnet.autograd.tensor import Tensor

_F = TypeVar("_F", bound=Callable[..., Any])
_M = TypeVar("_M", bound="_Mode")

__all__ = ["Function", "Edge", "input_tensor", "no_grad", "enable_grad", "inference_mode", "is_grad_enabled",
           "is_inference_mode_enabled", "set_grad_enabled", "backward_hooks", "unbroadcast"]


class _GradMode(threading.local):
    enabled = True
    inference = False


_grad_mode = _GradMode()
# Callables called as hook(fn, grads_out, grads_in) after each node's backward
# (used by glassnet.inspect to trace every step of backprop).
_backward_hooks: list[Callable[..., Any]] = []


class _InplaceClock:
    """Counts in-place operations (all tensors together): a node remembers the count when
    it is made, so backward checks its inputs' versions only when some in-place op ran
    since (see :func:`bump_version`)."""
    now = 0


_clock = _InplaceClock()
# (clock, array) of the last in-place changes: a node that saved a view of a changed
# array (its own tensor unchanged) is caught through them
_recent: collections.deque[tuple[int, np.ndarray]] = collections.deque(maxlen=8)


def is_grad_enabled() -> bool:
    """True when operations are being recorded for backward (as ``torch.is_grad_enabled``)."""
    return _grad_mode.enabled


def is_inference_mode_enabled() -> bool:
    """True inside :class:`inference_mode`."""
    return _grad_mode.inference


class _Mode(contextlib.ContextDecorator):
    """Base of the grad-mode context managers: each ``with`` pushes the previous mode and
    pops it on exit (one object may be reused and nested). Used bare as a decorator
    (``@no_grad``) or called (``@no_grad()``), as in PyTorch."""

    _mode = False

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        if len(args) == 1 and not kwargs and callable(args[0]) and not isinstance(args[0], bool):
            return cls()(args[0])   # bare decorator: @no_grad
        return super().__new__(cls)

    def __init__(self) -> None:
        self._prev: list[tuple[bool, bool]] = []

    def __enter__(self: _M) -> _M:
        self._prev.append((_grad_mode.enabled, _grad_mode.inference))
        _grad_mode.enabled = self._mode
        return self

    def __exit__(self, *exc: object) -> Literal[False]:
        _grad_mode.enabled, _grad_mode.inference = self._prev.pop()
        return False

    def clone(self: _M) -> _M:
        return type(self)()

    def _recreate_cm(self: _M) -> _M:   # ContextDecorator: a fresh object per decorated call
        return self.clone()


class no_grad(_Mode):
    """Do not record operations (inference, parameter updates); a context manager or a
    decorator (``@no_grad`` or ``@no_grad()``)::

        with gn.no_grad():
            y = model(x)
    """

    _mode = False


class enable_grad(_Mode):
    """Record operations even inside ``no_grad`` (context manager or decorator)."""

    _mode = True


class inference_mode(_Mode):
    """``torch.inference_mode(mode=True)``: like :class:`no_grad` (nothing is recorded) while
    ``mode`` is True; a context manager or a decorator.

    >>> with gn.inference_mode():
    ...     y = gn.ones(2, requires_grad=True) * 2
    >>> y.requires_grad
    False
    """

    def __init__(self, mode: bool = True) -> None:
        super().__init__()
        self.mode = bool(mode)

    def __enter__(self) -> inference_mode:
        self._prev.append((_grad_mode.enabled, _grad_mode.inference))
        if self.mode:
            _grad_mode.enabled = False
            _grad_mode.inference = True
        return self

    def clone(self) -> inference_mode:
        return type(self)(self.mode)


class set_grad_enabled(_Mode):
    """``set_grad_enabled(mode)``: turn recording on or off. As in PyTorch it acts at once
    when called (``gn.set_grad_enabled(False)`` switches recording off until switched back),
    and as a context manager or decorator it restores the previous mode afterwards.

    >>> with gn.set_grad_enabled(False):
    ...     gn.is_grad_enabled()
    False
    >>> gn.is_grad_enabled()
    True
    """

    def __new__(cls, mode: bool = True) -> set_grad_enabled:
        return object.__new__(cls)

    def __init__(self, mode: bool) -> None:
        super().__init__()
        self.mode = bool(mode)
        self.prev = _grad_mode.enabled
        _grad_mode.enabled = self.mode

    def __call__(self, func: _F) -> _F:
        # used as a decorator: undo the switch made by the constructor, apply per call
        _grad_mode.enabled = self.prev
        return super().__call__(func)

    def __enter__(self) -> set_grad_enabled:
        self._prev.append((self.prev, _grad_mode.inference))
        _grad_mode.enabled = self.mode
        return self

    def clone(self) -> set_grad_enabled:
        obj = object.__new__(type(self))
        _Mode.__init__(obj)
        obj.mode, obj.prev = self.mode, _grad_mode.enabled
        return obj

    def __repr__(self) -> str:
        return f"glassnet.set_grad_enabled(mode={self.mode})"


@contextlib.contextmanager
def backward_hooks(hook: Callable[..., Any]) -> Iterator[Callable[..., Any]]:
    """Call ``hook(fn, grads_out, grads_in)`` after every node's backward while active."""
    _backward_hooks.append(hook)
    try:
        yield hook
    finally:
        _backward_hooks.remove(hook)


def unbroadcast(grad: np.ndarray, shape: Sequence[int]) -> np.ndarray:
    """Sum ``grad`` down to ``shape``, undoing NumPy broadcasting."""
    if grad.shape == shape:
        return grad
    ndim_extra = grad.ndim - len(shape)
    if ndim_extra > 0:
        grad = grad.sum(axis=tuple(range(ndim_extra)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return grad.reshape(shape)


class Edge:
    """A recorded node's link to one of its non-leaf inputs (PyTorch's edge): the node that
    made the input (``_ctx``) and which of its outputs it is (``_out_index``), fixed when
    the node is recorded, and the input's ``shape``; the input Tensor and its array are
    held weakly. The engine needs nothing else to route a gradient, so an intermediate
    result that the node's backward does not read (it saves what it reads on itself) is
    freed as soon as the user's code lets it go.

    :meth:`tensor` gives the input back as a Tensor (for a differentiable backward): the
    Tensor itself while it lives, else a new one on the same array and node while the
    array lives (the node saved it), else None.
    """

    __slots__ = ("_ctx", "_out_index", "_requires_grad", "shape", "_tref", "_aref", "_root",
                 "_view")

    def __init__(self, t: Tensor) -> None:
        self._ctx = t._ctx
        self._out_index = t._out_index
        self._requires_grad = t._requires_grad
        a = t._data
        self.shape = a.shape
        self._tref = weakref.ref(t)
        self._root: Any = None
        try:
            self._aref: Callable[[], Any] = weakref.ref(a)
        except TypeError:                  # an array type without weak references
            self._aref = lambda: a
            return
        base = a.base
        if isinstance(base, np.ndarray):   # a view: the node may have saved another view
            while isinstance(base.base, np.ndarray):   # of the same memory, not this one
                base = base.base
            self._root = weakref.ref(base)
            self._view = (a.__array_interface__["data"][0] - base.__array_interface__["data"][0],
                          a.strides, a.dtype)

    @property
    def _data(self) -> Any:
        """The input's array while it or the memory it views lives (None once freed)."""
        a = self._aref()
        if a is not None or self._root is None:
            return a
        root = self._root()
        if root is None:
            return None
        offset, strides, dtype = self._view
        try:
            return np.ndarray(self.shape, dtype, buffer=root, offset=offset, strides=strides)
        except (TypeError, ValueError, BufferError):   # memory NumPy cannot view again
            return None

    def tensor(self) -> Tensor | None:
        """The input as a Tensor in the graph (see the class text), or None once freed."""
        t = self._tref()
        if t is not None:
            return t
        a = self._data
        if a is None:
            return None
        return _tensor_type[0]._from_op(a, self._ctx, self._out_index, self._requires_grad)

    def __repr__(self) -> str:
        ctx = self._ctx.name if self._ctx is not None else None
        return f"Edge({ctx}, output {self._out_index}, shape {tuple(self.shape)})"


def input_tensor(fn: Function, i: int) -> Tensor | None:
    """Input ``i`` of the recorded node ``fn`` as a Tensor (None for a non-Tensor argument):
    a leaf as given, a non-leaf through its :class:`Edge`. Raises when the input was freed
    (its node's backward did not keep it and nothing else held it)."""
    t = fn.inputs[i]
    if type(t) is not Edge:
        return t
    r = t.tensor()
    if r is None:
        raise RuntimeError(
            f"input {i} of {fn.name} was freed after forward (its backward does not keep "
            f"it); set {type(fn).__name__}._keep_inputs = True to keep the inputs of these "
            f"nodes alive")
    return r


class Function:
    """Base class of every differentiable operation, in either of two styles.

    **glassnet's style** (every op of ``glassnet.functional``): subclasses implement
    ``forward(self, *arrays, **kwargs)`` and ``backward(self, *grads_out)`` on raw arrays;
    ``self.needs_input_grad[i]`` tells backward which gradients are wanted, and whatever
    backward needs is saved on ``self``. ``_saved_inputs`` (a tuple of input positions, or
    None: find out from what forward saved on ``self``) names the inputs whose values
    backward reads, for the in-place check.

    **PyTorch's style**: ``@staticmethod forward(ctx, *args)`` and ``@staticmethod
    backward(ctx, *grad_outputs)`` on Tensors, with ``ctx.save_for_backward``,
    ``ctx.saved_tensors``, ``ctx.needs_input_grad``, ``ctx.mark_non_differentiable``,
    ``ctx.mark_dirty`` and ``ctx.set_materialize_grads``; non-Tensor arguments get None as
    gradient. The style is told from ``forward`` being a staticmethod. Both are called as
    ``MyFunction.apply(...)``.

    >>> class Cube(gn.autograd.Function):
    ...     @staticmethod
    ...     def forward(ctx, x):
    ...         ctx.save_for_backward(x)
    ...         return x ** 3
    ...     @staticmethod
    ...     def backward(ctx, g):
    ...         x, = ctx.saved_tensors
    ...         return g * 3 * x ** 2
    >>> x = gn.tensor([2.0], requires_grad=True)
    >>> Cube.apply(x).sum().backward(); x.grad
    tensor([12.])
    """

    # number of outputs; subclasses returning tuples set this to > 1
    n_outputs = 1
    _freed = False        # set on a node whose saved buffers backward released
    # [(output index, Tensor, keeps .grad)] for outputs that called retain_grad() or
    # register_hook()
    _retained: list[tuple[int, Tensor, bool]] | None = None
    _saved_inputs: tuple[int, ...] | None = None  # positions of the inputs backward reads; None: look at self
    # True: the node holds its input Tensors themselves (a Function whose differentiable
    # backward reads an input its first backward does not save); False: non-leaf inputs
    # through an Edge
    _keep_inputs = False
    _materialize = True   # multi-output nodes get zeros for missing output gradients
    _dirty: list[tuple[int, Tensor, int]] | None = None  # [(output index, Tensor, version)] outputs changed in place
    _g = 0                # the in-place clock when the node was made
    # set by apply on a recorded node (declared here for the type checker)
    needs_input_grad: tuple[bool, ...]
    inputs: list[Any]     # per input: a leaf Tensor, an Edge to a non-leaf one, or None
    output_shapes: tuple[tuple[int, ...], ...]
    output_dtypes: tuple[np.dtype[Any], ...]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if isinstance(cls.__dict__.get("forward"), staticmethod):
            _torch_style[0](cls)   # the PyTorch-style machinery (autograd/custom.py)

    def forward(self, *arrays: Any, **kwargs: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def backward(self, *grads_out: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def name(self) -> str:
        return type(self).__name__

    @property
    def next_functions(self) -> tuple[tuple[Any, int], ...]:
        """PyTorch's view of the graph one step back: one ``(node, output_index)`` pair per
        input, where ``node`` is the Function that made the input, an
        :class:`AccumulateGrad` for a leaf that requires grad, or None. Empty once backward
        has freed this node."""
        out: list[tuple[Any, int]] = []
        for t in self.__dict__.get("inputs", ()):
            if t is None or not t._requires_grad:
                out.append((None, 0))
            elif t._ctx is None:
                out.append((AccumulateGrad(t), 0))
            else:
                out.append((t._ctx, t._out_index))
        return tuple(out)

    @classmethod
    def apply(cls, *inputs: Any, **kwargs: Any) -> Any:
        """Run forward on the inputs' arrays and record the node when needed."""
        T = _tensor_type[0]
        fn = cls.__new__(cls)
        arrays = []
        needs = []
        record = False
        for x in inputs:
            if isinstance(x, T):
                arrays.append(x._data)
                r = x._requires_grad
                needs.append(r)
                record = record or r
            else:
                arrays.append(x)
                needs.append(False)
        if not (record and _grad_mode.enabled):
            # inference path: no bookkeeping beyond the forward itself
            fn.needs_input_grad = _all_false(len(inputs))
            out = fn.forward(*arrays, **kwargs)
            if isinstance(out, tuple):
                return tuple(T._from_op(o, None, 0, False) for o in out)
            return T._from_op(out, None, 0, False)
        fn.needs_input_grad = tuple(needs)
        out = fn.forward(*arrays, **kwargs)
        if cls._keep_inputs:
            fn.inputs = [x if isinstance(x, T) else None for x in inputs]
        else:
            fn.inputs = [(x if x._ctx is None else Edge(x)) if isinstance(x, T) else None
                         for x in inputs]
        g = _clock.now
        if g:
            fn._g = g
        if isinstance(out, tuple):
            fn.n_outputs = len(out)
            results = tuple(T._from_op(o, fn, i, True) for i, o in enumerate(out))
            fn.output_shapes = tuple(o.shape for o in out)
            fn.output_dtypes = tuple(o.dtype for o in out)
            return results
        fn.output_shapes = (out.shape,)
        fn.output_dtypes = (out.dtype,)
        return T._from_op(out, fn, 0, True)


class AccumulateGrad:
    """The end of a path in :attr:`Function.next_functions`: the leaf tensor ``variable``
    whose ``.grad`` backward fills (PyTorch's node of the same name)."""

    __slots__ = ("variable",)
    name = "AccumulateGrad"
    next_functions = ()

    def __init__(self, variable: Tensor) -> None:
        self.variable = variable

    def __repr__(self) -> str:
        return f"<AccumulateGrad object at {id(self):#x}>"


_tensor_type: list[Any] = [None]  # set by glassnet.autograd.tensor (it imports this module)
_torch_style: list[Any] = [None]  # set by glassnet.autograd.custom: make_torch_style
_false_tuples: dict[int, tuple[bool, ...]] = {}
# Function class -> differentiable backward written with Tensor ops, used by
# create_graph=True: ``f(fn, *grad_tensors)`` returns one Tensor (or None) per input.
# glassnet.functional.double_backward fills it.
double_backward: dict[type, Callable[..., Any]] = {}
# the same, keyed by class name, for one-input Functions another module may define
# (Sin, Cos...): consulted only when the class itself is not in the table
double_backward_by_name: dict[str, Callable[..., Any]] = {}
_unbroadcast_tensor: Callable[[Tensor, Sequence[int]], Tensor] | None = None   # set with the table: sums a Tensor gradient to a shape


def _all_false(n: int) -> tuple[bool, ...]:
    t = _false_tuples.get(n)
    if t is None:
        t = _false_tuples[n] = (False,) * n
    return t


def _root_base(a: Any) -> int:
    while getattr(a, "base", None) is not None:
        a = a.base
    return id(a)


# ----------------------------------------------------------------- versions
def bump_version(t: Tensor) -> None:
    """Record that tensor ``t`` was changed in place: ``t._version`` goes up by one and the
    tensor remembers the in-place clock, so nodes made before can tell."""
    _clock.now += 1
    _recent.append((_clock.now, t._data))
    try:
        t._ver += 1
        hist = t._vhist
        hist.append(_clock.now)
        if len(hist) > 64:      # a parameter updated every step: keep the recent stamps
            del hist[:-32]
    except AttributeError:
        t._ver = 1
        t._vhist = [_clock.now]


def _version_at(t: Tensor, g: int) -> int:
    """The version tensor ``t`` had when the clock read ``g``."""
    hist = getattr(t, "_vhist", None)
    if not hist:
        return 0
    n = t._ver - len(hist)      # stamps dropped from the history are older than the rest
    for stamp in hist:
        if stamp <= g:
            n += 1
    return n


def _holds(fn: Function, arr: np.ndarray) -> bool:
    """Whether node ``fn`` saved ``arr`` (or a view of it) for its backward."""
    for v in fn.__dict__.values():
        for item in (v if isinstance(v, (tuple, list)) else (v,)):
            if isinstance(item, np.ndarray) and (item is arr or np.may_share_memory(item, arr)):
                return True
    return False


def _describe(t: Tensor) -> str:
    return _describe_array(t._data)


def _describe_array(a: Any) -> str:
    return f"[{a.dtype} tensor of shape {list(a.shape)}]"


def _modified_error(what: str, now: int, then: int) -> RuntimeError:
    return RuntimeError(
        f"one of the variables needed for gradient computation has been modified by an "
        f"inplace operation: {what} is at version {now}; expected version {then} instead")


def _check_versions(fn: Any) -> None:
    """Raise when an input or output that ``fn``'s backward reads changed in place after
    ``fn`` was recorded (PyTorch's version-counter check)."""
    dirty = fn._dirty
    if dirty:
        idx, t, v = dirty[0]
        raise _modified_error(f"{_describe(t)}, which is output {idx} of {fn.name},",
                              getattr(t, "_ver", 0), v)
    saved = fn._saved_inputs
    for i, t in enumerate(fn.inputs):
        if type(t) is Edge:
            live = t._tref()
            if live is not None:
                t = live                 # else the Edge of a freed tensor: no history left
        if t is None:
            continue
        if not getattr(t, "_vhist", None):
            if saved is not None and i not in saved:
                continue
            data = t._data
            if data is None:             # freed, and the node kept none of its memory
                continue
            freed = type(t) is Edge      # a freed tensor's own changes are in _recent only
            for stamp, arr in _recent:   # changed through another tensor sharing memory
                if stamp > fn._g and (freed or arr is not data) and \
                        np.may_share_memory(arr, data) and _holds(fn, data):
                    what = "changed in place after it was used" if freed else \
                        "a view of a tensor changed in place"
                    raise _modified_error(f"{_describe_array(data)} ({what})", 1, 0)
            continue
        then = _version_at(t, fn._g)
        now = t._ver
        if then == now:
            continue
        if saved is None:
            if not _holds(fn, t._data):
                continue
        elif i not in saved:
            continue
        raise _modified_error(_describe(t), now, then)


# ------------------------------------------------------------------- engine
_FREED = ("Trying to backward through the graph a second time (or directly access saved "
          "tensors after they have already been freed). Saved intermediate values of the "
          "graph are freed when you call .backward() or autograd.grad(). Specify "
          "retain_graph=True if you need to backward through the graph a second time or if "
          "you need to access saved tensors after calling backward.")


def _order(fns: Sequence[Any]) -> list[Any]:
    """Functions reachable from ``fns``, in topological post-order (iterative DFS)."""
    order: list[Any] = []
    visited: set[int] = set()
    for fn0 in fns:
        if id(fn0) in visited:
            continue
        if fn0._freed:
            raise RuntimeError(_FREED)
        visited.add(id(fn0))
        stack = [(fn0, iter(fn0.inputs))]
        while stack:
            fn, it = stack[-1]
            for t in it:
                if t is None:
                    continue
                ctx = t._ctx
                if ctx is not None and id(ctx) not in visited:
                    if ctx._freed:
                        raise RuntimeError(_FREED)
                    visited.add(id(ctx))
                    stack.append((ctx, iter(ctx.inputs)))
                    break
            else:
                stack.pop()
                order.append(fn)
    return order


def run_backward(root: Tensor | Sequence[Tensor], grad: Any, retain_graph: bool = False,
                 create_graph: bool = False,
                 capture: Sequence[Tensor] | None = None) -> list[Any] | None:
    """Backpropagate from ``root`` (a Tensor, or a list of Tensors) seeded with ``grad``
    (an array, or a list of them; Tensors when ``create_graph``) to every leaf that
    requires it, summing into their ``.grad``.

    With ``capture`` (a list of Tensors) nothing is accumulated into ``.grad``: the
    gradients reaching those tensors are returned, one per tensor (None where none came).
    """
    leaf_cap: dict[int, list[int]] | None = None
    node_cap: dict[int, list[tuple[int, int]]] | None = None
    captured: list[Any] | None = None
    leaf_bases: set[int] = set()
    grads: dict[int, list[Any]]
    slot: list[Any] | None
    if capture is None and not isinstance(root, (list, tuple)):
        # the everyday case: one root, gradients into .grad
        one = cast("Tensor", root)
        fn0 = one._ctx
        if fn0 is None:
            _deliver_leaf(one, grad, leaf_bases, create_graph, None, None)
            return None
        slot = [None] * fn0.n_outputs
        slot[one._out_index] = grad
        grads = {id(fn0): slot}
        order = _order((fn0,))
    else:
        roots: Sequence[Tensor] = root if isinstance(root, (list, tuple)) else [cast("Tensor", root)]
        seeds = grad if isinstance(root, (list, tuple)) else [grad]
        if capture is not None:
            captured = [None] * len(capture)
            leaf_cap = {}
            node_cap = {}
            for pos, t in enumerate(capture):
                if t._ctx is None:
                    leaf_cap.setdefault(id(t), []).append(pos)
                else:
                    node_cap.setdefault(id(t._ctx), []).append((t._out_index, pos))
        grads = {}
        fns: list[Function] = []
        for r, g in zip(roots, seeds):
            fn0 = r._ctx
            if fn0 is None:
                _deliver_leaf(r, g, leaf_bases, create_graph, leaf_cap, captured)
                continue
            slot = grads.get(id(fn0))
            if slot is None:
                slot = grads[id(fn0)] = [None] * fn0.n_outputs
                fns.append(fn0)
            prev = slot[r._out_index]
            slot[r._out_index] = g if prev is None else prev + g
        if not fns:
            return captured
        order = _order(fns)

    hooks = list(_backward_hooks)
    clock = _clock.now
    special = create_graph or node_cap is not None
    accumulate = _accumulate_graph if create_graph else _accumulate_leaf
    for fn in reversed(order):
        gouts = grads.pop(id(fn), None)
        if gouts is None:
            continue
        if clock and fn._g != clock:
            _check_versions(fn)
        retained = fn._retained
        if retained:
            _run_tensor_hooks(retained, gouts, create_graph)
        if special:
            if node_cap is not None:
                assert captured is not None     # made with node_cap
                for idx, pos in node_cap.get(id(fn), ()):
                    captured[pos] = gouts[idx]
            gins = _backward_graph(fn, gouts) if create_graph else _backward_arrays(fn, gouts)
        elif fn.n_outputs == 1:
            gins = fn.backward(gouts[0])
        else:
            gins = _backward_arrays(fn, gouts)
        if not isinstance(gins, tuple):
            gins = (gins,)
        inputs = fn.inputs
        if len(gins) != len(inputs):
            raise RuntimeError(f"{fn.name}.backward returned {len(gins)} gradients for "
                               f"{len(inputs)} inputs")
        if hooks:
            for hook in hooks:
                hook(fn, gouts, gins)
        if retained and capture is None:
            for idx, t, keep in retained:
                g = gouts[idx]
                if keep and g is not None:   # hooks already ran on gouts (above)
                    _accumulate_retained(t, g, leaf_bases, create_graph)
        for t, g in zip(inputs, gins):
            if g is None or t is None or not t._requires_grad:
                continue
            shape = t.shape if type(t) is Edge else t._data.shape
            if g.shape != shape:
                g = _unbroadcast_t(g, shape) if create_graph else unbroadcast(g, shape)
            ctx = t._ctx
            if ctx is None:
                if leaf_cap is None:
                    accumulate(t, g, leaf_bases)
                else:
                    _deliver_leaf(t, g, leaf_bases, create_graph, leaf_cap, captured)
            else:
                slot = grads.get(id(ctx))
                if slot is None:
                    slot = grads[id(ctx)] = [None] * ctx.n_outputs
                prev = slot[t._out_index]
                slot[t._out_index] = g if prev is None else prev + g
        if not retain_graph:
            d = fn.__dict__
            d.clear()
            d["_freed"] = True
            d["inputs"] = ()
            if retained:
                d["_retained"] = retained
    return captured


def _backward_arrays(fn: Any, gouts: list[Any]) -> Any:
    """A node's raw-array backward with several outputs (or any, from the slow path)."""
    if fn.n_outputs == 1:
        return fn.backward(gouts[0])
    if fn._materialize:
        gouts = [g if g is not None else np.zeros(s, dtype=d)
                 for g, s, d in zip(gouts, fn.output_shapes, fn.output_dtypes)]
    return fn.backward(*gouts)


def _unbroadcast_t(g: Tensor, shape: Sequence[int]) -> Tensor:
    """:func:`unbroadcast` for a Tensor gradient (create_graph): sums recorded as ops."""
    if _unbroadcast_tensor is not None:
        return _unbroadcast_tensor(g, shape)
    extra = g.ndim - len(shape)
    if extra > 0:
        g = g.sum(axis=tuple(range(extra)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    return g.reshape(shape) if g.shape != tuple(shape) else g


def _backward_graph(fn: Any, gouts: list[Any]) -> Any:
    """One node's backward as recorded Tensor ops (create_graph=True)."""
    T = _tensor_type[0]
    if fn.n_outputs > 1 and fn._materialize:
        gouts = [g if g is not None else T._from_op(np.zeros(s, dtype=d), None, 0, False)
                 for g, s, d in zip(gouts, fn.output_shapes, fn.output_dtypes)]
    graph = getattr(fn, "_graph_backward", None)
    if graph is not None:       # PyTorch-style Function: its backward uses Tensor ops
        return graph(*gouts)
    f = double_backward.get(type(fn))
    if f is None and len(fn.inputs) == 1:
        f = double_backward_by_name.get(type(fn).__name__)
    if f is None:
        raise RuntimeError(
            f"create_graph=True: {fn.name} has no differentiable backward yet, so its gradient "
            f"cannot be differentiated again (glassnet.functional.double_backward lists the "
            f"Functions that have one)")
    with enable_grad():
        return tuple(f(fn, *gouts))


def _run_tensor_hooks(taps: list[tuple[int, Tensor, bool]], gouts: list[Any],
                      create_graph: bool) -> None:
    """Hooks registered on non-leaf outputs of a node: each gets the gradient as a Tensor
    and may return a replacement."""
    T = _tensor_type[0]
    for idx, t, _ in taps:
        g = gouts[idx]
        if g is None or not t._grad_hooks:
            continue
        for h in t._grad_hooks:
            gt = g if create_graph else T._from_op(g, None, 0, False)
            r = h(gt)
            if r is not None:
                g = r if create_graph else (r._data if isinstance(r, T) else np.asarray(r))
        gouts[idx] = g


def _deliver_leaf(t: Tensor, g: Any, leaf_bases: set[int], create_graph: bool,
                  leaf_cap: dict[int, list[int]] | None, captured: list[Any] | None) -> None:
    if leaf_cap is None:
        (_accumulate_graph if create_graph else _accumulate_leaf)(t, g, leaf_bases)
        return
    positions = leaf_cap.get(id(t))
    if positions is None:
        return
    g = _leaf_hooks(t, g, create_graph)
    assert captured is not None     # given with leaf_cap
    for pos in positions:
        prev = captured[pos]
        captured[pos] = g if prev is None else prev + g


def _leaf_hooks(t: Tensor, g: Any, create_graph: bool) -> Any:
    if t._grad_hooks:
        T = _tensor_type[0]
        for h in t._grad_hooks:
            r = h(g if create_graph else T._from_op(g, None, 0, False))
            if r is not None:
                g = r if create_graph else (r._data if isinstance(r, T) else np.asarray(r))
    return g


def _accumulate_leaf(t: Tensor, g: np.ndarray, leaf_bases: set[int]) -> None:
    if t._grad_hooks:
        g = _leaf_hooks(t, g, False)
    td = t._data.dtype
    if g.dtype != td and td.kind == "f":
        g = g.astype(td)
    if t.grad is None:
        b = _root_base(g)
        if b in leaf_bases or not g.flags.writeable:
            g = g.copy()
            b = id(g)
        leaf_bases.add(b)
        t.grad = _tensor_type[0]._from_op(g, None, 0, False)
    else:
        t.grad._data += g


def _accumulate_graph(t: Tensor, g: Tensor, leaf_bases: set[int], hooks: bool = True) -> None:
    """create_graph=True: ``.grad`` becomes (or adds) a Tensor that is part of a graph."""
    if hooks and t._grad_hooks:
        g = _leaf_hooks(t, g, True)
    if g.dtype != t._data.dtype and t._data.dtype.kind == "f":
        g = g.astype(t._data.dtype)
    t.grad = g if t.grad is None else t.grad + g


def _accumulate_retained(t: Tensor, g: Any, leaf_bases: set[int], create_graph: bool) -> None:
    """A non-leaf's retained gradient (its hooks already ran on the node's outputs)."""
    if create_graph:
        _accumulate_graph(t, g, leaf_bases, False)
        return
    hooks, t._grad_hooks = t._grad_hooks, None
    try:
        _accumulate_leaf(t, g, leaf_bases)
    finally:
        t._grad_hooks = hooks
