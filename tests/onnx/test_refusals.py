"""What glassnet.onnx.export refuses: every layer it cannot express raises ExportError
naming the layer's path in the model and its class, and no file is written."""
from __future__ import annotations

import builtins
import re
import sys

import numpy as np
import pytest

pytest.importorskip("onnx")

import glassnet as gn  # noqa: E402
import glassnet.onnx as gonnx  # noqa: E402
from glassnet import models, nn  # noqa: E402
from glassnet.errors import ArgumentError, ArgumentTypeError, GlassnetError  # noqa: E402
from glassnet.nn.loss import _Loss  # noqa: E402


class Doubler(nn.Module):
    def forward(self, x):
        return x * 2


class MyLinear(nn.Linear):
    def forward(self, x):
        return super().forward(x) * 0.5


class MyMLP(models.MLP):
    def forward(self, x):
        return self.net(x) + 1


def _x(*shape):
    return np.random.default_rng(0).standard_normal(shape).astype(np.float32)


def _mc():
    m = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))
    nn.enable_mc_dropout(m)
    return m


def _hooked():
    m = nn.Sequential(nn.Linear(4, 4), nn.ReLU())
    m[1].register_forward_hook(lambda mod, args, out: out * 3)
    return m


def _patched():
    m = nn.Sequential(nn.Linear(4, 4), nn.Tanh())
    m[1].forward = lambda x: x
    return m


REFUSED = {
    # name: (model factory, example input, layer path, class, reason fragment)
    "custom-forward": (lambda: nn.Sequential(nn.Linear(4, 4), Doubler()), _x(2, 4), "1",
                       "Doubler", "no ONNX converter"),
    "subclass-overrides-forward": (lambda: nn.Sequential(nn.ReLU(), MyLinear(4, 3)), _x(2, 4),
                                   "1", "MyLinear", "overrides forward"),
    "model-subclass": (lambda: MyMLP([4, 3]), _x(2, 4), "<model>", "MyMLP",
                       "overrides forward"),
    "mc-dropout": (_mc, _x(2, 4), "1", "Dropout", "Monte-Carlo"),
    "forward-hook": (_hooked, _x(2, 4), "1", "ReLU", "forward hooks"),
    "instance-forward": (_patched, _x(2, 4), "1", "Tanh", "replaced on the instance"),
    "embedding-max-norm": (lambda: nn.Sequential(nn.Embedding(5, 3, max_norm=1.0)),
                           np.zeros((2, 3), np.int64), "0", "Embedding", "max_norm"),
    "tuple-into-linear": (lambda: nn.Sequential(nn.LSTM(4, 3, batch_first=True),
                                                nn.Linear(3, 2)), _x(2, 5, 4), "1",
                          "Linear", "tuple"),
    "adaptive-max-indices": (lambda: nn.AdaptiveMaxPool2d(2, return_indices=True),
                             _x(2, 1, 4, 4), "<model>", "AdaptiveMaxPool2d", "indices"),
    "module-list": (lambda: nn.Sequential(nn.Linear(4, 4), nn.ModuleList([nn.ReLU()])),
                    _x(2, 4), "1", "ModuleList", "no ONNX converter"),
    "drop-connect-mc": (lambda: (lambda m: (nn.enable_mc_dropout(m), m)[1])(
        nn.Sequential(nn.DropConnectLinear(4, 3))), _x(2, 4), "0", "DropConnectLinear",
        "DropConnect"),
    "charlm-unbatched": (lambda: models.CharLM(5, hidden_size=3), np.zeros((6,), np.int64),
                         "<model>", "CharLM", "no batch axis"),
    "rnn-unbatched": (lambda: nn.GRU(4, 3), _x(6, 4), "<model>", "GRU", "unbatched"),
}


@pytest.mark.parametrize("name", sorted(k for k, v in REFUSED.items() if v[2] is not None))
def test_a_layer_that_cannot_be_exported_is_named(name, tmp_path):
    build, x, where, cls, why = REFUSED[name]
    model = build().eval()
    target = tmp_path / "m.onnx"
    with pytest.raises(gonnx.ExportError) as info:
        gonnx.export(model, x, target)
    msg = str(info.value)
    assert f"layer '{where}' ({cls})" in msg, msg
    assert why in msg, msg
    assert isinstance(info.value, GlassnetError)
    assert not target.exists()


def test_the_path_names_a_nested_layer(tmp_path):
    model = models.MLP([4, 5, 3])
    model.net[1] = Doubler()
    with pytest.raises(gonnx.ExportError, match=re.escape("layer 'net.1' (Doubler)")):
        gonnx.export(model, _x(2, 4), tmp_path / "m.onnx")


