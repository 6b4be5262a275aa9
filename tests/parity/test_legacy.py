"""Old PyTorch spellings that tutorials still use: Variable, the typed constructors, and
``grad_fn.next_functions`` (tests/third_party's neural_networks and sequence_models)."""
import numpy as np
import pytest

import glassnet as gn

from ._compare import TORCH_REASON, assert_same

torch = pytest.importorskip("torch", reason=TORCH_REASON)

CASES = [
    ("LongTensor", ([1, 2, 3],)), ("FloatTensor", ([1.5, 2.0],)), ("DoubleTensor", ([1.0],)),
    ("IntTensor", ([[1, 2]],)), ("ByteTensor", ([1, 255],)), ("BoolTensor", ([True, False],)),
]


@pytest.mark.parametrize("name, args", CASES, ids=[c[0] for c in CASES])
def test_typed_constructor_from_data(name, args):
    assert_same(getattr(gn, name)(*args), getattr(torch, name)(*args))


@pytest.mark.parametrize("name", ["FloatTensor", "LongTensor"])
def test_typed_constructor_from_sizes(name):
    g, t = getattr(gn, name)(2, 3), getattr(torch, name)(2, 3)
    assert tuple(g.shape) == tuple(t.shape) and g.dtype.name == str(t.dtype)[6:]


def test_variable_is_a_new_leaf_sharing_memory():
    for lib in (gn, torch):
        x = lib.ones(2)
        v = lib.autograd.Variable(x, requires_grad=True)
        assert v is not x and v.requires_grad and not x.requires_grad
        assert np.shares_memory(np.asarray(v.detach()), np.asarray(x))
        assert not lib.autograd.Variable(x).requires_grad


def test_next_functions_walks_the_graph_back():
    w = gn.tensor(np.ones((1, 2), np.float32), requires_grad=True)
    tw = torch.ones(1, 2, requires_grad=True)
    for lib, p in ((gn, w), (torch, tw)):
        x = lib.ones(3, 2)
        loss = ((x @ p.T).relu() ** 2).mean()
        chain = []
        fn = loss.grad_fn
        while fn is not None and fn.next_functions:
            nxt = [f for f, _ in fn.next_functions if f is not None]
            chain.append(len(fn.next_functions))
            fn = nxt[0] if nxt else None
        last = fn
        assert type(last).__name__ == "AccumulateGrad" and last.variable is p
