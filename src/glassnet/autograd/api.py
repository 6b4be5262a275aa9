"""``glassnet.autograd.grad`` and ``glassnet.autograd.backward``: PyTorch's entry points to
the engine (:func:`glassnet.autograd.function.run_backward`)."""
from __future__ import annotations

import numpy as np

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from . import function as _f

if TYPE_CHECKING:  # annotations only
    from glassnet._typing import TensorLike
    from glassnet.autograd.tensor import Tensor

__all__ = ["grad", "backward"]


def _as_list(x: Any, what: str) -> list[Any]:
    T = _f._tensor_type[0]
    if isinstance(x, T):
        return [x]
    if isinstance(x, (list, tuple)):
        return list(x)
    raise TypeError(f"{what}: expected a Tensor or a sequence of Tensors, got "
                    f"{type(x).__name__}")


def _seeds(outputs: list[Any], grad_outputs: Any, create_graph: bool, where: str) -> list[Any]:
    """One seed gradient per output: an array, or a Tensor when ``create_graph``."""
    T = _f._tensor_type[0]
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif isinstance(grad_outputs, (list, tuple)) and len(outputs) > 1 or \
            isinstance(grad_outputs, tuple) or (isinstance(grad_outputs, list) and
                                                grad_outputs and
                                                isinstance(grad_outputs[0], (T, type(None)))):
        grad_outputs = list(grad_outputs)
    else:
        grad_outputs = [grad_outputs]
    if len(grad_outputs) != len(outputs):
        raise RuntimeError(f"{where}: grad_tensors/grad_outputs should be a sequence of length "
                           f"{len(outputs)} (one per output), got {len(grad_outputs)}")
    seeds: list[Any] = []
    for i, (o, g) in enumerate(zip(outputs, grad_outputs)):
        if not isinstance(o, T):
            raise TypeError(f"{where}: output {i} is a {type(o).__name__}, not a Tensor")
        if not o._requires_grad:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not "
                               f"have a grad_fn")
        if g is None:
            if o._data.size != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            a = np.ones_like(o._data)
            seeds.append(T._from_op(a, None, 0, False) if create_graph else a)
            continue
        if isinstance(g, T):
            ga = g._data
        else:
            ga = np.asarray(g)
        if ga.shape != o._data.shape:
            raise RuntimeError(f"Mismatch in shape: grad_output[{i}] has a shape of "
                               f"{tuple(ga.shape)} and output[{i}] has a shape of "
                               f"{tuple(o._data.shape)}.")
        if create_graph:
            seeds.append(g if isinstance(g, T) else T._from_op(ga.astype(o._data.dtype),
                                                               None, 0, False))
        else:
            seeds.append(ga.astype(o._data.dtype, copy=True))
    return seeds


def backward(tensors: Tensor | Sequence[Tensor],
             grad_tensors: TensorLike | Sequence[TensorLike | None] | None = None,
             retain_graph: bool | None = None, create_graph: bool = False,
             inputs: Tensor | Sequence[Tensor] | None = None) -> None:
    """Sum the gradients of ``tensors`` (seeded with ``grad_tensors``) into the ``.grad`` of
    the leaves, as ``torch.autograd.backward``; with ``inputs``, only into those tensors.

    >>> x = gn.tensor([1.0, 2.0], requires_grad=True)
    >>> gn.autograd.backward([(x * x).sum()]); x.grad
    tensor([2., 4.])
    """
    outputs = _as_list(tensors, "backward")
    if retain_graph is None:
        retain_graph = create_graph
    seeds = _seeds(outputs, grad_tensors, create_graph, "backward")
    if inputs is None:
        _f.run_backward(outputs, seeds, retain_graph=bool(retain_graph),
                        create_graph=bool(create_graph))
        return
    inputs_l = _as_list(inputs, "backward(inputs=...)")
    if not inputs_l:
        raise RuntimeError("backward: 'inputs' argument to backward() cannot be empty.")
    got = _f.run_backward(outputs, seeds, retain_graph=bool(retain_graph),
                          create_graph=bool(create_graph), capture=inputs_l)
    assert got is not None
    T = _f._tensor_type[0]
    for t, g in zip(inputs_l, got):
        if g is None:
            continue
        if create_graph:
            t.grad = g if t.grad is None else t.grad + g
        elif t.grad is None:
            t.grad = T._from_op(np.array(g, dtype=t._data.dtype), None, 0, False)
        else:
            t.grad._data += g


def grad(outputs: Tensor | Sequence[Tensor], inputs: Tensor | Sequence[Tensor],
         grad_outputs: TensorLike | Sequence[TensorLike | None] | None = None,
         retain_graph: bool | None = None, create_graph: bool = False,
         only_inputs: bool = True, allow_unused: bool | None = None,
         is_grads_batched: bool = False, materialize_grads: bool = False
         ) -> tuple[Tensor | None, ...]:
    """The gradients of ``outputs`` with respect to ``inputs``, as a tuple (one per input),
    without touching any ``.grad`` (``torch.autograd.grad``).

    ``create_graph=True`` records the backward, so the result can be differentiated again
    (second derivatives, Hessian-vector products). An input the outputs do not depend on
    raises unless ``allow_unused=True`` (then its gradient is None, or zeros with
    ``materialize_grads=True``).

    >>> x = gn.tensor([1.0, 2.0], requires_grad=True)
    >>> g, = gn.autograd.grad((x ** 3).sum(), x, create_graph=True)
    >>> g
    tensor([ 3., 12.], grad_fn=<Mul>)
    >>> gn.autograd.grad(g.sum(), x)[0]      # d2/dx2 of x^3 = 6x
    tensor([ 6., 12.])
    """
    if is_grads_batched:
        raise NotImplementedError("grad: is_grads_batched=True is not supported by glassnet")
    T = _f._tensor_type[0]
    single_input = isinstance(inputs, T)
    outputs_l = _as_list(outputs, "grad(outputs)")
    inputs_l = _as_list(inputs, "grad(inputs)")
    for i, t in enumerate(inputs_l):
        if not isinstance(t, T):
            raise TypeError(f"grad: inputs[{i}] is a {type(t).__name__}, not a Tensor")
        if not t._requires_grad:
            raise RuntimeError(f"One of the differentiated Tensors does not require grad "
                               f"(inputs[{i}])")
    if allow_unused is None:
        allow_unused = materialize_grads
    if materialize_grads and allow_unused is False:
        raise ValueError("Expected allow_unused to be True or not passed when "
                         "materialize_grads=True, but got: allow_unused=False.")
    if retain_graph is None:
        retain_graph = create_graph
    seeds = _seeds(outputs_l, grad_outputs, create_graph, "grad")
    got = _f.run_backward(outputs_l, seeds, retain_graph=bool(retain_graph),
                          create_graph=bool(create_graph), capture=inputs_l)
    assert got is not None
    result: list[Tensor | None] = []
    for i, (t, g) in enumerate(zip(inputs_l, got)):
        if g is None:
            if not allow_unused:
                raise RuntimeError(f"The differentiated Tensor at index {i} appears to not "
                                   f"have been used in the graph. Set allow_unused=True if "
                                   f"this is the desired behavior.")
            result.append(T._from_op(np.zeros_like(t._data), None, 0, False)
                          if materialize_grads else None)
        elif create_graph:
            result.append(g if g.dtype == t._data.dtype else g.astype(t._data.dtype))
        else:
            result.append(T._from_op(np.array(g, dtype=t._data.dtype), None, 0, False))
    del single_input
    return tuple(result)
