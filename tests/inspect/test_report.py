import re
import shutil
import subprocess

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
