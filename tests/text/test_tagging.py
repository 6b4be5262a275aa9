"""text.tagging: the padded sequence loss (both layouts, lengths, masks, PyTorch parity),
token accuracy and F1 with padding left out, and a BiLSTM tagger learning a synthetic task
whose labels need the words on both sides."""
import numpy as np
import pytest

import glassnet as gn
from glassnet.errors import ArgumentError
from glassnet.text import (SequenceTagger, sequence_cross_entropy, sequence_mask,
                           token_accuracy, token_f1)

pytestmark = pytest.mark.usefixtures("one_blas_thread")


def _batch(rng, N=3, T=5, C=4):
    z = rng.standard_normal((N, T, C))
    y = rng.integers(0, C, (N, T))
    lengths = np.array([5, 2, 3])
    return z, y, lengths


def test_loss_over_real_tokens_in_both_layouts():
    rng = np.random.default_rng(0)
    z, y, n = _batch(rng)
    valid = sequence_mask(n, 5)
    logp = z - np.log(np.exp(z).sum(-1, keepdims=True))
    per = -np.take_along_axis(logp, y[..., None], -1)[..., 0]
    want = per[valid].mean()
    ntc = gn.tensor(z, requires_grad=True)
    loss = sequence_cross_entropy(ntc, y, lengths=n)
    assert float(loss.item()) == pytest.approx(want, rel=1e-10)
    loss.backward()
    assert np.all(ntc.grad.numpy()[~valid] == 0) and np.abs(ntc.grad.numpy()[valid]).sum() > 0
    nct = gn.tensor(z.transpose(0, 2, 1), requires_grad=True)
    loss2 = sequence_cross_entropy(nct, y, lengths=n, layout="NCT")
    loss2.backward()
    assert float(loss2.item()) == pytest.approx(want, rel=1e-10)
    np.testing.assert_allclose(nct.grad.numpy().transpose(0, 2, 1), ntc.grad.numpy(), atol=1e-12)
    # ignore_index in the targets, a mask, sum and none
    y2 = np.where(valid, y, -100)
    assert float(sequence_cross_entropy(gn.tensor(z), y2).item()) == pytest.approx(want)
    assert float(sequence_cross_entropy(gn.tensor(z), y, mask=valid).item()) == pytest.approx(want)
    assert float(sequence_cross_entropy(gn.tensor(z), y, n, reduction="sum").item()) == \
        pytest.approx(per[valid].sum())
    none = sequence_cross_entropy(gn.tensor(z), y, n, reduction="none").numpy()
    np.testing.assert_allclose(none, np.where(valid, per, 0), atol=1e-12)
    with pytest.raises(ArgumentError, match="do not match"):
        sequence_cross_entropy(gn.tensor(z), y[:, :4])
    with pytest.raises(ArgumentError, match="layout"):
        sequence_cross_entropy(gn.tensor(z), y, layout="TNC")


def test_loss_matches_pytorch_cross_entropy_on_nct(torch):
    rng = np.random.default_rng(1)
    z, y, n = _batch(rng)
    y = np.where(sequence_mask(n, 5), y, -100)
    zt = torch.tensor(z.transpose(0, 2, 1), dtype=torch.float32, requires_grad=True)
    ref = torch.nn.CrossEntropyLoss(ignore_index=-100)(zt, torch.tensor(y))
    ref.backward()
    mine = gn.tensor(z.transpose(0, 2, 1).astype(np.float32), requires_grad=True)
    out = sequence_cross_entropy(mine, y, layout="NCT")
    out.backward()
    assert abs(float(out.item()) - ref.item()) < 1e-5
    np.testing.assert_allclose(mine.grad.numpy(), zt.grad.numpy(), atol=1e-6)


def test_token_accuracy_and_f1_leave_padding_out():
    pred = np.array([[1, 0, 2, 2, 9], [0, 1, 9, 9, 9]])
    true = np.array([[1, 0, 2, 0, 1], [0, 2, 0, 0, 0]])
    n = [4, 2]
    assert token_accuracy(pred, true, lengths=n) == pytest.approx(4 / 6)
    # classes 1, 2 over the 6 real tokens: TP = 2 (1, 2), FP = 2 (2 at t=3, 1 at t=1),
    # FN = 1 (2 at t=1)
    assert token_f1(pred, true, lengths=n, labels=[1, 2]) == pytest.approx(4 / 7)
    per = token_f1(pred, true, lengths=n, labels=[1, 2], average=None)
    np.testing.assert_allclose(per, [2 / 3, 2 / 4])   # class 1: 2/(2+1), class 2: 2/(2+1+1)
    assert token_f1(pred, true, lengths=n, labels=[1, 2], average="macro") == \
        pytest.approx(per.mean())
    logits = np.eye(10)[pred]                      # one-hot "logits" (N, T, C)
    assert token_accuracy(logits, true, lengths=n) == pytest.approx(4 / 6)
    sk = pytest.importorskip("sklearn.metrics")
    m = sequence_mask(n, 5)
    assert token_f1(pred, true, lengths=n, average="macro") == pytest.approx(
        sk.f1_score(true[m], pred[m], average="macro", zero_division=0))
    with pytest.raises(ArgumentError, match="no token counts"):
        token_accuracy(pred, true, lengths=[0, 0])


def _task(rng, n):
    """Tokens 3..12 (1 = "said", 2 = "mr"); label 1 before a "said" (needs the right
    context), 2 after a "mr" (the left context), else 0; lengths 3..9, padded with 0."""
    T = 9
    lengths = rng.integers(3, T + 1, n)
    ids = rng.integers(3, 13, (n, T))
    special = rng.random((n, T))
    ids = np.where(special < 0.15, 1, np.where(special < 0.3, 2, ids))
    valid = sequence_mask(lengths, T)
    ids = np.where(valid, ids, 0)
    tags = np.zeros((n, T), dtype=np.int64)
    tags[:, :-1] = np.where(ids[:, 1:] == 1, 1, 0)
    tags[:, 1:] = np.where(ids[:, :-1] == 2, 2, tags[:, 1:])
    tags = np.where(valid, tags, -100)
    return ids, tags, lengths


def test_bidirectional_tagger_learns_labels_that_need_both_sides():
    rng = np.random.default_rng(0)
    X, Y, n = _task(rng, 600)
    Xv, Yv, nv = _task(rng, 300)
    scores = {}
    for bi in (True, False):
        gn.manual_seed(0)
        tagger = SequenceTagger(13, 3, embedding_dim=12, hidden_size=16, bidirectional=bi)
        hist = tagger.fit(X, Y, n, epochs=8, batch_size=32, lr=2e-2, validation=(Xv, Yv, nv))
        pred = tagger.predict(Xv, nv)
        assert np.all(pred[~sequence_mask(nv, 9)] == -1)
        scores[bi] = (token_accuracy(pred, Yv, lengths=nv),
                      token_f1(pred, Yv, lengths=nv, labels=[1, 2]), hist)
    acc, f1, hist = scores[True]
    assert acc > 0.97 and f1 > 0.95
    assert hist["loss"][-1] < 0.3 * hist["loss"][0]
    # one direction cannot see the "said" to the right: label 1 is guesswork
    assert scores[False][1] < f1 - 0.15
