import base64
import html
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

import glassnet as gn
import glassnet.inspect as ins
from glassnet import metrics, nn, optim, training


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    gn.manual_seed(0)
    X, y = gn.data.load_digits()
    X = (X / 16).astype(np.float32)[:400]
    y = y[:400]
    model = nn.Sequential(nn.Linear(64, 32), nn.Tanh(), nn.Linear(32, 16), nn.ReLU(),
                          nn.Linear(16, 10))
    flow, stats = ins.GradientFlow(), ins.ActivationStats()
    tr = training.Trainer(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=3e-3),
                          metrics=["accuracy"])
    hist = tr.fit((X[:300], y[:300]), validation=(X[300:], y[300:]), epochs=3,
                  callbacks=[flow, stats], verbose=0)
    cm = metrics.confusion_matrix(y[300:], tr.predict_classes(X[300:]), num_classes=10)
    path = tmp_path_factory.mktemp("rep") / "report.html"
    ins.report(hist, model, path, confusion=cm, gradient_flow=flow, activation_stats=stats,
               test_metrics=tr.evaluate(X[300:], y[300:]))
    return path


def test_report_is_self_contained(run):
    text = run.read_text()
    assert text.startswith("<!DOCTYPE html>")
    for h in ("Summary", "Learning curves", "Confusion matrix", "Gradient flow",
              "Activation statistics"):
        assert f"<h2>{h}</h2>" in text
    imgs = re.findall(r'<img[^>]*src="([^"]*)"', text)
    if _has_mpl():
        assert len(imgs) == 4
    assert all(s.startswith("data:image/png;base64,") for s in imgs)
    assert "<script" not in text and "<link" not in text
    assert not re.search(r'(src|href)="(https?:)?//', text)
    assert "weight_grad_norm" in text and "saturated" in text


def _has_mpl():
    try:
        import matplotlib  # noqa: F401
        return True
    except ImportError:
        return False


def test_report_renders_in_headless_chromium(run, tmp_path):
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        pytest.skip("Chromium is not installed (apt install chromium)")
    shot = tmp_path / "shot.png"
    # --proxy-server to a closed port: any network request would fail
    subprocess.run([exe, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    "--proxy-server=127.0.0.1:9", "--window-size=1000,1600",
                    f"--screenshot={shot}", run.resolve().as_uri()],
                   check=True, capture_output=True, timeout=120)
    assert shot.stat().st_size > 20000
    if _has_mpl():
        import matplotlib.image as mpimg
        img = mpimg.imread(shot)
        assert img.shape[:2] == (1600, 1000)
        # not a blank page: plenty of non-white pixels (text, tables, pictures)
        assert (img[..., :3].mean(-1) < 0.9).mean() > 0.03


