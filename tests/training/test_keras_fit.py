"""Keras-style ``Trainer.fit(x, y, ...)``: the data reaches the right place, weights weigh
the loss as Keras does, and every argument that reads two ways is an error.

Before this API ``trainer.fit(X, y)`` silently took ``y`` as the validation data and
trained ``X`` as its own target; the tests below train on ``y`` and on a permutation of
it and check which one the model learned.
"""
from __future__ import annotations

import numpy as np
import pytest

import glassnet as gn
from glassnet import data, nn, optim
from glassnet.errors import ArgumentError
from glassnet.training import Trainer


def _digits(n: int = 600):
    X, y = data.load_digits()
    X = (X[:n] / 16.0).astype(np.float32)
    return X, y[:n].astype(np.int64)


def _trainer(seed: int = 0, hidden: int = 32, lr: float = 0.05) -> Trainer:
    gn.manual_seed(seed)
    m = nn.Sequential(nn.Linear(64, hidden), nn.Tanh(), nn.Linear(hidden, 10))
    return Trainer(m, nn.CrossEntropyLoss(), optim.Adam(m.parameters(), lr=lr),
                   metrics=["accuracy"])


def _weights(t: Trainer) -> list[np.ndarray]:
    return [v.numpy().copy() for v in t.model.state_dict().values()]


def _same(a: Trainer, b: Trainer) -> bool:
    return all(np.array_equal(u, v) for u, v in zip(_weights(a), _weights(b)))


def test_fit_x_y_trains_on_y_not_on_a_permutation():
    X, y = _digits()
    y_perm = np.random.default_rng(0).permutation(y)
    t = _trainer()
    h = t.fit(X, y, epochs=8, batch_size=32, seed=1, verbose=0)
    assert "val_loss" not in h.history            # y is not validation data
    assert t.evaluate(X, y)["accuracy"] > 0.95
    assert t.evaluate(X, y_perm)["accuracy"] < 0.3
    t_perm = _trainer()
    t_perm.fit(X, y_perm, epochs=8, batch_size=32, seed=1, verbose=0)
    assert t_perm.evaluate(X, y_perm)["accuracy"] > t_perm.evaluate(X, y)["accuracy"]
    # the same run as glassnet's tuple spelling, bit for bit
    t_tuple = _trainer()
    h2 = t_tuple.fit((X, y), epochs=8, batch_size=32, seed=1, verbose=0)
    assert _same(t, t_tuple) and h["loss"] == h2["loss"]


def test_fit_x_y_with_validation_data_trains_on_y_and_validates_on_it():
    X, y = _digits()
    Xv, yv = X[400:], y[400:]
    t = _trainer()
    h = t.fit(X[:400], y[:400], validation_data=(Xv, yv), epochs=6, seed=2, verbose=0)
    assert h["val_loss"][-1] == pytest.approx(t.evaluate(Xv, yv)["loss"], rel=1e-6)
    assert h["val_accuracy"][-1] == t.evaluate(Xv, yv)["accuracy"] > 0.75
    old = _trainer()        # the old keyword is an alias of validation_data
    h_old = old.fit((X[:400], y[:400]), validation=(Xv, yv), epochs=6, seed=2, verbose=0)
    assert _same(t, old) and h["val_loss"] == h_old["val_loss"]
    # permuted training targets: the model learns them, validation collapses
    bad = _trainer()
    hb = bad.fit(X[:400], np.random.default_rng(3).permutation(y[:400]),
                 validation_data=(Xv, yv), epochs=6, seed=2, verbose=0)
    assert hb["val_accuracy"][-1] < 0.3 < h["val_accuracy"][-1]


def test_fit_x_y_validation_split_holds_out_the_last_fraction_like_keras():
    X, y = _digits(500)
    t = _trainer()
    h = t.fit(X, y, validation_split=0.2, epochs=5, seed=4, verbose=0)
    k = int(np.floor(500 * (1 - 0.2)))           # keras: split_at = floor(n * (1 - s))
    assert h.params["samples"] == k == 400
    assert h["val_loss"][-1] == pytest.approx(t.evaluate(X[k:], y[k:])["loss"], rel=1e-6)
    ref = _trainer()
    ref.fit((X[:k], y[:k]), validation=(X[k:], y[k:]), epochs=5, seed=4, verbose=0)
    assert _same(t, ref)
    assert t.evaluate(X[:k], y[:k])["accuracy"] > 0.9
    # an odd size: floor, as Keras (7 * 0.7 = 4.9 -> 4 train, 3 validation)
    t7 = _trainer()
    assert t7.fit(X[:7], y[:7], validation_split=0.3, epochs=1, verbose=0).params[
        "samples"] == 4
    with pytest.raises(ArgumentError, match="validation_split=0.5 of 1 samples leaves no "
                                            "training sample"):
        _trainer().fit(X[:1], y[:1], validation_split=0.5, epochs=1, verbose=0)
    with pytest.raises(ArgumentError, match="leaves no validation sample"):
        _trainer().fit(X[:3], y[:3], validation_split=1e-17, epochs=1, verbose=0)


