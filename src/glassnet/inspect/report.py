"""One self-contained HTML page about a training run (pictures inlined, no network)."""
from __future__ import annotations

import base64
import datetime as _dt
import html
import io
from pathlib import Path

import numpy as np

from .flow import plot_activation_stats, plot_gradient_flow
from .curves import plot_learning_curves
from .pictures import plot_confusion_matrix

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # annotations only
    from collections.abc import Callable, Mapping, Sequence

    import numpy.typing as npt
    from matplotlib.figure import Figure

    from glassnet._typing import PathLike
    from glassnet.inspect.flow import ActivationStats, GradientFlow, _Recorder
    from glassnet.nn.module import Module
    from glassnet.training.history import History


__all__ = ["report"]

_CSS = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:24px auto;
max-width:1100px;color:#222;line-height:1.4}
h1{font-size:1.6em;margin-bottom:0}h2{border-bottom:1px solid #ddd;padding-bottom:4px;
margin-top:32px;font-size:1.2em}.sub{color:#666;margin-top:4px}
table{border-collapse:collapse;margin:8px 0;font-size:0.85em}
td,th{border:1px solid #ddd;padding:3px 8px;text-align:right}th{background:#f4f6f7}
td.l,th.l{text-align:left}img{max-width:100%;border:1px solid #eee}
pre{background:#f8f9f9;padding:8px;font-size:0.8em;overflow-x:auto}
.note{color:#777;font-size:0.85em}.grid{display:flex;flex-wrap:wrap;gap:12px}
"""
_FLOW_NOTE = ("Norm and mean |value| of each layer's weight gradient dE/dW and of delta = dE/dz "
              "at its output. A first layer whose gradient is orders of magnitude below the last "
              "one learns slowly (vanishing gradient).")
_STATS_NOTE = ("Saturated: fraction of sigmoid/tanh outputs within {recorder.tol} of a bound. "
               "Dead: fraction of ReLU units that output 0 for a whole batch.")


def _img_tag(data: bytes, mime: str = "image/png", alt: str = "figure") -> str:
    """An ``<img>`` whose picture is inlined as base64 data (the page needs no other file)."""
    b64 = base64.b64encode(data).decode("ascii")
    return f'<img alt="{alt}" src="data:{mime};base64,{b64}">'


def _img(fig: Figure) -> str:
    """A matplotlib Figure as an inlined PNG."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    return _img_tag(buf.getvalue())


def _img_file(path: PathLike) -> str:
    """A PNG, SVG or JPEG file as an inlined picture."""
    path = Path(path)
    mime = {"png": "image/png", "svg": "image/svg+xml", "jpg": "image/jpeg",
            "jpeg": "image/jpeg"}.get(path.suffix.lstrip(".").lower(), "image/png")
    return _img_tag(path.read_bytes(), mime, html.escape(path.name))


def _num(v: Any) -> str:
    """A table cell's number: ints as they are, other numbers to 4 significant digits."""
    if v is None:
        return "-"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    try:
        v = float(v)
    except (TypeError, ValueError):
        return html.escape(str(v))
    return f"{v:.4g}"


def _table(header: Sequence[object], rows: Sequence[Sequence[Any]], left: int = 1) -> str:
    """An HTML table; the first ``left`` columns are text (left-aligned), the rest numbers."""
    out = ["<table><tr>" + "".join(f'<th class="{"l" if i < left else ""}">'
                                   f"{html.escape(str(h))}</th>" for i, h in enumerate(header))
           + "</tr>"]
    for r in rows:
        out.append("<tr>" + "".join(
            f'<td class="l">{html.escape(str(c))}</td>' if i < left else f"<td>{_num(c)}</td>"
            for i, c in enumerate(r)) + "</tr>")
    out.append("</table>")
    return "\n".join(out)


def _history(history: History | dict[str, list[Any]] | None) -> dict[str, list[Any]]:
    """{name: values per epoch} of a History, a dict or None."""
    if history is None:
        return {}
    if isinstance(history, dict):
        return history
    return getattr(history, "history", {}) or {}


def report(history: History | dict[str, list[Any]] | None, model: Module, path: PathLike,
           confusion: npt.ArrayLike | None = None, gradient_flow: GradientFlow | None = None,
           activation_stats: ActivationStats | None = None,
           title: str = "glassnet training report", class_names: Sequence[str] | None = None,
           test_metrics: Mapping[str, Any] | None = None,
           images: Mapping[str, Figure | str | Path] | None = None,
           notes: str | None = None) -> Path:
    """Write one self-contained HTML page about a run and return its path.

    Sections: summary (model, parameters, final and best values), learning curves,
    confusion matrix, gradient flow and activation statistics (when those callbacks
    were used), and any extra ``images``. Pictures are PNGs inlined as base64 data, so the
    file needs no network and no other file; without matplotlib the page holds the
    tables only.

    Parameters
    ----------
    history : History or dict name -> list
    model : Module
    path : str or Path
    confusion : (C, C) array, optional
    gradient_flow : GradientFlow, optional
    activation_stats : ActivationStats, optional
    test_metrics : dict, optional
        Shown in the summary (e.g. ``trainer.evaluate(Xt, yt)``).
    images : dict title -> Figure or path of a PNG/SVG, optional
    notes : str, optional
        A paragraph of text under the title.

    Example
    -------
    >>> flow, stats = GradientFlow(), ActivationStats()  # doctest: +SKIP
    >>> hist = trainer.fit((X, y), validation=(Xv, yv), callbacks=[flow, stats])  # doctest: +SKIP
    >>> gn.inspect.report(hist, model, "run/report.html", gradient_flow=flow,
    ...                   activation_stats=stats)  # doctest: +SKIP
    """
    path = Path(path)
    h = _history(history)
    plots = _have_matplotlib()
    parts = _head(title, model, h, notes, plots)
    parts += _summary(h, test_metrics, model)
    if h and plots:
        parts += _learning_curves(h)
    if confusion is not None:
        parts += _confusion(np.asarray(confusion), class_names, plots)
    parts += _recorder_section("Gradient flow", gradient_flow, "module", plot_gradient_flow,
                               plots, _FLOW_NOTE)
    parts += _recorder_section("Activation statistics", activation_stats, "activation",
                               plot_activation_stats, plots, _STATS_NOTE)
    for name, im in (images or {}).items():
        parts.append(f"<h2>{html.escape(str(name))}</h2>")
        parts.append(_img_file(im) if isinstance(im, (str, Path)) else _img(im))
    parts.append('<p class="note">Written by glassnet.inspect.report; this file is '
                 'self-contained (no network, no scripts).</p></body></html>')
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(parts), encoding="utf-8")
    return path


def _have_matplotlib() -> bool:
    """True when matplotlib can be imported (else the page holds tables only)."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:  # pragma: no cover - matplotlib is installed in the test env
        return False
    return True


def _head(title: str, model: Module, h: dict[str, list[Any]], notes: str | None,
          plots: bool) -> list[str]:
    """The page's head and title: model, parameter count, epochs, date, the notes."""
    now = _dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    parts = [f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
             f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>",
             f"<h1>{html.escape(title)}</h1>",
             f"<p class=\"sub\">{html.escape(type(model).__name__)}, "
             f"{model.num_parameters():,} parameters &middot; "
             f"{len(next(iter(h.values()), []))} epochs &middot; written {now}</p>"]
    if notes:
        parts.append(f"<p>{html.escape(notes)}</p>")
    if not plots:
        parts.append('<p class="note">matplotlib is not installed, so this page has tables '
                     'only (pip install glassnet[plot]).</p>')
    return parts


def _summary(h: dict[str, list[Any]], test_metrics: Mapping[str, Any] | None,
             model: Module) -> list[str]:
    """First, last and best value of every logged quantity (best: lowest loss or learning
    rate, highest other metric), the test metrics, and every parameter's shape and rms."""
    rows: list[tuple[str, Any, Any, Any]] = []
    for k, v in h.items():
        vals = [u for u in v if u is not None]
        if not vals or k == "time":
            continue
        best = (min if "loss" in k or k == "lr" else max)(vals)
        rows.append((k, vals[0], vals[-1], best))
    parts = ["<h2>Summary</h2>"]
    if rows:
        parts.append(_table(["quantity", "first epoch", "last epoch", "best"], rows))
    if test_metrics:
        parts.append(_table(["test", "value"], [(k, v) for k, v in test_metrics.items()]))
    params = [(n, "x".join(map(str, p.shape)), p._data.size,
               float(np.sqrt(np.mean(np.square(p._data, dtype=np.float64)))))
              for n, p in model.named_parameters()]
    parts.append("<details><summary>model and parameters</summary>"
                 f"<pre>{html.escape(repr(model))}</pre>"
                 + _table(["parameter", "shape", "size", "rms"], params, left=2)
                 + "</details>")
    return parts


def _learning_curves(h: dict[str, list[Any]]) -> list[str]:
    """The learning curves as one picture (or why they cannot be drawn)."""
    try:
        picture = _img(plot_learning_curves(h))
    except ValueError as e:
        picture = f'<p class="note">{html.escape(str(e))}</p>'
    return ["<h2>Learning curves</h2>", picture]


def _confusion(cm: np.ndarray, class_names: Sequence[str] | None, plots: bool) -> list[str]:
    """The confusion matrix ``cm`` (true class per row) as a picture, beside each class's
    support, precision = cm[c, c] / Σ cm[:, c] and recall = cm[c, c] / Σ cm[c, :]."""
    names = class_names or [str(i) for i in range(len(cm))]
    grid = '<div class="grid">'
    if plots:
        grid += "<div>" + _img(plot_confusion_matrix(cm, class_names=class_names)) + "</div>"
    recall = np.diag(cm) / np.maximum(cm.sum(1), 1)
    precision = np.diag(cm) / np.maximum(cm.sum(0), 1)
    grid += "<div>" + _table(["class", "support", "precision", "recall"],
                             [(names[i], int(cm[i].sum()), precision[i], recall[i])
                              for i in range(len(cm))]) + "</div></div>"
    return ["<h2>Confusion matrix</h2>", grid]


def _recorder_section(title: str, recorder: _Recorder | None, label: str,
                      plot: Callable[[Any], Figure], plots: bool, note: str) -> list[str]:
    """A section for a GradientFlow or ActivationStats callback: a note, its picture, and
    the latest record of every layer (its ``label`` field, then each metric) as a table."""
    if recorder is None or not recorder.records:
        return []
    parts = [f"<h2>{title}</h2>", f'<p class="note">{note.format(recorder=recorder)}</p>']
    if plots:
        parts.append(_img(plot(recorder)))
    rows = [(n, r.get(label, ""), *[r.get(m) for m in recorder.metrics])
            for n, r in recorder.last().items()]
    parts.append(_table(["layer", label] + list(recorder.metrics), rows, left=2))
    return parts
