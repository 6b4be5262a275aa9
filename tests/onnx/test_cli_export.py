"""``glassnet export MODEL --onnx``: a run folder or a model file in, an ONNX file out that
onnxruntime runs with glassnet's results."""
from __future__ import annotations

import numpy as np
import pytest

ort = pytest.importorskip("onnxruntime")

import glassnet as gn  # noqa: E402
from glassnet import io, models  # noqa: E402
from glassnet.cli.main import main  # noqa: E402


def _ort(path, x):
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return sess.run(None, {sess.get_inputs()[0].name: x})


def test_export_a_run_folder_of_glassnet_train(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", "--out", str(run), "--epochs", "1", "--verbose", "0"]) == 0
    capsys.readouterr()
    assert main(["export", str(run), "--onnx"]) == 0
    out = capsys.readouterr().out
    assert f"wrote {run / 'model.onnx'} (input: batch x 64)" in out
    assert "onnxruntime matches glassnet" in out
    model = io.load(run / "model.safetensors").eval()
    X = np.random.default_rng(0).random((17, 64)).astype(np.float32)
    with gn.no_grad():
        want = model(gn.tensor(X)).numpy()
    np.testing.assert_allclose(_ort(run / "model.onnx", X)[0], want, rtol=1e-5, atol=1e-5)


def test_export_a_model_file_with_input_shape_and_out(tmp_path, capsys):
    lenet = models.LeNet()
    gn.save(lenet, tmp_path / "lenet.safetensors")
    target = tmp_path / "sub" / "lenet.onnx"
    assert main(["export", str(tmp_path / "lenet.safetensors"), "--onnx", "--out", str(target),
                 "--input-shape", "1,28,28", "--opset", "18"]) == 0
    assert "batch x 1x28x28" in capsys.readouterr().out
    X = np.random.default_rng(1).random((3, 1, 28, 28)).astype(np.float32)
    with gn.no_grad():
        want = lenet.eval()(gn.tensor(X)).numpy()
    np.testing.assert_allclose(_ort(target, X)[0], want, rtol=1e-5, atol=1e-5)


def test_token_models_take_the_sequence_length(tmp_path, capsys):
    lm = models.CharLM("abcdef", embedding_dim=3, hidden_size=4)
    gn.save(lm, tmp_path / "lm.safetensors")
    assert main(["export", str(tmp_path / "lm.safetensors"), "--onnx",
                 "--input-shape", "12"]) == 0
    assert "batch x 12" in capsys.readouterr().out
    ids = np.random.default_rng(2).integers(0, 6, size=(5, 12)).astype(np.int64)
    logits, h_n, c_n = _ort(tmp_path / "lm.onnx", ids)
    assert logits.shape == (5, 12, 6) and h_n.shape == c_n.shape == (1, 5, 4)


def test_errors_are_one_line(tmp_path, capsys):
    gn.save(models.CharLM(5, hidden_size=3), tmp_path / "lm.safetensors")
    assert main(["export", str(tmp_path / "lm.safetensors"), "--onnx"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("glassnet export: error: cannot tell the input shape of a CharLM")
    assert main(["export", str(tmp_path / "lm.safetensors")]) == 2
    assert "choose the format: --onnx" in capsys.readouterr().err
    assert main(["export", str(tmp_path), "--onnx"]) == 2
    assert "without a model.safetensors" in capsys.readouterr().err
    assert main(["export", str(tmp_path / "lm.safetensors"), "--onnx",
                 "--input-shape", "0,3"]) == 2
    assert "expected positive sizes" in capsys.readouterr().err
