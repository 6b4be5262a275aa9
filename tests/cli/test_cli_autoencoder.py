"""``glassnet train --task autoencoder`` on the embedded digits: the run folder."""
import json

import numpy as np
import pytest

from glassnet import io
from glassnet.cli.main import main
from glassnet.models import ConvAutoencoder, DenoisingAutoencoder, StackedAutoencoder

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("extra, cls", [
    (["--denoise", "0.3"], DenoisingAutoencoder),
    (["--stacked", "32,16", "--denoise", "0.2"], StackedAutoencoder),
    pytest.param(["--model", "cnn"], ConvAutoencoder, marks=pytest.mark.integration),
])
def test_train_autoencoder_writes_run_folder(extra, cls, tmp_path):
    out = tmp_path / "run"
    argv = ["train", "--task", "autoencoder", "--dataset", "digits", "--epochs", "3",
            "--out", str(out), "--verbose", "0"] + extra
    assert main(argv) == 0
    files = {p.name for p in out.iterdir()}
    assert {"model.safetensors", "history.json", "metrics.json", "config.json",
            "reconstructions.png", "learning_curve.png"} <= files
    for name in ("reconstructions.png", "learning_curve.png"):
        png = (out / name).read_bytes()
        assert png[:8] == PNG and 5000 < len(png) < 200_000
    m = json.loads((out / "metrics.json").read_text())
    assert m["task"] == "autoencoder" and m["epochs"] == 3
    level = 0.3 if cls is not StackedAutoencoder else 0.2
    assert 0 < m["test_reconstruction_mse"] < m[f"test_mse_from_mask_{level}"] < 0.5
    model = io.load(out / "model.safetensors")
    assert type(model) is cls
    meta = json.dumps(io.read_metadata(out / "model.safetensors"))
    assert '"task": "autoencoder"' in meta
    x = np.random.default_rng(0).random((4, 64)).astype(np.float32)
    assert model.reconstruct(x).reshape(4, -1).shape == (4, 64)


def test_stacked_conv_is_refused(tmp_path, capsys):
    argv = ["train", "--task", "autoencoder", "--dataset", "digits", "--model", "cnn",
            "--stacked", "32", "--out", str(tmp_path / "r"), "--verbose", "0"]
    assert main(argv) == 2
    assert "--stacked builds dense autoencoders" in capsys.readouterr().err
