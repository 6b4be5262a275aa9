"""Trainer: learning, batching modes, metrics, callbacks, NaN detection, MC predictions."""
import numpy as np
import pytest

import glassnet as gn
from glassnet import data, nn, optim
from glassnet.training import (Callback, ConvergenceCriterion, EarlyStopping, LambdaCallback,
                               Trainer)


def _digits():
    X, y = data.load_digits()
    Xtr, Xva, Xte, ytr, yva, yte = data.train_val_test_split(X / 16, y, stratify=True, seed=0)
    return Xtr, Xva, Xte, ytr, yva, yte


def _mlp(i=64, h=64, o=10, seed=0):
    gn.manual_seed(seed)
    return nn.Sequential(nn.Linear(i, h), nn.ReLU(), nn.Linear(h, o))


def test_fit_learns_digits_and_reports_metrics():
    Xtr, Xva, Xte, ytr, yva, yte = _digits()
    m = _mlp()
    t = Trainer(m, nn.CrossEntropyLoss(), optim.Adam(m.parameters(), lr=3e-3),
                metrics=["accuracy", "f1"])
    h = t.fit((Xtr, ytr), validation=(Xva, yva), epochs=15, batch_size=32, verbose=0)
    assert len(h) == 15 and h.epoch == list(range(15))
    for k in ("loss", "accuracy", "f1", "val_loss", "val_accuracy", "val_f1", "lr"):
        assert len(h[k]) == 15
    assert h["loss"][-1] < 0.3 * h["loss"][0]
    res = t.evaluate(Xte, yte)
    assert res["accuracy"] > 0.94
    # evaluate's accuracy is the accuracy of predict_classes
    assert res["accuracy"] == pytest.approx(np.mean(t.predict_classes(Xte) == yte))
    p = t.predict_proba(Xte[:7])
    np.testing.assert_allclose(p.sum(axis=1), 1, rtol=1e-5)
    assert t.evaluate((Xte, yte)) == res


