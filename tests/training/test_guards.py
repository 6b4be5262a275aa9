"""No silent wrong results from the Trainer and the DataLoader: empty data and bad batch
sizes are refused, a NaN/Inf gradient stops training before the optimizer applies it (the
model keeps its last finite weights), and a fit that stops on an error still lets the
callbacks clean up (EarlyStopping's best weights, the progress bar, eval mode)."""
import numpy as np
import pytest

import glassnet as gn
from glassnet import data, nn, optim
from glassnet.errors import ArgumentError, GlassnetError, NonFiniteError
from glassnet.training import Callback, EarlyStopping, LambdaCallback, ProgressBar, Trainer


def _mlp(i=4, h=8, o=3, seed=0):
    gn.manual_seed(seed)
    return nn.Sequential(nn.Linear(i, h), nn.ReLU(), nn.Linear(h, o))


def _data(n=32, i=4, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, i)).astype(np.float32), rng.integers(0, classes, n)


def _trainer(model=None, **kw):
    model = model or _mlp()
    return Trainer(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), **kw)


def _weights(model):
    return {k: v.numpy().copy() for k, v in model.state_dict().items()}


def _same(a, b):
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


# ------------------------------------------------------------------ empty data
class TestEmptyData:
    X0, y0 = np.zeros((0, 4), np.float32), np.zeros((0,), np.int64)

    @pytest.mark.parametrize("call", ["predict", "predict_proba", "predict_classes"])
    def test_predictions_on_no_samples_raise(self, call):
        t = _trainer()
        with pytest.raises(ArgumentError, match=rf"Trainer\.{call}: X must hold at least one "
                                                 r"sample, got 0 samples"):
            getattr(t, call)(self.X0)

    def test_predict_with_mc_samples_on_no_samples_raises(self):
        with pytest.raises(ArgumentError, match=r"Trainer\.predict: X must hold"):
            _trainer().predict(self.X0, mc_samples=4)

    def test_predict_on_a_scalar_raises(self):
        with pytest.raises(ArgumentError, match=r"Trainer\.predict: X must be an array of "
                                                 r"samples"):
            _trainer().predict(np.float32(1.0))

    @pytest.mark.parametrize("how", ["arrays", "tuple", "dataset", "loader", "batches"])
    def test_evaluate_on_no_samples_raises(self, how):
        X0, y0 = self.X0, self.y0
        args = {"arrays": (X0, y0), "tuple": ((X0, y0),),
                "dataset": (data.TensorDataset(X0, y0),),
                "loader": (data.DataLoader((X0, y0), batch_size=4),),
                "batches": (iter(()),)}[how]
        with pytest.raises(ArgumentError, match=r"Trainer\.evaluate: X must hold at least one "
                                                 r"sample, got 0 samples"):
            _trainer().evaluate(*args)

    @pytest.mark.parametrize("how", ["arrays", "dataset", "loader"])
    def test_fit_on_no_samples_raises_before_training(self, how):
        X0, y0 = self.X0, self.y0
        train = {"arrays": (X0, y0), "dataset": data.TensorDataset(X0, y0),
                 "loader": data.DataLoader((X0, y0), batch_size=4)}[how]
        t = _trainer()
        before = _weights(t.model)
        with pytest.raises(ArgumentError, match=r"Trainer\.fit: train must hold at least one "
                                                 r"sample"):
            t.fit(train, epochs=2, verbose=0)
        assert _same(before, _weights(t.model))

    def test_fit_on_a_loader_that_yields_no_batch_raises(self):
        X, y = _data(10)
        loader = data.DataLoader((X, y), batch_size=16, drop_last=True)
        with pytest.raises(ArgumentError, match=r"Trainer\.fit: train yields no batch: "
                                                 r"drop_last=True leaves out the one batch of "
                                                 r"10 samples smaller than batch_size 16"):
            _trainer().fit(loader, epochs=1, verbose=0)

    def test_a_used_up_iterator_is_not_a_zero_loss(self):
        X, y = _data(8)
        batches = ((X[i:i + 4], y[i:i + 4]) for i in (0, 4))     # a generator: one epoch
        t = _trainer()
        with pytest.raises(ArgumentError, match=r"Trainer\.fit: train yielded no batch in "
                                                 r"epoch 2 \(an iterator such as a generator "
                                                 r"is used up after one epoch"):
            t.fit(batches, epochs=2, verbose=0)
        assert len(t.history) == 1

        class Again:
            def __iter__(self):
                return iter([(X[:4], y[:4]), (X[4:], y[4:])])
        assert len(_trainer().fit(Again(), epochs=2, verbose=0)) == 2

    def test_validation_split_that_leaves_no_training_sample_raises(self):
        X, y = _data(1)
        with pytest.raises(ArgumentError, match=r"Trainer\.fit: validation_split=0\.5 of 1 "
                                                 r"samples leaves no training sample"):
            _trainer().fit((X, y), validation_split=0.5, epochs=1, verbose=0)

    def test_fit_with_empty_validation_raises(self):
        X, y = _data()
        with pytest.raises(ArgumentError, match=r"Trainer\.fit: validation must hold at least "
                                                 r"one sample"):
            _trainer().fit((X, y), validation=(self.X0, self.y0), epochs=1, verbose=0)

    def test_one_sample_is_fine(self):
        X, y = _data(1)
        t = _trainer()
        assert t.predict(X).shape == (1, 3)
        assert t.predict_classes(X).shape == (1,)
        assert np.isfinite(t.evaluate(X, y)["loss"])


