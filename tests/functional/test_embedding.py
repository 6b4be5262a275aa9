"""functional.embedding: float64 gradient check on both scatter paths, and padding_idx."""
import importlib

import numpy as np
import pytest

import glassnet as gn


E = importlib.import_module("glassnet.functional.embedding")  # `F.embedding` is the function


@pytest.mark.parametrize("limit", [0, 1 << 30])
def test_embedding_gradcheck_and_padding(limit, monkeypatch):
    monkeypatch.setattr(E, "_ONEHOT_LIMIT", limit)   # both scatter paths: sort and one-hot
    rng = np.random.default_rng(5)
    W = rng.standard_normal((6, 4))
    ids = np.array([[0, 2, 2], [5, 1, 2]])
    gn.gradcheck(lambda w: E.embedding(ids, w), [W])
    w = gn.Tensor(W, requires_grad=True)
    E.embedding(ids, w, padding_idx=2).sum().backward()
    g = w.grad.numpy()
    assert np.all(g[2] == 0) and np.all(g[3] == 0) and np.allclose(g[0], 1)
    assert np.allclose(g[[1, 5]], 1)