def test_online_minibatch_and_full_batch_step_counts():
    X, y = data.make_xor(8, seed=0)
    X = np.asarray(X, np.float32)
    steps = []
    for bs, expected in ((1, len(X)), (2, -(-len(X) // 2)), (None, 1)):
        m = _mlp(2, 4, 2)
        counter = LambdaCallback(on_batch_end=lambda t, s, logs: steps.append(logs["batch_size"]))
        steps.clear()
        Trainer(m, nn.CrossEntropyLoss(), optim.SGD(m.parameters(), lr=0.1)).fit(
            (X, y), epochs=1, batch_size=bs, verbose=0, callbacks=[counter])
        assert len(steps) == expected and sum(steps) == len(X)


def test_full_batch_equals_manual_gradient_descent():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3)).astype(np.float64)
    y = rng.normal(size=(40, 1))
    m1 = nn.Linear(3, 1).double()
    m2 = nn.Linear(3, 1).double()
    m2.load_state_dict(m1.state_dict())
    Trainer(m1, nn.MSELoss(), optim.SGD(m1.parameters(), lr=0.1)).fit(
        (X, y), epochs=5, batch_size=None, shuffle=False, verbose=0)
    opt = optim.SGD(m2.parameters(), lr=0.1)
    for _ in range(5):
        loss = nn.MSELoss()(m2(gn.Tensor(X)), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    np.testing.assert_array_equal(m1.weight.numpy(), m2.weight.numpy())


def test_same_seed_bit_identical_runs():
    Xtr, Xva, _, ytr, yva, _ = _digits()

    def run():
        m = _mlp(seed=3)
        t = Trainer(m, nn.CrossEntropyLoss(), optim.Adam(m.parameters()))
        h = t.fit((Xtr, ytr), epochs=3, batch_size=16, verbose=0)
        return h["loss"], m.state_dict()

    (l1, s1), (l2, s2) = run(), run()
    assert l1 == l2
    assert all(np.array_equal(a, b) for a, b in zip(s1.values(), s2.values()))


def test_early_stopping_restores_best_weights():
    Xtr, Xva, _, ytr, yva, _ = _digits()
    # a tiny training set over-fits quickly, so val_loss turns up
    m = _mlp(h=128)
    es = EarlyStopping("val_loss", patience=3, restore_best_weights=True)
    best = {}

    class Snap(Callback):
        def on_epoch_end(self, trainer, epoch, logs):
            best[epoch] = {k: v.numpy().copy() for k, v in trainer.model.state_dict().items()}

    t = Trainer(m, nn.CrossEntropyLoss(), optim.Adam(m.parameters(), lr=2e-2))
    h = t.fit((Xtr[:60], ytr[:60]), validation=(Xva, yva), epochs=200, batch_size=8, verbose=0,
              callbacks=[Snap(), es])
    assert es.stopped_epoch is not None and len(h) < 200
    assert es.stopped_epoch - es.best_epoch == 3
    assert "early stopping" in h.stop_reason
    for k, v in m.state_dict().items():
        np.testing.assert_array_equal(v, best[es.best_epoch][k])
    assert es.best == pytest.approx(min(h["val_loss"]))


def test_early_stopping_unknown_monitor_is_a_clear_error():
    m = _mlp(2, 3, 2)
    X, y = np.zeros((4, 2), np.float32), np.array([0, 1, 0, 1])
    with pytest.raises(KeyError, match="val_loss.*pass validation data"):
        Trainer(m, nn.CrossEntropyLoss()).fit((X, y), epochs=2, verbose=0,
                                              callbacks=[EarlyStopping()])


def test_convergence_by_loss_change_and_gradient_norm():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(64, 2))
    y = X @ np.array([[2.0], [-1.0]]) + 0.5
    m = nn.Linear(2, 1)
    c = ConvergenceCriterion(loss_change_tol=1e-7)
    h = Trainer(m, nn.MSELoss(), optim.SGD(m.parameters(), lr=0.1)).fit(
        (X, y), epochs=1000, batch_size=None, verbose=0, callbacks=[c])
    assert c.converged and len(h) < 1000 and "loss change" in c.reason
    np.testing.assert_allclose(m.weight.numpy(), [[2, -1]], atol=1e-2)
    m = nn.Linear(2, 1)
    g = ConvergenceCriterion(grad_norm_tol=1e-3)
    h = Trainer(m, nn.MSELoss(), optim.SGD(m.parameters(), lr=0.1)).fit(
        (X, y), epochs=1000, batch_size=None, verbose=0, callbacks=[g])
    assert g.converged and h["grad_norm"][-1] < 1e-3 <= h["grad_norm"][-2]


def test_nan_loss_stops_with_a_clear_message():
    m = _mlp(2, 3, 1)
    X = np.ones((4, 2), np.float32)
    X[1, 0] = np.nan
    with pytest.raises(FloatingPointError, match="epoch 1, step 1.*NaN"):
        Trainer(m, nn.MSELoss()).fit((X, np.ones((4, 1))), epochs=1, batch_size=4, verbose=0)


def test_regularizers_are_added_to_the_loss():
    m = nn.Linear(3, 2)
    X, y = np.ones((5, 3), np.float32), np.zeros((5, 2), np.float32)

    def l2(model):
        return (model.weight * model.weight).sum() * 0.5

    t = Trainer(m, nn.MSELoss(), optim.SGD(m.parameters(), lr=0.0), regularizers=[l2])
    plain = Trainer(m, nn.MSELoss()).evaluate(X, y)["loss"]
    expected = plain + 0.5 * float((m.weight.numpy() ** 2).sum())
    assert t.evaluate(X, y)["loss"] == pytest.approx(expected, rel=1e-5)


def test_after_backward_sees_gradients_before_the_step():
    m = _mlp(2, 3, 2)
    seen = []
    cb = LambdaCallback(on_after_backward=lambda t, s: seen.append(
        all(p.grad is not None for p in t.model.parameters())))
    Trainer(m, nn.CrossEntropyLoss()).fit((np.ones((4, 2)), np.array([0, 1, 0, 1])), epochs=2,
                                          batch_size=2, verbose=0, callbacks=[cb])
    assert seen == [True] * 4


def test_bad_inputs_are_named():
    m = _mlp(2, 3, 2)
    t = Trainer(m, nn.CrossEntropyLoss())
    with pytest.raises(ValueError, match="train has 4 inputs but 3 targets"):
        t.fit((np.ones((4, 2)), np.array([0, 1, 0])), verbose=0)
    with pytest.raises(ValueError, match="unknown metric"):
        Trainer(m, nn.CrossEntropyLoss(), metrics=["acuracy"])
    with pytest.raises(TypeError, match="model must be"):
        Trainer(object(), nn.CrossEntropyLoss())
    with pytest.raises(ValueError, match="epochs"):
        t.fit((np.ones((4, 2)), np.array([0, 1, 0, 1])), epochs=-1, verbose=0)


def test_validation_split_and_progress_output(capsys):
    Xtr, _, _, ytr, _, _ = _digits()
    m = _mlp()
    h = Trainer(m, nn.CrossEntropyLoss(), metrics=["accuracy"]).fit(
        (Xtr, ytr), validation_split=0.2, epochs=2, verbose=2)
    assert h.params["samples"] == len(Xtr) - round(0.2 * len(Xtr))
    err = capsys.readouterr().err
    assert "epoch 2/2" in err and "val_accuracy" in err


def test_binary_logits_metrics():
    X, y = data.make_moons(200, noise=0.1, seed=0)
    gn.manual_seed(0)
    m = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 1))
    t = Trainer(m, nn.BCEWithLogitsLoss(), optim.Adam(m.parameters(), lr=2e-2),
                metrics=["accuracy", "f1"])
    t.fit((X, y), epochs=60, batch_size=32, verbose=0)   # int (N,) labels are accepted
    acc = t.evaluate(X, y)["accuracy"]
    assert acc > 0.95
    assert acc == pytest.approx(np.mean(t.predict_classes(X) == y))
    assert t.evaluate(X, y.reshape(-1, 1).astype(np.float32))["accuracy"] == acc
    p = t.predict_proba(X)
    assert p.shape == (len(X), 1) and np.all((p > 0) & (p < 1))


