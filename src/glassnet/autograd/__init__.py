"""Reverse-mode automatic differentiation: Tensor, Function, the backward engine, gradcheck."""
from .function import (Function, backward_hooks, enable_grad, is_grad_enabled, no_grad,
                       set_grad_enabled, unbroadcast)
from .gradcheck import GradcheckError, gradcheck, numerical_grad
from .tensor import Tensor, as_array, as_input
from .factories import (arange, as_tensor, bernoulli, empty, empty_like, eye,  # noqa: F401
                        from_numpy, full, full_like, linspace, logspace, multinomial, normal,
                        ones, ones_like, rand, rand_like, randint, randint_like, randn,
                        randn_like, randperm, tensor, zeros, zeros_like)

__all__ = ["Tensor", "Function", "tensor", "as_tensor", "as_array", "zeros", "ones", "randn",
           "rand", "arange", "no_grad", "enable_grad", "is_grad_enabled", "set_grad_enabled",
           "backward_hooks", "unbroadcast", "gradcheck", "numerical_grad", "GradcheckError",
           "as_input", "from_numpy", "empty", "full", "eye", "linspace", "logspace",
           "zeros_like", "ones_like", "empty_like", "full_like", "rand_like", "randn_like",
           "randint_like", "randint", "randperm", "normal", "bernoulli", "multinomial"]
