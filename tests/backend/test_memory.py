"""The scratch-buffer pool (backend.memory): buffers are reused, and a buffer that is out is
never handed out a second time."""
from __future__ import annotations

import threading

import numpy as np

import glassnet as gn
from glassnet import backend, nn
from glassnet.backend.memory import ScratchPool


def test_a_given_buffer_is_reused_for_the_same_key_only():
    pool = ScratchPool()
    a = pool.take("cols", (4, 5), np.float32)
    assert a.shape == (4, 5) and a.dtype == np.float32 and a.flags.c_contiguous
    pool.give("cols", a)
    assert pool.take("cols", (4, 5), np.float32) is a
    pool.give("cols", a)
    assert pool.take("cols", (4, 5), np.float64) is not a
    assert pool.take("cols", (5, 4), np.float32) is not a
    assert pool.take("y", (4, 5), np.float32) is not a
    assert pool.take("cols", (4, 5), "float32") is a


def test_a_buffer_that_is_out_is_never_handed_out_twice():
    pool = ScratchPool()
    a, b = pool.take("t", (3,), np.float32), pool.take("t", (3,), np.float32)
    assert a is not b and not np.shares_memory(a, b)
    pool.give("t", a)
    pool.give("t", a)                       # given twice
    pool.give("t", a.reshape(1, 3)[0])      # and once more through another view
    first, second = pool.take("t", (3,), np.float32), pool.take("t", (3,), np.float32)
    assert first is a and not np.shares_memory(first, second)


def test_zeroed_buffers_and_the_limit_per_key():
    pool = ScratchPool(max_per_key=2)
    a = pool.take("z", (4,), np.float64)
    a[:] = 7
    pool.give("z", a)
    assert pool.take("z", (4,), np.float64, zero=True).tolist() == [0.0] * 4
    bufs = [pool.take("z", (4,), np.float64) for _ in range(3)]
    for x in bufs:
        pool.give("z", x)
    assert len(pool.free[("z", (4,), np.dtype(np.float64).str)]) == 2
    pool.give("z", None)                    # ignored


def test_concurrent_takes_get_distinct_buffers():
    pool = ScratchPool(max_per_key=64)
    for x in [np.empty(8) for _ in range(64)]:
        pool.give("k", x)
    got, lock = [], threading.Lock()

    def worker():
        mine = [pool.take("k", (8,), np.float64) for _ in range(16)]
        with lock:
            got.extend(mine)
    ts = [threading.Thread(target=worker) for _ in range(8)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert len({id(a) for a in got}) == len(got) == 128


def test_two_pending_convolutions_do_not_share_their_buffers():
    # Both layers wait for backward at once: their saved column matrices must differ, and
    # the gradient equals that of each layer run alone.
    gn.manual_seed(0)
    convs = nn.Conv2d(2, 3, 3, padding=1), nn.Conv2d(2, 3, 3, padding=1)
    xa = np.random.default_rng(0).standard_normal((4, 2, 6, 6))

    def grad(layers, weights):
        x = gn.tensor(xa, requires_grad=True)
        ys = [c(x) for c in layers]
        if len(ys) == 2:
            assert not np.shares_memory(ys[0].grad_fn.cols, ys[1].grad_fn.cols)
        sum((y * k).sum() for y, k in zip(ys, weights)).backward()
        return x.grad.numpy()
    alone = grad(convs[:1], [1.0]) + grad(convs[1:], [2.0])
    np.testing.assert_allclose(grad(convs, [1.0, 2.0]), alone, rtol=1e-5, atol=1e-5)
    assert backend.take_scratch == backend.memory.scratch.take
