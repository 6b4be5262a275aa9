"""Sequential's inference path: its children run as raw-array steps where that is exact.

Under ``no_grad`` a Sequential computes ``for m in children: x = m(x)``. A child whose exact
class (never a subclass: a subclass may change ``forward``, as DropConnectLinear does) is in
``LOWERINGS``, and that has no forward hooks and no ``forward`` set on the instance, runs as a
NumPy step on the array; every other child is called as a Module, so its own forward, hooks
and train/eval behaviour are kept. A step may decline (return None), e.g. Dropout while it is
active, and the child is called as a Module then. Steps read parameters when they run; the
plan (which step each child takes) is kept on the Sequential until a child is set, added or
deleted.

Two savings beyond skipping the Tensor wrapping: a step may overwrite an array that an earlier
step of the same call made (ReLU after Linear works in place), and one sample of shape (1, n)
runs through row-wise steps as the vector (n,) (lighter ufunc calls, a GEMV through np.dot).

>>> with gn.no_grad():
...     y = nn.Sequential(nn.Linear(4, 3), nn.ReLU())(np.ones((1, 4), np.float32))
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, NamedTuple, Optional

import numpy as np

from ..autograd.tensor import Tensor
from ..functional import activations as A
from .activation import LeakyReLU, ReLU, Sigmoid, Tanh
from .dropout import Dropout, Dropout2d
from .linear import Identity, Linear

if TYPE_CHECKING:  # annotations only
    from ..autograd.function import Function
    from .module import Module

# a lowered step: (layer, raw array) -> the array its forward would return, or None
_Step = Callable[[Any, np.ndarray], Optional[np.ndarray]]

__all__ = ["Lowering", "LOWERINGS", "PLAN", "run"]


class Lowering(NamedTuple):
    """How one layer class runs on a raw array ``a`` under ``no_grad``.

    ``step(layer, a)`` returns what ``layer(Tensor(a))._data`` would be, or None to have the
    layer called as a Module; ``step_inplace`` is the same but may write into ``a`` (it is
    given only arrays made earlier in the same call); ``rowwise``: rows are mapped
    independently and a 1-D vector is taken as one row; ``new``: the result is always a new
    array (else it may be ``a`` or a view of it).
    """
    step: _Step
    step_inplace: Optional[_Step]
    rowwise: bool
    new: bool


_F32, _F64 = np.dtype(np.float32), np.dtype(np.float64)


def _linear(m: Linear, a: np.ndarray) -> np.ndarray | None:
    if a.shape[-1] != m.in_features:
        return None   # the Module call raises the error that names the layer
    W = m.weight._data
    dt = a.dtype
    if a.ndim == 1 and dt is W.dtype and (dt is _F32 or dt is _F64):
        y = np.dot(W, a)   # one sample: the same BLAS GEMV as matmul, without its set-up
    else:
        y = a @ W.T        # the Function's own product
    b = m.bias
    if b is not None:
        y += b._data
    return y


def _dropout(m: Dropout, a: np.ndarray) -> np.ndarray | None:
    return None if m.active else a   # active (training or Monte-Carlo): called as a Module


def _function_forward(fn_cls: type[Function], attr: str | None = None) -> _Step:
    """The step that runs Function ``fn_cls``'s forward on the array (the Function is the one
    formula), with the layer's attribute ``attr`` as its second argument if given."""
    needs = (False,) if attr is None else (False, False)

    def step(m: Module, a: np.ndarray) -> np.ndarray:
        fn = fn_cls.__new__(fn_cls)
        fn.needs_input_grad = needs
        return fn.forward(a) if attr is None else fn.forward(a, getattr(m, attr))
    return step


def _identity(m: Module, a: np.ndarray) -> np.ndarray:
    return a


# max(a, 0) with a 0-d zero of a's dtype: half the call cost of a Python 0, the same values
_ZERO: dict[np.dtype[Any], np.ndarray] = {_F32: np.zeros((), _F32), _F64: np.zeros((), _F64)}


def _relu(m: Module, a: np.ndarray) -> np.ndarray:
    return np.maximum(a, _ZERO.get(a.dtype, 0))


