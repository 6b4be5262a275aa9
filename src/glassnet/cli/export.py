"""``glassnet export MODEL --onnx``: write a saved model as an ONNX file.

    glassnet export runs/<stamp> --onnx                       # -> runs/<stamp>/model.onnx
    glassnet export model.safetensors --onnx --out m.onnx --input-shape 1,28,28

MODEL is a model file written by ``glassnet train`` or ``glassnet.save``, or a run folder
(its ``model.safetensors``). The shape of one sample (without the batch axis) comes from
``--input-shape``, else from the file's metadata (``input_shape``, flattened for an MLP) or
from the model itself (an MLP's first size, an autoencoder's ``in_features``, LeNet's
(in_channels, *input_size) images, ...); token models (CharLM, an Embedding first) need
``--input-shape T``.
When onnxruntime is installed the written file is run once on a random batch and its
largest difference from glassnet printed.
"""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import io, models, nn
from ..errors import ArgumentError

if TYPE_CHECKING:  # annotations only
    from glassnet._typing import PathLike
    from glassnet.nn.module import Module

__all__ = ["add_parser", "run", "resolve_model", "sample_shape"]


def _shape(text: str) -> tuple[int, ...]:
    parts = [p for p in text.replace("x", ",").split(",") if p.strip()]
    try:
        dims = tuple(int(p) for p in parts)
    except ValueError:
        dims = ()
    if not dims or any(d < 1 for d in dims):
        raise argparse.ArgumentTypeError(f"expected positive sizes like 1,28,28 (one sample, "
                                         f"no batch axis), got {text!r}")
    return dims


def add_parser(sub: Any) -> argparse.ArgumentParser:
    """Add the ``export`` subcommand to ``sub`` (the subparsers of ``glassnet``)."""
    x = sub.add_parser("export", help="write a saved model as an ONNX file")
    x.add_argument("model", type=Path, help="a model file or a run folder")
    x.add_argument("--onnx", action="store_true", help="write ONNX (the one format so far)")
    x.add_argument("--out", type=Path, default=None,
                   help="the .onnx file (default: beside the model, model.onnx)")
    x.add_argument("--input-shape", type=_shape, default=None,
                   help="one sample's shape without the batch axis, e.g. 64 or 1,28,28")
    x.add_argument("--opset", type=int, default=None, help="ONNX opset (>= 17; default 17)")
    x.add_argument("--static-batch", action="store_true",
                   help="fix the batch axis to 1 instead of leaving it dynamic")
    return x


def resolve_model(path: Path) -> Path:
    """The model file of ``path``: itself, or ``model.safetensors`` in a run folder."""
    path = Path(path)
    if path.is_dir():
        f = path / "model.safetensors"
        if not f.is_file():
            raise FileNotFoundError(f"{path} is a folder without a model.safetensors (not a "
                                    f"run folder of glassnet train)")
        return f
    return path


def _takes_ids(model: Any) -> bool:
    if isinstance(model, models.CharLM):
        return True
    if isinstance(model, models.SequenceClassifier):
        return model.embedding is not None
    first = model
    while isinstance(first, nn.Sequential) and len(first):
        first = first[0]
    return isinstance(first, nn.Embedding)


def sample_shape(model: Any, given: tuple[int, ...] | None = None) -> tuple[int, ...]:
    """One sample's input shape: ``given``, else the metadata's, else the model's own."""
    if given is not None:
        return tuple(given)
    meta = getattr(model, "metadata", None) or {}
    shape = meta.get("input_shape")
    if isinstance(shape, list) and shape and all(isinstance(d, int) for d in shape):
        flat = meta.get("flatten", isinstance(model, (models.MLP, models.Autoencoder))
                        and not isinstance(model, models.ConvAutoencoder))
        return (int(np.prod(shape)),) if flat else tuple(shape)
    if isinstance(model, models.MLP):
        return (model.sizes[0],)
    if isinstance(model, models.ConvAutoencoder):
        return tuple(model.image_shape)
    if isinstance(model, (models.LeNet, models.SmallVGG)):
        return (model.in_channels, *model.input_size)
    if isinstance(model, models.AnomalyDetector):
        return sample_shape(model.members[0])
    if isinstance(getattr(model, "in_features", None), int) and not _takes_ids(model):
        return (model.in_features,)
    first = model
    while isinstance(first, nn.Sequential) and len(first):
        first = first[0]
    if isinstance(first, (nn.Linear, nn.Maxout)):
        return (first.in_features,)
    raise ArgumentError(f"cannot tell the input shape of a "
                        f"{type(model).__name__}; give --input-shape (one sample, without "
                        f"the batch axis, e.g. --input-shape 1,28,28)")


def run(args: argparse.Namespace) -> int:
    """Export ``args.model`` to ONNX, print where, and check it with onnxruntime."""
    if not args.onnx:
        raise ArgumentError("choose the format: --onnx")
    from .. import onnx as gonnx
    path = resolve_model(args.model)
    model = io.load(path)
    if not isinstance(model, nn.Module):
        raise ArgumentError(f"{path} holds a {type(model).__name__}, not a "
                            f"model (a state dict or checkpoint has no architecture)")
    shape = sample_shape(model, args.input_shape)
    out = args.out if args.out is not None else path.with_suffix(".onnx")
    rng = np.random.default_rng(0)
    if _takes_ids(model):
        vocab = model.vocab_size if isinstance(model, models.CharLM) else \
            _first_embedding(model).num_embeddings
        make = lambda n: rng.integers(0, vocab, size=(n,) + shape).astype(np.int64)  # noqa: E731
    else:
        make = lambda n: rng.random((n,) + shape).astype(model.dtype)  # noqa: E731
    gonnx.export(model, make(1), out, dynamic_batch=not args.static_batch, opset=args.opset)
    line = f"wrote {out} (input: batch x {'x'.join(map(str, shape))})"
    diff = _check(model, out, make(1 if args.static_batch else 8))
    if diff is not None:
        line += f"; onnxruntime matches glassnet (max |difference| {diff:.2g})"
    print(line)
    return 0


def _first_embedding(model: Module) -> nn.Embedding:
    for m in model.modules():
        if isinstance(m, nn.Embedding):
            return m
    raise ArgumentError("no Embedding in the model")


def _check(model: Module, path: PathLike, x: np.ndarray) -> float | None:
    """Largest |onnxruntime - glassnet| over the outputs for ``x``; None without
    onnxruntime. A difference beyond float32 rounding is an error."""
    try:
        import onnxruntime as ort
    except ImportError:
        return None
    from ..autograd.function import no_grad
    from ..autograd.tensor import Tensor
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = sess.run(None, {sess.get_inputs()[0].name: x})
    was = model.training
    model.eval()
    try:
        with no_grad():
            y = model(Tensor(x) if x.dtype.kind == "f" else x)
    finally:
        model.train(was)
    flat: list[np.ndarray] = []
    stack: list[Any] = [y]
    while stack:
        v = stack.pop(0)
        if isinstance(v, (tuple, list)):
            stack[:0] = list(v)
        else:
            flat.append(np.asarray(v._data))
    worst = 0.0
    for g, w in zip(got, flat):
        d = float(np.abs(g.astype(np.float64) - w).max()) if w.size else 0.0
        if d > 1e-4 * max(1.0, float(np.abs(w).max())):
            raise ArgumentError(f"onnxruntime's output differs from "
                                f"glassnet's by {d:.3g} ({path} is kept for inspection)")
        worst = max(worst, d)
    return worst
