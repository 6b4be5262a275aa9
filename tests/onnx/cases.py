"""The models the ONNX tests export: one entry per layer configuration and model family,
``name -> (build() -> model, example(batch, rng) -> input array)``.

Parameters and buffers that start at trivial values (batch-norm statistics, PReLU slopes,
biases at zero) are randomised by :func:`randomize`, so that the comparison sees them.
"""
from __future__ import annotations

import numpy as np

import glassnet as gn
from glassnet import models, nn


def randomize(model, seed=0, keep_init=False):
    """Every float parameter and buffer drawn anew, N(0, 0.5^2) (running variances from
    U(0.5, 2)); with ``keep_init`` the initialised values get N(0, 0.05^2) added instead
    (whole models keep their initialisation's scale, and zero biases become nonzero)."""
    rng = np.random.default_rng(seed)
    for name, t in list(model.named_parameters()) + list(model.named_buffers()):
        a = t._data
        if a.dtype.kind != "f":
            continue
        if name.endswith("running_var"):
            a[...] = rng.uniform(0.5, 2.0, a.shape)
        elif name.endswith("running_mean"):
            a[...] = rng.normal(0, 0.5, a.shape)
        elif keep_init:
            a[...] += rng.normal(0, 0.05, a.shape)
        else:
            a[...] = rng.normal(0, 0.5, a.shape)
    return model


def floats(*shape, scale=1.0):
    def make(n, rng):
        return (scale * rng.standard_normal((n,) + shape)).astype(np.float32)
    return make


def positive(*shape):
    def make(n, rng):
        return np.abs(rng.standard_normal((n,) + shape)).astype(np.float32)
    return make


def ids(vocab, T):
    def make(n, rng):
        return rng.integers(0, vocab, size=(n, T)).astype(np.int64)
    return make


def time_major(T, I):
    """(T, N, I) input of a recurrent layer without batch_first (batch on axis 1)."""
    def make(n, rng):
        return rng.standard_normal((T, n, I)).astype(np.float32)
    return make


def seq(*layers):
    return lambda: nn.Sequential(*layers)


ACTIVATIONS = {
    "Identity": nn.Identity, "Step": lambda: nn.Step(threshold=0.2, low=-0.5, high=2.0),
    "Sign": lambda: nn.Sign(threshold=-0.1), "Sigmoid": nn.Sigmoid, "Tanh": nn.Tanh,
    "Sign-three": lambda: nn.Sign(three_valued=True),
    "ReLU": nn.ReLU, "LeakyReLU": lambda: nn.LeakyReLU(0.2), "RReLU": nn.RReLU,
    "PReLU": nn.PReLU, "PReLU-channels": lambda: nn.PReLU(4, init=0.1), "ELU": nn.ELU,
    "ELU-alpha": lambda: nn.ELU(alpha=0.5), "SELU": nn.SELU, "CELU": lambda: nn.CELU(0.7),
    "Softplus": nn.Softplus, "Softplus-beta": lambda: nn.Softplus(beta=2.0, threshold=3.0),
    "Softplus-centered": lambda: nn.Softplus(centered=True),
    "Softsign": nn.Softsign, "Softmax": lambda: nn.Softmax(dim=1),
    "Softmax-last": lambda: nn.Softmax(dim=-1), "LogSoftmax": lambda: nn.LogSoftmax(dim=1),
    "Softmin": lambda: nn.Softmin(dim=2), "GELU": nn.GELU,
    "GELU-tanh": lambda: nn.GELU(approximate="tanh"), "SiLU": nn.SiLU, "Mish": nn.Mish,
    "Hardswish": nn.Hardswish, "Hardsigmoid": nn.Hardsigmoid, "ReLU6": nn.ReLU6,
    "Hardtanh": lambda: nn.Hardtanh(-0.5, 1.5), "Threshold": lambda: nn.Threshold(0.1, -2.0),
    "LogSigmoid": nn.LogSigmoid, "GLU": lambda: nn.GLU(dim=1),
    "APL": lambda: nn.APL(4, hinges=3),
}

