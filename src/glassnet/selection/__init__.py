"""Model selection: cross-validation, grid and random search, restarts.

Work runs in this process by default, in local worker processes (joblib's loky executor,
the data memory-mapped once) with ``n_jobs > 1``, or on a Dask cluster (the data scattered
once) when a ``dask.distributed.Client`` is given as ``client``; every trial is seeded from
``(seed, candidate, fold)`` and runs with ``blas_threads`` BLAS threads, so the results do not
depend on where it ran, and a trial whose worker died is run again (``retries``). See
docs/search.md.
"""
from .cv import cross_validate
from .search import GridSearch, ParameterGrid, ParameterSampler, RandomSearch
from .restarts import best_of_restarts
from .curves import learning_curve

__all__ = ["cross_validate", "GridSearch", "RandomSearch", "ParameterGrid", "ParameterSampler",
           "best_of_restarts", "learning_curve"]
