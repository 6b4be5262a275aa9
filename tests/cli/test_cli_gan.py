"""``glassnet train --task gan`` on the embedded digits: the run folder."""
import json

import numpy as np

from glassnet import io
from glassnet.cli.main import main
from glassnet.models import GAN, DCGANGenerator

PNG = b"\x89PNG\r\n\x1a\n"


def test_train_gan_writes_run_folder(tmp_path):
    out = tmp_path / "run"
    argv = ["train", "--task", "gan", "--dataset", "digits", "--epochs", "2", "--limit", "256",
            "--out", str(out), "--verbose", "0"]
    assert main(argv) == 0
    files = {p.name for p in out.iterdir()}
    assert {"model.safetensors", "generator.safetensors", "discriminator.safetensors",
            "history.json", "metrics.json", "config.json", "learning_curve.png",
            "samples.png", "samples"} <= files
    grids = sorted(p.name for p in (out / "samples").iterdir())
    assert grids == ["epoch_001.png", "epoch_002.png"]
    for p in [out / "learning_curve.png", out / "samples.png"]:
        png = p.read_bytes()
        assert png[:8] == PNG and 5000 < len(png) < 300_000
    m = json.loads((out / "metrics.json").read_text())
    assert m["task"] == "gan" and m["epochs"] == 2
    assert 0 < m["final_d_real"] < 1 and 0 < m["final_d_fake"] < 1
    h = json.loads((out / "history.json").read_text())
    assert len(json.dumps(h)) and "d_loss" in json.dumps(h)
    gan = io.load(out / "model.safetensors")
    assert type(gan) is GAN
    g = io.load(out / "generator.safetensors")
    assert type(g) is DCGANGenerator
    assert gan.sample(3).shape == (3, 1, 8, 8)
    s = gan.sample(100)
    assert np.all((s >= 0) & (s <= 1))


def test_train_gan_refuses_options_it_does_not_read(tmp_path, capsys):
    assert main(["train", "--task", "gan", "--denoise", "0.3", "--out", str(tmp_path / "r"),
                 "--verbose", "0"]) != 0
    assert "--denoise does not apply" in capsys.readouterr().err


def test_train_gan_on_mnist_uses_the_dcgan_recipe(tmp_path):
    import os
    from pathlib import Path
    import pytest
    root = os.environ.get("GLASSNET_DATA")
    if not root or not (Path(root) / "mnist" / "train-images-idx3-ubyte.gz").exists():
        pytest.skip("MNIST not found under GLASSNET_DATA")
    out = tmp_path / "run"
    assert main(["train", "--task", "gan", "--dataset", "mnist", "--epochs", "1", "--limit",
                 "128", "--out", str(out), "--verbose", "0"]) == 0
    gan = io.load(out / "model.safetensors")
    assert gan.latent_dim == 100 and gan.generator.channels == [128, 64]
    assert gan.discriminator.channels == [64, 128] and gan.generator.output == "tanh"
    s = gan.sample(50)
    assert s.shape == (50, 1, 28, 28) and s.min() < 0 and np.all(np.abs(s) <= 1)
    assert json.loads((out / "metrics.json").read_text())["pixel_range"] == [-1, 1]
