"""cli.text: `glassnet train --dataset text` and `glassnet sample` on a small corpus."""
import argparse
import json

import numpy as np
import pytest

# small GEMMs: one BLAS thread (the fixture's docstring in tests/conftest.py says why)
pytestmark = pytest.mark.usefixtures("one_blas_thread")


# --------------------------------------------------------------------- CLI
def test_cli_text_train_and_sample(tmp_path, capsys):
    from glassnet.cli import text as cli_text
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("to be or not to be, that is the question.\n" * 40)
    args = argparse.Namespace(dataset="text", model="gru", task="classify", epochs=2,
                              batch_size=8, lr=0.01, out=tmp_path / "run", seed=0,
                              text=str(corpus), denoise=None, stacked=None, report=False,
                              verbose=0, data_dir=None, limit=None, hidden=24)
    assert cli_text.run(args) == 0
    files = {p.name for p in (tmp_path / "run").iterdir()}
    assert {"model.safetensors", "history.json", "metrics.json", "learning_curve.png",
            "sample.txt"} <= files
    m = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert m["val_loss"] < np.log(len(set(corpus.read_text())))
    capsys.readouterr()
    s = argparse.Namespace(model=tmp_path / "run" / "model.safetensors", prime="to be",
                           length=30, temperature=0.5, seed=1)
    assert cli_text.sample(s) == 0
    out = capsys.readouterr().out
    assert out.startswith("to be") and len(out.strip()) >= 30