# ------------------------------------------------------------------ batch sizes and epochs
BAD_BATCH = [0, -1, -128, 2.5, 4.0, True, "32"]


class TestBatchSize:
    @pytest.mark.parametrize("bs", BAD_BATCH)
    def test_fit(self, bs):
        X, y = _data()
        with pytest.raises(ArgumentError, match=r"Trainer\.fit: batch_size must be a positive "
                                                 r"integer or None \(one full batch\), got"):
            _trainer().fit((X, y), epochs=1, batch_size=bs, verbose=0)

    @pytest.mark.parametrize("bs", BAD_BATCH)
    def test_evaluate(self, bs):
        X, y = _data()
        with pytest.raises(ArgumentError, match=r"Trainer\.evaluate: batch_size must be a "
                                                 r"positive integer or None"):
            _trainer().evaluate(X, y, batch_size=bs)

    @pytest.mark.parametrize("call", ["predict", "predict_proba", "predict_classes"])
    @pytest.mark.parametrize("bs", BAD_BATCH)
    def test_predictions(self, call, bs):
        X, _ = _data()
        with pytest.raises(ArgumentError, match=rf"Trainer\.{call}: batch_size must be a "
                                                 r"positive integer or None"):
            getattr(_trainer(), call)(X, batch_size=bs)

    @pytest.mark.parametrize("bs", BAD_BATCH)
    def test_dataloader(self, bs):
        X, y = _data()
        with pytest.raises(ArgumentError, match=r"DataLoader: batch_size must be a positive "
                                                 r"integer or None \(full batch\), got"):
            data.DataLoader((X, y), batch_size=bs)

    def test_none_is_full_batch_and_numpy_ints_are_fine(self):
        X, y = _data(10)
        steps = []
        cb = LambdaCallback(on_batch_end=lambda t, s, logs: steps.append(logs["batch_size"]))
        t = _trainer()
        t.fit((X, y), epochs=2, batch_size=None, verbose=0, callbacks=[cb])
        assert steps == [10, 10]
        np.testing.assert_allclose(t.predict(X, batch_size=None),
                                   t.predict(X, batch_size=np.int64(3)), rtol=1e-5)
        assert len(data.DataLoader((X, y), batch_size=None)) == 1
        assert t.evaluate(X, y, batch_size=None)["loss"] == pytest.approx(
            t.evaluate(X, y, batch_size=3)["loss"], rel=1e-5)

    @pytest.mark.parametrize("epochs", [-1, 2.0, True, None])
    def test_bad_epochs(self, epochs):
        X, y = _data()
        with pytest.raises(ArgumentError, match=r"Trainer\.fit: epochs must be an integer "
                                                 r">= 0, got"):
            _trainer().fit((X, y), epochs=epochs, verbose=0)

    def test_zero_epochs_trains_nothing(self):
        X, y = _data()
        t = _trainer()
        before = _weights(t.model)
        assert len(t.fit((X, y), epochs=0, verbose=0)) == 0
        assert _same(before, _weights(t.model))


# ------------------------------------------------------------------ non-finite gradients
class _Poison(Callback):
    """Writes ``value`` into one gradient entry at global step ``at`` (after backward,
    before the check) and snapshots the weights the model had then."""

    def __init__(self, name, at, value=np.nan):
        self.name, self.at, self.value, self.seen, self.before = name, at, value, 0, None

    def on_after_backward(self, trainer, step):
        if self.seen == self.at:
            p = dict(trainer.model.named_parameters())[self.name]
            p.grad._data.flat[1] = self.value
            self.before = _weights(trainer.model)
        self.seen += 1


