"""ONNX converters of the ready architectures of ``glassnet.models``: each writes what the
model's forward computes in evaluation mode (corruption and dropout off), through the
converters of its layers."""
from __future__ import annotations

import numpy as np

from .. import models as M
from ..models.autoencoder import TiedLinear
from .converter import converts
from .graph import Value
from .layers import _data, _x


@converts(M.MLP)
def _mlp(ex, m, path, x):
    x = _x(ex, m, path, x)
    if x.rank != 2 or x.shape[1] != m.sizes[0]:
        ex.fail(m, path, f"expected input (N, {m.sizes[0]}), got {x.shape}")
    return ex.module(m.net, ex.child(path, "net"), x)


@converts(M.LeNet, M.SmallVGG)
def _cnn(ex, m, path, x):
    x = _x(ex, m, path, x)
    if x.rank != 4 or x.shape[1] != m.in_channels:
        ex.fail(m, path, f"expected input (N, {m.in_channels}, H, W), got {x.shape}")
    y = ex.module(m.features, ex.child(path, "features"), x)
    return ex.module(m.classifier, ex.child(path, "classifier"), y)


@converts(M.Autoencoder, M.DenoisingAutoencoder, M.StackedAutoencoder)
def _autoencoder(ex, m, path, x):
    # evaluation mode: no corruption, the reconstruction decoder(encoder(x))
    x = _x(ex, m, path, x)
    if m.in_features is not None and (x.rank != 2 or x.shape[1] != m.in_features):
        ex.fail(m, path, f"expected input (N, {m.in_features}), got {x.shape}")
    code = ex.module(m.encoder, ex.child(path, "encoder"), x)
    return ex.module(m.decoder, ex.child(path, "decoder"), code)


@converts(M.ConvAutoencoder)
def _conv_autoencoder(ex, m, path, x):
    x = _x(ex, m, path, x)
    c, h, w = m.image_shape
    flat = x.rank == 2
    if not ((x.rank == 4 and tuple(x.shape[1:]) == m.image_shape)
            or (flat and x.shape[1] == c * h * w)):
        ex.fail(m, path, f"expected input (N, {c}, {h}, {w}) or (N, {c * h * w}), got "
                f"{x.shape}")
    if flat:
        x = ex.reshape(x, (x.shape[0],) + m.image_shape, path)
    z = ex.module(m.encoder, ex.child(path, "encoder"), x)
    z = ex.module(m.decoder, ex.child(path, "decoder"), z)
    return ex.reshape(z, (z.shape[0], int(np.prod(z.shape[1:]))), path) if flat else z


@converts(TiedLinear)
def _tied(ex, m, path, x):
    x = _x(ex, m, path, x)
    W = _data(m.source.weight)           # y = x W + b' (the encoder's W, transposed use)
    name = ex.g.op("MatMul", [x.name, ex.g.const(W, ex.hint(path, "tied_weight"))],
                   ex.hint(path, "matmul"))
    if m.bias is not None:
        name = ex.binary("Add", name, ex.g.const(_data(m.bias), ex.hint(path, "bias")), path)
    return Value(name, tuple(x.shape[:-1]) + (m.out_features,), x.dtype)


@converts(M.AnomalyDetector)
def _anomaly(ex, m, path, x):
    return ex.module(m.members[0], ex.child(path, "members.0"), x)


@converts(M.Perceptron)
def _perceptron(ex, m, path, x):
    x = _x(ex, m, path, x)
    if x.rank != 2 or x.shape[1] != m.in_features:
        ex.fail(m, path, f"expected input (N, {m.in_features}), got {x.shape}")
    s = ex.linear(x, _data(m.weight), _data(m.bias), path)
    low = 0.0 if m.activation == "step" else -1.0
    return ex.where_ge(s, m.threshold, 1.0, low, path)