def test_the_tuple_spelling_keeps_its_seeded_random_split():
    X, y = _digits(500)
    t = _trainer()
    h = t.fit((X, y), validation_split=0.2, epochs=2, seed=4, verbose=0)
    perm = np.random.default_rng(4).permutation(500)
    held = perm[:100]
    assert h.params["samples"] == 400
    assert h["val_loss"][-1] == pytest.approx(t.evaluate(X[held], y[held])["loss"], rel=1e-6)


def _linear_problem():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(12, 3))
    Y = rng.normal(size=(12, 2))
    w = rng.uniform(0.1, 3.0, size=12)
    return X, Y, w


def test_sample_weight_is_keras_sum_over_batch_size_checked_by_hand():
    X, Y, w = _linear_problem()
    m = nn.Linear(3, 2).double()
    W0, b0 = m.weight.numpy().copy(), m.bias.numpy().copy()
    t = Trainer(m, nn.MSELoss(), optim.SGD(m.parameters(), lr=0.1))
    # the loss of evaluate at the initial weights, by hand: sum_i w_i * mean_j(r_ij^2) / N
    R = X @ W0.T + b0 - Y
    per = (R ** 2).mean(axis=1)
    want = float((w * per).sum() / len(X))
    assert t.evaluate(X, Y, sample_weight=w)["loss"] == pytest.approx(want, rel=1e-12)
    assert t.evaluate((X, Y, w))["loss"] == pytest.approx(want, rel=1e-12)
    # not divided by the sum of the weights: twice the weights, twice the loss
    assert t.evaluate(X, Y, sample_weight=2 * w)["loss"] == pytest.approx(2 * want, rel=1e-12)
    # one full-batch SGD step, by hand
    h = t.fit(X, Y, sample_weight=w, epochs=1, batch_size=None, shuffle=False, verbose=0)
    assert h["loss"][0] == pytest.approx(want, rel=1e-12)
    G = (2.0 / Y.shape[1]) * (w[:, None] * R) / len(X)        # d loss / d output
    np.testing.assert_allclose(m.weight.numpy(), W0 - 0.1 * G.T @ X, rtol=1e-12)
    np.testing.assert_allclose(m.bias.numpy(), b0 - 0.1 * G.sum(axis=0), rtol=1e-12)


def test_unit_sample_weights_give_the_unweighted_run():
    X, y = _digits(200)
    a, b = _trainer(), _trainer()
    ha = a.fit(X, y, epochs=2, seed=0, verbose=0)
    hb = b.fit(X, y, sample_weight=np.ones(len(X)), epochs=2, seed=0, verbose=0)
    assert ha["loss"] == pytest.approx(hb["loss"], rel=1e-5)
    for u, v in zip(_weights(a), _weights(b)):
        np.testing.assert_allclose(u, v, rtol=1e-4, atol=1e-6)


