"""Reverse-mode automatic differentiation: Tensor, Function, the backward engine, gradcheck."""
from .function import (Function, backward_hooks, enable_grad, is_grad_enabled, no_grad,
                       set_grad_enabled, unbroadcast)
from .gradcheck import GradcheckError, gradcheck, numerical_grad
from .tensor import Tensor, arange, as_array, as_tensor, ones, rand, randn, tensor, zeros

__all__ = ["Tensor", "Function", "tensor", "as_tensor", "as_array", "zeros", "ones", "randn",
           "rand", "arange", "no_grad", "enable_grad", "is_grad_enabled", "set_grad_enabled",
           "backward_hooks", "unbroadcast", "gradcheck", "numerical_grad", "GradcheckError"]