class TestNonFiniteGradient:
    @pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
    @pytest.mark.parametrize("clip", [{}, {"clip_grad_norm": 1.0}, {"clip_grad_value": 0.5}])
    def test_stops_before_the_step_and_keeps_the_weights(self, value, clip):
        X, y = _data(32)
        m = _mlp()
        t = Trainer(m, nn.CrossEntropyLoss(), optim.Adam(m.parameters(), lr=1e-2), **clip)
        poison = _Poison("2.weight", at=5, value=value)   # epoch 2 (4 steps each), step 2
        with pytest.raises(NonFiniteError) as info:
            t.fit((X, y), epochs=4, batch_size=8, verbose=0, callbacks=[poison])
        msg = str(info.value)
        assert "a gradient became NaN or infinite" in msg
        assert "at epoch 2, step 2" in msg
        assert "non-finite gradients in ['2.weight']" in msg
        assert "non-finite weights" not in msg
        assert _same(poison.before, _weights(m))
        assert all(np.isfinite(v).all() for v in _weights(m).values())
        assert isinstance(info.value, (FloatingPointError, GlassnetError))

    @pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning")
    def test_a_natural_nan_gradient_with_a_finite_loss(self):
        """sqrt of a zero mean squared error: the loss is 0, its gradient 0/0 = NaN."""
        m = nn.Linear(3, 1)
        m.weight.data.zero_()
        m.bias.data.zero_()
        X, y = np.ones((4, 3), np.float32), np.zeros((4, 1), np.float32)

        def rmse(out, target):
            return gn.sqrt(((out - gn.as_tensor(target)) ** 2).mean())

        t = Trainer(m, rmse, optim.SGD(m.parameters(), lr=0.1))
        before = _weights(m)
        with pytest.raises(NonFiniteError, match=r"a gradient became NaN or infinite \(loss 0\) "
                                                 r"at epoch 1, step 1; non-finite gradients in "
                                                 r"\['weight', 'bias'\]"):
            t.fit((X, y), epochs=1, batch_size=4, verbose=0)
        assert _same(before, _weights(m))

    def test_train_step_alone_checks_too(self):
        m = _mlp()
        t = _trainer(m)
        X, y = _data(8)
        poison = _Poison("0.bias", at=0)
        t._cbl = gn.training.callbacks.CallbackList([poison])
        with pytest.raises(NonFiniteError, match=r"non-finite gradients in \['0\.bias'\]"):
            t.train_step(X, y, 0)
        assert _same(poison.before, _weights(m))

    def test_huge_finite_gradients_are_not_an_error(self):
        """Their squares overflow float32 (the cheap test says "maybe"), the exact test
        finds every element finite, and the step is taken."""
        m = nn.Linear(2, 1)
        t = Trainer(m, nn.MSELoss(), optim.SGD(m.parameters(), lr=1e-30))

        def big(trainer, step):
            for p in trainer.model.parameters():
                p.grad._data[...] = 1e30
        before = _weights(m)
        t.fit((np.ones((4, 2), np.float32), np.ones((4, 1), np.float32)), epochs=1,
              batch_size=4, verbose=0, callbacks=[LambdaCallback(on_after_backward=big)])
        for k, v in _weights(m).items():
            np.testing.assert_allclose(v, before[k] - 1.0, rtol=1e-6)

    def test_a_callback_may_repair_gradients_before_the_check(self):
        m = _mlp()
        t = _trainer(m)
        X, y = _data(8)

        def repair(trainer, step):
            for p in trainer.model.parameters():
                np.nan_to_num(p.grad._data, copy=False, nan=0.0)
        t.fit((X, y), epochs=1, batch_size=8, verbose=0,
              callbacks=[_Poison("0.weight", at=0), LambdaCallback(on_after_backward=repair)])
        assert all(np.isfinite(v).all() for v in _weights(m).values())

    def test_float64_and_float16_models(self):
        for dtype in (np.float64, np.float16):
            m = _mlp().to_dtype(dtype)
            t = _trainer(m)
            X, y = _data(8)
            poison = _Poison("0.weight", at=1)
            with pytest.raises(NonFiniteError, match=r"epoch 1, step 2.*\['0\.weight'\]"):
                t.fit((X.astype(dtype), y), epochs=2, batch_size=4, verbose=0,
                      callbacks=[poison])
            assert _same(poison.before, _weights(m))

    def test_nan_loss_names_the_weights_that_are_already_bad(self):
        m = _mlp()
        m[0].weight.data.numpy()[0, 0] = np.nan
        with pytest.raises(NonFiniteError, match=r"the loss became nan at epoch 1, step 1.*"
                                                 r"non-finite weights in \['0\.weight'\]"):
            _trainer(m).fit(_data(8), epochs=1, batch_size=8, verbose=0)


