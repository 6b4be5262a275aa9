"""Float64 finite-difference gradient checks of every differentiable reduction
(glassnet.autograd.gradcheck), and the argument handling PyTorch code relies on; the
comparison with torch itself is in tests/parity/test_reduce.py."""
import numpy as np
import pytest

import glassnet as gn
from glassnet.autograd import gradcheck

R = np.random.default_rng(3)
A = R.standard_normal((3, 4))
A3 = R.standard_normal((2, 3, 4))
Z = np.array([[1.5, 0.0, 2.0, -1.0], [0.0, 0.0, 3.0, 1.0], [2.0, -0.5, 1.0, 3.0]])

CASES = {
    "sum(dim=(0, 2))": (lambda a: a.sum(dim=(0, 2)), A3),
    "mean(1, keepdim)": (lambda a: a.mean(1, keepdim=True), A),
    "var()": (lambda a: a.var(), A),
    "var(0, correction=0)": (lambda a: a.var(0, correction=0), A),
    "std(1)": (lambda a: a.std(1), A),
    "prod(1)": (lambda a: a.prod(1), A),
    "prod(1) zeros": (lambda a: a.prod(1), Z),
    "prod()": (lambda a: a.prod(), A * 0.5 + 1.5),
    "logsumexp(1)": (lambda a: a.logsumexp(1), A),
    "norm()": (lambda a: a.norm(), A),
    "norm(p=1, dim=0)": (lambda a: a.norm(p=1, dim=0), A),
    "norm(3, dim=1)": (lambda a: a.norm(3, dim=1), A),
    "norm(inf)": (lambda a: a.norm(float("inf")), A),
    "amax(1)": (lambda a: a.amax(1), A),
    "amin(dim=(0, 1))": (lambda a: a.amin(dim=(0, 1)), A3),
    "max()": (lambda a: a.max(), A),
    "max(1).values": (lambda a: a.max(1).values, A),
    "min(0, keepdim).values": (lambda a: a.min(0, keepdim=True).values, A),
    "topk(2).values": (lambda a: a.topk(2).values, A),
    "sort(0).values": (lambda a: a.sort(0).values, A),
    "sort(descending).values": (lambda a: a.sort(descending=True).values, A),
    "cumsum(1)": (lambda a: a.cumsum(1), A),
    "cumprod(1)": (lambda a: a.cumprod(1), A),
    "cumprod(1) zeros": (lambda a: a.cumprod(1), Z),
    "cummax(1).values": (lambda a: a.cummax(1).values, A),
    "median(1).values": (lambda a: a.median(1).values, A),
    "median()": (lambda a: a.median(), A),
    "kthvalue(2, 0).values": (lambda a: a.kthvalue(2, 0).values, A),
    "nansum()": (lambda a: gn.nansum(a), A),
}


@pytest.mark.parametrize("name", list(CASES))
def test_gradcheck(name):
    fn, a = CASES[name]
    gradcheck(fn, [a.copy()])


def test_axis_and_keepdims_are_aliases_of_dim_and_keepdim():
    x = gn.tensor(A)
    np.testing.assert_array_equal(x.sum(axis=1, keepdims=True).numpy(),
                                  x.sum(dim=1, keepdim=True).numpy())
    np.testing.assert_array_equal(x.max(axis=0).values.numpy(), x.max(dim=0).values.numpy())
    with pytest.raises(TypeError, match="not both"):
        x.sum(dim=0, axis=0)


def test_max_with_dim_is_a_named_tuple_and_without_is_0d():
    x = gn.tensor([[1.0, 5.0], [7.0, 2.0]])
    r = x.max(1)
    assert isinstance(r, tuple) and r._fields == ("values", "indices")
    assert r.indices.dtype == gn.int64 and not r.indices.requires_grad
    assert x.max().shape == ()
    assert type(r) is gn.return_types.max


def test_var_default_is_unbiased():
    x = gn.tensor([1.0, 2.0, 3.0, 4.0])
    assert x.var().item() == pytest.approx(5 / 3)
    assert x.var(unbiased=False).item() == pytest.approx(1.25)
    assert gn.var(x, correction=0).item() == pytest.approx(1.25)


def test_mean_of_int_tensor_is_refused():
    with pytest.raises(TypeError, match="floating point"):
        gn.tensor([1, 2]).mean()
    assert gn.tensor([1, 2]).mean(dtype=gn.float32).item() == 1.5


def test_dim_out_of_range_names_the_range():
    with pytest.raises(IndexError, match=r"\[-2, 1\]"):
        gn.ones(2, 3).sum(2)