# ------------------------------------------------------------------ pinned page
# Printed by the code before its restructuring (issue 13), with the date, the inlined
# PNGs and the model's repr replaced; the page must keep exactly these lines.
REPORT = [
    '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Run &lt;1&gt; &amp; co</title><style>',
    'body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:24px auto;',
    'max-width:1100px;color:#222;line-height:1.4}',
    'h1{font-size:1.6em;margin-bottom:0}h2{border-bottom:1px solid #ddd;padding-bottom:4px;',
    'margin-top:32px;font-size:1.2em}.sub{color:#666;margin-top:4px}',
    'table{border-collapse:collapse;margin:8px 0;font-size:0.85em}',
    'td,th{border:1px solid #ddd;padding:3px 8px;text-align:right}th{background:#f4f6f7}',
    'td.l,th.l{text-align:left}img{max-width:100%;border:1px solid #eee}',
    'pre{background:#f8f9f9;padding:8px;font-size:0.8em;overflow-x:auto}',
    '.note{color:#777;font-size:0.85em}.grid{display:flex;flex-wrap:wrap;gap:12px}',
    '</style></head><body>',
    '<h1>Run &lt;1&gt; &amp; co</h1>',
    '<p class="sub">Sequential, 17 parameters &middot; 4 epochs &middot; written DATE</p>',
    '<p>two &amp; three</p>',
    '<h2>Summary</h2>',
    '<table><tr><th class="l">quantity</th><th class="">first epoch</th><th class="">last epoch</th><th class="">best</th></tr>',
    '<tr><td class="l">loss</td><td>1.5</td><td>0.5</td><td>0.5</td></tr>',
    '<tr><td class="l">accuracy</td><td>0.25</td><td>0.875</td><td>0.875</td></tr>',
    '<tr><td class="l">lr</td><td>0.1</td><td>0.01</td><td>0.01</td></tr>',
    '</table>',
    '<table><tr><th class="l">test</th><th class="">value</th></tr>',
    '<tr><td class="l">loss</td><td>0.625</td></tr>',
    '<tr><td class="l">accuracy</td><td>0.8125</td></tr>',
    '<tr><td class="l">n</td><td>16</td></tr>',
    '</table>',
    '<details><summary>model and parameters</summary><pre>MODEL</pre><table><tr><th class="l">parameter</th><th class="l">shape</th><th class="">size</th><th class="">rms</th></tr>',
    '<tr><td class="l">0.weight</td><td class="l">3x2</td><td>6</td><td>0.6831</td></tr>',
    '<tr><td class="l">0.bias</td><td class="l">3</td><td>3</td><td>1.633</td></tr>',
    '<tr><td class="l">2.weight</td><td class="l">2x3</td><td>6</td><td>2.049</td></tr>',
    '<tr><td class="l">2.bias</td><td class="l">2</td><td>2</td><td>4</td></tr>',
    '</table></details>',
    '<h2>Learning curves</h2>',
    '<img>',
    '<h2>Confusion matrix</h2>',
    '<div class="grid"><div><img></div><div><table><tr><th class="l">class</th><th class="">support</th><th class="">precision</th><th class="">recall</th></tr>',
    '<tr><td class="l">cat</td><td>6</td><td>0.7143</td><td>0.8333</td></tr>',
    '<tr><td class="l">dog</td><td>6</td><td>0.75</td><td>0.5</td></tr>',
    '<tr><td class="l">&lt;eel&gt;</td><td>4</td><td>0.8</td><td>1</td></tr>',
    '</table></div></div>',
    '<h2>Gradient flow</h2>',
    '<p class="note">Norm and mean |value| of each layer\'s weight gradient dE/dW and of delta = dE/dz at its output. A first layer whose gradient is orders of magnitude below the last one learns slowly (vanishing gradient).</p>',
    '<img>',
    '<table><tr><th class="l">layer</th><th class="l">module</th><th class="">weight_grad_norm</th><th class="">weight_grad_mean_abs</th><th class="">delta_norm</th><th class="">delta_mean_abs</th></tr>',
    '<tr><td class="l">0</td><td class="l">Linear</td><td>0.5</td><td>0.125</td><td>0.25</td><td>-</td></tr>',
    '<tr><td class="l">2</td><td class="l">Linear</td><td>2</td><td>0.3333</td><td>1</td><td>0.75</td></tr>',
    '</table>',
    '<h2>Activation statistics</h2>',
    '<p class="note">Saturated: fraction of sigmoid/tanh outputs within 0.02 of a bound. Dead: fraction of ReLU units that output 0 for a whole batch.</p>',
    '<img>',
    '<table><tr><th class="l">layer</th><th class="l">activation</th><th class="">mean</th><th class="">std</th><th class="">saturated</th><th class="">dead</th></tr>',
    '<tr><td class="l">1</td><td class="l">Tanh</td><td>0.0625</td><td>0.5</td><td>0.01</td><td>-</td></tr>',
    '</table>',
    '<p class="note">Written by glassnet.inspect.report; this file is self-contained (no network, no scripts).</p></body></html>',
]