def _relu_(m: Module, a: np.ndarray) -> np.ndarray:
    return np.maximum(a, _ZERO.get(a.dtype, 0), out=a)


def _tanh(m: Module, a: np.ndarray) -> np.ndarray:
    return np.tanh(a)


def _tanh_(m: Module, a: np.ndarray) -> np.ndarray:
    return np.tanh(a, out=a)


# keyed by the exact class; (step, step_inplace, rowwise, new)
LOWERINGS: dict[type, Lowering] = {
    Linear: Lowering(_linear, None, True, True),
    ReLU: Lowering(_relu, _relu_, True, True),
    Tanh: Lowering(_tanh, _tanh_, True, True),
    Sigmoid: Lowering(_function_forward(A.Sigmoid), None, True, True),
    LeakyReLU: Lowering(_function_forward(A.LeakyReLU, "negative_slope"), None, True, True),
    Identity: Lowering(_identity, _identity, True, False),
    Dropout: Lowering(_dropout, _dropout, True, False),
    Dropout2d: Lowering(_dropout, _dropout, True, False),
}


def _tensor(t: Tensor | None, a: np.ndarray) -> Tensor:
    """``t`` if it holds ``a``, else a new Tensor on ``a`` (a Module call gets the very Tensor
    that the plain loop would give it)."""
    return t if t is not None and t._data is a else Tensor._from_op(a, None, 0, False)


PLAN = "_inference_plan"   # the instance attribute of a Sequential that holds its plan


def _plan(seq: Module) -> tuple[bool, tuple[tuple[Any, ...], ...]]:
    """The steps of ``seq``'s children: (vector, ((child, step, hooks, child.__dict__), ...)),
    kept on ``seq`` until it drops it (Sequential does when a child is set, added or deleted;
    ``hooks`` is the child's forward-hook dict, which Module only ever changes in place).
    ``step`` is None for a child without a lowering; a lowering's in-place step is taken
    where the array before it is always one that an earlier step made. ``vector``: every
    step is row-wise (and one computes), so one sample may run as a vector."""
    steps: list[tuple[Module, _Step | None, Any, dict[str, Any]]]
    steps, fresh, rowwise, computes = [], False, True, False
    for m in seq._modules.values():
        low = LOWERINGS.get(type(m))   # the exact class: a subclass may change forward
        if low is None:
            steps.append((m, None, None, m.__dict__))
            fresh = rowwise = False
            continue
        step = low.step_inplace if fresh and low.step_inplace is not None else low.step
        steps.append((m, step, m._forward_hooks, m.__dict__))
        fresh = fresh or low.new
        rowwise = rowwise and low.rowwise
        computes = computes or low.new
    plan = (rowwise and computes, tuple(steps))
    seq.__dict__[PLAN] = plan
    return plan


def run(seq: Module, a: np.ndarray, t: Tensor | None = None) -> Any:
    """What ``for m in seq: x = m(x)`` returns under ``no_grad`` for the input array ``a``
    (``t``: the Tensor holding it, if any), with lowered children run as raw-array steps.

    A child with forward hooks or a ``forward`` set on the instance, or whose step declines,
    is called as a Module, and so is every child after it (the plan's in-place choices
    assume that the steps before them ran).
    """
    plan = seq.__dict__.get(PLAN)
    if plan is None or len(plan[1]) != len(seq._modules):
        plan = _plan(seq)
    squeezed = plan[0] and a.ndim == 2 and a.shape[0] == 1
    if squeezed:
        a = a[0]   # one sample as a vector: GEMV on W's rows, and lighter ufunc calls
    steps = iter(plan[1])
    for m, step, hooks, d in steps:
        if step is None:   # no lowering: a Module call, and the plan goes on with its output
            t = m(_tensor(t, a))
            if type(t) is Tensor:
                a = t._data
                continue
            for m, *_ in steps:
                t = m(t)
            return t
        if not hooks and "forward" not in d:
            y = step(m, a)
            if y is not None:
                a = y
                continue
        if squeezed:
            a = a[None]
        x = m(_tensor(t, a))
        for m, *_ in steps:
            x = m(x)
        return x
    if squeezed:
        a = a[None]
    return t if t is not None and t._data is a else Tensor._from_op(a, None, 0, False)
