"""glassnet.onnx.export: for every exportable layer configuration and model family,
onnxruntime's outputs equal glassnet's (evaluation mode) at batch sizes 1 and 17 from ONE
export, and onnx.checker accepts the file.

Tolerance (float32): |ort - glassnet| <= 1e-5 + 1e-5 * |glassnet| elementwise, with the
absolute part scaled by the output's scale max(1, max |glassnet|) (a sum of many float32
products differs in the last bits between two BLAS orders, relative to the magnitude of the
terms). Step / Sign / Perceptron outputs are compared exactly.
"""
from __future__ import annotations

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

import glassnet as gn  # noqa: E402
import glassnet.onnx as gonnx  # noqa: E402
from glassnet import nn  # noqa: E402

from .cases import CASES, glassnet_outputs, randomize  # noqa: E402

RTOL = ATOL = 1e-5
EXACT = ("act/Step", "act/Sign", "model/Perceptron")


def _session(path):
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])


def max_differences(name, tmp_path, seed=0):
    """Export CASES[name] once (example batch 3) and return, per batch size 1 and 17, the
    max abs difference and the output scale over every output."""
    build, example = CASES[name]
    gn.manual_seed(seed)
    model = randomize(build(), seed, keep_init=name.startswith("model/")).eval()
    rng = np.random.default_rng(seed)
    path = gonnx.export(model, example(3, rng), tmp_path / "model.onnx")
    onnx.checker.check_model(onnx.load(str(path)), full_check=True)
    sess = _session(path)
    input_name = sess.get_inputs()[0].name
    result = {}
    for n in (1, 17):
        x = example(n, rng)
        want = glassnet_outputs(model, x)
        got = sess.run(None, {input_name: x})
        assert len(got) == len(want), name
        for decl, g in zip(sess.get_outputs(), got):     # the declared shapes are the real ones
            assert [n if d == "batch" else d for d in decl.shape] == list(g.shape), \
                (name, decl.shape, g.shape)
        diffs = []
        for g, w in zip(got, want):
            assert g.shape == w.shape and g.dtype == w.dtype, (name, n, g.shape, w.shape)
            scale = max(1.0, float(np.abs(w).max()) if w.size else 1.0)
            if name in EXACT:
                np.testing.assert_array_equal(g, w, err_msg=f"{name} batch {n}")
            else:
                np.testing.assert_allclose(g, w, rtol=RTOL, atol=ATOL * scale,
                                           err_msg=f"{name} batch {n}")
            diffs.append((float(np.abs(g.astype(np.float64) - w).max()), scale))
        result[n] = diffs
    return result


@pytest.mark.filterwarnings("ignore:Implicit dimension choice")   # the dim=None cases
@pytest.mark.parametrize("name", sorted(CASES))
def test_onnxruntime_matches_glassnet(name, tmp_path):
    max_differences(name, tmp_path)


def test_the_batch_axis_is_dynamic_and_named(tmp_path):
    model = nn.Sequential(nn.Linear(4, 3))
    path = gonnx.export(model, np.zeros((2, 4), np.float32), tmp_path / "m.onnx",
                        input_names=["x"], output_names=["logits"])
    proto = onnx.load(str(path))
    (inp,), (out,) = proto.graph.input, proto.graph.output
    assert inp.name == "x" and out.name == "logits"
    assert inp.type.tensor_type.shape.dim[0].dim_param == "batch"
    assert inp.type.tensor_type.shape.dim[1].dim_value == 4
    assert out.type.tensor_type.shape.dim[0].dim_param == "batch"
    assert proto.opset_import[0].version == gonnx.DEFAULT_OPSET >= 17
    fixed = gonnx.export(model, np.zeros((2, 4), np.float32), tmp_path / "f.onnx",
                         dynamic_batch=False, opset=18)
    proto = onnx.load(str(fixed))
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_value == 2
    assert proto.opset_import[0].version == 18


def test_time_major_recurrent_layers_have_the_batch_on_axis_1(tmp_path):
    lstm = nn.LSTM(3, 4)
    path = gonnx.export(lstm, np.zeros((5, 2, 3), np.float32), tmp_path / "l.onnx")
    proto = onnx.load(str(path))
    dims = proto.graph.input[0].type.tensor_type.shape.dim
    assert [d.dim_value or d.dim_param for d in dims] == [5, "batch", 3]
    assert [o.name for o in proto.graph.output] == ["output", "h_n", "c_n"]


@pytest.mark.parametrize("opset", [17, 18, 20])
def test_opsets(opset, tmp_path):
    # ReduceMax / ReduceMean take axes as an attribute before 18, as an input from 18
    model = nn.Sequential(nn.Maxout(4, 6), nn.Unflatten(1, (2, 3)), nn.GroupNorm(1, 2),
                          nn.AdaptiveMaxPool1d(2))
    randomize(model)
    x = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    path = gonnx.export(model, x, tmp_path / "m.onnx", opset=opset)
    got = _session(path).run(None, {"input": x})[0]
    np.testing.assert_allclose(got, glassnet_outputs(model, x)[0], rtol=RTOL, atol=ATOL)


def test_export_restores_training_mode_and_exports_eval(tmp_path):
    model = nn.Sequential(nn.Linear(6, 6), nn.Dropout(0.9), nn.BatchNorm1d(6))
    randomize(model)
    model.train()
    x = np.random.default_rng(1).standard_normal((4, 6)).astype(np.float32)
    path = gonnx.export(model, x, tmp_path / "m.onnx")
    assert model.training and all(m.training for m in model.modules())
    model.eval()
    got = _session(path).run(None, {"input": x})[0]
    np.testing.assert_allclose(got, glassnet_outputs(model, x)[0], rtol=RTOL, atol=ATOL)


def test_supported_layers_lists_every_converter():
    names = gonnx.supported_layers()
    for cls in ("Linear", "Conv2d", "LSTM", "GRU", "RNN", "Embedding", "BatchNorm2d",
                "Residual", "Sequential", "MLP", "LeNet", "CharLM", "SequenceClassifier"):
        assert cls in names


def test_a_float64_model_exports_in_float64(tmp_path):
    # onnxruntime's CPU kernels have double for these ops (not for Erf, LSTM, GRU, RNN)
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.BatchNorm1d(8), nn.Linear(8, 3))
    model = randomize(model.to_dtype(np.float64)).eval()
    x = np.random.default_rng(0).standard_normal((5, 4))
    path = gonnx.export(model, x, tmp_path / "m.onnx")
    got = _session(path).run(None, {"input": x})[0]
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, glassnet_outputs(model, x)[0], rtol=1e-12, atol=1e-12)
