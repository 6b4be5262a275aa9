"""``register_full_backward_hook``: the module's call wrapped in two identity nodes, one on
its Tensor inputs and one on its Tensor outputs, so the hook sees (grad_input, grad_output)
when the gradients of the inputs are ready (and may replace grad_input)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..autograd.function import Function
from ..autograd.tensor import Tensor

if TYPE_CHECKING:  # annotations only
    import numpy as np

    from .module import Module


class _State:
    __slots__ = ("grad_output", "module", "n_out")
    module: Module
    grad_output: tuple[np.ndarray | None, ...] | None
    n_out: int

    def __init__(self, module: Module) -> None:
        self.module, self.grad_output, self.n_out = module, None, 0


class _OutputsIdentity(Function):
    """Identity on the outputs; its backward records grad_output."""

    def forward(self, *arrays: np.ndarray,
                state: _State | None = None) -> np.ndarray | tuple[np.ndarray, ...]:
        self.state = state
        return tuple(a.view() for a in arrays) if len(arrays) > 1 else arrays[0].view()

    def backward(self, *grads: np.ndarray | None) -> Any:
        assert self.state is not None, "call_with_backward_hooks passes the state"
        self.state.grad_output = tuple(grads)
        return grads if len(grads) > 1 else grads[0]


class _InputsIdentity(Function):
    """Identity on the inputs; its backward calls the hooks with grad_input."""

    def forward(self, *arrays: np.ndarray,
                state: _State | None = None) -> np.ndarray | tuple[np.ndarray, ...]:
        self.state = state
        return tuple(a.view() for a in arrays) if len(arrays) > 1 else arrays[0].view()

    def backward(self, *grads: np.ndarray | None) -> Any:
        st = self.state
        assert st is not None, "call_with_backward_hooks passes the state"
        grad_in = tuple(grads)
        grad_out = st.grad_output if st.grad_output is not None else (None,) * st.n_out
        for hook in list(st.module._backward_hooks.values()):
            r = hook(st.module, _wrap(grad_in), _wrap(grad_out))
            if r is not None:
                r = r if isinstance(r, tuple) else (r,)
                if len(r) != len(grad_in):
                    raise RuntimeError(f"Backward hook returned an invalid number of grad_input, "
                                       f"got {len(r)}, but expected {len(grad_in)}")
                grad_in = tuple(g._data if isinstance(g, Tensor) else g for g in r)
        return grad_in if len(grad_in) > 1 else grad_in[0]


def _wrap(grads: tuple[np.ndarray | None, ...]) -> tuple[Tensor | None, ...]:
    return tuple(None if g is None else Tensor(g) for g in grads)


def call_with_backward_hooks(module: Module, args: tuple[Any, ...],
                             kwargs: dict[str, Any]) -> Any:
    state = _State(module)
    pos = [i for i, a in enumerate(args) if isinstance(a, Tensor) and a.requires_grad]
    call_args = list(args)
    if pos:
        outs = _InputsIdentity.apply(*[call_args[i] for i in pos], state=state)
        outs = outs if isinstance(outs, tuple) else (outs,)
        for i, o in zip(pos, outs):
            call_args[i] = o
    out = module.forward(*call_args, **kwargs)
    single = isinstance(out, Tensor)
    items = [out] if single else (list(out) if isinstance(out, (tuple, list)) else None)
    if items is None:
        return out
    tpos = [i for i, o in enumerate(items) if isinstance(o, Tensor) and o.requires_grad]
    state.n_out = len(tpos)
    if tpos:
        wrapped = _OutputsIdentity.apply(*[items[i] for i in tpos], state=state)
        wrapped = wrapped if isinstance(wrapped, tuple) else (wrapped,)
        for i, o in zip(tpos, wrapped):
            items[i] = o
    if single:
        return items[0]
    return type(out)(items) if isinstance(out, list) else tuple(items)
