"""``glassnet.summary``: parameter counts equal ``sum(p.numel())`` and PyTorch's for the
same layers, output shapes come from a real forward pass."""
from __future__ import annotations

import pytest

import glassnet as gn
from glassnet import models, nn
from glassnet.errors import ArgumentError


def _numel(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def test_lenet_counts_and_shapes():
    m = models.LeNet()
    s = gn.summary(m, (1, 28, 28))
    assert s.total_params == _numel(m) == 61_706        # LeNet-5 (torchinfo's count)
    assert sum(r["params"] for r in s.rows) == s.total_params
    by = {r["name"]: r for r in s.rows}
    assert by["features.0"]["params"] == 6 * 1 * 25 + 6
    assert by["features.0"]["output_shape"] == (1, 6, 28, 28)
    assert by["features.5"]["output_shape"] == (1, 16, 5, 5)
    assert by["classifier.0"]["output_shape"] == (1, 400)
    assert by["classifier.5"]["output_shape"] == (1, 10)
    assert by["features.1"]["trainable"] is None and by["classifier.1"]["trainable"] is True
    assert s.param_bytes == 4 * 61_706
    text = str(s)
    for piece in ("features.0 (Conv2d)", "(1, 6, 28, 28)", "48,120", "Total params: 61,706",
                  "Trainable params: 61,706", "Non-trainable params: 0"):
        assert piece in text
    # Keras's (None, ...) form and a batch of 3
    s3 = gn.summary(m, (None, 1, 28, 28), batch_size=3)
    assert s3.rows[-1]["output_shape"] == (3, 10) and s3.input_shape == (3, 1, 28, 28)


def test_lstm_model_counts_equal_numel_and_freezing_is_reported():
    m = nn.Sequential(nn.Embedding(50, 8), nn.LSTM(8, 16, num_layers=2, batch_first=True,
                                                   bidirectional=True))
    s = gn.summary(m, (7,), dtype="int64")
    assert s.total_params == _numel(m)
    lstm = s.rows[1]
    assert lstm["type"] == "LSTM" and lstm["output_shape"][0] == (1, 7, 32)
    # PyTorch's formula: 4 gates x (in + hidden + 2 biases) x hidden, per layer/direction
    per = lambda i, h: 4 * h * (i + h + 2)       # noqa: E731
    assert lstm["params"] == 2 * per(8, 16) + 2 * per(32, 16)
    m[0].weight.requires_grad = False
    s = gn.summary(m)
    assert s.trainable_params == s.total_params - 400 and s.non_trainable_params == 400
    assert s.rows[0]["trainable"] is False and s.rows[0]["output_shape"] is None
    assert "?" in str(s)


def test_shared_parameters_are_counted_once_and_the_model_leaves_eval_as_it_was():
    lin = nn.Linear(4, 4)
    m = nn.Sequential(lin, nn.ReLU(), lin, nn.Dropout(0.5))
    m.train()
    s = gn.summary(m, (4,))
    assert s.total_params == 20 == sum(r["params"] for r in s.rows)
    assert m.training and m[3].training
    assert len(lin._forward_hooks) == 0                 # hooks removed


def test_bad_input_shape_names_the_argument():
    with pytest.raises(ArgumentError, match="did not run on a dummy input"):
        gn.summary(models.LeNet(), (28, 28))
    with pytest.raises(ArgumentError, match="input_shape must hold positive ints"):
        gn.summary(nn.Linear(2, 2), (0,))
    with pytest.raises(TypeError, match="model must be a glassnet.nn.Module"):
        gn.summary("model", (2,))


def test_counts_equal_torch_for_the_same_layers():
    torch = pytest.importorskip("torch")
    pairs = [
        (nn.Linear(13, 7), torch.nn.Linear(13, 7)),
        (nn.Conv2d(3, 8, 3, padding=1), torch.nn.Conv2d(3, 8, 3, padding=1)),
        (nn.Conv1d(4, 6, 5, bias=False), torch.nn.Conv1d(4, 6, 5, bias=False)),
        (nn.BatchNorm1d(9), torch.nn.BatchNorm1d(9)),
        (nn.BatchNorm2d(5), torch.nn.BatchNorm2d(5)),
        (nn.LayerNorm(11), torch.nn.LayerNorm(11)),
        (nn.Embedding(30, 6), torch.nn.Embedding(30, 6)),
        (nn.LSTM(5, 9, num_layers=2, bidirectional=True),
         torch.nn.LSTM(5, 9, num_layers=2, bidirectional=True)),
        (nn.GRU(5, 9, batch_first=True), torch.nn.GRU(5, 9, batch_first=True)),
        (nn.RNN(5, 9, num_layers=3), torch.nn.RNN(5, 9, num_layers=3)),
        (models.LeNet(), None),
    ]
    for ours, theirs in pairs:
        if theirs is None:
            theirs = torch.nn.Sequential(
                torch.nn.Conv2d(1, 6, 5, padding=2), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                torch.nn.Conv2d(6, 16, 5), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                torch.nn.Flatten(), torch.nn.Linear(400, 120), torch.nn.ReLU(),
                torch.nn.Linear(120, 84), torch.nn.ReLU(), torch.nn.Linear(84, 10))
        s = gn.summary(ours)
        want = sum(p.numel() for p in theirs.parameters())
        assert s.total_params == want, type(ours).__name__
        assert s.trainable_params == sum(p.numel() for p in theirs.parameters()
                                         if p.requires_grad)
    # the output shapes too, for the conv stack of LeNet
    tl = torch.nn.Sequential(torch.nn.Conv2d(1, 6, 5, padding=2), torch.nn.MaxPool2d(2))
    out = tl(torch.zeros(1, 1, 28, 28))
    s = gn.summary(nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.MaxPool2d(2)), (1, 28, 28))
    assert s.rows[-1]["output_shape"] == tuple(out.shape)


def test_summary_of_an_mlp_is_consistent_with_num_parameters():
    m = models.MLP([64, 32, 16, 10])
    s = gn.summary(m, (64,))
    assert s.total_params == m.num_parameters() == 64 * 32 + 32 + 32 * 16 + 16 + 16 * 10 + 10
    assert s.param_bytes == 4 * s.total_params
    assert s.rows[-1]["output_shape"] == (1, 10)
