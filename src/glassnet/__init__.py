"""glassnet: a transparent, fast deep-learning framework on NumPy.

>>> import glassnet as gn
>>> from glassnet import nn, optim
>>> model = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))
"""
from __future__ import annotations  # (the dtype names below shadow int, float, bool)

from typing import Any as _Any

# first: importing backend tunes the process, once, before NumPy loads (backend/process.py)
from . import backend  # noqa: F401
from .backend import (get_default_dtype, get_num_threads,  # noqa: F401
                      set_default_dtype, set_num_threads)   # manual_seed: defined below
from .autograd import (Function, Tensor, arange, as_tensor, enable_grad,  # noqa: F401
                       gradcheck, no_grad, ones, rand, randn, tensor, zeros)
from . import functional  # noqa: F401
# --- autograd helper ---
from . import autograd  # noqa: F401,E402
from .autograd import (inference_mode, is_grad_enabled,  # noqa: F401,E402
                       is_inference_mode_enabled, set_grad_enabled)
from . import nn  # noqa: F401
from . import optim  # noqa: F401
from . import io  # noqa: F401
from .io import load, save  # noqa: F401
from . import data  # noqa: F401
from . import metrics  # noqa: F401
from . import training  # noqa: F401
from . import models  # noqa: F401
from . import rl  # noqa: F401  (Gymnasium is imported only when an env is made)
from . import inspect  # noqa: F401
from .inspect import summary  # noqa: F401  (glassnet.summary(model, input_shape))
from . import selection  # noqa: F401
from . import errors  # noqa: F401
from . import validation  # noqa: F401
from .errors import GlassnetError  # noqa: F401

from ._version import __version__  # noqa: F401

# PyTorch's dtype names (NumPy dtypes: backend/dtypes.py) and devices (backend/devices.py)
from .backend.dtypes import EXPORTS as _DTYPES  # noqa: E402
from .backend.dtypes import is_floating_point as _is_fp  # noqa: E402,F401
from .backend.devices import device  # noqa: E402,F401
from . import accelerator, backends, cuda  # noqa: E402,F401

globals().update(_DTYPES)
dtype = type(_DTYPES["float32"])   # isinstance(x.dtype, glassnet.dtype) holds

# --- reduce helper --- PyTorch's reductions, elementwise math, comparisons and promotion
from .functional.reduce import (all, amax, amin, aminmax, any, argmax, argmin,  # noqa: E402,F401,A004,E501
                                argsort, count_nonzero, cummax, cummin, cumprod, cumsum,
                                fmax, fmin, kthvalue, logsumexp, max, mean, median, min,
                                mode, msort, nanmean, nanmedian, nansum, norm, prod,
                                return_types, softmax, log_softmax, sort, std, std_mean, sum,
                                topk, var, var_mean)
from .functional.math import (add, div, divide, maximum, minimum, mul, multiply,  # noqa: E402,F401,E501
                              pow, sub, subtract, true_divide)   # where: from indexing below
from .functional.elementwise import (  # noqa: E402,F401
    abs, absolute, acos, acosh, addcdiv, addcmul, allclose, arccos, arcsin, arctan, arctan2,
    asin, asinh, atan, atan2, atanh, bitwise_and, bitwise_not, bitwise_or, bitwise_xor,
    can_cast, ceil, clamp, clip, cos, cosh, eq, equal, exp, exp2, expm1, fix, floor,
    floor_divide, fmod, frac, ge, greater, greater_equal, gt, is_complex, is_floating_point,
    is_tensor, isclose, isfinite, isinf, isnan, isneginf, isposinf, isreal, le, lerp, less,
    less_equal, log, log1p, log2, log10, logical_and, logical_not, logical_or, logical_xor,
    lt, ne, neg, negative, not_equal, numel, promote_types, reciprocal, relu, remainder,
    result_type, round, rsqrt, sgn, sigmoid, sign, sin, sinh, sqrt, square, tan, tanh, trunc)
# --- end reduce helper ---


# --- iodata helper --- (factories: autograd/factories.py; save/load: io/serialize.py)
from .autograd.factories import (bernoulli, empty, empty_like, eye, from_numpy,  # noqa: E402,F401
                                 full, full_like, linspace, logspace, multinomial, normal,
                                 ones_like, rand_like, randint, randint_like, randn_like,
                                 randperm, zeros_like)
from .autograd.generator import Generator  # noqa: E402,F401


def manual_seed(seed: int) -> Generator:
    """Seed glassnet's random generators (initialisation, dropout, rand/randn, shuffling,
    and the default :class:`glassnet.Generator` of randperm / randint) and return that
    default Generator, as ``torch.manual_seed`` returns ``torch.default_generator``.

    >>> g = manual_seed(0); g.initial_seed(), randperm(4).tolist()  # torch gives the same
    (0, [0, 1, 3, 2])
    """
    backend.manual_seed(seed)
    from .autograd.generator import default_generator  # noqa: PLC0415
    return default_generator()
# --- end iodata helper ---
# PyTorch's legacy typed constructors (torch.LongTensor(idxs), torch.FloatTensor(2, 3))
from .autograd.factories import LEGACY_CONSTRUCTORS as _LEGACY  # noqa: E402
globals().update(_LEGACY)


def __getattr__(name: str) -> _Any:   # glassnet.utils / .vision / .Generator load on first use (40+ ms)
    if name in ("utils", "vision", "Generator"):
        import importlib  # noqa: PLC0415
        mod = importlib.import_module(f"{__name__}.{'utils' if name == 'Generator' else name}")
        return mod.Generator if name == "Generator" else mod
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

# --- shape helper ---
from .autograd.tensor import Size  # noqa: E402,F401
from .functional.shape import (bmm, cat, chunk, clone, concat, concatenate,  # noqa: E402,F401
                               einsum, flatten, flip, hstack, matmul, mm, movedim, moveaxis,
                               narrow, permute, repeat, reshape, roll, split, squeeze, stack,
                               swapaxes, swapdims, t, transpose, unbind, unflatten, unsqueeze,
                               vstack)
from .functional.indexing import (diag, diagonal, gather, index_select,  # noqa: E402,F401
                                  masked_fill, masked_select, nonzero, scatter, scatter_add,
                                  take_along_dim, tril, triu, where)