"""Comparing a glassnet result with PyTorch's, for the parity suite.

``assert_same(g, t)`` compares what one PyTorch idiom gives on each side:

* tensors: both are tensors, same shape, same dtype (``str(t.dtype)`` is ``torch.<name>``
  and glassnet's dtype name must be ``<name>``), values equal within ``rtol``/``atol``
  (bitwise for integers and bools);
* named tuples (``max(dim)`` -> ``(values, indices)``), tuples and lists: same length and
  type of container, element by element; named fields by name too;
* ``torch.Size`` against glassnet's shape: the same tuple of ints;
* Python scalars, strings, None: equal (floats within tolerance), and of the same type
  (an ``int`` where torch gives an ``int``, a ``bool`` where torch gives a ``bool``).

``grads=(gn_tensors, torch_tensors)`` also compares each leaf's ``.grad``.

The module never imports torch; a test gets it with ``torch = pytest.importorskip("torch",
reason=...)``, so the whole suite skips cleanly where torch is absent.
"""
from __future__ import annotations

import numpy as np

TORCH_REASON = "torch 2.13 not installed: parity against PyTorch is skipped"


def _is_torch_tensor(x):
    return type(x).__module__.startswith("torch") and hasattr(x, "detach")


def _to_np(t):
    return t.detach().cpu().numpy()


def assert_same(g, t, rtol=1e-5, atol=1e-6, what="result", grads=None):
    import glassnet as gn
    if _is_torch_tensor(t):
        assert isinstance(g, gn.Tensor), f"{what}: torch gives a Tensor, glassnet {type(g)!r}"
        tn = _to_np(t)
        gs = tuple(g.shape)
        assert gs == tuple(t.shape), f"{what}: shape {gs} vs torch {tuple(t.shape)}"
        tname = str(t.dtype).replace("torch.", "")
        assert np.dtype(g.dtype).name == np.dtype(tn.dtype).name, (
            f"{what}: dtype {g.dtype} vs torch {tname}")
        gv = np.asarray(g.numpy())
        if tn.dtype.kind in "iub":
            np.testing.assert_array_equal(gv, tn, err_msg=what)
        else:
            np.testing.assert_allclose(gv, tn, rtol=rtol, atol=atol, err_msg=what)
    elif type(t).__name__ == "Size":
        assert tuple(g) == tuple(t), f"{what}: size {tuple(g)} vs torch {tuple(t)}"
    elif isinstance(t, tuple) and hasattr(t, "_fields"):
        assert isinstance(g, tuple), f"{what}: torch gives a named tuple, glassnet {type(g)!r}"
        assert len(g) == len(t), f"{what}: {len(g)} items vs torch {len(t)}"
        for name in t._fields:
            assert hasattr(g, name), f"{what}: glassnet's result has no field {name!r}"
            assert_same(getattr(g, name), getattr(t, name), rtol, atol, f"{what}.{name}")
    elif isinstance(t, (tuple, list)):
        assert isinstance(g, (tuple, list)), f"{what}: torch gives a {type(t).__name__}, " \
            f"glassnet {type(g)!r}"
        assert len(g) == len(t), f"{what}: {len(g)} items vs torch {len(t)}"
        for i, (a, b) in enumerate(zip(g, t)):
            assert_same(a, b, rtol, atol, f"{what}[{i}]")
    elif isinstance(t, dict):
        assert isinstance(g, dict) and list(g) == list(t), f"{what}: keys {list(g)} vs {list(t)}"
        for k in t:
            assert_same(g[k], t[k], rtol, atol, f"{what}[{k!r}]")
    elif isinstance(t, float):
        assert isinstance(g, float) and not isinstance(g, bool), \
            f"{what}: torch gives a float, glassnet {type(g)!r}"
        np.testing.assert_allclose(g, t, rtol=rtol, atol=atol, err_msg=what)
    else:
        assert type(g) is type(t), f"{what}: type {type(g)!r} vs torch {type(t)!r}"
        assert g == t, f"{what}: {g!r} vs torch {t!r}"
    if grads is not None:
        for i, (a, b) in enumerate(zip(*grads)):
            if b.grad is None:
                assert a.grad is None, f"{what}: grad of input {i}: torch has none"
            else:
                assert a.grad is not None, f"{what}: grad of input {i} missing on glassnet"
                assert_same(a.grad, b.grad, rtol, atol, f"{what}: grad of input {i}")


def pair(torch, array, requires_grad=False):
    """The same values as a glassnet and a torch tensor (dtype kept from the array)."""
    import glassnet as gn
    a = np.asarray(array)
    g = gn.tensor(a.copy(), dtype=a.dtype, requires_grad=requires_grad)
    t = torch.tensor(a.copy(), requires_grad=requires_grad)
    return g, t
