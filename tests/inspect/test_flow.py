import numpy as np
import pytest

import glassnet.inspect as ins
from glassnet import nn, optim, training


class Cube(nn.Module):
    """A user-defined activation the inspector has never heard of."""

    def forward(self, x):
        return x * x * x


def _fit(model, callbacks, epochs=2, batch_size=32):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(128, 6)).astype(np.float32)
    y = (X[:, 0] + X[:, 1] > 0).astype(np.int64)
    tr = training.Trainer(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1))
    return tr.fit((X, y), validation=(X[:32], y[:32]), epochs=epochs, batch_size=batch_size,
                  callbacks=callbacks, verbose=0), X, y


def test_gradient_flow_per_epoch_matches_manual_norms():
    model = nn.Sequential(nn.Linear(6, 8), nn.Sigmoid(), nn.Linear(8, 2))
    flow = ins.GradientFlow()
    _fit(model, [flow], epochs=3, batch_size=128)       # one batch per epoch
    assert flow.layers == ["0", "2"]
    x, W = flow.series("weight_grad_norm")
    assert list(x) == [0, 1, 2] and W.shape == (3, 2)
    assert np.all(W > 0)
    r = flow.last()["0"]
    assert r["delta_norm"] > 0 and r["delta_mean_abs"] > 0
    assert r["weight_grad_mean_abs"] <= r["weight_grad_norm"]
    assert "weight_grad_norm" in str(flow)


def test_gradient_flow_step_values_are_the_true_gradients():
    model = nn.Sequential(nn.Linear(6, 8), nn.Tanh(), nn.Linear(8, 2))
    snap = {}

    class Snap(training.Callback):
        def on_after_backward(self, trainer, step):
            snap[step] = (np.linalg.norm(model[0].weight.grad.numpy()),)

    flow = ins.GradientFlow(every=2, unit="step")
    _fit(model, [flow, Snap()], epochs=1, batch_size=32)   # 4 steps -> steps 0 and 2
    steps = [r["step"] for r in flow.records if r["layer"] == "0"]
    assert steps == [0, 2]
    got = [r["weight_grad_norm"] for r in flow.records if r["layer"] == "0"]
    assert np.allclose(got, [snap[0][0], snap[2][0]], rtol=1e-6)
    d = [r for r in flow.records if r["layer"] == "2"][0]
    assert d["delta_norm"] > 0


def test_activation_stats_saturation_dead_and_generic_units():
    model = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 16), nn.Sigmoid(),
                          nn.Linear(16, 8), Cube(), nn.Linear(8, 2))
    # kill half the ReLUs: large negative bias on units 0..7
    model[0].bias.numpy()[:8] = -100.0
    # saturate the sigmoid: huge weights
    model[2].weight.numpy()[...] *= 200
    stats = ins.ActivationStats()
    _fit(model, [stats], epochs=1, batch_size=128)
    last = stats.last()
    assert set(last) == {"1", "3", "5"}
    assert last["1"]["dead"] >= 0.5 and last["1"]["saturated"] is None
    assert last["3"]["saturated"] > 0.5 and last["3"]["dead"] is None
    assert last["5"]["activation"] == "Cube" and last["5"]["saturated"] is None
    assert last["5"]["std"] > 0


def test_activation_stats_formulas():
    st = ins.ActivationStats(tol=0.01)
    a = np.array([[0.0, 0.5, 0.995], [0.005, 0.5, 0.2]])
    v = st.stats(nn.Sigmoid(), a)
    assert v["saturated"] == pytest.approx(3 / 6)
    r = st.stats(nn.ReLU(), np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 2.0]]))
    assert r["dead"] == pytest.approx(1 / 3)
    t = st.stats(nn.Tanh(), np.array([[-0.995, 0.0], [0.3, 0.999]]))
    assert t["saturated"] == pytest.approx(0.5)