def test_class_weight_checked_by_hand_and_equal_to_its_sample_weights():
    rng = np.random.default_rng(6)
    X = rng.normal(size=(10, 4))
    y = np.array([0, 1, 2, 0, 1, 2, 0, 0, 1, 2])
    cw = {0: 0.5, 1: 2.0}                       # class 2 is not in the dict: weight 1
    m = nn.Linear(4, 3).double()
    W, b = m.weight.numpy().copy(), m.bias.numpy().copy()
    z = X @ W.T + b
    nll = np.log(np.exp(z).sum(axis=1)) - z[np.arange(10), y]
    sw = np.array([cw.get(int(c), 1.0) for c in y])
    want = float((sw * nll).sum() / 10)
    t = Trainer(m, nn.CrossEntropyLoss(), optim.SGD(m.parameters(), lr=0.2))
    h = t.fit(X, y, class_weight=cw, epochs=1, batch_size=None, verbose=0)
    assert h["loss"][0] == pytest.approx(want, rel=1e-12)
    # class_weight == sample_weight of the per-class weights, bit for bit, over epochs
    runs = []
    for kw in ({"class_weight": cw}, {"sample_weight": sw}):
        gn.manual_seed(9)
        m = nn.Linear(4, 3).double()
        t = Trainer(m, nn.CrossEntropyLoss(), optim.SGD(m.parameters(), lr=0.2))
        t.fit(X, y, epochs=3, batch_size=4, seed=0, verbose=0, **kw)
        runs.append(t)
    assert _same(*runs)
    # one-hot targets are read by their argmax, as Keras
    m = nn.Linear(4, 3).double()
    m.load_state_dict({"weight": W, "bias": b})
    t = Trainer(m, nn.CrossEntropyLoss(), optim.SGD(m.parameters(), lr=0.2))
    h = t.fit(X, np.eye(3)[y], class_weight=cw, epochs=1, batch_size=None, verbose=0)
    assert h["loss"][0] == pytest.approx(want, rel=1e-12)


def test_class_weight_reaches_the_minority_class():
    X, y = _digits(600)
    keep = (y != 3) | (np.arange(len(y)) % 8 == 0)     # class 3 made rare
    X, y = X[keep], y[keep]
    recall = []
    for cw in (None, {3: 20.0}):
        t = _trainer(lr=0.01)
        t.fit(X, y, class_weight=cw, epochs=3, seed=0, verbose=0)
        pred = t.predict_classes(X)
        recall.append(float(np.mean(pred[y == 3] == 3)))
    assert recall[1] > recall[0]


def test_initial_epoch_runs_the_epochs_from_it_like_keras():
    X, y = _digits(200)
    t = _trainer()
    h = t.fit(X, y, epochs=5, initial_epoch=3, verbose=0)
    assert h.epoch == [3, 4] and len(h["loss"]) == 2 and t.epoch == 4
    assert h.params["initial_epoch"] == 3
    assert t.fit(X, y, epochs=3, initial_epoch=3, verbose=0).epoch == []
    # a run started at initial_epoch resumes from its state
    t.fit(X, y, epochs=5, initial_epoch=3, verbose=0)
    state = t.state_dict()
    t2 = _trainer()
    h2 = t2.fit(X, y, epochs=7, resume=state, verbose=0)
    assert h2.epoch == [3, 4, 5, 6]
    t3 = _trainer()
    assert t3.fit(X, y, epochs=7, resume=state, initial_epoch=5, verbose=0).epoch[-1] == 6
    # the message counts epochs from 1 and names the index initial_epoch takes
    with pytest.raises(ArgumentError, match=r"initial_epoch=2, but the checkpoint continues "
                                            r"with epoch 6 \(initial_epoch=5, an index"):
        _trainer().fit(X, y, epochs=7, resume=state, initial_epoch=2, verbose=0)
    with pytest.raises(ArgumentError, match="initial_epoch"):
        _trainer().fit(X, y, epochs=3, initial_epoch=-1, verbose=0)


