"""Reverse-mode automatic differentiation: Tensor, Function, the backward engine, gradcheck,
and PyTorch's entry points (``grad``, ``backward``, grad modes)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from .function import (Function, backward_hooks, enable_grad, inference_mode,
                       is_grad_enabled, is_inference_mode_enabled, no_grad, set_grad_enabled,
                       unbroadcast)
from .custom import once_differentiable
from .api import backward, grad
from .gradcheck import GradcheckError, gradcheck, numerical_grad
from .tensor import Tensor, as_array, as_input
from .factories import (arange, as_tensor, bernoulli, empty, empty_like, eye,  # noqa: F401
                        from_numpy, full, full_like, linspace, logspace, multinomial, normal,
                        ones, ones_like, rand, rand_like, randint, randint_like, randn,
                        randn_like, randperm, tensor, zeros, zeros_like)

if TYPE_CHECKING:  # annotations only
    from glassnet._typing import TensorLike

__all__ = ["Tensor", "Function", "tensor", "as_tensor", "as_array", "zeros", "ones", "randn",
           "rand", "arange", "no_grad", "enable_grad", "inference_mode", "is_grad_enabled",
           "is_inference_mode_enabled", "set_grad_enabled", "backward_hooks", "unbroadcast",
           "gradcheck", "numerical_grad", "GradcheckError", "grad", "backward",
           "once_differentiable", "Variable",
           "as_input", "from_numpy", "empty", "full", "eye", "linspace", "logspace",
           "zeros_like", "ones_like", "empty_like", "full_like", "rand_like", "randn_like",
           "randint_like", "randint", "randperm", "normal", "bernoulli", "multinomial"]


def Variable(data: TensorLike, requires_grad: bool = False, volatile: bool = False) -> Tensor:  # noqa: N802 (PyTorch's old name)
    """PyTorch's pre-0.4 wrapper, kept by old tutorials: a new leaf tensor sharing
    ``data``'s memory (other data is made a tensor with :func:`tensor`), with
    ``requires_grad`` as given, as ``torch.autograd.Variable`` does today."""
    t = Tensor(data._data) if isinstance(data, Tensor) else tensor(data)
    if requires_grad:
        t.requires_grad_(True)
    return t
