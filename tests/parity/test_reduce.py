"""Reductions against PyTorch 2.13: ``dim`` / ``keepdim`` (and the ``axis`` / ``keepdims``
aliases), dtypes of the results, ``max``/``min`` named tuples (issue 14's silent case
``values, idx = out.max(1)``), unbiased ``var``/``std`` by default, and gradients."""
import numpy as np
import pytest

import glassnet as gn

from ._compare import TORCH_REASON, assert_same

torch = pytest.importorskip("torch", reason=TORCH_REASON)

R = np.random.default_rng(14)
X = R.standard_normal((3, 4)).astype(np.float32)
X3 = R.standard_normal((2, 3, 4)).astype(np.float32)
TIES = np.array([[1.0, 3.0, 3.0, 0.0], [2.0, 2.0, -1.0, 2.0], [5.0, 4.0, 5.0, 5.0]],
                dtype=np.float32)
ZEROS = np.array([[1.5, 0.0, 2.0, -1.0], [0.0, 0.0, 3.0, 1.0], [2.0, -0.5, 1.0, 3.0]])
INTS = np.array([[1, -2, 3, 0], [4, 4, -1, 2], [0, 7, 2, 2]], dtype=np.int64)
BOOLS = np.array([[True, False, True], [True, True, True]])


def _both(fn, arrays, requires_grad=False):
    gs = [gn.tensor(a.copy(), dtype=a.dtype, requires_grad=requires_grad and a.dtype.kind == "f")
          for a in arrays]
    ts = [torch.tensor(a.copy(), requires_grad=requires_grad and a.dtype.kind == "f")
          for a in arrays]
    return fn(gn, *gs), fn(torch, *ts), gs, ts


def _first(out):
    return out[0] if isinstance(out, tuple) else out


def check(fn, arrays, grad=False, rtol=1e-5, atol=1e-6):
    """fn(lib, *tensors) gives the same on both sides; with ``grad`` (float64 inputs) the
    gradients of a fixed random projection of the (first) output match too."""
    if grad:
        arrays = [a.astype(np.float64) if a.dtype.kind == "f" else a for a in arrays]
    g, t, gs, ts = _both(fn, arrays, requires_grad=grad)
    assert_same(g, t, rtol=rtol, atol=atol)
    if grad:
        go, to = _first(g), _first(t)
        w = np.random.default_rng(0).standard_normal(tuple(to.shape))
        (go * gn.tensor(w, dtype=go.dtype)).sum().backward()
        (to * torch.tensor(w, dtype=to.dtype)).sum().backward()
        assert_same(None, None, grads=(gs, ts))


