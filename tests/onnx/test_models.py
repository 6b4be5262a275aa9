"""ONNX export of models whose forward uses fitted state (not only parameters)."""
import numpy as np
import pytest

import glassnet as gn
from glassnet import nn
from glassnet import onnx as gonnx

pytest.importorskip("onnx")


def test_prototypical_network_exports_with_its_prototypes(tmp_path):
    ort = pytest.importorskip("onnxruntime")
    from glassnet.models import PrototypicalNetwork
    gn.manual_seed(0)
    m = PrototypicalNetwork(nn.Sequential(nn.Conv2d(1, 3, 3), nn.ReLU(), nn.Flatten(),
                                          nn.Linear(3 * 4 * 4, 8)))
    X = np.random.default_rng(0).normal(size=(40, 1, 6, 6)).astype(np.float32)
    with pytest.raises(gonnx.ExportError, match="call fit"):
        gonnx.export(m, gn.tensor(X[:2]), tmp_path / "unfit.onnx")
    m.fit(X, np.arange(40) % 5)
    m.eval()
    gonnx.export(m, gn.tensor(X[:2]), tmp_path / "proto.onnx")
    s = ort.InferenceSession(str(tmp_path / "proto.onnx"))
    for n in (1, 17):
        got = s.run(None, {s.get_inputs()[0].name: X[:n]})[0]
        np.testing.assert_allclose(got, m(gn.tensor(X[:n])).numpy(), atol=1e-5)


def _same_as_onnxruntime(m, x, path, batches=(1, 5)):
    ort = pytest.importorskip("onnxruntime")
    m.eval()
    gonnx.export(m, x[:2], path)
    s = ort.InferenceSession(str(path))
    for n in batches:
        got = s.run(None, {s.get_inputs()[0].name: x[:n]})[0]
        np.testing.assert_allclose(got, m(gn.tensor(x[:n])).numpy(), atol=1e-5)


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_transformer_encoder_layers_export(tmp_path, norm_first, activation):
    gn.manual_seed(0)
    x = np.random.default_rng(0).normal(size=(5, 7, 16)).astype(np.float32)
    layer = nn.TransformerEncoderLayer(16, 4, 32, dropout=0.0, activation=activation,
                                       norm_first=norm_first, batch_first=True)
    _same_as_onnxruntime(layer, x, tmp_path / "layer.onnx")
    stack = nn.TransformerEncoder(nn.TransformerEncoderLayer(16, 4, 32, dropout=0.0,
                                                             norm_first=norm_first), 2,
                                  norm=nn.LayerNorm(16))
    _same_as_onnxruntime(stack, np.ascontiguousarray(x.transpose(1, 0, 2)),
                         tmp_path / "stack.onnx")          # time-major: the length is dynamic


def test_positional_encodings_char_transformer_and_transposed_conv_export(tmp_path):
    from glassnet.models import CharTransformer
    gn.manual_seed(0)
    x = np.random.default_rng(0).normal(size=(5, 7, 16)).astype(np.float32)
    _same_as_onnxruntime(nn.Sequential(nn.PositionalEncoding(16, 0.0, batch_first=True),
                                       nn.Linear(16, 3)), x, tmp_path / "pe.onnx")
    _same_as_onnxruntime(nn.Sequential(nn.LearnedPositionalEncoding(16, 20), nn.Linear(16, 3)),
                         x, tmp_path / "lpe.onnx")
    ids = np.random.default_rng(1).integers(0, 7, (5, 9)).astype(np.int64)
    _same_as_onnxruntime(CharTransformer("abcdefg", 16, 2, 2, 12), ids, tmp_path / "lm.onnx")
    for kw in (dict(stride=2, padding=1, output_padding=1), dict(stride=2, padding=1, groups=2),
               dict(stride=3, dilation=2)):
        ct = nn.ConvTranspose2d(4, 6, 3, **kw)
        xi = np.random.default_rng(2).normal(size=(5, 4, 6, 6)).astype(np.float32)
        _same_as_onnxruntime(ct, xi, tmp_path / "ct.onnx")


def test_a_vae_is_refused_with_the_reason(tmp_path):
    from glassnet.models import VAE
    m = VAE(8, [6], 2)
    with pytest.raises(gonnx.ExportError, match="draws z"):
        gonnx.export(m, np.zeros((1, 8), np.float32), tmp_path / "vae.onnx")