@converts(M.SequenceClassifier)
def _sequence_classifier(ex, m, path, x):
    from .layers import recurrent
    x = _x(ex, m, path, x)
    if m.embedding is not None:
        x = ex.module(m.embedding, ex.child(path, "embedding"), x)
    elif x.rank == 2 and m.rnn.input_size == 1:
        x = ex.reshape(x, x.shape + (1,), path)
    rnn = m.rnn
    if x.rank != 3 or x.shape[-1] != rnn.input_size or np.dtype(x.dtype).kind != "f":
        ex.fail(m, path, f"expected input (N, T, {rnn.input_size}) (or ids (N, T) with an "
                f"embedding), got {x.shape} of dtype {np.dtype(x.dtype)}")
    rpath = ex.child(path, "rnn")
    tm = ex.transpose(x, [1, 0, 2], rpath)           # batch-first -> (T, N, I)
    _, h_n, _ = recurrent(ex, rnn, rpath, tm)        # h_n (L*D, N, H)
    L = h_n.shape[0]
    D = rnn.num_directions
    last = ex.slice(h_n, 0, L - D, L, path)          # the last layer's directions (D, N, H)
    if D == 1:
        z = ex.reshape(last, last.shape[1:], path)
    else:
        z = ex.concat([ex.reshape(ex.slice(last, 0, d, d + 1, path), last.shape[1:], path)
                       for d in range(D)], 1, path)
    return ex.module(m.fc, ex.child(path, "fc"), z)


@converts(M.CharLM)
def _charlm(ex, m, path, x):
    from .layers import recurrent
    x = _x(ex, m, path, x)
    if np.dtype(x.dtype).kind not in "iu" or x.rank != 2:
        ex.fail(m, path, f"expected batch-first integer ids (N, T) (unbatched (T,) ids have "
                f"no batch axis), got shape {x.shape} of dtype {np.dtype(x.dtype)}")
    ids = ex.transpose(x, [1, 0], path)              # (T, N), time-major as forward
    if m.embedding is not None:
        e = ex.module(m.embedding, ex.child(path, "embedding"), ids)
    else:                                            # one-hot rows of the identity
        eye = np.eye(m.vocab_size, dtype=np.dtype(m.dtype))
        name = ex.g.op("Gather", [ex.g.const(eye, ex.hint(path, "one_hot")), ids.name],
                       ex.hint(path, "one_hot"), axis=0)
        e = Value(name, ids.shape + (m.vocab_size,), eye.dtype)
    y, h_n, c_n = recurrent(ex, m.rnn, ex.child(path, "rnn"), e)
    T, N, H = y.shape
    flat = ex.reshape(y, (None, H), path)
    logits = ex.module(m.decoder, ex.child(path, "decoder"), flat)
    logits = ex.reshape(logits, (T, N, m.vocab_size), path)
    logits = ex.transpose(logits, [1, 0, 2], path)
    return (logits, (h_n, c_n)) if c_n is not None else (logits, h_n)


@converts(M.PrototypicalNetwork)
def _prototypical(ex, m, path, x):
    # logits -||f(x) - c_k||^2 = 2 f(x) c_k - ||f(x)||^2 - ||c_k||^2, the prototypes constant
    if not hasattr(m, "prototypes_"):
        ex.fail(m, path, "it has no prototypes yet: call fit(support_X, support_y) first")
    x = _x(ex, m, path, x)
    e = ex.tensor(ex.module(m.encoder, ex.child(path, "encoder"), x), m, path)
    if e.rank != 2:
        e = ex.reshape(e, (e.shape[0], int(np.prod(e.shape[1:]))), path)
    c = np.asarray(m.prototypes_, dtype=np.float64)
    if e.shape[1] != c.shape[1]:
        ex.fail(m, path, f"its encoder gives {e.shape[1]} features but the prototypes have "
                f"{c.shape[1]}")
    dt = ex.g.dtype
    two_ct = ex.g.const((2.0 * c.T).astype(dt), ex.hint(path, "prototypes_x2"))
    cross = ex.binary("MatMul", e.name, two_ct, path, "cross")            # (N, K)
    sq = ex.binary("Mul", e.name, e.name, path, "square")
    e2 = ex.g.reduce("ReduceSum", sq, [1], keepdims=True, hint=ex.hint(path, "norm"))
    c2 = ex.g.const((c * c).sum(1)[None, :].astype(dt), ex.hint(path, "prototype_norms"))
    out = ex.binary("Sub", ex.binary("Sub", cross, e2, path, "minus_e2"), c2, path, "logits")
    return Value(out, (e.shape[0], c.shape[0]), e.dtype)
