"""The recurrent tests run with one BLAS thread: their GEMMs are small, and on a shared,
oversubscribed 2-core machine two spinning OpenBLAS threads made short trainings 5x slower."""
import pytest


@pytest.fixture(autouse=True)
def _one_blas_thread():
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield
        return
    with threadpool_limits(1, user_api="blas"):
        yield