def test_multilabel_head_accuracy_is_per_label():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 4)).astype(np.float32)
    Y = np.stack([X[:, 0] > 0, X[:, 1] + X[:, 2] > 0, X[:, 3] < 0.5], 1).astype(np.float32)
    gn.manual_seed(0)
    from glassnet import models
    m = models.MLP([4, 16, 3], output="multilabel")
    t = Trainer(m, m.loss(), optim.Adam(m.parameters(), lr=2e-2), metrics=["accuracy"])
    t.fit((X, Y), epochs=40, batch_size=32, verbose=0)
    pred = t.predict_classes(X)
    assert pred.shape == Y.shape
    acc = t.evaluate(X, Y)["accuracy"]
    assert acc == pytest.approx(np.mean(pred == Y)) and acc > 0.95


def test_mc_dropout_prediction_interval():
    Xtr, _, Xte, ytr, _, yte = _digits()
    gn.manual_seed(0)
    from glassnet import models
    m = models.MLP([64, 128, 10], dropout=0.3)
    t = Trainer(m, m.loss(), metrics=["accuracy"])
    t.fit((Xtr, ytr), epochs=10, verbose=0)
    mean, lo, hi = t.predict_proba(Xte[:50], mc_samples=40)
    assert mean.shape == lo.shape == hi.shape == (50, 10)
    assert np.all(lo <= mean + 1e-6) and np.all(mean <= hi + 1e-6)
    assert np.mean(hi - lo) > 1e-3                        # dropout really stayed on
    assert not any(mod.training for mod in m.modules())   # and is back in eval mode after
    np.testing.assert_allclose(mean.sum(1), 1, rtol=1e-5)
    # deterministic predictions are unaffected
    np.testing.assert_array_equal(t.predict(Xte[:5]), t.predict(Xte[:5]))
    with pytest.raises(ValueError, match="needs dropout layers"):
        Trainer(nn.Linear(64, 10), nn.CrossEntropyLoss()).predict(Xte, mc_samples=5)