@pytest.mark.parametrize("layer", [nn.Bilinear(3, 3, 2), nn.CosineSimilarity(),
                                   nn.PairwiseDistance(), nn.MSELoss()])
def test_two_input_layers_and_losses_are_refused(layer, tmp_path):
    # they are not part of a one-input model; export refuses them by name
    with pytest.raises(gonnx.ExportError, match=type(layer).__name__):
        gonnx.export(nn.Sequential(nn.Linear(3, 3), layer), _x(2, 3), tmp_path / "m.onnx")


def test_bad_arguments(tmp_path):
    model = nn.Sequential(nn.Linear(3, 2))
    with pytest.raises(ArgumentTypeError, match="model must be a glassnet.nn.Module"):
        gonnx.export("model", _x(2, 3), tmp_path / "m.onnx")
    with pytest.raises(ArgumentError, match="opset must be an int >= 17"):
        gonnx.export(model, _x(2, 3), tmp_path / "m.onnx", opset=11)
    with pytest.raises(ArgumentError, match="output_names must be a list of 1"):
        gonnx.export(model, _x(2, 3), tmp_path / "m.onnx", output_names=["a", "b"])
    with pytest.raises(ArgumentError, match="example_input must be one array"):
        gonnx.export(model, (_x(2, 3), _x(2, 3)), tmp_path / "m.onnx")
    with pytest.raises(ArgumentError, match="numeric array with a batch axis"):
        gonnx.export(model, np.array(1.0), tmp_path / "m.onnx")
    with pytest.raises(ArgumentTypeError, match="path must be a str"):
        gonnx.export(model, _x(2, 3), 3)
    with pytest.raises(gonnx.ExportError, match=re.escape("layer '0' (Linear): expected input "
                                                          "with last dimension 3")):
        gonnx.export(model, _x(2, 4), tmp_path / "m.onnx")


def test_a_clear_message_without_onnx(monkeypatch, tmp_path, capsys):
    real_import = builtins.__import__

    def no_onnx(name, *args, **kwargs):
        if name == "onnx" or name.startswith("onnx."):
            raise ImportError("No module named 'onnx'")
        return real_import(name, *args, **kwargs)
    monkeypatch.setattr(builtins, "__import__", no_onnx)
    monkeypatch.delitem(sys.modules, "onnx", raising=False)
    with pytest.raises(ImportError, match=re.escape("pip install 'glassnet[onnx]'")) as info:
        gonnx.export(nn.Sequential(nn.Linear(2, 2)), _x(1, 2), tmp_path / "m.onnx")
    assert isinstance(info.value, gonnx.OnnxNotInstalledError)
    assert not (tmp_path / "m.onnx").exists()
    # the command says it in its one line
    from glassnet.cli.main import main
    gn.save(nn.Sequential(nn.Linear(2, 2)), tmp_path / "m.safetensors")
    assert main(["export", str(tmp_path / "m.safetensors"), "--onnx"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("glassnet export: error: glassnet.onnx needs the 'onnx' package")


# what is not a layer of a one-input model: the losses (an input and a target), two-input
# layers, and the bases and containers that have no forward of their own
NOT_LAYERS = {"Module", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict",
              "RNNBase", "RNNCellBase", "Bilinear", "CosineSimilarity", "PairwiseDistance",
              # query, key and value; target and memory; source and target sequences
              "MultiheadAttention", "TransformerDecoderLayer", "TransformerDecoder",
              "Transformer", "BahdanauAttention", "LuongAttention", "RNNSeq2Seq",
              "TransformerSeq2Seq",
              # energy-based models: sampled, not a fixed graph (the DBN exports as
              # its to_classifier() Sequential)
              "BernoulliRBM", "DeepBeliefNet",
              # a generator and a discriminator: export gan.generator or gan.discriminator
              "GAN",
              # wrappers of one Sequential: export their .net
              "DCGANGenerator", "DCGANDiscriminator"}


def test_every_layer_of_glassnet_has_a_converter():
    """A layer added to glassnet.nn or glassnet.models without an ONNX converter fails
    here (or is listed above with the reason it cannot be one)."""
    import inspect
    supported = set(gonnx.supported_layers())
    missing = []
    for mod in (nn, models):
        for name in dir(mod):
            c = getattr(mod, name)
            if not (inspect.isclass(c) and issubclass(c, nn.Module)):
                continue
            if name in supported or name in NOT_LAYERS or issubclass(c, _Loss):
                continue
            missing.append(f"{mod.__name__}.{name}")
    assert missing == []
