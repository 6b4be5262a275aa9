"""nn.Embedding: padding row, shapes, index errors, from_pretrained."""
import numpy as np
import pytest

from glassnet import nn


def test_embedding_module():
    emb = nn.Embedding(10, 3, padding_idx=0)
    assert np.all(emb.weight.numpy()[0] == 0)
    assert emb(np.array([[1, 0]])).shape == (1, 2, 3)
    with pytest.raises(IndexError, match="out of range"):
        emb(np.array([10]))
    with pytest.raises(TypeError, match="integers"):
        emb(np.array([1.0]))
    frozen = nn.Embedding.from_pretrained(np.eye(3, dtype=np.float32))
    assert not frozen.weight.requires_grad