# idiom -> (fn(lib, x...), inputs)
VALUE_CASES = {
    "x.sum()": (lambda T, x: x.sum(), [X]),
    "x.sum(0)": (lambda T, x: x.sum(0), [X]),
    "x.sum(-1)": (lambda T, x: x.sum(-1), [X]),
    "x.sum(dim=(0, 2))": (lambda T, x: x.sum(dim=(0, 2)), [X3]),
    "x.sum(1, keepdim=True)": (lambda T, x: x.sum(1, keepdim=True), [X]),
    "x.sum(axis=1, keepdims=True)": (lambda T, x: x.sum(axis=1, keepdims=True), [X]),
    "T.sum(x, dim=[0, 1])": (lambda T, x: T.sum(x, dim=[0, 1]), [X3]),
    "x.sum(dtype=float64)": (lambda T, x: x.sum(dtype=T.float64), [X]),
    "int x.sum()": (lambda T, x: x.sum(), [INTS]),
    "int x.sum(1)": (lambda T, x: x.sum(1), [INTS]),
    "bool x.sum()": (lambda T, x: x.sum(), [BOOLS]),
    "int32 x.sum()": (lambda T, x: x.sum(), [INTS.astype(np.int32)]),
    "x.mean()": (lambda T, x: x.mean(), [X]),
    "x.mean(0)": (lambda T, x: x.mean(0), [X]),
    "x.mean(dim=-1, keepdim=True)": (lambda T, x: x.mean(dim=-1, keepdim=True), [X]),
    "x.mean((0, 2))": (lambda T, x: x.mean((0, 2)), [X3]),
    "T.mean(x)": (lambda T, x: T.mean(x), [X3]),
    "int x.mean(dtype=float32)": (lambda T, x: x.mean(dtype=T.float32), [INTS]),
    "x.var()": (lambda T, x: x.var(), [X]),
    "x.std()": (lambda T, x: x.std(), [X]),
    "x.var(0)": (lambda T, x: x.var(0), [X]),
    "x.var(1, keepdim=True)": (lambda T, x: x.var(1, keepdim=True), [X]),
    "x.var(unbiased=False)": (lambda T, x: x.var(unbiased=False), [X]),
    "x.var(False)": (lambda T, x: x.var(False), [X]),
    "x.var(correction=0)": (lambda T, x: x.var(correction=0), [X]),
    "x.std(dim=1, unbiased=False)": (lambda T, x: x.std(dim=1, unbiased=False), [X]),
    "x.std(1, correction=2)": (lambda T, x: x.std(1, correction=2), [X]),
    "T.var(x, 1, True, True)": (lambda T, x: T.var(x, 1, True, True), [X]),
    "T.std(x, dim=(0, 2))": (lambda T, x: T.std(x, dim=(0, 2)), [X3]),
    "T.var_mean(x, 1)": (lambda T, x: T.var_mean(x, 1), [X]),
    "T.std_mean(x)": (lambda T, x: T.std_mean(x), [X]),
    "x.norm()": (lambda T, x: x.norm(), [X]),
    "x.norm(p=1)": (lambda T, x: x.norm(p=1), [X]),
    "x.norm(p=inf)": (lambda T, x: x.norm(p=float("inf")), [X]),
    "x.norm(dim=1)": (lambda T, x: x.norm(dim=1), [X]),
    "x.norm(2, dim=0, keepdim=True)": (lambda T, x: x.norm(2, dim=0, keepdim=True), [X]),
    "T.norm(x, p='fro')": (lambda T, x: T.norm(x, p="fro"), [X]),
    "x.norm(3)": (lambda T, x: x.norm(3), [X]),
    "x.prod()": (lambda T, x: x.prod(), [X]),
    "x.prod(1)": (lambda T, x: x.prod(1), [X]),
    "x.prod(0, keepdim=True)": (lambda T, x: x.prod(0, keepdim=True), [X]),
    "int x.prod(1)": (lambda T, x: x.prod(1), [INTS]),
    "T.logsumexp(x, 1)": (lambda T, x: T.logsumexp(x, 1), [X]),
    "x.logsumexp(dim=0, keepdim=True)": (lambda T, x: x.logsumexp(dim=0, keepdim=True), [X]),
    "x.logsumexp((0, 1))": (lambda T, x: x.logsumexp((0, 1)), [X3]),
    "x.amax(1)": (lambda T, x: x.amax(1), [X]),
    "x.amin(0)": (lambda T, x: x.amin(0), [X]),
    "x.amax()": (lambda T, x: x.amax(), [X]),
    "T.amax(x, -1, keepdim=True)": (lambda T, x: T.amax(x, -1, keepdim=True), [X]),
    "x.amax(dim=(0, 1))": (lambda T, x: x.amax(dim=(0, 1)), [X3]),
    "T.aminmax(x, dim=1)": (lambda T, x: tuple(T.aminmax(x, dim=1)), [X]),
    "x.max()": (lambda T, x: x.max(), [X]),
    "x.min()": (lambda T, x: x.min(), [X]),
    "x.max(1)": (lambda T, x: x.max(1), [X]),
    "x.max(dim=0)": (lambda T, x: x.max(dim=0), [X]),
    "x.max(1, keepdim=True)": (lambda T, x: x.max(1, keepdim=True), [X]),
    "x.min(-1)": (lambda T, x: x.min(-1), [X]),
    "T.max(x, 1)": (lambda T, x: T.max(x, 1), [X]),
    "T.min(x, dim=0, keepdim=True)": (lambda T, x: T.min(x, dim=0, keepdim=True), [X]),
    "ties x.max(1)": (lambda T, x: x.max(1), [TIES]),
    "ties x.min(0)": (lambda T, x: x.min(0), [TIES]),
    "int x.max(1)": (lambda T, x: x.max(1), [INTS]),
    "x.max(y)": (lambda T, x, y: x.max(y), [X, X[::-1].copy()]),
    "T.max(x, y)": (lambda T, x, y: T.max(x, y), [X, X[::-1].copy()]),
    "T.min(x, y)": (lambda T, x, y: T.min(x, y), [X, X[::-1].copy()]),
    "0-d x.max(0)": (lambda T, x: x.max(0), [np.array(3.0, dtype=np.float32)]),
    "x.argmax()": (lambda T, x: x.argmax(), [X]),
    "x.argmax(1)": (lambda T, x: x.argmax(1), [X]),
    "x.argmax(dim=0, keepdim=True)": (lambda T, x: x.argmax(dim=0, keepdim=True), [X]),
    "x.argmin(1)": (lambda T, x: x.argmin(1), [X]),
    "T.argmax(x)": (lambda T, x: T.argmax(x), [X3]),
    "ties x.argmax(1)": (lambda T, x: x.argmax(1), [TIES]),
    "ties x.argmin()": (lambda T, x: x.argmin(), [TIES]),
    "x.argmax(keepdim=True)": (lambda T, x: x.argmax(keepdim=True), [X]),
    "x.topk(2)": (lambda T, x: x.topk(2), [X]),
    "x.topk(2, dim=0)": (lambda T, x: x.topk(2, dim=0), [X]),
    "x.topk(3, largest=False)": (lambda T, x: x.topk(3, largest=False), [X]),
    "T.topk(x, 1)": (lambda T, x: T.topk(x, 1), [X]),
    "values, indices = x.topk(2)": (lambda T, x: tuple(x.topk(2)), [X]),
    "x.sort()": (lambda T, x: x.sort(), [X]),
    "x.sort(0)": (lambda T, x: x.sort(0), [X]),
    "x.sort(descending=True)": (lambda T, x: x.sort(descending=True), [X]),
    "x.sort(dim=1, stable=True) ties": (lambda T, x: x.sort(dim=1, stable=True), [TIES]),
    "x.sort(1, descending=True, stable=True) ties":
        (lambda T, x: T.sort(x, dim=1, descending=True, stable=True), [TIES]),
    "x.argsort()": (lambda T, x: x.argsort(), [X]),
    "x.argsort(dim=0, descending=True)": (lambda T, x: x.argsort(dim=0, descending=True), [X]),
    "int x.sort()": (lambda T, x: x.sort(stable=True), [INTS]),
    "x.cumsum(0)": (lambda T, x: x.cumsum(0), [X]),
    "x.cumsum(dim=-1)": (lambda T, x: x.cumsum(dim=-1), [X]),
    "T.cumsum(x, 1)": (lambda T, x: T.cumsum(x, 1), [X3]),
    "int32 x.cumsum(0)": (lambda T, x: x.cumsum(0), [INTS.astype(np.int32)]),
    "x.cumsum(1, dtype=float64)": (lambda T, x: x.cumsum(1, dtype=T.float64), [X]),
    "x.cumprod(1)": (lambda T, x: x.cumprod(1), [X]),
    "x.cummax(1)": (lambda T, x: x.cummax(1), [X]),
    "x.cummin(0)": (lambda T, x: x.cummin(0), [X]),
    "x.all()": (lambda T, x: x.all(), [BOOLS]),
    "x.any()": (lambda T, x: x.any(), [BOOLS]),
    "x.all(1)": (lambda T, x: x.all(1), [BOOLS]),
    "x.any(dim=0, keepdim=True)": (lambda T, x: x.any(dim=0, keepdim=True), [BOOLS]),
    "float x.all(0)": (lambda T, x: x.all(0), [ZEROS]),
    "(x > 0).all()": (lambda T, x: (x > 0).all(), [X]),
    "T.any(x > 1, dim=1)": (lambda T, x: T.any(x > 1, dim=1), [X]),
    "uint8 x.all()": (lambda T, x: x.all(), [BOOLS.astype(np.uint8)]),
    "x.median()": (lambda T, x: x.median(), [X]),
    "x.median(1)": (lambda T, x: x.median(1), [X]),
    "x.median(0, keepdim=True)": (lambda T, x: x.median(0, keepdim=True), [X]),
    "even x.median()": (lambda T, x: x.median(), [X[:2]]),
    "x.kthvalue(2, 1)": (lambda T, x: x.kthvalue(2, 1), [X]),
    "T.count_nonzero(x)": (lambda T, x: T.count_nonzero(x), [ZEROS]),
    "x.count_nonzero(dim=0)": (lambda T, x: x.count_nonzero(dim=0), [ZEROS]),
    "T.nansum(x)": (lambda T, x: T.nansum(x), [np.array([1.0, np.nan, 2.0])]),
    "T.nanmean(x)": (lambda T, x: T.nanmean(x), [np.array([1.0, np.nan, 2.0])]),
    "nan x.max()": (lambda T, x: x.max(), [np.array([1.0, np.nan, 2.0], np.float32)]),
    "nan x.argmax()": (lambda T, x: x.argmax(), [np.array([1.0, np.nan, 2.0], np.float32)]),
    "nan x.median()": (lambda T, x: x.median(), [np.array([1.0, np.nan, 2.0], np.float32)]),
    "x.mode(1)": (lambda T, x: x.mode(1), [np.array([[1.0, 2, 2, 3, 3], [0, 0, 1, 1, 5]])]),
    "int x.mode(0)": (lambda T, x: x.mode(0), [INTS]),
    "T.nanmedian(x)": (lambda T, x: T.nanmedian(x), [np.array([1.0, np.nan, 2.0, 5.0])]),
    "x.nanmedian(1)": (lambda T, x: x.nanmedian(1),
                       [np.array([[1.0, np.nan, 2.0], [4.0, 0.0, 3.0]])]),
    "x.msort()": (lambda T, x: x.msort(), [X]),
    "T.fmax(x, y)": (lambda T, x, y: T.fmax(x, y), [np.array([1.0, np.nan, 2.0]),
                                                   np.array([np.nan, 3.0, 1.0])]),
    "x.sum() of 0-d": (lambda T, x: x.sum(), [np.array(2.5, np.float32)]),
    "x.sum(0) of 0-d": (lambda T, x: x.sum(0), [np.array(2.5, np.float32)]),
    "x.softmax(1)": (lambda T, x: x.softmax(1), [X]),
    "x.log_softmax(dim=-1)": (lambda T, x: x.log_softmax(dim=-1), [X]),
    "T.softmax(x, 0)": (lambda T, x: T.softmax(x, 0), [X]),
}


