"""One self-contained HTML page about a training run (pictures inlined, no network)."""
from __future__ import annotations

import base64
import datetime as _dt
import html
import io
from pathlib import Path

import numpy as np

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


def _img(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return f'<img alt="figure" src="data:image/png;base64,{data}">'


def _img_file(path) -> str:
    path = Path(path)
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    mime = {"png": "image/png", "svg": "image/svg+xml", "jpg": "image/jpeg",
            "jpeg": "image/jpeg"}.get(path.suffix.lstrip(".").lower(), "image/png")
    return f'<img alt="{html.escape(path.name)}" src="data:{mime};base64,{data}">'


def _num(v):
    if v is None:
        return "-"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    try:
        v = float(v)
    except (TypeError, ValueError):
        return html.escape(str(v))
    return f"{v:.4g}"


def _table(header, rows, left=1) -> str:
    out = ["<table><tr>" + "".join(f'<th class="{"l" if i < left else ""}">'
                                   f"{html.escape(str(h))}</th>" for i, h in enumerate(header))
           + "</tr>"]
    for r in rows:
        out.append("<tr>" + "".join(
            f'<td class="l">{html.escape(str(c))}</td>' if i < left else f"<td>{_num(c)}</td>"
            for i, c in enumerate(r)) + "</tr>")
    out.append("</table>")
    return "\n".join(out)


def _history(history):
    if history is None:
        return {}
    if isinstance(history, dict):
        return history
    return getattr(history, "history", {}) or {}


def report(history, model, path, confusion=None, gradient_flow=None, activation_stats=None,
           title="glassnet training report", class_names=None, test_metrics=None,
           images=None, notes=None) -> Path:
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
    >>> flow, stats = GradientFlow(), ActivationStats()
    >>> hist = trainer.fit((X, y), validation=(Xv, yv), callbacks=[flow, stats])
    >>> gn.inspect.report(hist, model, "run/report.html", gradient_flow=flow,
    ...                   activation_stats=stats)
    """
    from . import pictures
    from .curves import plot_learning_curves
    from .flow import plot_activation_stats, plot_gradient_flow
    path = Path(path)
    h = _history(history)
    try:
        import matplotlib  # noqa: F401
        plots = True
    except ImportError:  # pragma: no cover
        plots = False
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

    # summary
    parts.append("<h2>Summary</h2>")
    rows = []
    for k, v in h.items():
        vals = [u for u in v if u is not None]
        if not vals or k == "time":
            continue
        best = (min if "loss" in k or k == "lr" else max)(vals)
        rows.append((k, vals[0], vals[-1], best))
    if rows:
        parts.append(_table(["quantity", "first epoch", "last epoch", "best"], rows))
    if test_metrics:
        parts.append(_table(["test", "value"], [(k, v) for k, v in test_metrics.items()]))
    params = [(n, "x".join(map(str, p.shape)), p.data.size,
               float(np.sqrt(np.mean(np.square(p.data, dtype=np.float64)))))
              for n, p in model.named_parameters()]
    parts.append("<details><summary>model and parameters</summary>"
                 f"<pre>{html.escape(repr(model))}</pre>"
                 + _table(["parameter", "shape", "size", "rms"], params, left=2)
                 + "</details>")

    # learning curves
    if h and plots:
        parts.append("<h2>Learning curves</h2>")
        try:
            parts.append(_img(plot_learning_curves(h)))
        except ValueError as e:
            parts.append(f'<p class="note">{html.escape(str(e))}</p>')

    # confusion matrix
    if confusion is not None:
        cm = np.asarray(confusion)
        parts.append("<h2>Confusion matrix</h2>")
        names = class_names or [str(i) for i in range(len(cm))]
        grid = '<div class="grid">'
        if plots:
            grid += "<div>" + _img(pictures.plot_confusion_matrix(cm, class_names=class_names)) \
                + "</div>"
        recall = np.diag(cm) / np.maximum(cm.sum(1), 1)
        precision = np.diag(cm) / np.maximum(cm.sum(0), 1)
        grid += "<div>" + _table(["class", "support", "precision", "recall"],
                                 [(names[i], int(cm[i].sum()), precision[i], recall[i])
                                  for i in range(len(cm))]) + "</div></div>"
        parts.append(grid)

    # gradient flow
    if gradient_flow is not None and gradient_flow.records:
        parts.append("<h2>Gradient flow</h2>")
        parts.append('<p class="note">Norm and mean |value| of each layer\'s weight gradient '
                     'dE/dW and of delta = dE/dz at its output. A first layer whose gradient '
                     'is orders of magnitude below the last one learns slowly (vanishing '
                     'gradient).</p>')
        if plots:
            parts.append(_img(plot_gradient_flow(gradient_flow)))
        last = gradient_flow.last()
        parts.append(_table(["layer", "module"] + list(gradient_flow.metrics),
                            [(n, r.get("module", ""), *[r.get(m) for m in
                                                         gradient_flow.metrics])
                             for n, r in last.items()], left=2))

    # activation statistics
    if activation_stats is not None and activation_stats.records:
        parts.append("<h2>Activation statistics</h2>")
        parts.append(f'<p class="note">Saturated: fraction of sigmoid/tanh outputs within '
                     f'{activation_stats.tol} of a bound. Dead: fraction of ReLU units that '
                     f'output 0 for a whole batch.</p>')
        if plots:
            parts.append(_img(plot_activation_stats(activation_stats)))
        last = activation_stats.last()
        parts.append(_table(["layer", "activation"] + list(activation_stats.metrics),
                            [(n, r.get("activation", ""), *[r.get(m) for m in
                                                             activation_stats.metrics])
                             for n, r in last.items()], left=2))

    for name, im in (images or {}).items():
        parts.append(f"<h2>{html.escape(str(name))}</h2>")
        parts.append(_img_file(im) if isinstance(im, (str, Path)) else _img(im))
    parts.append('<p class="note">Written by glassnet.inspect.report; this file is '
                 'self-contained (no network, no scripts).</p></body></html>')
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(parts), encoding="utf-8")
    return path