CASES = {}
for _name, _make in ACTIVATIONS.items():
    # (N, 4, 6): channels on axis 1 for PReLU / APL / GLU, and values well past +-3
    CASES[f"act/{_name}"] = (_make, floats(4, 6, scale=4.0))
CASES["act/PReLU-2d"] = (lambda: nn.PReLU(6), floats(6, scale=3.0))
CASES["act/Softmax-implicit-3d"] = (lambda: nn.Softmax(), floats(3, 4))   # dim=None: axis 0
CASES["act/LogSoftmax-implicit-2d"] = (lambda: nn.LogSoftmax(), floats(5))
CASES["act/Maxout"] = (lambda: nn.Maxout(6, 5, pieces=3), floats(6, scale=2.0))
CASES["act/Maxout-3d"] = (lambda: nn.Maxout(6, 5, pieces=2, bias=False), floats(3, 6))

CASES.update({
    "linear/Linear": (lambda: nn.Linear(7, 5), floats(7)),
    "linear/Linear-3d-nobias": (lambda: nn.Linear(7, 5, bias=False), floats(3, 7)),
    "linear/DropConnectLinear": (lambda: nn.DropConnectLinear(7, 5, p=0.5), floats(7)),
    "linear/Flatten-Unflatten": (seq(nn.Flatten(), nn.Linear(12, 24), nn.Unflatten(1, (2, -1, 3))),
                                 floats(3, 4)),
    "linear/Flatten-range": (seq(nn.Flatten(2, 3)), floats(2, 3, 4, 5)),
    "dropout/all": (seq(nn.Dropout(0.5), nn.Linear(8, 8), nn.Dropout1d(0.3),
                        nn.ActivityRegularization(l1=0.1)), floats(8)),
    "dropout/Dropout2d": (seq(nn.Dropout2d(0.5), nn.Conv2d(2, 3, 3)), floats(2, 6, 6)),
    "conv/Conv2d": (lambda: nn.Conv2d(3, 4, 3), floats(3, 9, 8)),
    "conv/Conv2d-stride-pad-dil": (lambda: nn.Conv2d(3, 4, (3, 2), stride=(2, 1),
                                                     padding=(1, 2), dilation=(2, 1)),
                                   floats(3, 11, 9)),
    "conv/Conv2d-same-even": (lambda: nn.Conv2d(2, 3, 4, padding="same", bias=False),
                              floats(2, 7, 7)),
    "conv/Conv2d-full": (lambda: nn.Conv2d(2, 3, 3, padding="full"), floats(2, 5, 5)),
    "conv/Conv1d": (lambda: nn.Conv1d(3, 5, 3, stride=2, padding=1, dilation=2),
                    floats(3, 17)),
    "conv/Conv1d-same": (lambda: nn.Conv1d(3, 5, 4, padding="same"), floats(3, 10)),
    "conv/Conv2d-groups": (lambda: nn.Conv2d(4, 6, 3, padding=1, groups=2), floats(4, 6, 5)),
    "conv/Conv2d-depthwise": (lambda: nn.Conv2d(3, 6, 3, stride=2, groups=3), floats(3, 7, 7)),
    "conv/Conv1d-groups": (lambda: nn.Conv1d(4, 4, 3, groups=4), floats(4, 9)),
    "conv/FixedConv2d": (lambda: nn.FixedConv2d(["sobel_x", "sobel_y"], in_channels=2,
                                                padding=1), floats(2, 8, 8)),
    "pool/MaxPool2d": (lambda: nn.MaxPool2d(2), floats(3, 8, 9)),
    "pool/MaxPool2d-pad-stride": (lambda: nn.MaxPool2d(3, stride=2, padding=1),
                                  floats(2, 9, 8)),
    "pool/MaxPool2d-ceil": (lambda: nn.MaxPool2d(3, stride=2, ceil_mode=True),
                            floats(2, 8, 10)),
    "pool/AvgPool2d": (lambda: nn.AvgPool2d(2, stride=1, padding=1), floats(2, 7, 6)),
    "pool/AvgPool2d-exclude-pad": (lambda: nn.AvgPool2d(3, stride=2, padding=1,
                                                        count_include_pad=False),
                                   floats(2, 7, 6)),
    "pool/AvgPool2d-divisor": (lambda: nn.AvgPool2d(2, divisor_override=3), floats(2, 6, 6)),
    "pool/MaxPool1d": (lambda: nn.MaxPool1d(3, stride=2, padding=1), floats(3, 11)),
    "pool/AvgPool1d": (lambda: nn.AvgPool1d(2, padding=1), floats(3, 11)),
    "pool/AdaptiveAvgPool2d": (lambda: nn.AdaptiveAvgPool2d((3, 4)), floats(2, 7, 10)),
    "pool/AdaptiveAvgPool2d-even": (lambda: nn.AdaptiveAvgPool2d(2), floats(2, 8, 6)),
    "pool/AdaptiveAvgPool2d-None": (lambda: nn.AdaptiveAvgPool2d((None, 1)), floats(2, 5, 6)),
    "pool/AdaptiveAvgPool1d": (lambda: nn.AdaptiveAvgPool1d(4), floats(3, 10)),
    "pool/AdaptiveMaxPool2d": (lambda: nn.AdaptiveMaxPool2d((3, 4)), floats(2, 7, 10)),
    "pool/AdaptiveMaxPool1d": (lambda: nn.AdaptiveMaxPool1d(3), floats(3, 10)),
    "pool/GlobalAvgPool2d": (lambda: nn.GlobalAvgPool2d(), floats(3, 5, 4)),
    "pool/GlobalAvgPool2d-keep": (lambda: nn.GlobalAvgPool2d(flatten=False), floats(3, 5, 4)),
    "pool/LPPool2d": (lambda: nn.LPPool2d(2, 2), floats(2, 6, 6)),
    "pool/StochasticPool2d": (lambda: nn.StochasticPool2d(2), positive(2, 6, 6)),
    "pool/MaxAvgPool2d": (lambda: nn.MaxAvgPool2d(2, alpha=0.3), floats(2, 6, 6)),
    "pool/MaxAvgPool2d-sum": (lambda: nn.MaxAvgPool2d(2), floats(2, 6, 6)),
    "norm/BatchNorm1d": (lambda: nn.BatchNorm1d(6), floats(6)),
    "norm/BatchNorm1d-3d": (lambda: nn.BatchNorm1d(4, affine=False), floats(4, 5)),
    "norm/BatchNorm2d": (lambda: nn.BatchNorm2d(3), floats(3, 4, 5)),
    "norm/BatchNorm2d-batchstats": (lambda: nn.BatchNorm2d(3, track_running_stats=False),
                                    floats(3, 4, 5)),
    "norm/LayerNorm": (lambda: nn.LayerNorm((4, 5)), floats(4, 5)),
    "norm/LayerNorm-noaffine": (lambda: nn.LayerNorm(5, elementwise_affine=False),
                                floats(3, 5)),
    "norm/GroupNorm": (lambda: nn.GroupNorm(2, 4), floats(4, 3, 3)),
    "norm/InstanceNorm1d": (lambda: nn.InstanceNorm1d(3, affine=True), floats(3, 8)),
    "norm/InstanceNorm2d-tracked": (lambda: nn.InstanceNorm2d(3, track_running_stats=True),
                                    floats(3, 4, 4)),
    "misc/Residual": (lambda: nn.Residual(nn.Sequential(nn.Conv2d(3, 3, 3, padding=1),
                                                        nn.ReLU())), floats(3, 6, 6)),
    "misc/Residual-projection": (lambda: nn.Residual(nn.Conv2d(3, 5, 3, stride=2, padding=1),
                                                     projection=True, in_channels=3,
                                                     out_channels=5, stride=2),
                                 floats(3, 6, 6)),
    "misc/Embedding": (lambda: nn.Sequential(nn.Embedding(11, 4, padding_idx=0),
                                             nn.Flatten(), nn.Linear(20, 3)), ids(11, 5)),
    "misc/Embedding-int32": (lambda: nn.Embedding(7, 3), lambda n, rng: rng.integers(
        0, 7, size=(n, 4)).astype(np.int32)),
    "misc/Upsample-nearest": (lambda: nn.Upsample(scale_factor=2), floats(2, 3, 4)),
    "misc/Upsample-nearest-size": (lambda: nn.Upsample(size=(5, 7)), floats(2, 3, 4)),
    "misc/Upsample-bilinear": (lambda: nn.Upsample(scale_factor=2, mode="bilinear"),
                               floats(2, 3, 4)),
    "misc/Upsample-bilinear-corners": (lambda: nn.UpsamplingBilinear2d(scale_factor=3),
                                       floats(2, 3, 4)),
    "misc/Upsample-linear": (lambda: nn.Upsample(scale_factor=1.5, mode="linear"),
                             floats(2, 6)),
    "misc/Upsample-nearest-exact": (lambda: nn.Upsample(size=(7, 5), mode="nearest-exact"),
                                    floats(2, 3, 4)),
    "misc/Upsample-area": (lambda: nn.Upsample(size=(2, 3), mode="area"), floats(2, 5, 7)),
    "misc/Upsample-area-3d": (lambda: nn.Upsample(size=(2, 3, 3), mode="area"),
                              floats(2, 5, 7, 4)),
    "misc/Upsample-trilinear": (lambda: nn.Upsample(scale_factor=2, mode="trilinear"),
                                floats(2, 2, 3, 4)),
    "misc/PixelShuffle": (lambda: nn.PixelShuffle(2), floats(8, 3, 4)),
    "misc/ZeroPad2d": (lambda: nn.ZeroPad2d((1, 2, 0, 3)), floats(2, 3, 4)),
    "misc/ConstantPad1d": (lambda: nn.ConstantPad1d((2, 1), 0.5), floats(2, 5)),
    "misc/ReflectionPad2d": (lambda: nn.ReflectionPad2d(2), floats(2, 4, 5)),
    "misc/ReflectionPad1d": (lambda: nn.ReflectionPad1d((1, 3)), floats(2, 5)),
    "misc/ReplicationPad2d": (lambda: nn.ReplicationPad2d((1, 0, 2, 1)), floats(2, 4, 5)),
    "misc/ReplicationPad1d": (lambda: nn.ReplicationPad1d(2), floats(2, 5)),
    "rnn/RNN": (lambda: nn.RNN(5, 7, batch_first=True), floats(6, 5)),
    "rnn/RNN-relu-2layer-bi-timemajor": (lambda: nn.RNN(5, 7, num_layers=2,
                                                        nonlinearity="relu",
                                                        bidirectional=True),
                                         time_major(6, 5)),
    "rnn/LSTM": (lambda: nn.LSTM(5, 7, batch_first=True), floats(6, 5)),
    "rnn/LSTM-3layer-bi": (lambda: nn.LSTM(5, 4, num_layers=3, bidirectional=True,
                                           batch_first=True, dropout=0.3), floats(6, 5)),
    "rnn/LSTM-timemajor-nobias": (lambda: nn.LSTM(5, 4, num_layers=2, bias=False),
                                  time_major(6, 5)),
    "rnn/GRU": (lambda: nn.GRU(5, 7, batch_first=True), floats(6, 5)),
    "rnn/GRU-2layer-bi-timemajor": (lambda: nn.GRU(5, 4, num_layers=2, bidirectional=True),
                                    time_major(6, 5)),
    "rnn/GRU-nobias-bi": (lambda: nn.GRU(5, 4, bias=False, bidirectional=True,
                                         batch_first=True), floats(6, 5)),
    "rnn/LSTM-bi": (lambda: nn.LSTM(5, 4, bidirectional=True, batch_first=True), floats(6, 5)),
    "rnn/Embedding-LSTM-timemajor": (lambda: nn.Sequential(nn.Embedding(9, 4), nn.LSTM(4, 3)),
                                     lambda n, rng: rng.integers(0, 9, size=(6, n))),
    "rnn/RNNCell": (lambda: nn.RNNCell(5, 4), floats(5)),
    "rnn/RNNCell-relu-nobias": (lambda: nn.RNNCell(5, 4, bias=False, nonlinearity="relu"),
                                floats(5)),
    "rnn/GRUCell-nobias": (lambda: nn.GRUCell(5, 4, bias=False), floats(5)),
    "rnn/LSTMCell": (lambda: nn.LSTMCell(5, 4), floats(5)),
    "rnn/GRUCell": (lambda: nn.GRUCell(5, 4), floats(5)),
    "model/MLP": (lambda: models.MLP([10, 16, 8, 3], activation="tanh"), floats(10)),
    "model/MLP-bn-dropout": (lambda: models.MLP([10, 16, 3], activation="elu", dropout=0.3,
                                                batch_norm=True), floats(10)),
    "model/LeNet": (lambda: models.LeNet(), floats(1, 28, 28)),
    "model/SmallVGG": (lambda: models.SmallVGG(widths=(4, 6, 8), hidden=16),
                       floats(1, 28, 28)),
    "model/SequenceClassifier-lstm": (lambda: models.SequenceClassifier(3, 6, 4),
                                      floats(7, 3)),
    "model/SequenceClassifier-lstm-2layer": (lambda: models.SequenceClassifier(
        3, 5, 3, num_layers=2, dropout=0.2), floats(7, 3)),
    "model/SequenceClassifier-gru-bi-2layer": (lambda: models.SequenceClassifier(
        3, 5, 3, num_layers=2, cell="gru", bidirectional=True), floats(7, 3)),
    "model/SequenceClassifier-rnn-1d": (lambda: models.SequenceClassifier(1, 5, 2, cell="rnn"),
                                        floats(9)),
    "model/SequenceClassifier-tokens": (lambda: models.SequenceClassifier(
        None, 6, 3, vocab_size=13, embedding_dim=4, bidirectional=True), ids(13, 8)),
    "model/Autoencoder": (lambda: models.Autoencoder(12, [8, 4]), floats(12)),
    "model/Autoencoder-tied": (lambda: models.Autoencoder(12, 5, activation="relu",
                                                          output_activation="identity",
                                                          tied=True), floats(12)),
    "model/DenoisingAutoencoder": (lambda: models.DenoisingAutoencoder(12, 6, noise_level=0.4),
                                   floats(12)),
    "model/StackedAutoencoder": (lambda: models.StackedAutoencoder([12, 8, 4], denoise=0.2),
                                 floats(12)),
    "model/StackedAutoencoder-classifier": (lambda: models.StackedAutoencoder(
        [12, 8, 4]).to_classifier(3, dropout=0.2), floats(12)),
    "model/ConvAutoencoder": (lambda: models.ConvAutoencoder(1, 8, channels=(4, 3), code=5,
                                                             batch_norm=True),
                              floats(1, 8, 8)),
    "model/ConvAutoencoder-flat": (lambda: models.ConvAutoencoder(1, 8, channels=(3, 2),
                                                                  code=4), floats(64)),
    "model/CharLM-lstm": (lambda: models.CharLM("abcdefghij", embedding_dim=4, hidden_size=6,
                                                num_layers=2), ids(10, 7)),
    "model/CharLM-gru-onehot": (lambda: models.CharLM(9, embedding_dim=None, hidden_size=5,
                                                      cell="gru"), ids(9, 6)),
    "model/CharLM-rnn": (lambda: models.CharLM(8, embedding_dim=3, hidden_size=5, cell="rnn"),
                         ids(8, 6)),
    "model/Perceptron": (lambda: models.Perceptron(6, 3, activation="sign",
                                                   threshold=0.1), floats(6)),
    "model/AnomalyDetector": (lambda: models.AnomalyDetector(models.Autoencoder(12, 4),
                                                             threshold=1.0), floats(12)),
})


def family(name: str) -> str:
    return name.split("/")[0]


def glassnet_outputs(model, x):
    """The model's outputs in evaluation mode, flattened to a list of arrays."""
    with gn.no_grad():
        y = model(gn.tensor(x) if x.dtype.kind == "f" else x)

    def flat(o):
        if isinstance(o, (tuple, list)):
            return [a for v in o for a in flat(v)]
        return [np.asarray(o._data if hasattr(o, "_data") else o)]
    return flat(y)
