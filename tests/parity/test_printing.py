"""A float tensor prints in PyTorch's layout (four fixed decimals unless every value is
integral; scientific for wide ranges)."""
import pytest

import glassnet as gn

from ._compare import TORCH_REASON

torch = pytest.importorskip("torch", reason=TORCH_REASON)

VALUES = [[[0.1, -0.018, 2.0]], [1.0, 2.0], [1e-5, 1.0, 3000.0], [1.5], [float("nan"), 1.25],
          2.5, [[1.0, 2.0], [3.5, 4.0]], [-0.5, 0.25], [[1, 2], [3, 4]], [True, False]]


@pytest.mark.parametrize("values", VALUES, ids=[str(v) for v in VALUES])
def test_repr_matches_torch(values):
    assert repr(gn.tensor(values)) == repr(torch.tensor(values))


def test_requires_grad_suffix():
    assert repr(gn.tensor([1.5], requires_grad=True)) == \
        repr(torch.tensor([1.5], requires_grad=True))
