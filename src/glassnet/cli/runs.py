"""What every ``glassnet`` command shares: the run folder and its files, the image datasets.

A ``train`` run writes one folder (``runs/<YYYYmmdd-HHMMSS>/`` unless ``--out``) holding
``model.safetensors``, ``history.json``, ``metrics.json``, ``config.json`` (the command's
arguments) and its pictures:

    >>> out = run_dir(None)  # doctest: +SKIP
    >>> write_run(out, args, model, history, metrics, {"task": "classify"})  # doctest: +SKIP
"""
from __future__ import annotations

import datetime
import itertools
import json
import sys
from argparse import Namespace
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import DTypeLike

from .. import data, io

if TYPE_CHECKING:  # annotations only
    from glassnet._typing import PathLike
    from glassnet.nn.module import Module
    from glassnet.training.history import History

__all__ = ["IMAGE_DATASETS", "IMAGE_SHAPES", "RAW_SCALES", "run_dir", "write_json", "write_run",
           "draw", "note", "option", "one_width", "load_images", "split", "preprocessing",
           "describe_input"]

IMAGE_DATASETS = ("digits", "mnist", "fashion-mnist")
IMAGE_SHAPES = {"digits": (1, 8, 8), "mnist": (1, 28, 28), "fashion-mnist": (1, 28, 28)}
# the raw pixel scale of each dataset and what it is: load_images divides by the first
RAW_SCALES = {
    "digits": (16.0, "pixel values 0..16, as glassnet.data.load_digits returns them"),
    "mnist": (255.0, "pixel bytes 0..255, as in the MNIST IDX files"),
    "fashion-mnist": (255.0, "pixel bytes 0..255, as in the Fashion-MNIST IDX files"),
}


# ------------------------------------------------------------------ run folder
def _now() -> datetime.datetime:
    return datetime.datetime.now()


def run_dir(out: PathLike | None = None, root: PathLike = "runs",
            now: datetime.datetime | None = None) -> Path:
    """The run folder, created: ``out`` when given (an existing folder is written into
    again), else a new ``root/<YYYYmmdd-HHMMSS>`` from ``now`` (default: the clock).

    A generated name never reuses a folder: when the stamp is taken (two runs in the
    same second), ``-1``, ``-2``, ... is appended.

    >>> run_dir(None, root="runs")  # doctest: +SKIP
    PosixPath('runs/20250101-120000')
    """
    if out is not None:
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        return out
    stamp = (now or _now()).strftime("%Y%m%d-%H%M%S")
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    for k in itertools.count():
        out = root / (stamp if k == 0 else f"{stamp}-{k}")
        try:
            # mkdir without exist_ok tests and claims the name in one step, so two
            # commands started in the same second cannot both take it
            out.mkdir()
        except FileExistsError:
            continue
        return out
    raise AssertionError("unreachable: itertools.count() does not end")


def _jsonable(value: object) -> Any:
    """json.dumps's fallback for what argparse and NumPy put in the values."""
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"write_json: cannot write a {type(value).__name__} ({value!r}) as JSON")


def write_json(path: PathLike, obj: Any) -> Path:
    """Write ``obj`` as indented JSON (paths as strings, NumPy numbers and arrays as
    numbers and lists); returns the path."""
    path = Path(path)
    path.write_text(json.dumps(obj, indent=1, default=_jsonable) + "\n")
    return path


def write_run(out: PathLike, args: Namespace, model: Module, history: History,
              metrics: dict[str, Any], metadata: dict[str, Any]) -> None:
    """Write the four files of every trained run into the folder ``out``.

    ``model.safetensors`` (``io.save`` with ``metadata``), ``history.json``,
    ``metrics.json`` (the dict ``metrics``) and ``config.json`` (``vars(args)``: the
    command's arguments, so the run can be repeated).
    """
    out = Path(out)
    io.save(model, out / "model.safetensors", metadata=metadata)
    history.to_json(out / "history.json")
    write_json(out / "metrics.json", metrics)
    write_json(out / "config.json", vars(args))


