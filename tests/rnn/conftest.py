"""The recurrent tests run with one BLAS thread: their GEMMs are small, and on a shared,
oversubscribed 2-core machine two spinning OpenBLAS threads made short trainings 5x slower."""
import pytest


@pytest.fixture(autouse=True)
def _one_blas_thread(one_blas_thread):
    yield
