"""backend.elementwise and backend.copy: one ufunc call (or copy) split over the batch axis
gives the same bits as the plain call, for any number of threads."""
from __future__ import annotations

import threading

import numpy as np
import pytest

from glassnet import backend


@pytest.fixture
def threads(monkeypatch):
    monkeypatch.setattr(backend.threads, "PARALLEL_MIN_ELEMENTS", 1)   # split even small arrays
    monkeypatch.setattr(backend.threads, "ELEMENTWISE_MIN_ELEMENTS", 1)
    prev = backend.get_num_threads()
    yield backend.set_num_threads
    backend.set_num_threads(prev)


rng = np.random.default_rng(0)
Z = rng.standard_normal((7, 3, 5, 4)).astype(np.float32)
G = rng.standard_normal((7, 3, 5, 4)).astype(np.float32)
CASES = [
    (np.maximum, (Z, 0)),                               # relu
    (np.greater, (Z, 0)),                               # its mask (bool out)
    (np.multiply, (G, Z > 0)),                          # relu backward
    (np.add, (Z, rng.standard_normal((1, 3, 1, 1)).astype(np.float32))),   # + bias
    (np.add, (Z.transpose(1, 0, 2, 3), Z[:, 0].astype(np.float64))),       # strided, cast
    (np.multiply, (Z, np.float64(2.5))),
    (np.tanh, (Z,)),
]


@pytest.mark.parametrize("ufunc, inputs", CASES)
def test_same_bits_for_one_and_three_threads_and_the_plain_call(threads, ufunc, inputs):
    ref = ufunc(*inputs)
    threads(1)
    one = backend.elementwise(ufunc, *inputs)
    threads(3)
    three = backend.elementwise(ufunc, *inputs)
    for a in (one, three):
        assert a.dtype == ref.dtype and a.shape == ref.shape
        np.testing.assert_array_equal(a, ref)


def test_writes_into_out_and_returns_it(threads):
    threads(3)
    out = np.empty_like(Z)
    assert backend.elementwise(np.maximum, Z, 0, out=out) is out
    np.testing.assert_array_equal(out, np.maximum(Z, 0))
    z = Z.copy()
    backend.elementwise(np.maximum, z, 0, out=z)            # in place
    np.testing.assert_array_equal(z, np.maximum(Z, 0))


def test_large_calls_really_run_on_several_threads(monkeypatch):
    prev = backend.get_num_threads()
    backend.set_num_threads(2)
    seen = set()
    real = backend.threads.parallel_chunks

    def spy(n, fn, work=None):
        def chunk(lo, hi):
            seen.add(threading.get_ident())
            fn(lo, hi)
        real(n, chunk, work)
    monkeypatch.setattr(backend.threads, "parallel_chunks", spy)
    try:
        x = np.ones((64, backend.ELEMENTWISE_MIN_ELEMENTS // 16), np.float32)
        backend.elementwise(np.maximum, x, 0)
        assert len(seen) == 2
        seen.clear()
        backend.elementwise(np.maximum, x[:2, :10], 0)      # small: one plain call
        assert seen == set()
    finally:
        backend.set_num_threads(prev)


def test_non_numpy_and_scalar_inputs_are_plain_calls(threads):
    threads(3)
    assert backend.elementwise(np.maximum, 3.0, 0) == 3.0
    assert backend.elementwise(np.maximum, [-1.0, 2.0], 0).tolist() == [0.0, 2.0]
    assert backend.elementwise(np.maximum, np.float32(-1), 0) == 0


@pytest.mark.parametrize("n", [1, 3])
def test_copy_into_a_transposed_view(threads, n):
    threads(n)
    dst = np.empty((3, 7, 5, 4), np.float32)
    assert backend.copy(dst.transpose(1, 0, 2, 3), Z).base is dst
    np.testing.assert_array_equal(dst, Z.transpose(1, 0, 2, 3))
    row = np.empty((7, 4))
    backend.copy(row, np.arange(4.0))                      # broadcast source
    np.testing.assert_array_equal(row, np.broadcast_to(np.arange(4.0), (7, 4)))


@pytest.mark.parametrize("n", [1, 3])
def test_several_ufuncs_in_one_pass(threads, n):
    threads(n)
    a, mask = backend.elementwise((np.maximum, np.greater), Z, 0)
    np.testing.assert_array_equal(a, np.maximum(Z, 0))
    assert mask.dtype == bool and np.array_equal(mask, Z > 0)
    outs = np.empty_like(Z), np.empty(Z.shape, bool)
    got = backend.elementwise((np.maximum, np.greater), Z, 0, out=outs)
    assert got[0] is outs[0] and got[1] is outs[1]
    small = backend.elementwise((np.maximum, np.greater), np.float32(-1), 0)
    assert small == (0, False)


@pytest.mark.parametrize("n_threads", [1, 2, 3])
def test_flat_chunks_cover_every_element_once(threads, n_threads, monkeypatch):
    """flat_chunks hands the kernel flat slices that tile the arrays exactly (each element
    once, in chunks on several threads) and runs one call below min_elements."""
    threads(n_threads)
    a = np.arange(7 * 3 * 5, dtype=np.float64).reshape(7, 3, 5)
    out = np.zeros_like(a)
    calls = []

    def kernel(x, y, scale):
        calls.append((x.size, threading.get_ident()))
        y += x * scale                           # += : an element visited twice shows
    backend.flat_chunks(kernel, (a, out), 2.0)
    np.testing.assert_array_equal(out, 2 * a)
    assert len(calls) == n_threads and sum(c[0] for c in calls) == a.size
    assert len({c[1] for c in calls}) == n_threads
    calls.clear()
    out[...] = 0
    backend.flat_chunks(kernel, (a, out), 1.0, min_elements=a.size + 1)
    np.testing.assert_array_equal(out, a)
    assert len(calls) == 1
