"""Everything about speed and the process, behind one seam.

=============  ================================================================
``config``     every knob (environment variable or global switch), declared once;
               ``knobs()`` lists them with their values now
``process``    what ``import glassnet`` does to the process: :func:`tune_process`
``arrays``     the array module, the default dtype, the seeded random generator
``threads``    the chunk pool: ``parallel_chunks``, ``elementwise``, ``flat_chunks``,
               ``copy``; the BLAS thread policy: ``blas_threads``, ``set_blas_threads``
``memory``     heap tuning, the scratch-buffer pool (``take_scratch`` / ``give_scratch``),
               and the allocation budget of a load (``allocation_budget``, ``allocate``)
``kernels``    the optional compiled (Numba) LSTM / GRU step kernels
=============  ================================================================

The rest of glassnet uses the names below (``from .. import backend; backend.rng()``) and
never reads the environment or the pool itself (tests/backend/test_seams.py checks).

Importing this package makes the one call that tunes the process, :func:`tune_process`,
before NumPy is first imported (OpenBLAS reads its thread variable when NumPy loads it);
``GLASSNET_TUNE_PROCESS=0`` turns it off.

>>> from glassnet import backend
>>> print(backend.config.describe())     # doctest: +SKIP
"""
from . import config
from .process import tune_process

tune_process()   # first, before anything below imports NumPy

from . import kernels  # noqa: E402
from .arrays import (as_float_array, const_vector, get_array_module,  # noqa: E402
                     get_default_dtype, manual_seed, rng, set_default_dtype, to_numpy, xp)
from .config import knobs  # noqa: E402
from .memory import allocate, allocation_budget, init_skipped, reserve  # noqa: E402
from .memory import give as give_scratch  # noqa: E402
from .memory import take as take_scratch  # noqa: E402
from .memory import tune_malloc  # noqa: E402
from .threads import (ELEMENTWISE_MIN_ELEMENTS, PARALLEL_MIN_ELEMENTS,  # noqa: E402
                      background_thread, copy, elementwise, flat_chunks,
                      get_num_threads, parallel_chunks, set_num_threads)
from .threads import (blas_policy, blas_threads, blas_threads_for,  # noqa: E402
                      get_blas_threads, idle_cpus, set_blas_threads)

__all__ = [
    "config", "kernels", "tune_process", "knobs",
    "xp", "get_array_module", "get_default_dtype", "set_default_dtype", "manual_seed", "rng",
    "as_float_array", "to_numpy", "const_vector",
    "get_num_threads", "set_num_threads", "parallel_chunks", "elementwise", "copy",
    "flat_chunks", "background_thread",
    "PARALLEL_MIN_ELEMENTS", "ELEMENTWISE_MIN_ELEMENTS", "tune_malloc", "take_scratch",
    "give_scratch",
    "allocate", "allocation_budget", "init_skipped", "reserve",
    "blas_threads", "set_blas_threads", "get_blas_threads", "blas_threads_for", "idle_cpus",
    "blas_policy",
]
