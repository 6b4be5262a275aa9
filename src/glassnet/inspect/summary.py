"""``summary(model, input_shape)``: a Keras / torchinfo-style table of a model's layers.

One row per module, depth first as ``named_modules`` walks them (the model itself first
when it holds parameters of its own or has no children): its name, class, output shape
(found with forward hooks on a dummy input of zeros when ``input_shape`` is given, "?"
otherwise), the number of parameters it holds itself and whether they are trainable.
The rows' parameters add up to the model's total (a parameter shared by two modules is
counted once, in the row that reaches it first), which is ``sum(p.numel() for p in
model.parameters())`` -- the count torchinfo and Keras report.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..autograd import Tensor, no_grad
from ..errors import ArgumentError, ArgumentTypeError
from ..nn import Module
from ..validation import check_int

__all__ = ["summary", "Summary"]


def _shape_of(out: Any) -> Any:
    """The shape (a tuple) of a forward output; a tuple / list of shapes for an output that
    is a tuple or list (an LSTM's ``(output, (h, c))``); None for anything else."""
    if isinstance(out, Tensor):
        return tuple(int(d) for d in out.shape)
    if isinstance(out, np.ndarray):
        return tuple(int(d) for d in out.shape)
    if isinstance(out, (tuple, list)):
        return tuple(_shape_of(o) for o in out)
    return None


def _fmt_shape(shape: Any) -> str:
    if shape is None:
        return "?"
    if shape and all(isinstance(d, int) for d in shape):
        return "(" + ", ".join(str(d) for d in shape) + ")"
    if shape == ():
        return "()"
    return "[" + ", ".join(_fmt_shape(s) for s in shape) + "]"


def _elements(shape: Any) -> int:
    if shape is None:
        return 0
    if all(isinstance(d, int) for d in shape):
        return int(np.prod(shape, dtype=np.int64))
    return sum(_elements(s) for s in shape)


def _human(nbytes: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if nbytes < 1024 or unit == "GiB":
            return f"{nbytes:.0f} {unit}" if unit == "B" else f"{nbytes:.2f} {unit}"
        nbytes /= 1024
    return f"{nbytes:.2f} GiB"  # pragma: no cover


@dataclass
class Summary:
    """What :func:`summary` found; ``str(s)`` is the table.

    Attributes
    ----------
    rows : list of dict
        One per module: ``name`` (dotted, "" for the model itself), ``type`` (class name),
        ``depth`` (0 for the model, 1 for its children, ...), ``output_shape`` (a tuple,
        a tuple of shapes for a tuple output, None when unknown), ``params`` (parameters
        the module holds itself), ``trainable_params``, ``trainable`` (True / False for
        a module with parameters, whether all / not all of them train; None without).
    total_params, trainable_params, non_trainable_params : int
    param_bytes, buffer_bytes : int
        Memory of the parameters and of the buffers (BatchNorm statistics, ...).
    activation_bytes : int or None
        Memory of the outputs of the leaf modules for one forward pass of the dummy
        input (None without ``input_shape``).
    input_shape : tuple or None
        The shape of the dummy input, batch included.
    """

    rows: list[dict[str, Any]]
    total_params: int
    trainable_params: int
    non_trainable_params: int
    param_bytes: int
    buffer_bytes: int
    activation_bytes: int | None = None
    input_shape: tuple[int, ...] | None = None
    model_name: str = field(default="Model")

    def __str__(self) -> str:
        head = ("Layer (type)", "Output shape", "Params", "Trainable")
        lines = []
        for r in self.rows:
            name = r["name"] or "(model)"
            label = "  " * max(r["depth"] - 1, 0) + f"{name} ({r['type']})"
            train = "-" if r["trainable"] is None else ("Y" if r["trainable"] else "N")
            lines.append((label, _fmt_shape(r["output_shape"]), f"{r['params']:,}", train))
        widths = [max(len(h), *(len(l[i]) for l in lines)) if lines else len(h)
                  for i, h in enumerate(head)]

        def row(cells: Sequence[str]) -> str:
            return "  ".join([cells[0].ljust(widths[0]), cells[1].ljust(widths[1]),
                              cells[2].rjust(widths[2]), cells[3].center(widths[3])])

        rule = "=" * len(row(head))
        out = [f'{self.model_name}' + (f" (input {_fmt_shape(self.input_shape)})"
                                       if self.input_shape is not None else ""),
               rule, row(head), "-" * len(rule)]
        out += [row(l) for l in lines]
        out += [rule,
                f"Total params: {self.total_params:,} ({_human(self.param_bytes)})",
                f"Trainable params: {self.trainable_params:,}",
                f"Non-trainable params: {self.non_trainable_params:,}"]
        if self.buffer_bytes:
            out.append(f"Buffers: {_human(self.buffer_bytes)}")
        if self.activation_bytes is not None:
            out.append(f"Forward pass outputs: {_human(self.activation_bytes)}")
        out.append(rule)
        return "\n".join(out)

    def __repr__(self) -> str:
        return (f"Summary({self.model_name}, {len(self.rows)} rows, total_params="
                f"{self.total_params:,}, trainable_params={self.trainable_params:,})")


def _input_shape(input_shape: Any, batch_size: int) -> tuple[int, ...]:
    """The dummy input's full shape: ``(batch_size, *input_shape)``, or ``input_shape``
    with its leading None replaced by ``batch_size`` (Keras's ``(None, ...)`` form)."""
    if isinstance(input_shape, (int, np.integer)) and not isinstance(input_shape, bool):
        input_shape = (int(input_shape),)
    if not isinstance(input_shape, (tuple, list)):
        raise ArgumentTypeError(f"summary: input_shape must be the shape of one sample, a "
                                f"tuple of ints such as (1, 28, 28), got "
                                f"{type(input_shape).__name__}")
    shape = list(input_shape)
    if shape and shape[0] is None:
        shape = shape[1:]
    for d in shape:
        if isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d < 1:
            raise ArgumentError(f"summary: input_shape must hold positive ints (the shape of "
                                f"one sample, without the batch), got {tuple(input_shape)}")
    return (batch_size, *(int(d) for d in shape))


def summary(model: Module, input_shape: Any = None, *, dtype: Any = None,
            batch_size: int = 1) -> Summary:
    """A Keras / torchinfo-style summary of ``model``'s layers.

    Parameters
    ----------
    model : nn.Module
    input_shape : tuple of int, optional
        The shape of ONE sample, without the batch dimension (Keras's convention), e.g.
        ``(1, 28, 28)`` for LeNet, ``(T, features)`` for a batch-first LSTM; a leading
        ``None`` (Keras's ``(None, 1, 28, 28)``) stands for the batch. When given, the
        model runs once, in eval mode without gradients, on zeros of shape
        ``(batch_size, *input_shape)`` and forward hooks record every module's output
        shape; otherwise the output-shape column says "?".
    dtype : dtype, optional
        The dummy input's dtype (default the model's; ``"int64"`` for a model that starts
        with an ``nn.Embedding``).
    batch_size : int
        The dummy input's batch (the shapes in the table include it, as torchinfo's).

    Returns
    -------
    Summary
        ``str(s)`` is the table; ``s.rows``, ``s.total_params``, ``s.trainable_params``.

    Examples
    --------
    >>> import glassnet as gn
    >>> from glassnet import nn
    >>> s = gn.summary(nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2)), (4,))
    >>> s.total_params, [r["params"] for r in s.rows], s.rows[-1]["output_shape"]
    (23, [15, 0, 8], (1, 2))
    """
    if not isinstance(model, Module):
        raise ArgumentTypeError(f"summary: model must be a glassnet.nn.Module, got "
                                f"{type(model).__name__}")
    batch_size = check_int(batch_size, "batch_size", "summary")
    named = list(model.named_modules())
    shapes: dict[int, Any] = {}
    activation_bytes = None
    full_shape = None
    if input_shape is not None:
        full_shape = _input_shape(input_shape, batch_size)
        dt = np.dtype(dtype) if dtype is not None else np.dtype(model.dtype)
        handles = []
        leaves = {id(m) for _, m in named if not m._modules}
        sizes: dict[int, int] = {}

        def hook(m: Module, args: Any, out: Any) -> None:
            shapes[id(m)] = _shape_of(out)
            if id(m) in leaves:
                sizes[id(m)] = sizes.get(id(m), 0) + _elements(_shape_of(out)) * \
                    getattr(getattr(out, "dtype", None), "itemsize", dt.itemsize)

        was = model.training
        try:
            for _, m in named:
                handles.append(m.register_forward_hook(hook))
            model.eval()
            with no_grad():
                model(Tensor(np.zeros(full_shape, dtype=dt)))
        except Exception as e:
            raise ArgumentError(f"summary: {type(model).__name__} did not run on a dummy input "
                                f"of shape {full_shape} and dtype {dt} ({type(e).__name__}: "
                                f"{e}); check input_shape (one sample, without the batch) "
                                f"and dtype") from e
        finally:
            for h in handles:
                h.remove()
            model.train(was)
        activation_bytes = int(sum(sizes.values()))
    seen: set[int] = set()
    rows = []
    for name, m in named:
        own = [p for p in m._parameters.values() if p is not None and id(p) not in seen]
        if m is model and not own and m._modules:
            continue
        seen.update(id(p) for p in own)
        n = sum(int(p._data.size) for p in own)
        nt = sum(int(p._data.size) for p in own if p.requires_grad)
        rows.append({"name": name, "type": type(m).__name__, "depth": name.count(".") + 1
                     if name else 0,
                     "output_shape": shapes.get(id(m)) if input_shape is not None else None,
                     "params": n, "trainable_params": nt,
                     "trainable": None if n == 0 else nt == n})
    params = list(model.parameters())
    total = sum(int(p._data.size) for p in params)
    trainable = sum(int(p._data.size) for p in params if p.requires_grad)
    buffers = [b for b in model.buffers() if b is not None] if hasattr(model, "buffers") \
        else []
    return Summary(rows=rows, total_params=total, trainable_params=trainable,
                   non_trainable_params=total - trainable,
                   param_bytes=sum(int(p._data.nbytes) for p in params),
                   buffer_bytes=sum(int(b._data.nbytes) for b in buffers),
                   activation_bytes=activation_bytes, input_shape=full_shape,
                   model_name=type(model).__name__)
