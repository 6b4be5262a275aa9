"""The computation graph of a tensor as Graphviz DOT text (rendered when ``dot`` exists)."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from ..autograd.tensor import Tensor
from ._common import named_param_lookup

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # annotations only
    from collections.abc import Iterable, Sequence

    from glassnet._typing import PathLike
    from glassnet.nn.module import Module


__all__ = ["graph", "render_dot"]


def _shape(s: Sequence[int]) -> str:
    """A shape as Python writes a tuple: (5, 4), (2,), ()."""
    return "(" + ", ".join(str(int(v)) for v in s) + (",)" if len(s) == 1 else ")")


def _q(text: object) -> str:
    """``text`` as a quoted DOT string."""
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def graph(tensor: Tensor,
          params: Module | dict[str, Tensor] | Iterable[tuple[str, Tensor]] | None = None,
          path: PathLike | None = None, rankdir: str = "BT") -> str:
    """The graph that computed ``tensor`` (call it before ``backward``, which frees it).

    Function nodes are boxes labelled with the Function's name and output shape; leaves
    are ellipses: parameters (named when ``params`` is given: a Module, a dict or
    (name, tensor) pairs) in blue, other inputs in grey; the root is orange.

    Parameters
    ----------
    tensor : Tensor
        Usually the loss.
    params : Module, dict or iterable of (name, Tensor), optional
    path : str or Path, optional
        ``.dot`` writes the text; ``.svg`` / ``.png`` / ``.pdf`` render it with Graphviz's
        ``dot`` program (RuntimeError when it is not installed).

    Returns
    -------
    str
        DOT text.

    Example
    -------
    >>> model = nn.Sequential(nn.Linear(2, 1), nn.Sigmoid())
    >>> loss = nn.MSELoss()(model(gn.ones(4, 2)), gn.zeros(4, 1))
    >>> gn.inspect.graph(loss, params=model).startswith("digraph")
    True
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(f"graph: expected a Tensor, got {type(tensor).__name__}")
    names = named_param_lookup(params)
    lines = ["digraph glassnet {", f"  rankdir={rankdir};",
             '  node [fontname="Helvetica", fontsize=10];']
    root = tensor._ctx
    if root is None:
        lines.append(f'  t{id(tensor)} [label={_q("leaf " + _shape(tensor.shape))}, '
                     f'shape=ellipse, style=filled, fillcolor="#f5b041"];')
    elif getattr(root, "_freed", False):
        raise RuntimeError("graph: this tensor's graph was freed by backward(); call "
                           "graph() before backward, or backward(retain_graph=True)")
    else:
        lines += _walk(root, names)
    lines.append("}")
    return _finish("\n".join(lines), path)


def _walk(root: Any, names: dict[int, str]) -> list[str]:
    """The DOT lines of every Function reachable from ``root`` (depth first), each input
    leaf once, and one edge per input of each Function."""
    lines: list[str] = []
    seen: set[int] = set()
    leaves: set[int] = set()
    stack = [root]
    while stack:
        fn = stack.pop()
        if id(fn) in seen:
            continue
        seen.add(id(fn))
        lines.append(_function_node(fn, fn is root))
        for t in getattr(fn, "inputs", ()):
            if t is None:
                continue
            if t._ctx is not None:
                src = f"f{id(t._ctx)}"
                stack.append(t._ctx)
            else:
                src = f"t{id(t)}"
                if id(t) not in leaves:
                    leaves.add(id(t))
                    lines.append(_leaf_node(t, src, names.get(id(t))))
            lines.append(f"  {src} -> f{id(fn)};")
    return lines


def _function_node(fn: Any, is_root: bool) -> str:
    """A Function as a rounded box: its name and output shapes (orange for the root)."""
    shapes = getattr(fn, "output_shapes", ((),))
    label = fn.name + "\n" + ", ".join(_shape(s) for s in shapes)
    color = "#f5b041" if is_root else "#e5e8e8"
    return (f"  f{id(fn)} [label={_q(label)}, shape=box, style=\"rounded,filled\", "
            f"fillcolor=\"{color}\"];")


def _leaf_node(t: Tensor, src: str, name: str | None) -> str:
    """A leaf tensor as an ellipse: a named parameter in blue, another leaf that needs a
    gradient in green, an input in grey."""
    if name is not None:
        fill, label = "#aed6f1", f"{name}\n{_shape(t.shape)}"
    else:
        fill = "#d5f5e3" if t.requires_grad else "#f2f3f4"
        label = ("input " if t.requires_grad is False else "leaf ") + _shape(t.shape)
    return f"  {src} [label={_q(label)}, shape=ellipse, style=filled, fillcolor=\"{fill}\"];"


def _finish(text: str, path: PathLike | None) -> str:
    """Write ``text`` to ``path`` (.dot) or render it there (other suffixes); return it."""
    if path is not None:
        path = Path(path)
        if path.suffix == ".dot":
            path.write_text(text)
        else:
            render_dot(text, path)
    return text


def render_dot(text: str, path: PathLike) -> Path:
    """Render DOT ``text`` to ``path`` (format from the suffix: svg, png, pdf) with Graphviz."""
    exe = shutil.which("dot")
    if exe is None:
        raise RuntimeError("render_dot: Graphviz's `dot` program was not found; install "
                           "Graphviz (e.g. apt install graphviz) or write the .dot text")
    path = Path(path)
    fmt = path.suffix.lstrip(".") or "svg"
    if fmt not in ("svg", "png", "pdf"):
        raise ValueError(f"render_dot: path must end in .svg, .png or .pdf, got {path.name}")
    subprocess.run([exe, f"-T{fmt}", "-o", str(path)], input=text.encode(), check=True,
                   capture_output=True)
    return path
