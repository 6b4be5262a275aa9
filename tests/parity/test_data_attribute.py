"""``Tensor.data`` and ``__array__`` mean what PyTorch means (issue 14's silent case
``p.data -= lr * p.grad``)."""
import numpy as np
import pytest

import glassnet as gn

from ._compare import TORCH_REASON, assert_same


def test_data_is_a_detached_tensor_sharing_memory():
    w = gn.tensor([1.0, 2.0], requires_grad=True)
    d = w.data
    assert isinstance(d, gn.Tensor) and not d.requires_grad and d.grad_fn is None
    assert np.shares_memory(d.numpy(), w.numpy())


def test_hand_written_sgd_on_data_updates_the_parameter():
    w = gn.tensor([1.0, 2.0], requires_grad=True)
    (w * w).sum().backward()
    before = w.numpy().copy()
    w.data -= 0.1 * w.grad           # the tutorials' update
    assert isinstance(w.numpy(), np.ndarray)
    np.testing.assert_allclose(w.numpy(), before - 0.1 * 2 * before)
    (w * w).sum().backward()        # still trains a step later (the old crash)


def test_assigning_data_replaces_the_values():
    w = gn.tensor([1.0, 2.0], requires_grad=True)
    w.data = gn.tensor([5.0, 6.0])
    np.testing.assert_allclose(w.numpy(), [5.0, 6.0])
    assert w.requires_grad


def test_array_protocol_and_scalar_conversions():
    t = gn.tensor([[1.0, 2.0]])
    assert np.asarray(t).dtype == np.float32 and np.asarray(t).shape == (1, 2)
    assert float(gn.tensor(2.5)) == 2.5 and int(gn.tensor(3)) == 3
    assert [10, 20, 30][gn.tensor(1)] == 20
    with pytest.raises(TypeError, match="integer tensors"):
        [1, 2][gn.tensor(1.0)]


def test_against_torch():
    torch = pytest.importorskip("torch", reason=TORCH_REASON)
    for lib in (gn, torch):
        w = lib.tensor([1.0, -2.0, 3.0], requires_grad=True)
        for _ in range(3):
            loss = (w * w).sum()
            loss.backward()
            w.data -= 0.25 * w.grad
            w.grad = None
        if lib is gn:
            g = w
        else:
            t = w
    assert_same(g.detach(), t.detach())
    assert_same(g.data, t.data)