def test_callbacks_validate_arguments():
    with pytest.raises(ValueError, match="every"):
        ins.GradientFlow(every=0)
    with pytest.raises(ValueError, match="unit"):
        ins.ActivationStats(unit="batch")
    flow = ins.GradientFlow(layers=["nope"])
    with pytest.raises(ValueError, match="no layer named"):
        _fit(nn.Sequential(nn.Linear(6, 2)), [flow], epochs=1)


def test_flow_and_stats_plots(tmp_path):
    pytest.importorskip("matplotlib")
    model = nn.Sequential(nn.Linear(6, 8), nn.Tanh(), nn.Linear(8, 8), nn.ReLU(),
                          nn.Linear(8, 2))
    flow, stats = ins.GradientFlow(), ins.ActivationStats()
    _fit(model, [flow, stats], epochs=2)
    fig = ins.plot_gradient_flow(flow, tmp_path / "flow.png")
    assert (tmp_path / "flow.png").stat().st_size > 5000
    assert len(fig.axes) == 2 and len(fig.axes[0].lines) == 3
    ins.plot_activation_stats(stats, tmp_path / "stats.png")
    assert (tmp_path / "stats.png").stat().st_size > 5000
    with pytest.raises(ValueError, match="nothing recorded"):
        ins.plot_gradient_flow(ins.GradientFlow())


def _two_step_flow():
    flow = ins.GradientFlow(unit="step")
    flow.records = [
        {"epoch": 0, "step": 0, "layer": "0", "module": "Linear", "weight_grad_norm": 0.5,
         "weight_grad_mean_abs": 0.125, "delta_norm": 0.25, "delta_mean_abs": None},
        {"epoch": 0, "step": 0, "layer": "fc.out", "module": "Linear", "weight_grad_norm": 2.0,
         "weight_grad_mean_abs": 1 / 3, "delta_norm": None, "delta_mean_abs": 0.75},
        {"epoch": 1, "step": 5, "layer": "0", "module": "Linear", "weight_grad_norm": 0.25,
         "weight_grad_mean_abs": 0.0625, "delta_norm": 0.125, "delta_mean_abs": 1e-7}]
    return flow


def test_recorder_table_and_series_are_pinned():
    flow = _two_step_flow()
    assert flow.table().split("\n") == [
        "layer             weight_grad_norm  weight_grad_mean_abs            delta_norm"
        "        delta_mean_abs",
        "0                             0.25                0.0625                 0.125"
        "                 1e-07",
        "fc.out                           2              0.333333                     -"
        "                  0.75"]
    x, d = flow.series("delta_norm")
    assert list(x) == [0, 5]
    assert np.array_equal(d, [[0.25, np.nan], [0.125, np.nan]], equal_nan=True)
    assert flow.to_dict() == {"unit": "step", "every": 1, "records": flow.records}
    assert ins.ActivationStats().table() == "ActivationStats: nothing recorded yet"
    with pytest.raises(ValueError, match="series: metric must be one of"):
        flow.series("mean")


def test_flow_picture_panels_are_pinned():
    pytest.importorskip("matplotlib")
    fig = ins.plot_gradient_flow(_two_step_flow(), title="T")
    left, right = fig.axes
    assert (left.get_yscale(), left.get_xlabel(), left.get_ylabel(), left.get_title()) == \
        ("log", "step", "||dE/dW||", "T: weight-gradient norm per layer")
    assert [t.get_text() for t in left.get_legend().get_texts()] == ["0", "fc.out"]
    assert left.get_legend().get_title().get_text() == "layer"
    assert (right.get_yscale(), right.get_xlabel(), right.get_ylabel(), right.get_title()) == \
        ("log", "layer (input side left)", "norm", "profile over depth")
    assert [t.get_text() for t in right.get_legend().get_texts()] == \
        ["dE/dW, step 0", "dE/dW, step 5", "delta, first", "delta, last"]
    assert [t.get_text() for t in right.get_xticklabels()] == ["0", "fc.out"]
    with pytest.raises(ValueError, match=r"plot_activation_stats: nothing recorded \(was the "
                                         r"callback passed to fit\?\)"):
        ins.plot_activation_stats(ins.ActivationStats())
