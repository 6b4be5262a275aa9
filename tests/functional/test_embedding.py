"""functional.embedding: float64 gradient check on every scatter path (the compiled
scatter-add, the one-hot GEMM, the sort + reduceat), padding_idx, and the paths equal to
np.add.at on repeated ids."""
import importlib

import numpy as np
import pytest

import glassnet as gn
from glassnet.backend import kernels

E = importlib.import_module("glassnet.functional.embedding")  # `F.embedding` is the function

PATHS = ["compiled", "onehot", "sort"]


@pytest.fixture
def path(request, monkeypatch):
    """Force one scatter path of EmbeddingFunction.backward."""
    name = request.param
    if name == "compiled":
        if not kernels.available():
            pytest.skip("Numba is not installed: no compiled scatter-add")
        prev = kernels.set_enabled(True)
    else:
        prev = kernels.set_enabled(False)
        monkeypatch.setattr(E, "_ONEHOT_LIMIT", 1 << 30 if name == "onehot" else 0)
    yield name
    kernels.set_enabled(prev)


@pytest.mark.parametrize("path", PATHS, indirect=True)
def test_embedding_gradcheck_and_padding(path):
    rng = np.random.default_rng(5)
    W = rng.standard_normal((6, 4))
    ids = np.array([[0, 2, 2], [5, 1, 2]])
    gn.gradcheck(lambda w: E.embedding(ids, w), [W])
    w = gn.Tensor(W, requires_grad=True)
    E.embedding(ids, w, padding_idx=2).sum().backward()
    g = w.grad.numpy()
    assert np.all(g[2] == 0) and np.all(g[3] == 0) and np.allclose(g[0], 1)
    assert np.allclose(g[[1, 5]], 1)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("path", PATHS, indirect=True)
def test_every_path_sums_repeated_ids_as_add_at(path, dtype):
    rng = np.random.default_rng(7)
    V, D = 50, 24
    ids = rng.integers(V, size=(35, 20))          # 700 ids: every row hit ~14 times
    ids[0, :5] = 3                                 # a run of one id
    g = rng.standard_normal((35, 20, D)).astype(dtype)
    ref = np.zeros((V, D))
    np.add.at(ref, ids.reshape(-1), g.reshape(-1, D).astype(np.float64))
    w = gn.Tensor(np.zeros((V, D), dtype), requires_grad=True)
    E.embedding(ids, w).backward(gn.Tensor(g))
    got = w.grad.numpy()
    assert got.dtype == dtype
    np.testing.assert_allclose(got, ref, rtol=1e-5 if dtype == np.float32 else 1e-12,
                               atol=1e-5 if dtype == np.float32 else 1e-12)


def test_compiled_scatter_adds_in_the_order_of_the_ids():
    f = kernels.add_rows_at(np.float32) if kernels.enabled() else None
    if f is None:
        pytest.skip("the compiled kernels are off or Numba is not installed")
    # 1e8 + 1 - 1e8 in float32 depends on the order: left to right gives 0
    g = np.array([[1e8], [1.0], [-1e8]], np.float32)
    out = np.zeros((1, 1), np.float32)
    f(np.zeros(3, np.int64), g.reshape(-1), out.reshape(-1), 1)
    assert out[0, 0] == np.float32(np.float32(1e8) + np.float32(1.0)) - np.float32(1e8)


def test_out_of_range_ids_never_reach_the_compiled_loop():
    # EmbeddingFunction applied directly (no range check in front): a negative id reads
    # the last row, as NumPy indexing does, and its gradient goes there, not out of bounds
    w = gn.Tensor(np.ones((4, 3)), requires_grad=True)
    y = E.EmbeddingFunction.apply(w, np.array([-1, 0, -1]))
    y.sum().backward()
    np.testing.assert_array_equal(w.grad.numpy()[:, 0], [1, 0, 0, 2])
