"""glassnet: a transparent, fast deep-learning framework on NumPy.

>>> import glassnet as gn
>>> from glassnet import nn, optim
>>> model = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))
"""
import os as _os
import sys as _sys

if "numpy" not in _sys.modules:
    # OpenBLAS threads busy-wait ~0.1 s after every BLAS call (2^28 cycles), taking the
    # cores glassnet's elementwise threads need between GEMMs; 2^4 lets them sleep at once.
    # Read once when NumPy loads OpenBLAS, so only set here if NumPy is not loaded yet
    # (and never over the user's own value). See docs/guide.md, "Threads and speed".
    _os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")
from .backend import (get_default_dtype, get_num_threads, manual_seed,  # noqa: F401
                      set_backend, set_default_dtype, set_num_threads)
from .backend import tune_malloc as _tune_malloc

_tune_malloc()   # keep freed step temporaries in the heap (no page faults); see backend.py
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
from .errors import GlassnetError  # noqa: F401

from ._version import __version__  # noqa: F401

float32 = "float32"
float64 = "float64"
