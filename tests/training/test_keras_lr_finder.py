"""LRFinder: the range test follows its schedule and smoothing, stops on divergence,
leaves model, optimizer, trainer and RNG exactly as they were, and suggests a sane rate."""
from __future__ import annotations

import sys

import numpy as np
import pytest

import glassnet as gn
from glassnet import backend, data, nn, optim
from glassnet.errors import ArgumentError
from glassnet.training import LRFinder, Trainer


def _digits():
    X, y = data.load_digits()
    return (X / 16.0).astype(np.float32), y


def _trainer(opt="adam", lr=1e-3, seed=0):
    gn.manual_seed(seed)
    m = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Dropout(0.1), nn.Linear(32, 10))
    o = optim.Adam(m.parameters(), lr=lr) if opt == "adam" else \
        optim.SGD(m.parameters(), lr=lr, momentum=0.9)
    return Trainer(m, nn.CrossEntropyLoss(), o, metrics=["accuracy"])


def _opt_arrays(opt):
    sd = opt.state_dict()
    out = []
    for k, st in sorted(sd["state"].items()):
        for name, v in sorted(st.items()):
            out.append((k, name, np.array(v, copy=True)))
    return out, [dict(g) for g in sd["param_groups"]]


def test_model_optimizer_trainer_and_rng_are_restored_bit_for_bit():
    X, y = _digits()
    t = _trainer()
    t.fit(X[:300], y[:300], epochs=1, verbose=0, seed=0)      # an optimizer with state
    model0 = {k: v.numpy().copy() for k, v in t.model.state_dict().items()}
    opt0, groups0 = _opt_arrays(t.optimizer)
    rng0 = backend.rng().bit_generator.state
    hist0, epoch0 = t.history.to_dict(), t.epoch
    t.model.eval()
    f = LRFinder(t)
    f.range_test(X, y, start_lr=1e-5, end_lr=1.0, num_iter=30, seed=0)
    assert len(f.history["lr"]) > 5
    for k, v in t.model.state_dict().items():
        assert np.array_equal(v.numpy(), model0[k]), k
    opt1, groups1 = _opt_arrays(t.optimizer)
    assert groups1 == groups0
    assert len(opt1) == len(opt0) and all(
        a[:2] == b[:2] and np.array_equal(a[2], b[2]) for a, b in zip(opt0, opt1))
    assert backend.rng().bit_generator.state == rng0
    assert t.history.to_dict() == hist0 and t.epoch == epoch0
    assert not t.model.training                                # its mode too
    # so the fit that follows is the fit there would have been without the test
    a = _trainer()
    b = _trainer()
    LRFinder(b).range_test(X, y, end_lr=1.0, num_iter=20)
    gn.manual_seed(7)
    ha = a.fit(X[:300], y[:300], epochs=2, verbose=0)
    gn.manual_seed(7)
    hb = b.fit(X[:300], y[:300], epochs=2, verbose=0)
    assert ha["loss"] == hb["loss"]


def test_schedule_and_smoothing_follow_the_formulas():
    X, y = _digits()
    f = LRFinder(_trainer())
    h = f.range_test((X, y), start_lr=1e-4, end_lr=1e-2, num_iter=20, smooth_f=0.1, seed=0)
    lr = np.asarray(h["lr"])
    assert len(lr) == 20 and not f.stopped_early
    np.testing.assert_allclose(lr, 1e-4 * 100.0 ** (np.arange(20) / 19), rtol=1e-12)
    raw, s = h["raw_loss"], h["loss"]
    assert s[0] == raw[0]
    for i in range(1, 20):
        assert s[i] == pytest.approx(0.1 * raw[i] + 0.9 * s[i - 1], rel=1e-12)
    h = LRFinder(_trainer()).range_test(X, y, start_lr=0.01, end_lr=0.1, num_iter=10,
                                        step_mode="linear", seed=0)
    np.testing.assert_allclose(h["lr"], np.linspace(0.01, 0.1, 10), rtol=1e-12)
    # fewer batches than num_iter: the data is cycled
    loader = data.DataLoader((X[:64], y[:64]), batch_size=32, shuffle=True, seed=0)
    assert len(LRFinder(_trainer()).range_test(loader, end_lr=0.01, num_iter=7)["lr"]) == 7


def test_stops_when_the_loss_diverges():
    X, y = _digits()
    f = LRFinder(_trainer("sgd", lr=0.01))
    h = f.range_test(X, y, start_lr=1e-3, end_lr=1e4, num_iter=200, seed=0)
    assert f.stopped_early and len(h["lr"]) < 200
    s = h["loss"]
    assert s[-1] > 5 * min(s) or not np.isfinite(h["raw_loss"][-1])
    assert all(v <= 5 * min(s[:i + 1]) for i, v in enumerate(s[:-1]))


def test_suggestion_on_digits_is_a_sane_learning_rate():
    X, y = _digits()
    f = LRFinder(_trainer())
    f.range_test(X, y, start_lr=1e-6, end_lr=10, num_iter=100, seed=0)
    lr = f.suggestion()
    assert 1e-3 <= lr <= 0.5
    lrs, losses = np.asarray(f.history["lr"]), np.asarray(f.history["loss"])
    i = int(np.argmin(np.gradient(losses[10:-5]))) + 10
    assert lr == lrs[i]
    # the suggested rate trains; one a thousand times smaller barely moves in 2 epochs
    acc = []
    for rate in (lr, lr / 1000):
        t = _trainer(lr=rate, seed=1)
        t.fit(X[:1400], y[:1400], epochs=2, verbose=0, seed=0)
        acc.append(t.evaluate(X[1400:], y[1400:])["accuracy"])
    assert acc[0] > 0.8 > acc[1]


def test_plot_draws_on_an_axes(monkeypatch):
    pytest.importorskip("matplotlib")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    X, y = _digits()
    f = LRFinder(_trainer())
    f.range_test(X, y, start_lr=1e-5, end_lr=1.0, num_iter=40, seed=0)
    ax = f.plot()
    from matplotlib.axes import Axes
    assert isinstance(ax, Axes) and ax.get_xscale() == "log"
    line = ax.get_lines()[0]
    np.testing.assert_array_equal(line.get_xdata(), f.history["lr"][10:-5])
    from matplotlib.figure import Figure
    own = Figure().add_subplot()
    assert f.plot(ax=own, log_lr=False, show_suggestion=False) is own
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match=r"glassnet\[plot\]"):
        f.plot()


def test_bad_arguments_are_named():
    X, y = _digits()
    with pytest.raises(TypeError, match="trainer must be a glassnet.training.Trainer"):
        LRFinder(nn.Linear(2, 2))
    f = LRFinder(_trainer())
    with pytest.raises(ArgumentError, match="run range_test first"):
        f.suggestion()
    with pytest.raises(ArgumentError, match=r"end_lr \(0.001\) must be larger than start_lr"):
        f.range_test(X, y, start_lr=0.01, end_lr=0.001)
    with pytest.raises(ArgumentError, match="step_mode"):
        f.range_test(X, y, step_mode="cosine")
    with pytest.raises(ArgumentError, match="diverge_th"):
        f.range_test(X, y, diverge_th=1.0)
    with pytest.raises(ArgumentError, match="x is a tuple and y"):
        f.range_test((X, y), y)
    f.range_test(X, y, end_lr=0.01, num_iter=8)
    with pytest.raises(ArgumentError, match="fewer than 2"):
        f.suggestion()