def draw(plot: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``plot(*args, **kwargs)`` (a ``glassnet.inspect`` picture); where matplotlib is not
    installed, a note on stderr instead of an error, since every number is in the JSON."""
    try:
        return plot(*args, **kwargs)
    except ImportError as e:
        hint = "" if "glassnet[plot]" in str(e) else "; pip install glassnet[plot]"
        note(f"(no {getattr(plot, '__name__', 'picture')}: {e}{hint})")
        return None


def note(message: str) -> None:
    """A line for the person at the terminal: on stderr, so stdout stays the result."""
    print(message, file=sys.stderr)


# ------------------------------------------------------------------ arguments
def option(args: Namespace, name: str, default: Any = None) -> Any:
    """``args.name``, or ``default`` when it is missing or None (the subcommands' ``run``
    functions are also called with a partial Namespace from Python)."""
    value = getattr(args, name, None)
    return default if value is None else value


def one_width(hidden: int | list[int] | tuple[int, ...] | None) -> int | None:
    """The single width a recurrent model or an autoencoder takes from ``--hidden``
    (parsed as a list, e.g. ``[128]``); None when not given."""
    if isinstance(hidden, (list, tuple)):
        if len(hidden) > 1:
            raise ValueError(f"--hidden: this model takes one width, got {list(hidden)}")
        return int(hidden[0]) if hidden else None
    return None if hidden is None else int(hidden)


# ------------------------------------------------------------------ datasets
def load_images(name: str, data_dir: PathLike | None = None
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, tuple[int, int, int]]:
    """(X_train, y_train, X_test, y_test, image_shape): flat float images in [0, 1].

    ``digits`` is embedded (1797 8x8 images, a fixed stratified 80/20 split); ``mnist``
    and ``fashion-mnist`` are read from ``data_dir`` or the usual dataset folders.

    >>> Xtr, ytr, Xte, yte, shape = load_images("digits")
    >>> shape, Xtr.shape
    ((1, 8, 8), (1438, 64))
    """
    if name == "digits":
        X, y = data.load_digits()
        Xtr, Xte, ytr, yte = split(X / 16.0, y, 0.2, seed=0)
        return Xtr, ytr, Xte, yte, (1, 8, 8)
    loaders = {"mnist": data.load_mnist, "fashion-mnist": data.load_fashion_mnist}
    if name not in loaders:
        raise ValueError(f"--dataset: expected one of {', '.join(IMAGE_DATASETS)}, got {name!r}")
    Xtr, ytr = loaders[name](data_dir, split="train", flatten=True)
    Xte, yte = loaders[name](data_dir, split="test", flatten=True)
    return Xtr, ytr, Xte, yte, (1, 28, 28)


def preprocessing(dataset: str, shape: Sequence[int], flatten: bool,
                  dtype: DTypeLike) -> dict[str, Any]:
    """The preprocessing record that ``glassnet train`` stores in a model file's metadata
    (key ``"preprocessing"``, under the file's SHA-256) and ``glassnet predict`` applies
    or checks: the model's input is ``(raw - mean) / std``.

    Keys: ``input_shape`` (one sample, [C, H, W]), ``flatten`` (the model takes the
    C*H*W values as one row), ``dtype``, ``raw`` (what the raw values are),
    ``raw_range`` and ``raw_integer`` (raw values are integers), ``mean``, ``std``,
    ``range`` (the model's input range, ``raw_range`` transformed).

    >>> p = preprocessing("digits", (1, 8, 8), True, "float32")
    >>> p["raw_range"], p["std"], p["range"]
    ([0.0, 16.0], 16.0, [0.0, 1.0])
    """
    top, raw = RAW_SCALES[dataset]
    return {"input_shape": [int(d) for d in shape], "flatten": bool(flatten),
            "dtype": str(np.dtype(dtype)), "raw": raw, "raw_range": [0.0, top],
            "raw_integer": True, "mean": 0.0, "std": top, "range": [0.0, 1.0]}


def describe_input(pre: dict[str, Any] | None, hint: bool = True) -> str:
    """One sentence saying what input a model with the preprocessing record ``pre``
    expects (shape, dtype, range and how raw values are scaled); for a file that records
    none, that it records none.

    >>> describe_input(preprocessing("digits", (1, 8, 8), True, "float32"))
    '64 values per sample (1x8x8 images, one row each), float32, in [0, 1]: pixel values 0..16, as glassnet.data.load_digits returns them, divided by 16 (glassnet predict --raw takes the raw values and scales them)'
    """
    if not pre:
        return ("this model file records no preprocessing (written before glassnet recorded "
                "it): the input is used as given")
    shape = pre["input_shape"]
    size = int(np.prod(shape))
    lo, hi = pre["range"]
    form = "one row each" if pre.get("flatten", True) else "or " + "x".join(map(str, shape))
    mean, std = pre["mean"], pre["std"]
    how = (f"divided by {std:g}" if np.ndim(mean) == 0 and mean == 0 and np.ndim(std) == 0
           else "minus the recorded mean, divided by the recorded std")
    return (f"{size} values per sample ({'x'.join(map(str, shape))} images, {form}), "
            f"{pre['dtype']}, in [{lo:g}, {hi:g}]: {pre['raw']}, {how}"
            + (" (glassnet predict --raw takes the raw values and scales them)" if hint else ""))


def split(X: np.ndarray, y: np.ndarray, fraction: float,
          seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(X_a, X_b, y_a, y_b): a stratified split with ``fraction`` of the samples in b."""
    Xa, Xb, _, ya, yb, _ = data.train_val_test_split(X, y, val_size=fraction, test_size=0,
                                                     stratify=True, seed=seed)
    return Xa, Xb, ya, yb
