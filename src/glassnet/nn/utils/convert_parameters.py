"""``parameters_to_vector`` / ``vector_to_parameters``, as ``torch.nn.utils``."""
from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from ...autograd.tensor import Tensor
from ...functional import math as M

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """All parameters flattened and concatenated into one 1-D Tensor (differentiable, as in
    PyTorch: it is built from the parameters by reshape and concatenation).

    >>> nn.utils.parameters_to_vector(nn.Linear(2, 3).parameters()).shape
    (9,)
    """
    if isinstance(parameters, Tensor):
        raise TypeError("parameters_to_vector: expected an iterable of Tensors, got a single "
                        "Tensor")
    flat = [M.reshape(p, (-1,)) for p in parameters]
    if not flat:
        raise RuntimeError("parameters_to_vector: no parameters given (torch.cat() of an "
                           "empty list)")
    return M.concat(flat, axis=0)


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Copy consecutive slices of the 1-D ``vec`` into ``parameters`` (in place, no
    gradient recorded), the inverse of :func:`parameters_to_vector`."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {type(vec).__name__}")
    v = vec._data
    if v.ndim != 1:
        raise ValueError(f"vector_to_parameters: vec must be 1-D, got shape {v.shape}")
    params = list(parameters)
    need = sum(int(np.prod(p.shape)) for p in params)
    if need != v.shape[0]:
        raise RuntimeError(f"vector_to_parameters: the parameters hold {need} values but vec "
                           f"has {v.shape[0]}")
    i = 0
    for p in params:
        n = int(np.prod(p.shape))
        p._data = v[i:i + n].reshape(p.shape).astype(p._data.dtype, copy=True)
        i += n
