"""Loss layers (nn.loss): PyTorch parity of the modules, known values, errors that name the
loss, get_loss by name (the Functions' gradient checks and parity are in
tests/functional/test_losses.py)."""
from __future__ import annotations

import numpy as np
import pytest

import glassnet as gn
from glassnet import functional as F
from glassnet import nn


R = np.random.default_rng(1)


def rnd(*shape):
    return R.standard_normal(shape)


def labels(*shape, c=4):
    return R.integers(0, c, shape)


def test_loss_modules_match_torch_modules(torch):
    x = rnd(6, 4).astype(np.float32)
    y = labels(6)
    t01 = (R.random((6, 4)) > 0.5).astype(np.float32)
    tx = torch.from_numpy(x)
    pairs = [
        (nn.L1Loss(reduction="sum")(x, x * 0.5), torch.nn.L1Loss(reduction="sum")(tx, tx * 0.5)),
        (nn.BCEWithLogitsLoss(pos_weight=[2.0, 1, 1, 3])(x, t01),
         torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor([2.0, 1, 1, 3]))(
             tx, torch.from_numpy(t01))),
        (nn.BCELoss()(1 / (1 + np.exp(-x)), t01),
         torch.nn.BCELoss()(torch.sigmoid(tx), torch.from_numpy(t01))),
        (nn.NLLLoss(weight=[1.0, 2, 3, 4])(x, y),
         torch.nn.NLLLoss(weight=torch.tensor([1.0, 2, 3, 4]))(tx, torch.from_numpy(y))),
        (nn.MultiMarginLoss()(x, y), torch.nn.MultiMarginLoss()(tx, torch.from_numpy(y))),
        (nn.HingeEmbeddingLoss(2.0)(x, np.sign(x)),
         torch.nn.HingeEmbeddingLoss(2.0)(tx, torch.sign(tx))),
        (nn.MarginRankingLoss(0.1)(x[:, 0], x[:, 1], np.ones(6)),
         torch.nn.MarginRankingLoss(0.1)(tx[:, 0], tx[:, 1], torch.ones(6))),
    ]
    for ours, ref in pairs:
        np.testing.assert_allclose(ours.item(), ref.item(), rtol=1e-5)


def test_mse_half_and_known_values():
    y, t = gn.tensor([1.0, 3.0], requires_grad=True), np.array([0.0, 1.0])
    loss = nn.MSELoss(half=True)(y, t)
    assert loss.item() == pytest.approx((1 + 4) / 2 / 2)
    loss.backward()
    np.testing.assert_allclose(y.grad.numpy(), [0.5, 1.0])  # (y - t) / N
    assert nn.MSELoss(reduction="sum")(y, t).item() == pytest.approx(5.0)
    assert nn.L1Loss(reduction="none")(y, t).numpy().tolist() == [1.0, 2.0]


def test_bce_with_logits_multilabel_equals_bce_of_sigmoid():
    x = rnd(8, 5).astype(np.float32)
    t = (R.random((8, 5)) > 0.5).astype(np.float32)
    a = nn.BCEWithLogitsLoss(reduction="none")(x, t).numpy()
    b = nn.BCELoss(reduction="none")(F.sigmoid(gn.Tensor(x)), t).numpy()
    assert a.shape == (8, 5)
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_nll_ignores_and_weighs():
    logp = np.log(np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8], [0.3, 0.3, 0.4]]))
    y = np.array([0, 2, -100])
    out = nn.NLLLoss(weight=[1.0, 1.0, 3.0])(gn.Tensor(logp), y)
    assert out.item() == pytest.approx((-np.log(0.7) - 3 * np.log(0.8)) / 4)
    assert F.nll_loss(gn.Tensor(logp), y, reduction="none").numpy()[2] == 0.0


# --------------------------------------------------------------- validation
def test_shape_and_value_errors_name_the_loss():
    x = gn.randn(4, 1)
    with pytest.raises(ValueError, match=r"binary_cross_entropy_with_logits.*\(4,\).*\(4, 1\)"
                                         r".*reshape"):
        nn.BCEWithLogitsLoss()(x, np.zeros(4))
    # as in torch, the elementwise losses broadcast a target of another shape, with a warning
    with pytest.warns(UserWarning, match="different to the input size"):
        assert nn.L1Loss(reduction="none")(x, np.zeros((4, 2))).shape == (4, 2)
    with pytest.warns(UserWarning, match="different to the input size"):
        assert nn.MSELoss(reduction="none")(x, np.zeros(3)).shape == (4, 3)
    with pytest.raises(ValueError, match=r"binary_cross_entropy: input must hold probabilities"):
        nn.BCELoss()(x * 5, np.zeros((4, 1)))
    with pytest.raises(ValueError, match="nll_loss: target shape"):
        nn.NLLLoss()(gn.randn(4, 3), np.zeros(5, np.int64))
    with pytest.raises(IndexError, match=r"nll_loss: target class out of range \[0, 3\)"):
        nn.NLLLoss()(gn.randn(4, 3), np.array([0, 1, 2, 3]))
    with pytest.raises(TypeError, match="multi_margin_loss: target must hold integer"):
        nn.MultiMarginLoss()(gn.randn(2, 3), np.array([0.5, 1.0]))
    with pytest.raises(ValueError, match="margin_ranking_loss: input1 shape"):
        nn.MarginRankingLoss()(gn.randn(3), gn.randn(4), np.ones(3))
    with pytest.raises(ValueError, match="hinge_embedding_loss: target shape"):
        nn.HingeEmbeddingLoss()(gn.randn(3), np.ones(4))
    with pytest.raises(ValueError, match="L1Loss: reduction must be one of"):
        nn.L1Loss(reduction="avg")
    with pytest.raises(ValueError, match=r"MultiMarginLoss: p must be one of \[1, 2\], got 3"):
        nn.MultiMarginLoss(p=3)


def test_get_loss_names():
    expect = {"mse": nn.MSELoss, "l1": nn.L1Loss, "bce": nn.BCELoss,
              "bce_logits": nn.BCEWithLogitsLoss, "cross_entropy": nn.CrossEntropyLoss,
              "nll": nn.NLLLoss, "hinge": nn.HingeEmbeddingLoss,
              "multi_margin": nn.MultiMarginLoss}
    for name, cls in expect.items():
        assert type(nn.get_loss(name)) is cls
        assert callable(F.get_loss(name))
    assert nn.get_loss("mse", half=True).half is True
    assert nn.get_loss("bce_logits", pos_weight=np.array([2.0])).pos_weight.tolist() == [2.0]
    assert F.get_loss("mse", reduction="sum")(gn.tensor([2.0]), [0.0]).item() == 4.0
    with pytest.raises(ValueError, match="unknown loss 'msee'.*mse"):
        nn.get_loss("msee")
