"""DataLoader, TensorDataset, splits and folds."""
from __future__ import annotations

import numpy as np
import pytest

import glassnet as gn
from glassnet import data


def _xy(n=103):
    X = np.arange(n * 3, dtype=np.float32).reshape(n, 3)
    y = np.arange(n) % 4
    return X, y


@pytest.mark.parametrize("batch_size", [1, 10, 32, 103, 500, None])
@pytest.mark.parametrize("shuffle", [False, True])
def test_every_sample_once_per_epoch(batch_size, shuffle):
    X, y = _xy()
    loader = data.DataLoader((X, y), batch_size=batch_size, shuffle=shuffle, seed=1)
    for _ in range(2):
        batches = list(loader)
        assert len(batches) == len(loader)
        xs = np.concatenate([b[0] for b in batches])
        ys = np.concatenate([b[1] for b in batches])
        assert sorted(xs[:, 0].tolist()) == sorted(X[:, 0].tolist())
        np.testing.assert_array_equal(ys, (xs[:, 0] // 3).astype(int) % 4)  # rows stay paired
        if batch_size is not None:
            assert all(len(b[0]) == min(batch_size, len(X)) for b in batches[:-1])
    if batch_size is None:
        assert len(loader) == 1 and len(batches[0][0]) == len(X)


def test_drop_last_and_len():
    X, y = _xy(103)
    loader = data.DataLoader(data.TensorDataset(X, y), batch_size=10, drop_last=True)
    assert len(loader) == 10
    assert [len(b[0]) for b in loader] == [10] * 10
    assert len(data.DataLoader((X, y), batch_size=10)) == 11


def test_shuffle_is_seeded_and_changes_per_epoch():
    X, y = _xy()
    a = data.DataLoader((X, y), batch_size=16, shuffle=True, seed=7)
    b = data.DataLoader((X, y), batch_size=16, shuffle=True, seed=7)
    e1a, e1b = [x[0].copy() for x in a], [x[0].copy() for x in b]
    for u, v in zip(e1a, e1b):
        np.testing.assert_array_equal(u, v)
    e2a = [x[0] for x in a]
    assert not np.array_equal(np.concatenate(e1a), np.concatenate(e2a))
    # without a seed the global glassnet generator decides
    gn.manual_seed(3)
    c1 = np.concatenate([x[0] for x in data.DataLoader(X, batch_size=16, shuffle=True)])
    gn.manual_seed(3)
    c2 = np.concatenate([x[0] for x in data.DataLoader(X, batch_size=16, shuffle=True)])
    np.testing.assert_array_equal(c1, c2)
    # unshuffled batches come in order and are copies
    first = next(iter(data.DataLoader((X, y), batch_size=5)))
    np.testing.assert_array_equal(first[0], X[:5])
    first[0][...] = -1
    assert X[0, 0] == 0


def test_generic_dataset_and_bad_arguments():
    class Squares(data.Dataset):
        def __len__(self):
            return 7

        def __getitem__(self, i):
            return np.array([i], np.float32), i * i

    xb, yb = next(iter(data.DataLoader(Squares(), batch_size=4)))
    assert xb.shape == (4, 1) and yb.tolist() == [0, 1, 4, 9]
    X, y = _xy()
    with pytest.raises(ValueError, match="batch_size"):
        data.DataLoader((X, y), batch_size=0)
    with pytest.raises(ValueError, match="same number of samples"):
        data.TensorDataset(X, y[:-1])
    with pytest.raises(TypeError, match="dataset"):
        data.DataLoader(42)


def test_train_val_test_split_sizes_and_disjointness():
    X, y = _xy(200)
    Xtr, Xva, Xte, ytr, yva, yte = data.train_val_test_split(X, y, val_size=0.1, test_size=0.25,
                                                             seed=3)
    assert (len(Xtr), len(Xva), len(Xte)) == (130, 20, 50)
    ids = np.concatenate([Xtr[:, 0], Xva[:, 0], Xte[:, 0]])
    assert len(np.unique(ids)) == 200
    np.testing.assert_array_equal(ytr, (Xtr[:, 0] // 3).astype(int) % 4)
    again = data.train_val_test_split(X, y, val_size=0.1, test_size=0.25, seed=3)
    np.testing.assert_array_equal(again[0], Xtr)
    other = data.train_val_test_split(X, y, val_size=0.1, test_size=0.25, seed=4)
    assert not np.array_equal(other[0], Xtr)
    with pytest.raises(ValueError, match="exceed"):
        data.train_val_test_split(X, y, val_size=150, test_size=100)
    with pytest.raises(ValueError, match="samples but y"):
        data.train_val_test_split(X, y[:5])


def test_stratified_split_keeps_class_ratios():
    r = np.random.default_rng(0)
    y = r.choice(3, size=1000, p=[0.6, 0.3, 0.1])
    X = np.arange(1000)[:, None]
    Xtr, Xva, Xte, ytr, yva, yte = data.train_val_test_split(X, y, 0.1, 0.2, stratify=True,
                                                             seed=0)
    assert (len(ytr), len(yva), len(yte)) == (700, 100, 200)
    full = np.bincount(y) / len(y)
    for part in (ytr, yva, yte):
        # exact apportionment: each part is within one sample per class of the ideal
        assert np.all(np.abs(np.bincount(part, minlength=3) - full * len(part)) <= 1.0)
    np.testing.assert_array_equal(y[Xte[:, 0]], yte)
    assert len(np.unique(np.concatenate([Xtr, Xva, Xte]))) == 1000


@pytest.mark.parametrize("shuffle", [False, True])
def test_kfold_partitions(shuffle):
    X = np.zeros((23, 2))
    folds = list(data.KFold(5, shuffle=shuffle, seed=0).split(X))
    assert len(folds) == 5
    vals = np.concatenate([v for _, v in folds])
    assert sorted(vals.tolist()) == list(range(23))
    assert [len(v) for _, v in folds] == [5, 5, 5, 4, 4]
    for tr, va in folds:
        assert len(np.intersect1d(tr, va)) == 0 and len(tr) + len(va) == 23


def test_stratified_kfold_keeps_ratios():
    r = np.random.default_rng(1)
    y = r.choice(3, size=300, p=[0.5, 0.35, 0.15])
    X = np.zeros((300, 1))
    folds = list(data.StratifiedKFold(4, shuffle=True, seed=0).split(X, y))
    vals = np.concatenate([v for _, v in folds])
    assert sorted(vals.tolist()) == list(range(300))
    counts = np.bincount(y)
    for _, va in folds:
        assert np.all(np.abs(np.bincount(y[va], minlength=3) - counts / 4) <= 1.0)
    with pytest.raises(ValueError, match="needs y"):
        list(data.StratifiedKFold(3).split(X))
    with pytest.raises(ValueError, match="n_splits"):
        data.KFold(1)
