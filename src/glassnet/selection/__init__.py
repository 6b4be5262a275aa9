"""Model selection: cross-validation, grid and random search, restarts.

Work runs in this process by default, in local worker processes with ``n_jobs > 1``, or on a
Dask cluster when a ``dask.distributed.Client`` is given as ``client``.
"""
from .cv import cross_validate
from .search import GridSearch, ParameterGrid, ParameterSampler, RandomSearch
from .restarts import best_of_restarts
from .curves import learning_curve

__all__ = ["cross_validate", "GridSearch", "RandomSearch", "ParameterGrid", "ParameterSampler",
           "best_of_restarts", "learning_curve"]
