"""ReLU's compiled passes (backend.kernels.relu_kernels) against its NumPy path: the same
outputs, masks and gradients, bit for bit, for float32 and float64, with NaN, infinities
and signed zeros, in one call and in chunks on several threads; float64 gradcheck."""
import numpy as np
import pytest

import glassnet as gn
from glassnet.backend import kernels
from glassnet.backend import threads as T
from glassnet.functional import activations as A

needs_numba = pytest.mark.skipif(not kernels.available(), reason="Numba is not installed")


def _run(z, g, compiled):
    prev = kernels.set_enabled(compiled)
    try:
        x = gn.tensor(z, requires_grad=True)
        y = A.relu(x)
        y.backward(gn.tensor(g))
        return y.numpy(), x.grad.numpy()
    finally:
        kernels.set_enabled(prev)


@needs_numba
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("threads, split", [(1, False), (2, True), (3, True)])
def test_compiled_relu_equals_numpy_bitwise(monkeypatch, dtype, threads, split):
    if split:
        monkeypatch.setattr(T, "ELEMENTWISE_MIN_ELEMENTS", 1)
        monkeypatch.setattr(T, "PARALLEL_MIN_ELEMENTS", 1)
    prev = T.get_num_threads()
    T.set_num_threads(threads)
    try:
        r = np.random.default_rng(2)
        z = r.standard_normal((7, 5, 3)).astype(dtype)
        z.flat[:6] = [np.nan, np.inf, -np.inf, -0.0, 0.0, 1e-30]
        g = r.standard_normal(z.shape).astype(dtype)
        g.flat[6:9] = [np.nan, np.inf, -np.inf]
        y1, g1 = _run(z, g, True)
        y0, g0 = _run(z, g, False)
        assert y1.dtype == y0.dtype == g1.dtype == dtype
        np.testing.assert_array_equal(y1, y0)             # NaN where NaN, same zeros
        np.testing.assert_array_equal(np.signbit(y1), np.signbit(y0))
        np.testing.assert_array_equal(g1, g0)
        np.testing.assert_array_equal(np.signbit(g1), np.signbit(g0))
        assert np.isnan(y1.flat[0]) and y1.flat[1] == np.inf and y1.flat[2] == 0
    finally:
        T.set_num_threads(prev)


@pytest.mark.parametrize("compiled", [True, False])
def test_relu_gradcheck_and_non_contiguous_input(compiled):
    if compiled and not kernels.available():
        pytest.skip("Numba is not installed")
    prev = kernels.set_enabled(compiled)
    try:
        r = np.random.default_rng(3)
        z = r.standard_normal((4, 6))
        z[np.abs(z) < 0.05] = 0.5                  # no kink within the finite difference
        gn.gradcheck(lambda t: A.relu(t), [z])
        gn.gradcheck(lambda t: A.relu(t.T), [z])   # a transposed view: the NumPy path
    finally:
        kernels.set_enabled(prev)
