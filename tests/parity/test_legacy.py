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


@pytest.mark.parametrize("make", [lambda L: L.arange(6), lambda L: L.arange(6).reshape(2, 3),
                                  lambda L: L.ones(2, 2, dtype=L.float64)])
def test_iterating_a_tensor_gives_its_rows(make):
    g, t = list(make(gn)), list(make(torch))
    assert_same(g, t)


def test_index_arithmetic_on_0d_int_tensors():
    # nanoGPT's get_batch: data[i:i + block_size] for i in torch.randint(...)
    for ga, ta in zip(gn.arange(4), torch.arange(4)):
        assert_same(ga + 8, ta + 8)
        assert_same(8 + ga, 8 + ta)
    data_g, data_t = gn.arange(20), torch.arange(20)
    assert_same(gn.stack([data_g[i:i + 3] for i in gn.tensor([1, 5])]),
                torch.stack([data_t[i:i + 3] for i in torch.tensor([1, 5])]))


def test_iterating_rows_that_require_grad_keeps_the_graph():
    tw = torch.ones(3, requires_grad=True)
    gw = gn.ones(3, requires_grad=True)
    sum(r * r for r in tw).backward()
    sum(r * r for r in gw).backward()
    assert_same(gw.grad, tw.grad)
    with pytest.raises(TypeError, match="0-d"):
        iter(gn.tensor(1.0))