# ------------------------------------------------------------- the parts of fit
def test_callback_order_of_a_fit():
    events = []
    hooks = {name: (lambda name: lambda t, *a: events.append(name))(name)
             for name in LambdaCallback._HOOKS}
    m = _mlp(2, 3, 2)
    X, y = np.ones((4, 2), np.float32), np.array([0, 1, 0, 1])
    Trainer(m, nn.CrossEntropyLoss()).fit((X, y), validation=(X, y), epochs=2, batch_size=2,
                                          verbose=0, callbacks=[LambdaCallback(**hooks)])
    step = ["on_batch_begin", "on_after_backward", "on_batch_end"]
    epoch = ["on_epoch_begin"] + step * 2 + ["on_epoch_end"]
    assert events == ["on_train_begin"] + epoch * 2 + ["on_train_end"]


def test_stop_training_in_a_batch_hook_ends_the_epoch_after_that_step():
    def stop(t, step, logs):
        if step == 2:
            t.stop_training, t.stop_reason = True, "enough"

    m = _mlp(2, 3, 2)
    steps = []
    cb = LambdaCallback(on_batch_end=lambda t, s, logs: (steps.append(s), stop(t, s, logs)))
    h = Trainer(m, nn.CrossEntropyLoss()).fit((np.ones((10, 2)), np.arange(10) % 2), epochs=3,
                                              batch_size=2, verbose=0, callbacks=[cb])
    assert steps == [0, 1, 2] and len(h) == 1 and h.stop_reason == "enough"


def test_forward_hook_and_iterables_of_batches():
    class TwoOutputs(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(2, 2)

        def forward(self, x):
            return self.fc(x), "extra"

    gn.manual_seed(0)
    m = TwoOutputs()
    X, y = np.random.default_rng(0).normal(size=(8, 2)).astype(np.float32), np.arange(8) % 2
    t = Trainer(m, nn.CrossEntropyLoss(), forward=lambda model, x: model(x)[0])
    batches = [(X[:4], y[:4]), (X[4:], y[4:])]
    h = t.fit(_Batches(batches), epochs=2, verbose=0)
    assert h.params["steps"] == 2 and h.params["samples"] is None
    assert t.evaluate(_Batches(batches))["loss"] == pytest.approx(t.evaluate(X, y)["loss"])
    assert t.predict(X).shape == (8, 2)
    with pytest.raises(TypeError, match="forward must be a callable"):
        Trainer(m, nn.CrossEntropyLoss(), forward="model")
    with pytest.raises(ValueError, match="validation_split needs train"):
        t.fit(data.DataLoader((X, y)), validation_split=0.5, verbose=0)


class _Batches:
    """A re-iterable source of ready batches."""

    def __init__(self, batches):
        self.batches = batches

    def __iter__(self):
        return iter(self.batches)

    def __len__(self):
        return len(self.batches)


# ------------------------------------------------------------- state_dict
def _resumable_run(epochs, resume=None, patience=50, min_delta=0.0):
    """A deterministic run that uses everything a resume must restore: Adam moments, an
    lr schedule, shuffling, dropout (glassnet's RNG), validation and EarlyStopping."""
    Xtr, Xva, _, ytr, yva, _ = _digits()
    gn.manual_seed(7)
    m = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Dropout(0.2), nn.Linear(32, 10))
    opt = optim.Adam(m.parameters(), lr=5e-3)
    sched = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    t = Trainer(m, nn.CrossEntropyLoss(), opt, scheduler=sched, metrics=["accuracy"])
    es = EarlyStopping("val_loss", patience=patience, min_delta=min_delta,
                       restore_best_weights=True)
    stops = []
    cbs = [es, LambdaCallback(on_epoch_end=lambda tr, e, logs: stops.append(e))]
    h = t.fit((Xtr[:300], ytr[:300]), validation=(Xva, yva), epochs=epochs, batch_size=32,
              verbose=0, callbacks=cbs, resume=resume)
    return t, h, es