# ------------------------------------------------------------------ fit stopped by an error
class _Record(Callback):
    def __init__(self):
        self.ended = 0

    def on_train_end(self, trainer):
        self.ended += 1
        self.training_at_end = trainer.model.training


class TestFitStoppedByAnError:
    def _run(self, *callbacks, verbose=0, poison_at=9):
        """4 steps per epoch; the gradient turns NaN at step ``poison_at`` (epoch 3)."""
        X, y = _data(32, seed=1)
        Xv, yv = _data(16, seed=2)
        m = _mlp(h=16)
        t = Trainer(m, nn.CrossEntropyLoss(), optim.Adam(m.parameters(), lr=5e-2))
        snaps = {}
        snap = LambdaCallback(on_epoch_end=lambda tr, e, logs: snaps.update({e: _weights(m)}))
        poison = _Poison("0.weight", at=poison_at)
        with pytest.raises(NonFiniteError) as info:
            t.fit((X, y), validation=(Xv, yv), epochs=10, batch_size=8, verbose=verbose,
                  callbacks=[snap, *callbacks, poison])
        return t, m, snaps, poison, info.value

    def test_early_stopping_restores_its_best_weights(self):
        es = EarlyStopping("val_loss", patience=5, restore_best_weights=True)
        t, m, snaps, poison, err = self._run(es)
        assert es.best_epoch is not None and es.best_epoch in snaps
        assert _same(snaps[es.best_epoch], _weights(m))

    def test_without_restore_the_last_finite_weights_stay(self):
        es = EarlyStopping("val_loss", patience=5)
        t, m, snaps, poison, err = self._run(es)
        assert _same(poison.before, _weights(m))

    def test_callbacks_end_model_in_eval_mode_history_says_why(self):
        rec = _Record()
        t, m, _, _, err = self._run(rec)
        assert rec.ended == 1 and not m.training
        assert t.history.stop_reason.startswith("stopped by NonFiniteError: Trainer: a "
                                                "gradient became NaN")
        assert len(t.history) == 2    # epochs 1 and 2 completed

    def test_the_progress_bar_is_closed(self, capsys):
        t, *_ = self._run(verbose=1)
        bars = [cb for cb in t._cbl.callbacks if isinstance(cb, ProgressBar)]
        assert len(bars) == 1 and bars[0].bar is not None and bars[0].bar.disable

    def test_keyboard_interrupt_also_cleans_up_and_propagates(self):
        X, y = _data(32)
        m = _mlp()
        rec, es = _Record(), EarlyStopping("loss", patience=5, restore_best_weights=True)
        snaps = {}

        def interrupt(trainer, step, logs):
            if trainer.epoch == 2:
                raise KeyboardInterrupt
        with pytest.raises(KeyboardInterrupt):
            _trainer(m).fit((X, y), epochs=5, batch_size=8, verbose=0, callbacks=[
                LambdaCallback(on_epoch_end=lambda tr, e, logs: snaps.update({e: _weights(m)})),
                es, rec, LambdaCallback(on_batch_end=interrupt)])
        assert rec.ended == 1 and not m.training
        assert _same(snaps[es.best_epoch], _weights(m))

    def test_a_failing_on_train_end_does_not_hide_the_error(self):
        class Broken(Callback):
            def on_train_end(self, trainer):
                raise RuntimeError("cannot clean up")
        rec = _Record()
        t, m, _, _, err = self._run(Broken(), rec)
        assert rec.ended == 1     # the callbacks after the broken one still ran
        assert any("Broken.on_train_end failed: RuntimeError: cannot clean up" in n
                   for n in err.__notes__)

    def test_a_successful_fit_calls_on_train_end_once(self):
        rec = _Record()
        _trainer().fit(_data(8), epochs=2, batch_size=4, verbose=0, callbacks=[rec])
        assert rec.ended == 1


def test_a_batch_whose_targets_are_all_ignored_names_the_cause():
    # cross_entropy's mean over no targets is NaN, as in PyTorch; the Trainer's NaN stop
    # says why instead of only "the loss became nan"
    import warnings
    model = gn.nn.Linear(3, 4)
    trainer = Trainer(model, gn.nn.CrossEntropyLoss(ignore_index=-100), "sgd", lr=0.1)
    X = np.ones((4, 3), np.float32)
    y = np.full(4, -100)
    before = model.weight.numpy().copy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(gn.errors.NonFiniteError, match="mean is over no targets"):
            trainer.fit((X, y), epochs=1, batch_size=4, verbose=0)
    np.testing.assert_array_equal(model.weight.numpy(), before)