@pytest.mark.parametrize("idiom", list(VALUE_CASES))
def test_reduction_values(idiom):
    fn, arrays = VALUE_CASES[idiom]
    check(fn, arrays)


GRAD_CASES = {
    "x.sum(1)": (lambda T, x: x.sum(1), [X]),
    "x.sum(dim=(0, 2), keepdim=True)": (lambda T, x: x.sum(dim=(0, 2), keepdim=True), [X3]),
    "x.mean(0)": (lambda T, x: x.mean(0), [X]),
    "x.var()": (lambda T, x: x.var(), [X]),
    "x.var(1, unbiased=False)": (lambda T, x: x.var(1, unbiased=False), [X]),
    "x.std(0)": (lambda T, x: x.std(0), [X]),
    "x.std(dim=1, keepdim=True)": (lambda T, x: x.std(dim=1, keepdim=True), [X]),
    "x.norm()": (lambda T, x: x.norm(), [X]),
    "x.norm(dim=1)": (lambda T, x: x.norm(dim=1), [X]),
    "x.norm(p=1, dim=0)": (lambda T, x: x.norm(p=1, dim=0), [X]),
    "x.norm(p=inf) ties": (lambda T, x: x.norm(p=float("inf")), [TIES]),
    "x.norm(3)": (lambda T, x: x.norm(3), [X]),
    "x.prod(1) with zeros": (lambda T, x: x.prod(1), [ZEROS]),
    "x.prod() ": (lambda T, x: x.prod(), [X]),
    "T.logsumexp(x, 1)": (lambda T, x: T.logsumexp(x, 1), [X]),
    "x.amax(1) ties": (lambda T, x: x.amax(1), [TIES]),
    "x.amin(0) ties": (lambda T, x: x.amin(0), [TIES]),
    "x.max() ties": (lambda T, x: x.max(), [TIES]),
    "x.max(1).values ties": (lambda T, x: x.max(1), [TIES]),
    "x.min(0, keepdim=True).values ties": (lambda T, x: x.min(0, keepdim=True), [TIES]),
    "x.max(y) ties": (lambda T, x, y: x.max(y), [TIES, TIES[:, ::-1].copy()]),
    "x.topk(2).values": (lambda T, x: x.topk(2), [X]),
    "x.sort(0).values": (lambda T, x: x.sort(0), [X]),
    "x.sort(descending=True).values": (lambda T, x: x.sort(descending=True), [X]),
    "x.cumsum(1)": (lambda T, x: x.cumsum(1), [X]),
    "x.cumprod(1)": (lambda T, x: x.cumprod(1), [X]),
    "x.cumprod(1) with zeros": (lambda T, x: x.cumprod(1), [ZEROS]),
    "x.cummax(1).values": (lambda T, x: x.cummax(1), [X]),
    "x.median(1).values": (lambda T, x: x.median(1), [X]),
    "x.median() ties": (lambda T, x: x.median(), [np.array([3.0, 1.0, 2.0, 2.0])]),
    "x.kthvalue(2, 0).values": (lambda T, x: x.kthvalue(2, 0), [X]),
    "x.softmax(1)": (lambda T, x: x.softmax(1), [X]),
    "x.log_softmax(0)": (lambda T, x: x.log_softmax(0), [X]),
}