def _pinned_model():
    model = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 2)).double()
    for i, p in enumerate(model.parameters()):
        p.numpy()[...] = np.linspace(-1, 1, p.numpy().size).reshape(p.shape) * (i + 1)
    return model


def _pinned_recorders():
    flow, stats = ins.GradientFlow(), ins.ActivationStats(tol=0.02)
    flow.records = [{"epoch": 0, "step": 4, "layer": "0", "module": "Linear",
                     "weight_grad_norm": 0.5, "weight_grad_mean_abs": 0.125,
                     "delta_norm": 0.25, "delta_mean_abs": None},
                    {"epoch": 0, "step": 4, "layer": "2", "module": "Linear",
                     "weight_grad_norm": 2.0, "weight_grad_mean_abs": 1 / 3,
                     "delta_norm": 1.0, "delta_mean_abs": 0.75}]
    stats.records = [{"epoch": 0, "step": 4, "layer": "1", "activation": "Tanh", "mean": 0.0625,
                      "std": 0.5, "saturated": 0.01, "dead": None}]
    return flow, stats


def _pinned_page(path, **kw):
    model = _pinned_model()
    flow, stats = _pinned_recorders()
    hist = {"loss": [1.5, 0.75, None, 0.5], "accuracy": [0.25, 0.5, 0.625, 0.875],
            "lr": [0.1, 0.1, 0.01, 0.01], "time": [1.0, 2.0, 3.0, 4.0], "val_loss": [None] * 4}
    ins.report(hist, model, path, confusion=np.array([[5, 1, 0], [2, 3, 1], [0, 0, 4]]),
               gradient_flow=flow, activation_stats=stats, title="Run <1> & co",
               class_names=["cat", "dog", "<eel>"], notes="two & three",
               test_metrics={"loss": 0.625, "accuracy": 0.8125, "n": 16}, **kw)
    text = path.read_text()
    assert f"<pre>{html.escape(repr(model))}</pre>" in text
    text = text.replace(f"<pre>{html.escape(repr(model))}</pre>", "<pre>MODEL</pre>")
    text = re.sub(r"written \d{4}-\d\d-\d\d \d\d:\d\d<", "written DATE<", text)
    return re.sub(r'<img alt="figure" src="data:image/png;base64,[A-Za-z0-9+/=]+">', "<img>",
                  text).split("\n")


def test_report_page_is_pinned(tmp_path):
    pytest.importorskip("matplotlib")
    svg = b"<svg xmlns='http://www.w3.org/2000/svg'/>"
    (tmp_path / "a&b.svg").write_bytes(svg)
    lines = _pinned_page(tmp_path / "r.html", images={"extra <1>": tmp_path / "a&b.svg"})
    assert lines[:-3] == REPORT[:-1]
    assert lines[-3:] == ["<h2>extra &lt;1&gt;</h2>",
                          '<img alt="a&amp;b.svg" src="data:image/svg+xml;base64,'
                          + base64.b64encode(svg).decode() + '">', REPORT[-1]]


def test_report_without_matplotlib_has_the_tables_only(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)   # import matplotlib fails
    lines = _pinned_page(tmp_path / "r.html")
    note = ('<p class="note">matplotlib is not installed, so this page has tables only (pip '
            'install glassnet[plot]).</p>')
    tables_only = [ln for ln in REPORT if ln != "<img>" and "<h2>Learning curves" not in ln]
    tables_only.insert(tables_only.index("<h2>Summary</h2>"), note)
    tables_only = [ln.replace("<div><img></div>", "") for ln in tables_only]
    assert lines == tables_only


def test_report_leaves_out_empty_sections(tmp_path):
    path = ins.report(None, _pinned_model(), tmp_path / "deep" / "r.html",
                      gradient_flow=ins.GradientFlow(), activation_stats=ins.ActivationStats())
    text = path.read_text()
    assert "0 epochs" in text and "<h2>Summary</h2>" in text
    for h in ("Learning curves", "Confusion matrix", "Gradient flow", "Activation statistics"):
        assert h not in text
