"""glassnet.models.transfer (freeze, new head) and glassnet.models.fewshot (prototypical
networks), and, in a few seconds, the must-show in small: with 1 and 5 labels per class,
a network pre-trained on related classes beats the same network trained from scratch."""
from __future__ import annotations

import copy

import numpy as np
import pytest

import glassnet as gn
from glassnet import nn, optim
from glassnet.autograd import gradcheck
from glassnet.errors import ArgumentError
from glassnet.models import (PrototypicalNetwork, freeze, replace_head, set_submodule,
                             trainable_parameters)
from glassnet.models.fewshot import prototypes, squared_distances
from glassnet.models.transfer import find_head
from glassnet.training import Trainer


# ------------------------------------------------------------------ transfer helpers
def test_find_and_replace_the_head():
    gn.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Sequential(nn.Linear(8, 8), nn.ReLU(),
                                                                  nn.Linear(8, 3)))
    assert find_head(net) == "2.2"
    old = replace_head(net, nn.Linear(8, 5))
    assert old.out_features == 3 and net[2][2].out_features == 5
    assert net(gn.zeros(2, 4)).shape == (2, 5)
    assert [n for n, _ in net.named_parameters()][-2:] == ["2.2.weight", "2.2.bias"]
    prev = set_submodule(net, "1", nn.Tanh())
    assert isinstance(prev, nn.ReLU) and isinstance(net[1], nn.Tanh)
    with pytest.raises(AttributeError, match="no child module '7'"):
        set_submodule(net, "2.7", nn.ReLU(), strict=True)
    assert set_submodule(net, "2.extra", nn.ReLU()) is None      # PyTorch: added
    assert isinstance(net[2].extra, nn.ReLU)
    with pytest.raises(ValueError, match="target"):
        set_submodule(net, "", nn.ReLU())
    with pytest.raises(ValueError, match="nn.Module"):
        set_submodule(net, "1", "relu")
    with pytest.raises(ArgumentError, match="no Linear"):
        find_head(nn.Sequential(nn.ReLU()))
    with pytest.raises(TypeError, match="list of module paths"):
        freeze(net, except_="2")


def test_frozen_parameters_do_not_move():
    gn.manual_seed(1)
    net = nn.Sequential(nn.Linear(3, 6), nn.ReLU(), nn.Linear(6, 2))
    freeze(net, except_=["2"])
    assert [p.requires_grad for p in net.parameters()] == [False, False, True, True]
    assert len(trainable_parameters(net)) == 2
    before = [p.numpy().copy() for p in net.parameters()]
    X = np.random.default_rng(0).normal(size=(32, 3)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    Trainer(net, "cross_entropy", optim.Adam(trainable_parameters(net), lr=0.1)).fit(
        X, y, epochs=3, batch_size=8, verbose=0)
    after = [p.numpy() for p in net.parameters()]
    assert np.array_equal(before[0], after[0]) and np.array_equal(before[1], after[1])
    assert not np.array_equal(before[2], after[2])
    net.requires_grad_(True)
    assert len(trainable_parameters(net)) == 4


# ------------------------------------------------------------------ prototypes
def test_prototypes_and_distances():
    rng = np.random.default_rng(0)
    E = rng.normal(size=(7, 3))
    lab = np.array([0, 1, 2, 0, 1, 2, 2])
    P = prototypes(gn.tensor(E), lab, 3).numpy()
    assert np.allclose(P, [E[lab == k].mean(0) for k in range(3)])
    D = squared_distances(gn.tensor(E), gn.tensor(P)).numpy()
    assert np.allclose(D, ((E[:, None] - P[None]) ** 2).sum(-1))
    gradcheck(lambda e, c: squared_distances(e, c), [E, P])
    gradcheck(lambda e: prototypes(e, lab, 3), [E])
    with pytest.raises(ArgumentError, match="cover every class"):
        prototypes(gn.tensor(E), lab, 4)


def test_identity_encoder_is_the_nearest_class_mean():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(30, 4))
    y = np.repeat(["cat", "dog", "emu"], 10)
    X[y == "dog"] += 3
    proto = PrototypicalNetwork(nn.Identity()).fit(X, y)
    means = np.stack([X[y == c].mean(0) for c in ["cat", "dog", "emu"]])
    assert np.allclose(proto.prototypes_, means)
    Q = rng.normal(size=(12, 4)) * 2
    d2 = ((Q[:, None] - means[None]) ** 2).sum(-1)
    assert proto.predict(Q).tolist() == np.array(["cat", "dog", "emu"])[d2.argmin(1)].tolist()
    P = proto.predict_proba(Q)
    soft = np.exp(-d2 - (-d2).max(1, keepdims=True))
    assert np.allclose(P, soft / soft.sum(1, keepdims=True))
    assert np.allclose(proto(gn.tensor(Q)).numpy(), -d2)
    with pytest.raises(ArgumentError, match="call fit"):
        PrototypicalNetwork(nn.Identity()).predict(Q)