@pytest.mark.parametrize("idiom", list(GRAD_CASES))
def test_reduction_gradients(idiom):
    fn, arrays = GRAD_CASES[idiom]
    check(fn, arrays, grad=True, rtol=1e-7, atol=1e-9)


def test_max_dim_unpacks_into_values_and_indices():
    """Issue 14's silent case: ``values, idx = out.max(1)`` took the rows apart."""
    out = np.array([[0.1, 0.7, 0.2], [0.5, 0.3, 0.2]], dtype=np.float32)
    values, idx = gn.tensor(out).max(1)
    tv, ti = torch.tensor(out).max(1)
    assert_same(values, tv)
    assert_same(idx, ti)
    r = gn.tensor(out).max(dim=1)
    assert_same(r.values, torch.tensor(out).max(dim=1).values)
    assert_same(r.indices, torch.tensor(out).max(dim=1).indices)
    assert type(r).__name__ == "max" and isinstance(r, tuple) and len(r) == 2
    pred = gn.tensor(out).argmax(dim=1)
    assert (pred == gn.tensor([1, 0])).sum().item() == 2


def test_accuracy_idiom():
    """``_, predicted = torch.max(outputs.data, 1); correct += (predicted == labels).sum()
    .item()``, the tutorials' accuracy line."""
    out = R.standard_normal((8, 5)).astype(np.float32)
    labels = R.integers(0, 5, 8)
    _, pg = gn.max(gn.tensor(out).data, 1)
    _, pt = torch.max(torch.tensor(out).data, 1)
    cg = (pg == gn.tensor(labels)).sum().item()
    ct = (pt == torch.tensor(labels)).sum().item()
    assert_same(cg, ct)


@pytest.mark.parametrize("idiom", ["int mean", "int var", "int std", "dim out of range",
                                   "max keepdim without dim", "topk k too large"])
def test_reduction_errors_where_torch_raises(idiom):
    fn = {
        "int mean": lambda T: T.tensor([1, 2]).mean(),
        "int var": lambda T: T.tensor([1, 2]).var(),
        "int std": lambda T: T.tensor([1, 2]).std(),
        "dim out of range": lambda T: T.ones(2, 3).sum(2),
        "max keepdim without dim": lambda T: T.ones(2, 3).max(keepdim=True),
        "topk k too large": lambda T: T.ones(2, 3).topk(4),
    }[idiom]
    with pytest.raises(Exception):
        fn(torch)
    with pytest.raises((ValueError, TypeError, IndexError)):
        fn(gn)


def test_var_single_element_is_nan_like_torch():
    with pytest.warns(UserWarning):
        g = gn.tensor([1.0]).var()
    with pytest.warns(UserWarning):
        t = torch.tensor([1.0]).var()
    assert_same(g, t)
