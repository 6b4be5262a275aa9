"""``glassnet train --task rbm`` and ``--task vae`` on the embedded digits: the run folders."""
import json

import numpy as np

from glassnet import io
from glassnet.cli.main import main
from glassnet.models import VAE, BernoulliRBM

PNG = b"\x89PNG\r\n\x1a\n"


def _pngs(out, names):
    for name in names:
        png = (out / name).read_bytes()
        assert png[:8] == PNG and 3000 < len(png) < 400_000, name


def test_train_rbm_writes_run_folder(tmp_path):
    out = tmp_path / "run"
    argv = ["train", "--task", "rbm", "--epochs", "4", "--limit", "600", "--hidden", "32",
            "--out", str(out), "--verbose", "0"]
    assert main(argv) == 0
    files = {p.name for p in out.iterdir()}
    assert {"model.safetensors", "history.json", "metrics.json", "config.json",
            "learning_curve.png", "gibbs_samples.png", "filters.png"} <= files
    _pngs(out, ["learning_curve.png", "gibbs_samples.png", "filters.png"])
    m = json.loads((out / "metrics.json").read_text())
    assert m["task"] == "rbm" and m["epochs"] == 4 and m["training"] == "CD-1"
    assert 0 < m["test_reconstruction_mse"] < 0.1 and m["test_pseudo_likelihood"] < 0
    h = json.loads((out / "history.json").read_text())["history"]
    assert len(h["recon"]) == 4 and h["recon"][-1] < h["recon"][0]
    assert len(h["pseudo_likelihood"]) == 4
    rbm = io.load(out / "model.safetensors")
    assert type(rbm) is BernoulliRBM and rbm.n_hidden == 32
    x = np.random.default_rng(0).random((3, 64)).astype(np.float32)
    assert rbm.prob_h(x).shape == (3, 32)


def test_train_rbm_persistent(tmp_path):
    out = tmp_path / "run"
    assert main(["train", "--task", "rbm", "--epochs", "2", "--limit", "300",
                 "--persistent", "--cd-k", "3", "--out", str(out), "--verbose", "0"]) == 0
    assert json.loads((out / "metrics.json").read_text())["training"] == "PCD-3"


def test_rbm_refuses_options_it_does_not_read(tmp_path, capsys):
    argv = ["train", "--task", "rbm", "--denoise", "0.3", "--out", str(tmp_path / "r"),
            "--verbose", "0"]
    assert main(argv) == 2
    assert "--denoise does not apply to an RBM" in capsys.readouterr().err
    argv = ["train", "--task", "vae", "--persistent", "--out", str(tmp_path / "r"),
            "--verbose", "0"]
    assert main(argv) == 2
    assert "--persistent does not apply" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def test_train_vae_writes_run_folder(tmp_path):
    out = tmp_path / "run"
    argv = ["train", "--task", "vae", "--epochs", "5", "--limit", "800", "--out", str(out),
            "--verbose", "0"]
    assert main(argv) == 0
    files = {p.name for p in out.iterdir()}
    assert {"model.safetensors", "history.json", "metrics.json", "config.json",
            "learning_curve.png", "samples.png", "interpolation.png", "manifold.png"} <= files
    _pngs(out, ["learning_curve.png", "samples.png", "interpolation.png", "manifold.png"])
    m = json.loads((out / "metrics.json").read_text())
    assert m["task"] == "vae" and m["latent"] == 2 and m["epochs"] == 5
    assert abs(m["test_negative_elbo"] - m["test_reconstruction"] - m["test_kl"]) < 1e-3
    assert 0 < m["test_kl"] and 0 < m["test_negative_elbo"] < 64 * np.log(2) + 5
    h = json.loads((out / "history.json").read_text())["history"]
    for key in ("loss", "recon", "kl", "val_loss", "val_recon", "val_kl"):
        assert len(h[key]) == 5
    assert h["loss"][-1] < h["loss"][0]
    vae = io.load(out / "model.safetensors")
    assert type(vae) is VAE and vae.latent == 2


def test_train_vae_latent_8_has_no_manifold(tmp_path):
    out = tmp_path / "run"
    assert main(["train", "--task", "vae", "--hidden", "8", "--epochs", "2", "--limit",
                 "300", "--out", str(out), "--verbose", "0"]) == 0
    assert not (out / "manifold.png").exists() and (out / "samples.png").exists()
    assert json.loads((out / "metrics.json").read_text())["latent"] == 8
