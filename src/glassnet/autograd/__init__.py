"""Reverse-mode automatic differentiation: Tensor, Function, the backward engine, gradcheck,
and PyTorch's entry points (``grad``, ``backward``, grad modes)."""
from .function import (Function, backward_hooks, enable_grad, inference_mode,
                       is_grad_enabled, is_inference_mode_enabled, no_grad, set_grad_enabled,
                       unbroadcast)
from .custom import once_differentiable
from .api import backward, grad
from .gradcheck import GradcheckError, gradcheck, numerical_grad
from .tensor import Tensor, arange, as_array, as_tensor, ones, rand, randn, tensor, zeros

__all__ = ["Tensor", "Function", "tensor", "as_tensor", "as_array", "zeros", "ones", "randn",
           "rand", "arange", "no_grad", "enable_grad", "inference_mode", "is_grad_enabled",
           "is_inference_mode_enabled", "set_grad_enabled", "backward_hooks", "unbroadcast",
           "gradcheck", "numerical_grad", "GradcheckError", "grad", "backward",
           "once_differentiable"]
