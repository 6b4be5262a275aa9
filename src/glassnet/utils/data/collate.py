"""``default_collate`` and ``default_convert``: samples to batches, as PyTorch makes them.

``default_collate(batch)`` looks at the first sample and recurses through its structure:

================================  ==========================================================
sample element                    batch element
================================  ==========================================================
glassnet Tensor                   stacked Tensor, shape (B, *shape), dtype kept
NumPy array (not str / object)    stacked Tensor, dtype kept (float64 stays float64)
NumPy scalar (``np.float32(1)``)  Tensor of shape (B,), NumPy's promotion of the scalars
``float``                         float64 Tensor (as ``torch.tensor(batch, dtype=float64)``)
``int`` / ``bool``                int64 / bool Tensor (floats mixed in: the default dtype)
``str`` / ``bytes``               the list unchanged
Mapping                           same mapping type, each key collated
namedtuple                        same namedtuple, each field collated
tuple                             a **list** with one entry per field (PyTorch's rule)
other sequence                    same sequence type, each position collated
================================  ==========================================================

``default_convert(data)`` (used when ``batch_size=None``) turns NumPy arrays and scalars into
Tensors and leaves Python numbers, strings and Tensors as they are, recursing the same way.

Example
-------
>>> b = default_collate([(np.zeros(3, np.float32), 1), (np.ones(3, np.float32), 0)])
>>> b[0].shape, b[0].dtype, b[1].tolist()
((2, 3), dtype('float32'), [1, 0])
"""
from __future__ import annotations

import collections.abc
import copy

from collections.abc import Sequence
from typing import Any

import numpy as np

from ... import backend
from ...autograd.tensor import Tensor

__all__ = ["default_collate", "default_convert"]

_ERR = ("default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; "
        "found {}")


def _str_or_object(dtype: np.dtype[Any]) -> bool:
    return dtype.kind in "OSUa"


def _stack(arrays: Sequence[np.ndarray]) -> Tensor:
    """One ``np.stack`` of the samples; on unequal shapes PyTorch's error, naming the first
    sample that differs."""
    try:
        return Tensor(np.stack(arrays))
    except ValueError:
        first = arrays[0].shape
        for i, a in enumerate(arrays):
            if a.shape != first:
                raise RuntimeError(f"stack expects each tensor to be equal size, but got "
                                   f"{list(first)} at entry 0 and {list(a.shape)} at entry "
                                   f"{i}") from None
        raise


def _from_python(values: Sequence[Any]) -> Tensor:
    """``torch.tensor(values)`` for Python numbers (and NumPy scalars mixed in): ints give
    int64, bools bool, floats the default dtype unless a NumPy float64 asks for more."""
    arr = np.asarray(values)
    kind = arr.dtype.kind
    if kind in "OSU":
        bad = next((v for v in values if not isinstance(v, (int, float, complex, np.generic))),
                   values[0])
        raise TypeError(f"default_collate: cannot make a tensor of {type(bad).__name__} "
                        f"values ({bad!r})")
    if kind in "iu":
        return Tensor(arr.astype(np.int64, copy=False))
    if kind == "f" and not any(isinstance(v, np.floating) for v in values):
        return Tensor(arr.astype(backend.get_default_dtype(), copy=False))
    if kind == "c" and not any(isinstance(v, np.complexfloating) for v in values):
        return Tensor(arr.astype(np.complex64, copy=False))
    return Tensor(arr)


def _as_array(b: Any) -> np.ndarray:
    """``torch.as_tensor(b)`` for one element of a batch of arrays."""
    if isinstance(b, np.ndarray):
        return b
    if isinstance(b, Tensor):
        return b._data
    return _from_python([b])._data[0]


def _like(container: Any, items: Any) -> Any:
    """``items`` (a dict or a list) in the type of ``container``, as PyTorch rebuilds it: a
    mutable mapping or sequence is copied (keeping its type and extra attributes) and
    filled, another type is called on the items, and a type that refuses them gives the
    plain dict or list."""
    try:
        if isinstance(container, collections.abc.MutableMapping):
            out: Any = copy.copy(container)
            out.update(items)
            return out
        if isinstance(container, collections.abc.MutableSequence):
            out = copy.copy(container)
            out[:] = items
            return out
        return type(container)(items)
    except TypeError:
        return items


def default_collate(batch: Sequence[Any]) -> Any:
    """Stack a list of samples into a batch (see the module docstring for the rules).

    ``batch`` is a list of B samples of the same structure; tensors and arrays in it must
    share their shapes. Raises TypeError for element types it cannot batch and
    RuntimeError for sequences or arrays of different sizes, as PyTorch does.

    Example
    -------
    >>> default_collate([{"x": 1.0}, {"x": 2.0}])["x"].dtype
    dtype('float64')
    """
    elem = batch[0]
    if isinstance(elem, Tensor):
        for i, t in enumerate(batch):
            if not isinstance(t, Tensor):
                raise TypeError(f"expected Tensor as element {i} in argument 0, but got "
                                f"{type(t).__name__}")
        return _stack([t._data for t in batch])
    if isinstance(elem, np.ndarray):
        if _str_or_object(elem.dtype):
            raise TypeError(_ERR.format(elem.dtype))
        return _stack([_as_array(b) for b in batch])
    if isinstance(elem, (np.bool_, np.number, np.object_)):
        return Tensor(np.asarray(batch))
    if isinstance(elem, float):
        return Tensor(np.asarray(batch, dtype=np.float64))
    if isinstance(elem, int):
        return _from_python(batch)
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        return _like(elem, {key: default_collate([d[key] for d in batch]) for key in elem})
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):     # namedtuple
        return type(elem)(*(default_collate(list(s)) for s in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if any(len(s) != size for s in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        columns = [default_collate(list(s)) for s in zip(*batch)]
        return columns if isinstance(elem, tuple) else _like(elem, columns)
    raise TypeError(_ERR.format(type(elem)))


def default_convert(data: Any) -> Any:
    """NumPy arrays and scalars in ``data`` become Tensors (no batch axis added); Tensors,
    Python numbers and strings stay; mappings and sequences are converted element-wise
    (a plain tuple becomes a list, as in PyTorch).

    Example
    -------
    >>> default_convert((np.arange(3), 1))
    [tensor([0, 1, 2]), 1]
    """
    if isinstance(data, Tensor):
        return data
    if isinstance(data, np.ndarray):
        return data if _str_or_object(data.dtype) else Tensor(data)
    if isinstance(data, np.generic) and not isinstance(data, (np.str_, np.bytes_)):
        return Tensor(np.asarray(data))
    if isinstance(data, collections.abc.Mapping):
        return _like(data, {key: default_convert(data[key]) for key in data})
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        return _like(data, [default_convert(d) for d in data])
    return data