def test_state_dict_round_trip_continues_the_same_run():
    full, h_full, es_full = _resumable_run(6)
    first, _, _ = _resumable_run(3)     # interrupted after 3 epochs
    state = first.state_dict()
    assert state["epoch"] == 2 and len(state["history"]["epoch"]) == 3
    assert state["optimizer"]["class"] == "Adam" and state["scheduler"]["class"] == "StepLR"
    assert state["callbacks"][0]["class"] == "EarlyStopping"
    assert set(state["callbacks"][0]["state_dict"]["best_state"]) == set(state["model"])
    resumed, h_res, es_res = _resumable_run(6, resume=state)
    assert h_res["loss"] == h_full["loss"] and h_res["val_loss"] == h_full["val_loss"]
    assert h_res["lr"] == h_full["lr"]
    assert es_res.best_epoch == es_full.best_epoch and es_res.best == es_full.best
    for a, b in zip(full.model.state_dict().values(), resumed.model.state_dict().values()):
        np.testing.assert_array_equal(a, b)
    # load_state_dict alone restores the model, optimizer, scheduler, epoch and history
    fresh, _, _ = _resumable_run(0)
    fresh.load_state_dict(state)
    assert fresh.epoch == 2 and fresh.history["loss"] == h_full["loss"][:3]
    assert fresh.scheduler.last_epoch == first.scheduler.last_epoch
    for a, b in zip(fresh.model.state_dict().values(), first.model.state_dict().values()):
        np.testing.assert_array_equal(a, b)


def test_early_stopping_patience_survives_a_resume():
    _, h_full, es_full = _resumable_run(40, patience=2, min_delta=0.01)
    assert es_full.stopped_epoch is not None
    stop_at = es_full.best_epoch + 2          # after the best epoch, one epoch of waiting
    first, _, es_first = _resumable_run(stop_at, patience=2, min_delta=0.01)
    assert es_first.wait == 1
    _, h_res, es_res = _resumable_run(40, resume=first.state_dict(), patience=2,
                                      min_delta=0.01)
    assert es_res.stopped_epoch == es_full.stopped_epoch and len(h_res) == len(h_full)


def test_load_state_dict_names_a_mismatch():
    m = _mlp(2, 3, 2)
    state = Trainer(m, nn.CrossEntropyLoss(), optim.Adam(m.parameters())).state_dict()
    with pytest.raises(ValueError, match="saved with optimizer Adam, this trainer has SGD"):
        Trainer(m, nn.CrossEntropyLoss(), optim.SGD(m.parameters(), lr=0.1)).load_state_dict(state)
    opt = optim.Adam(m.parameters())
    t = Trainer(m, nn.CrossEntropyLoss(), opt,
                scheduler=optim.lr_scheduler.ExponentialLR(opt, 0.9))
    with pytest.raises(ValueError, match="saved with scheduler None, this trainer has "
                                         "ExponentialLR"):
        t.load_state_dict(state)


def test_multilabel_head_precision_recall_f1_metrics():
    # issue 17: Trainer(metrics=...) took multi-hot targets but precision/recall/f1 refused them
    from glassnet import metrics as M
    from glassnet import models
    rng = np.random.default_rng(1)
    X = rng.normal(size=(200, 4)).astype(np.float32)
    Y = np.stack([X[:, 0] > 0, X[:, 1] + X[:, 2] > 0, X[:, 3] < 0.5], 1).astype(np.float32)
    gn.manual_seed(0)
    m = models.MLP([4, 16, 3], output="multilabel")
    t = Trainer(m, m.loss(), optim.Adam(m.parameters(), lr=2e-2),
                metrics=["accuracy", "precision", "recall", "f1"])
    t.fit((X, Y), epochs=5, batch_size=50, verbose=0)
    logs = t.evaluate(X, Y)
    pred = t.predict_classes(X)
    for name, fn in (("precision", M.precision), ("recall", M.recall), ("f1", M.f1_score)):
        assert logs[name] == pytest.approx(fn(Y, pred, average="macro", zero_division=0))
    assert 0.0 < logs["f1"] <= 1.0
