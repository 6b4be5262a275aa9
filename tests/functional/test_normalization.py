"""functional.normalization: batch norm and layer norm, float64 gradient checks and batch
norm's closed-form backward."""
from __future__ import annotations

import numpy as np
import pytest

import glassnet as gn
from glassnet.autograd import gradcheck
from glassnet.functional import normalization as FN


R = np.random.default_rng(0)


def rnd(*shape):
    return R.standard_normal(shape)


@pytest.mark.parametrize("training", [True, False])
def test_gradcheck_batch_norm(training):
    # eps=1e-5: the input gradients of batch norm sum to zero per channel, so some are
    # ~1e-6, and the central difference's rounding noise (~1e-14 / (2 eps), 5e-9 at the
    # default eps=1e-6) sits right at gradcheck's atol of 1e-8; at 1e-5 it is 10x smaller
    x, g, b = rnd(4, 3, 3, 2), rnd(3), rnd(3)
    rm, rv = rnd(3), np.abs(rnd(3)) + 0.5
    gradcheck(lambda x, g, b: FN.batch_norm(x, None if training else rm, None if training else rv,
                                            g, b, training=training), [x, g, b], eps=1e-5)
    gradcheck(lambda x: FN.batch_norm(x, training=True), [rnd(5, 4)], eps=1e-5)


def test_batch_norm_backward_equals_closed_form():
    # dx = gamma / sigma (g - mean(g) - x_hat mean(g x_hat)), dgamma = sum(g x_hat),
    # dbeta = sum(g), over every axis but 1, to float64 rounding
    x, gamma, beta, g = rnd(6, 3, 4, 5) * 2 + 1, rnd(3), rnd(3), rnd(6, 3, 4, 5)
    tx, tg, tb = (gn.tensor(a, requires_grad=True, dtype=np.float64) for a in (x, gamma, beta))
    FN.batch_norm(tx, None, None, tg, tb, training=True).backward(g)
    ax = (0, 2, 3)
    sigma = np.sqrt(x.var(ax, keepdims=True) + 1e-5)
    xh = (x - x.mean(ax, keepdims=True)) / sigma
    dx = gamma.reshape(1, 3, 1, 1) / sigma * (g - g.mean(ax, keepdims=True)
                                              - xh * (g * xh).mean(ax, keepdims=True))
    np.testing.assert_allclose(tx.grad.numpy(), dx, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(tg.grad.numpy(), (g * xh).sum(ax), rtol=1e-10)
    np.testing.assert_allclose(tb.grad.numpy(), g.sum(ax), rtol=1e-10)


def test_gradcheck_layer_norm():
    gradcheck(lambda x, g, b: FN.layer_norm(x, 4, g, b), [rnd(3, 4), rnd(4), rnd(4)])


def _many_blocks(monkeypatch, elements=64):
    """Blocks of a few values, so that small test inputs span many blocks (the sums are
    reduced block by block, the blocks spread over the threads)."""
    monkeypatch.setattr(FN, "_BLOCK_ELEMENTS", elements)


@pytest.mark.parametrize("training", [True, False])
def test_gradcheck_batch_norm_over_many_blocks(monkeypatch, training):
    _many_blocks(monkeypatch)
    x, g, b = rnd(9, 3, 2, 3) * 3 + 2, rnd(3), rnd(3)
    rm, rv = rnd(3), np.abs(rnd(3)) + 0.5
    assert FN._blocks(x.reshape(9, 3, -1))[1] > 1
    gradcheck(lambda x, g, b: FN.batch_norm(x, None if training else rm, None if training else rv,
                                            g, b, training=training), [x, g, b], eps=1e-5)


def test_batch_norm_closed_form_over_many_blocks_and_threads(monkeypatch):
    """The blocked sums give the textbook statistics and gradients, and the same bits for
    one thread and three (each block's sum has its own row, added in block order)."""
    _many_blocks(monkeypatch)
    x = (rnd(64, 4, 600) * 2 + 3).astype(np.float32)  # above PARALLEL_MIN_ELEMENTS: threaded
    gamma, beta, g = rnd(4).astype(np.float32), rnd(4).astype(np.float32), rnd(64, 4, 600)
    outs = []
    for n in (1, 3):
        gn.set_num_threads(n)
        try:
            tx = gn.tensor(x, requires_grad=True)
            tg, tb = gn.tensor(gamma, requires_grad=True), gn.tensor(beta, requires_grad=True)
            rm, rv = np.zeros(4, np.float32), np.ones(4, np.float32)
            y = FN.batch_norm(tx, rm, rv, tg, tb, training=True, momentum=0.5)
            y.backward(g.astype(np.float32))
            outs.append([y.numpy(), tx.grad.numpy(), tg.grad.numpy(), tb.grad.numpy(), rm, rv])
        finally:
            gn.set_num_threads(gn.backend.config.cpu_threads())
    assert x.size * 2 >= gn.backend.PARALLEL_MIN_ELEMENTS
    for a, b in zip(*outs):
        np.testing.assert_array_equal(a, b)
    x64 = x.astype(np.float64)
    mu, var = x64.mean((0, 2)), x64.var((0, 2))
    xh = (x64 - mu[None, :, None]) / np.sqrt(var[None, :, None] + 1e-5)
    y, dx, dgamma, dbeta, rm, rv = outs[0]
    np.testing.assert_allclose(y, gamma[None, :, None] * xh + beta[None, :, None], atol=2e-5)
    np.testing.assert_allclose(dgamma, (g * xh).sum((0, 2)), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(dbeta, g.sum((0, 2)), rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(rm, 0.5 * mu, rtol=1e-5)
    np.testing.assert_allclose(rv, 0.5 + 0.5 * var * 38400 / 38399, rtol=1e-5)
