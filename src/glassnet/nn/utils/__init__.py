"""``glassnet.nn.utils``: PyTorch's ``torch.nn.utils`` helpers (gradient clipping,
parameters to and from one vector).

>>> from glassnet.nn.utils import clip_grad_norm_, parameters_to_vector
"""
from .clip_grad import (clip_grad_norm, clip_grad_norm_, clip_grad_value_,  # noqa: F401
                        clip_grads_with_norm_, get_total_norm, grad_norm)
from .convert_parameters import parameters_to_vector, vector_to_parameters  # noqa: F401
from . import clip_grad, convert_parameters  # noqa: F401

__all__ = ["clip_grad_norm_", "clip_grad_norm", "clip_grad_value_", "clip_grads_with_norm_",
           "get_total_norm", "grad_norm", "parameters_to_vector", "vector_to_parameters"]