def _subspace_tasks(seed=0, d=100, r=4):
    """Classes that differ only in an r-dimensional subspace of d noisy dimensions:
    10 source classes to pre-train on, 5 new target classes sharing the subspace."""
    rng = np.random.default_rng(seed)
    U = np.linalg.qr(rng.normal(size=(d, r)))[0]

    def sample(centres, n):
        y = np.repeat(np.arange(len(centres)), n)
        z = centres[y] + 0.5 * rng.normal(size=(len(y), r))
        return (z @ U.T + rng.normal(size=(len(y), d))).astype(np.float32), y

    source, target = 2.0 * rng.normal(size=(10, r)), 2.0 * rng.normal(size=(5, r))
    return sample(source, 100), sample(target, 50), sample(target, 200)


def test_episodic_training_learns_an_embedding():
    (Xs, ys), (Xp, yp), (Xq, yq) = _subspace_tasks(seed=1)
    gn.manual_seed(0)
    proto = PrototypicalNetwork(nn.Linear(100, 8))
    support = np.concatenate([np.flatnonzero(yp == c)[:3] for c in range(5)])
    before = proto.fit(Xp[support], yp[support]).score(Xq, yq)
    losses = proto.train_episodes(Xs, ys, episodes=150, n_way=5, k_shot=3, n_query=5,
                                  lr=1e-2, seed=0)
    assert np.mean(losses[-30:]) < 0.8 * np.mean(losses[:30])
    after = proto.fit(Xp[support], yp[support]).score(Xq, yq)     # new classes, 3 shots
    assert after > before + 0.1, (before, after)
    assert proto.training                                           # mode put back
    with pytest.raises(ArgumentError, match="n_way"):
        proto.train_episodes(Xs, ys, n_way=11)
    with pytest.raises(ArgumentError, match="k_shot \\+ n_query"):
        proto.train_episodes(Xs, ys, k_shot=60, n_query=60)


def test_pretraining_helps_with_one_and_five_labels_per_class():
    (Xs, ys), (Xp, yp), (Xq, yq) = _subspace_tasks(seed=0)

    def net(seed, n_out):
        gn.manual_seed(seed)
        return nn.Sequential(nn.Linear(100, 16), nn.ReLU(), nn.Linear(16, n_out))

    pre = net(0, 10)
    Trainer(pre, "cross_entropy", "adam", lr=1e-2).fit(Xs, ys, epochs=20, batch_size=100,
                                                       verbose=0, seed=0)
    for k in (1, 5):
        transfer, scratch, proto = [], [], []
        for seed in range(5):
            rng = np.random.default_rng(seed)
            idx = np.concatenate([rng.choice(np.flatnonzero(yp == c), k, replace=False)
                                  for c in range(5)])
            model = copy.deepcopy(pre)
            gn.manual_seed(seed)
            replace_head(model, nn.Linear(16, 5))
            freeze(model, except_=["2"])
            Trainer(model, "cross_entropy", optim.Adam(trainable_parameters(model), lr=1e-2)) \
                .fit(Xp[idx], yp[idx], epochs=100, batch_size=None, verbose=0)
            transfer.append(np.mean(Trainer(model, "cross_entropy").predict(Xq).argmax(1) == yq))
            fresh = net(100 + seed, 5)
            Trainer(fresh, "cross_entropy", "adam", lr=1e-2).fit(Xp[idx], yp[idx], epochs=100,
                                                                 batch_size=None, verbose=0)
            scratch.append(np.mean(Trainer(fresh, "cross_entropy").predict(Xq).argmax(1) == yq))
            encoder = copy.deepcopy(pre)
            replace_head(encoder, nn.Identity())
            proto.append(PrototypicalNetwork(encoder).fit(Xp[idx], yp[idx]).score(Xq, yq))
        assert np.mean(transfer) > np.mean(scratch) + 0.05, (k, transfer, scratch)
        assert np.mean(proto) > np.mean(scratch) + 0.05, (k, proto, scratch)
