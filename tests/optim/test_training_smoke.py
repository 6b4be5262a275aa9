"""End to end: DataLoader + nn + an optimizer + a scheduler learn the two-moons problem."""
from __future__ import annotations

import numpy as np
import pytest

import glassnet as gn
from glassnet import data, metrics, nn, optim
from glassnet.functional import cross_entropy, relu


class _Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(2, 32)
        self.fc2 = nn.Linear(32, 2)

    def forward(self, x):
        return self.fc2(relu(self.fc1(x)))


@pytest.mark.parametrize("name,lr", [("adam", 0.02), ("momentum", 0.1), ("rmsprop", 0.01),
                                     ("adamw", 0.02), ("adagrad", 0.1)])
def test_learns_moons(name, lr):
    X, y = data.make_moons(400, noise=0.1, seed=0)
    Xtr, Xva, Xte, ytr, yva, yte = data.train_val_test_split(X, y, 0.1, 0.25, stratify=True)
    scaler = data.StandardScaler().fit(Xtr)
    model = _Net()
    opt = optim.get(name, model.parameters(), lr=lr)
    sched = optim.lr_scheduler.StepLR(opt, step_size=20, gamma=0.5)
    loader = data.DataLoader((scaler.transform(Xtr), ytr), batch_size=32, shuffle=True, seed=0)
    for _ in range(40):
        for xb, yb in loader:
            loss = cross_entropy(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            optim.clip_grad_norm_(model.parameters(), 5.0)
            opt.step()
        sched.step()
    with gn.no_grad():
        scores = model(scaler.transform(Xte)).numpy()
    assert metrics.accuracy(yte, scores) > 0.95
    assert metrics.roc_auc(yte, scores[:, 1] - scores[:, 0]) > 0.98
    assert opt.param_groups[0]["lr"] == pytest.approx(lr * 0.25)
