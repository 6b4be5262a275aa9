"""glassnet.errors: one root for every failure glassnet reports, each class also the built-in
exception the same failure raised before; and a sweep over public constructors and
functions given one bad argument: the error is a GlassnetError naming that argument."""
import gzip

import numpy as np
import pytest

import glassnet as gn
from glassnet import data, errors, metrics, models, nn, optim, training
from glassnet import functional as F
from glassnet.errors import (ArgumentError, ArgumentTypeError, CheckpointError,
                             DataChecksumError, DataFileError, DataFileNotFoundError,
                             GlassnetError, GradcheckError, ModelFileError,
                             ModelFileNotFoundError, NonFiniteError)
from glassnet.optim import lr_scheduler as S


def test_hierarchy():
    assert gn.GlassnetError is GlassnetError and issubclass(GlassnetError, Exception)
    for cls, builtin in [(ArgumentError, ValueError), (ArgumentTypeError, TypeError),
                         (ModelFileError, ValueError), (CheckpointError, ValueError),
                         (DataFileError, ValueError), (DataChecksumError, ValueError),
                         (GradcheckError, AssertionError),
                         (ModelFileNotFoundError, FileNotFoundError),
                         (ModelFileNotFoundError, ModelFileError),
                         (DataFileNotFoundError, FileNotFoundError),
                         (DataFileNotFoundError, DataFileError),
                         (NonFiniteError, FloatingPointError),
                         (errors.NotFittedError, RuntimeError),
                         (errors.NotFittedError, ValueError),
                         (errors.NotFittedError, AttributeError)]:
        assert issubclass(cls, GlassnetError) and issubclass(cls, builtin), cls
        assert cls.__doc__, cls
    assert issubclass(CheckpointError, ModelFileError)
    assert issubclass(DataChecksumError, DataFileError)
    assert not issubclass(ArgumentTypeError, ValueError)
    assert not issubclass(ArgumentError, TypeError)
    assert set(errors.__all__) == {"GlassnetError", "ArgumentError", "ArgumentTypeError",
                                   "ModelFileError", "CheckpointError", "DataFileError",
                                   "DataChecksumError", "GradcheckError",
                                   "ModelFileNotFoundError", "DataFileNotFoundError",
                                   "NonFiniteError", "NotFittedError", "GlassnetWarning",
                                   "ShapeWarning"}


def test_the_old_names_are_the_same_classes():
    assert gn.io.ModelFileError is ModelFileError
    assert gn.data.DataChecksumError is DataChecksumError
    assert gn.autograd.GradcheckError is GradcheckError


def test_a_file_that_is_not_a_model_is_a_glassnet_error(tmp_path):
    bad = tmp_path / "junk.safetensors"
    bad.write_bytes(b"this is not a safetensors file")
    with pytest.raises(GlassnetError, match="not a readable safetensors") as info:
        gn.load(bad)
    assert isinstance(info.value, ModelFileError) and isinstance(info.value, ValueError)


@pytest.mark.parametrize("content, match", [
    (b"\x00\x00", "file too short"),
    (b"\x00\x00\x0d\x01\x00\x00\x00\x02ab", "not an unsigned-byte IDX file"),
    (b"\x00\x00\x08\x02\x00\x00", "truncated IDX header"),
    (b"\x00\x00\x08\x01\x00\x00\x00\x05ab", "promises dims"),
])
def test_idx_files_glassnet_refuses_raise_data_file_error(tmp_path, content, match):
    f = tmp_path / "x-idx1-ubyte"
    f.write_bytes(content)
    with pytest.raises(DataFileError, match=match) as info:
        data.read_idx(f)
    assert isinstance(info.value, GlassnetError) and isinstance(info.value, ValueError)
    assert str(f) in str(info.value)


def test_idx_magic_and_gzip_errors_are_data_file_errors(tmp_path):
    f = tmp_path / "labels-idx1-ubyte.gz"
    f.write_bytes(gzip.compress(b"\x00\x00\x08\x01\x00\x00\x00\x02ab"))
    with pytest.raises(DataFileError, match="magic number is 2049, expected 2051"):
        data.read_idx(f, magic=2051)
    g = tmp_path / "broken-idx1-ubyte.gz"
    g.write_bytes(b"\x1f\x8b not really gzip")
    with pytest.raises(DataFileError, match="not a valid gzip file"):
        data.read_idx(g)


def test_gradcheck_failure_is_a_glassnet_error():
    class Wrong(gn.Function):
        def forward(self, a):
            return a * a

        def backward(self, g):
            return (g * 3.0,)      # the derivative is 2a, not 3

    with pytest.raises(GlassnetError) as info:
        gn.gradcheck(lambda a: Wrong.apply(a), [np.array([0.3, 0.7])])
    assert isinstance(info.value, GradcheckError) and isinstance(info.value, AssertionError)