AMBIGUOUS = {
    "tuple x with y": (lambda t, X, y: t.fit((X, y), y, verbose=0),
                       r"x is a tuple and y is given too"),
    "list x with y": (lambda t, X, y: t.fit([X, y], y, verbose=0), r"x is a list and y"),
    "old positional validation": (lambda t, X, y: t.fit((X, y), (X, y), verbose=0),
                                  r"x is a tuple and y is given too"),
    "tuple y (old validation)": (lambda t, X, y: t.fit(X, (X, y), verbose=0),
                                 r"y is a tuple.*validation_data"),
    "Dataset with y": (lambda t, X, y: t.fit(data.TensorDataset(X, y), y, verbose=0),
                       r"y must not be given when x is a Dataset"),
    "DataLoader with y": (lambda t, X, y: t.fit(data.DataLoader((X, y)), y, verbose=0),
                          r"y must not be given when x is a DataLoader"),
    "validation and validation_data": (
        lambda t, X, y: t.fit(X, y, validation=(X, y), validation_data=(X, y), verbose=0),
        r"give validation_data or validation \(its older name\), not both"),
    "validation_split with validation_data": (
        lambda t, X, y: t.fit(X, y, validation_split=0.2, validation_data=(X, y), verbose=0),
        r"give validation_data or validation_split, not both"),
    "validation_split with a DataLoader": (
        lambda t, X, y: t.fit(data.DataLoader((X, y)), validation_split=0.2, verbose=0),
        r"validation_split needs train as"),
    "class_weight with sample_weight": (
        lambda t, X, y: t.fit(X, y, class_weight={0: 2.0}, sample_weight=np.ones(len(X)),
                              verbose=0), r"give class_weight or sample_weight, not both"),
    "sample_weight with a DataLoader": (
        lambda t, X, y: t.fit(data.DataLoader((X, y)), sample_weight=np.ones(len(X)),
                              verbose=0), r"sample_weight needs the training data as arrays"),
    "sample_weight of another length": (
        lambda t, X, y: t.fit(X, y, sample_weight=np.ones(3), verbose=0),
        r"sample_weight must hold one weight per sample"),
    "x and y of other lengths": (lambda t, X, y: t.fit(X, y[:-1], verbose=0),
                                 r"x has 40 samples but y has 39"),
    "evaluate tuple with y": (lambda t, X, y: t.evaluate((X, y), y), r"X is a tuple and y"),
    "evaluate Dataset with y": (lambda t, X, y: t.evaluate(data.TensorDataset(X, y), y),
                                r"y must not be given when X is a Dataset"),
    "predict a tuple": (lambda t, X, y: t.predict((X, y)), r"X is a tuple"),
    "predict a shuffling DataLoader": (
        lambda t, X, y: t.predict(data.DataLoader((X, y), shuffle=True)), r"shuffle=True"),
    "class_weight not a dict": (lambda t, X, y: t.fit(X, y, class_weight=[1, 2], verbose=0),
                                r"class_weight must be a dict"),
    "class_weight negative": (lambda t, X, y: t.fit(X, y, class_weight={0: -1}, verbose=0),
                              r"class_weight\[0\]"),
    "no x at all": (lambda t, X, y: t.fit(y=y, verbose=0), r"x, the training data, is required"),
    "old positional epochs": (lambda t, X, y: t.fit((X, y), None, 5), r"positional"),
}


@pytest.mark.parametrize("case", sorted(AMBIGUOUS))
def test_an_argument_that_reads_two_ways_is_an_error(case):
    X, y = _digits(40)
    t = _trainer()
    before = _weights(t)
    call, match = AMBIGUOUS[case]
    with pytest.raises((ArgumentError, TypeError), match=match):
        call(t, X, y)
    assert all(np.array_equal(a, b) for a, b in zip(before, _weights(t)))


def test_weights_need_a_loss_that_gives_per_sample_losses():
    X, y = _digits(20)
    gn.manual_seed(0)
    m = nn.Linear(64, 10)
    t = Trainer(m, lambda out, target: nn.functional.cross_entropy(out, target))
    with pytest.raises(ArgumentError, match="need a loss that can give one loss per sample"):
        t.fit(X, y, sample_weight=np.ones(20), epochs=1, verbose=0)


def test_evaluate_and_predict_take_the_keras_shape():
    X, y = _digits(100)
    t = _trainer()
    t.fit(X, y, epochs=1, verbose=0)
    assert t.evaluate(X, y) == t.evaluate((X, y)) == t.evaluate(data.TensorDataset(X, y))
    p = t.predict(X)
    np.testing.assert_array_equal(t.predict(data.TensorDataset(X, y)), p)
    np.testing.assert_array_equal(t.predict(data.DataLoader((X, y), batch_size=7)), p)
    np.testing.assert_array_equal(t.predict(x=X), p)
    # Keras's verbose="auto" is accepted
    assert len(t.fit(x=X, y=y, epochs=1, verbose="auto")) == 1


def test_weighted_validation_data_and_split_weigh_the_validation_loss():
    X, y = _digits(100)
    w = np.linspace(0.5, 2.0, 100)
    t = _trainer()
    h = t.fit(X, y, sample_weight=w, validation_split=0.3, epochs=1, verbose=0)
    assert h["val_loss"][0] == pytest.approx(
        t.evaluate(X[70:], y[70:], sample_weight=w[70:])["loss"], rel=1e-6)
    h = t.fit(X[:70], y[:70], validation_data=(X[70:], y[70:], w[70:]), epochs=1, verbose=0)
    assert h["val_loss"][0] == pytest.approx(
        t.evaluate(X[70:], y[70:], sample_weight=w[70:])["loss"], rel=1e-6)
