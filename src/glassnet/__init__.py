"""glassnet: a transparent, fast deep-learning framework on NumPy.

>>> import glassnet as gn
>>> from glassnet import nn, optim
>>> model = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))
"""
# first: importing backend tunes the process, once, before NumPy loads (backend/process.py)
from . import backend  # noqa: F401
from .backend import (get_default_dtype, get_num_threads, manual_seed,  # noqa: F401
                      set_default_dtype, set_num_threads)
from .autograd import (Function, Tensor, arange, as_tensor, enable_grad,  # noqa: F401
                       gradcheck, no_grad, ones, rand, randn, tensor, zeros)
from . import functional  # noqa: F401
from . import nn  # noqa: F401
from . import optim  # noqa: F401
from . import io  # noqa: F401
from .io import load, save  # noqa: F401
from . import data  # noqa: F401
from . import metrics  # noqa: F401
from . import training  # noqa: F401
from . import models  # noqa: F401
from . import inspect  # noqa: F401
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


def __getattr__(name):   # glassnet.utils / .vision / .Generator load on first use (40+ ms)
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