# -------------------------------------------------------------------------------- sweep
def _params():
    return [nn.Parameter(np.zeros(3, np.float32))]


def _opt():
    return optim.SGD(_params(), lr=0.1)


def _trainer():
    return training.Trainer(nn.Linear(2, 2), nn.CrossEntropyLoss(), "sgd")


X4 = np.zeros((4, 2), np.float32)
Y4 = np.array([0, 1, 0, 1])

# (call, the argument the message must name, the built-in the error must also be).
# Every call here was refused before the shared checks too (checked against the parent
# commit); only the message or, for Linear(True, 3), the class (TypeError then) changed.
SWEEP = [
    (lambda: nn.Linear(0, 3), "in_features", ValueError),
    (lambda: nn.Linear(True, 3), "in_features", ValueError),
    (lambda: nn.Linear(3, 2.0), "out_features", ValueError),
    (lambda: nn.Conv2d(0, 4, 3), "in_channels", ValueError),
    (lambda: nn.Conv2d(1, 4, 0), "kernel_size", ValueError),
    (lambda: nn.Conv2d(1, 4, 3, stride=(1, 0)), "stride", ValueError),
    (lambda: nn.Conv1d(1, 4, 3, dilation=0), "dilation", ValueError),
    (lambda: nn.Conv1d(1, 4, 2.5), "kernel_size", ValueError),
    (lambda: nn.MaxPool2d(0), "kernel_size", ValueError),
    (lambda: nn.AdaptiveAvgPool2d(1.5), "output_size", ValueError),
    (lambda: nn.Dropout(1.5), "p", ValueError),
    (lambda: nn.Dropout2d(-0.1), "p", ValueError),
    (lambda: nn.DropConnectLinear(3, 2, p=2), "p", ValueError),
    (lambda: nn.BatchNorm1d(0), "num_features", ValueError),
    (lambda: nn.Embedding(0, 3), "num_embeddings", ValueError),
    (lambda: nn.Embedding(10, 3, padding_idx=10), "padding_idx", ValueError),
    (lambda: nn.LSTM(4, 0), "hidden_size", ValueError),
    (lambda: nn.GRU(4, 8, num_layers=True), "num_layers", ValueError),
    (lambda: nn.GRU(4, 8, dropout=1.0), "dropout", ValueError),
    (lambda: nn.RNN(4, 8, nonlinearity="gelu"), "nonlinearity", ValueError),
    (lambda: nn.LSTMCell(0, 3), "input_size", ValueError),
    (lambda: nn.PReLU(0), "num_parameters", ValueError),
    (lambda: nn.Softplus(beta=0), "beta", ValueError),
    (lambda: nn.Maxout(3, 2, pieces=0), "pieces", ValueError),
    (lambda: nn.APL(4, hinges=0), "hinges", ValueError),
    (lambda: nn.MSELoss(reduction="avg"), "reduction", ValueError),
    (lambda: nn.MultiMarginLoss(p=3), "p", ValueError),
    (lambda: nn.get_activation("swishy"), "activation", ValueError),
    (lambda: nn.get_activation(3), "activation", TypeError),
    (lambda: nn.get_loss("msee"), "loss", ValueError),
    (lambda: nn.WeightPenalty(l2=-1), "l2", ValueError),
    (lambda: nn.ActivityRegularization(l1=-1), "l1", ValueError),
    (lambda: nn.init.calculate_gain("swishy"), "nonlinearity", ValueError),
    (lambda: nn.Unflatten(1.5, (2, 2)), "dim", TypeError),
    (lambda: nn.kernels.get_kernel("sobel_z"), "kernel", ValueError),
    (lambda: nn.kernels.blur(0), "size", ValueError),
    (lambda: nn.mc_predict(nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5)), X4, samples=1),
     "samples", ValueError),
    (lambda: optim.SGD(_params(), lr=-1), "lr", ValueError),
    (lambda: optim.SGD(_params(), lr=0.1, momentum=-0.5), "momentum", ValueError),
    (lambda: optim.Adam(_params(), betas=(0.9, 1.0)), "betas", ValueError),
    (lambda: optim.Adam(_params(), eps=-1), "eps", ValueError),
    (lambda: optim.AdamW(_params(), weight_decay=-1), "weight_decay", ValueError),
    (lambda: optim.RMSprop(_params(), alpha=1.5), "alpha", ValueError),
    (lambda: optim.Adagrad(_params(), lr_decay=-1), "lr_decay", ValueError),
    (lambda: optim.get("adamx", _params()), "optimizer", ValueError),
    (lambda: optim.clip_grad_norm_(_params(), -1), "max_norm", ValueError),
    (lambda: optim.clip_grad_value_(_params(), -1), "clip_value", ValueError),
    (lambda: S.StepLR(_opt(), step_size=0), "step_size", ValueError),
    (lambda: S.MultiStepLR(_opt(), [1.5]), "milestones", TypeError),
    (lambda: S.CosineAnnealingLR(_opt(), T_max=0), "T_max", ValueError),
    (lambda: S.ReduceLROnPlateau(_opt(), factor=1.0), "factor", ValueError),
    (lambda: S.ReduceLROnPlateau(_opt(), mode="up"), "mode", ValueError),
    (lambda: S.ReduceLROnPlateau(_opt(), patience=-1), "patience", ValueError),
    (lambda: training.EarlyStopping(patience=-1), "patience", ValueError),
    (lambda: training.EarlyStopping(min_delta=-0.1), "min_delta", ValueError),
    (lambda: training.LambdaCallback(on_epoch_ends=print), "hook", ValueError),
    (lambda: training.Trainer(nn.Linear(2, 2), nn.CrossEntropyLoss(), metrics=["acuracy"]),
     "metric", ValueError),
    (lambda: _trainer().fit((X4, Y4), epochs=-1, verbose=0), "epochs", ValueError),
    (lambda: _trainer().fit((X4, Y4), epochs=1, validation_split=1.0, verbose=0),
     "validation_split", ValueError),
    (lambda: training.SequenceStreams(np.arange(100), 4, seq_len=0), "seq_len", ValueError),
    (lambda: data.DataLoader((X4, Y4), batch_size=0), "batch_size", ValueError),
    (lambda: data.DataLoader((X4, Y4), seed=-1), "seed", ValueError),
    (lambda: data.KFold(1), "n_splits", ValueError),
    (lambda: data.train_val_test_split(X4, Y4, val_size=1.5), "val_size", ValueError),
    (lambda: data.train_val_test_split(np.float32(1.0)), "X", ValueError),
    (lambda: data.TensorDataset(np.float32(1.0)), "array 0", ValueError),
    (lambda: data.make_moons(1), "n_samples", ValueError),
    (lambda: data.make_xor(0), "n_samples", ValueError),
    (lambda: data.load_mnist(split="val"), "split", ValueError),
    (lambda: metrics.precision_recall_f1(Y4, Y4, average="mean"), "average", ValueError),
    (lambda: metrics.accuracy(1, 1), "y_true", ValueError),
    (lambda: F.dropout(gn.ones(2, 2), 2.0), "p", ValueError),
    (lambda: F.softplus(gn.ones(2), beta=-1.0), "beta", ValueError),
    (lambda: F.conv2d(gn.ones(1, 1, 4, 4), gn.ones(1, 1, 3, 3), stride=0), "stride", ValueError),
    (lambda: F.max_pool2d(gn.ones(1, 1, 4, 4), kernel_size=1.5), "kernel_size", ValueError),
    (lambda: F.mse_loss(gn.ones(2), np.ones(2), reduction="avg"), "reduction", ValueError),
    (lambda: F.get_loss("msee"), "loss", ValueError),
    (lambda: models.MLP([4, 3], output="ranking"), "output", ValueError),
    (lambda: models.MLP([4, 3], dropout=1.0), "dropout", ValueError),
    (lambda: models.CharLM(10, cell="transformer"), "cell", ValueError),
    (lambda: models.SequenceClassifier(1, 4, num_classes=1), "num_classes", ValueError),
    (lambda: models.Autoencoder(4, 2, loss="hinge"), "loss", ValueError),
    (lambda: models.DenoisingAutoencoder(4, 2, noise="pink"), "noise", ValueError),
    (lambda: models.Perceptron(2, activation="relu"), "activation", ValueError),
]


@pytest.mark.parametrize("call, arg, builtin", SWEEP, ids=[f"{i}-{a}" for i, (_, a, _) in
                                                         enumerate(SWEEP)])
def test_bad_arguments_raise_a_glassnet_error_naming_the_argument(call, arg, builtin):
    with pytest.raises(GlassnetError) as info:
        call()
    e = info.value
    assert isinstance(e, builtin), type(e).__mro__
    assert isinstance(e, (ArgumentError, ArgumentTypeError))
    assert arg in str(e), str(e)
    assert ": " in str(e)      # "who: ..." names the function or layer first
