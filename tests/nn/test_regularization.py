"""Weight penalties (L1, L2, elastic), activity regularization, and their use in training
(the gradient checks of the penalty Functions are in tests/functional/test_penalties.py)."""
from __future__ import annotations

import numpy as np
import pytest

import glassnet as gn
from glassnet import nn, optim

R = np.random.default_rng(3)


def _model():
    gn.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 5), nn.BatchNorm1d(5), nn.ReLU(), nn.Linear(5, 2))


def test_penalties_equal_hand_sums_and_exclude_biases():
    m = _model()
    w1, w2 = m[0].weight.numpy(), m[3].weight.numpy()
    everything = [p.numpy() for p in m.parameters()]
    l1 = nn.l1_penalty(m, 0.1)
    l2 = nn.l2_penalty(m, 0.01)
    assert l1.shape == () and l2.shape == ()
    assert l1.item() == pytest.approx(0.1 * (np.abs(w1).sum() + np.abs(w2).sum()), rel=1e-5)
    assert l2.item() == pytest.approx(0.01 * ((w1 ** 2).sum() + (w2 ** 2).sum()), rel=1e-5)
    # with biases: every parameter, BatchNorm's 1-D weight and bias included
    assert nn.l2_penalty(m, 0.01, include_bias=True).item() == pytest.approx(
        0.01 * sum((p.astype(np.float64) ** 2).sum() for p in everything), rel=1e-5)
    names = [n for n, _ in m.named_parameters()]
    assert "1.weight" in names  # the 1-D BatchNorm scale is treated as a bias
    assert len(nn.penalized_parameters(m)) == 2


def test_penalty_gradients():
    m = _model()
    (nn.l2_penalty(m, 0.5) + nn.l1_penalty(m, 0.25)).backward()
    w = m[0].weight.numpy()
    np.testing.assert_allclose(m[0].weight.grad.numpy(), 2 * 0.5 * w + 0.25 * np.sign(w),
                               rtol=1e-6)
    assert m[0].bias.grad is None and m[1].weight.grad is None


def test_weight_penalty_callable_matches_parts():
    m = _model()
    pen = nn.WeightPenalty(l1=0.1, l2=0.01)
    want = nn.l1_penalty(m, 0.1).item() + nn.l2_penalty(m, 0.01).item()
    assert pen(m).item() == pytest.approx(want, rel=1e-6)
    assert nn.WeightPenalty()(m).item() == 0.0
    assert "l2=0.01" in repr(pen)
    with pytest.raises(ValueError, match="WeightPenalty: l2 must be a non-negative number"):
        nn.WeightPenalty(l2=-1.0)
    with pytest.raises(TypeError, match="must be a glassnet.nn.Module"):
        nn.l2_penalty([np.zeros(3)], 0.1)


def test_activity_regularization_records_and_sums():
    gn.manual_seed(0)
    m = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.ActivityRegularization(l1=0.1, l2=0.2),
                      nn.Linear(4, 4), nn.ActivityRegularization(l2=0.05))
    x = R.standard_normal((6, 3)).astype(np.float32)
    out = m(x)
    h = np.tanh(x @ m[0].weight.numpy().T + m[0].bias.numpy())
    want = (0.1 * np.abs(h).sum() + 0.2 * (h ** 2).sum()) / 6 + 0.05 * (out.numpy() ** 2).sum() / 6
    pen = nn.activity_penalty(m)
    assert pen.item() == pytest.approx(want, rel=1e-5)
    np.testing.assert_array_equal(m[2](gn.Tensor(h)).numpy(), h)  # identity forward
    # the penalty backpropagates into the layers below it
    m(x)
    nn.activity_penalty(m).backward()
    assert np.any(m[0].weight.grad.numpy() != 0)
    assert nn.activity_penalty(nn.Sequential(nn.Linear(2, 2))).item() == 0.0


def test_trainer_regularizers_shrink_weights():
    Trainer = pytest.importorskip("glassnet.training").Trainer
    X = R.standard_normal((64, 5)).astype(np.float32)
    y = (X @ R.standard_normal((5, 1))).astype(np.float32)
    norms = []
    for regs in (None, [nn.WeightPenalty(l2=0.5), nn.activity_penalty]):
        gn.manual_seed(0)
        m = nn.Sequential(nn.Linear(5, 8), nn.ActivityRegularization(l1=1e-3), nn.Linear(8, 1))
        t = Trainer(m, nn.MSELoss(), optim.SGD(m.parameters(), lr=0.05), regularizers=regs)
        t.fit((X, y), epochs=5, batch_size=16, verbose=0)
        norms.append(float(np.sum(m[0].weight.numpy() ** 2)))
    assert norms[1] < 0.8 * norms[0]
