"""The ``glassnet`` command never shows a traceback: every failure is one line on stderr
(``glassnet <command>: error: ...``) and exit code 2; Ctrl-C is one line and 130; a reader
of stdout that went away is a quiet exit with 141 (128 + SIGPIPE). Each case runs
``python -m glassnet`` in a child process, as a user would."""
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from glassnet.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src"


def _env(**extra):
    env = {k: v for k, v in os.environ.items() if k != "GLASSNET_DEBUG"}
    return {**env, "PYTHONPATH": str(SRC), "MPLBACKEND": "Agg", **extra}


def glassnet(*argv, cwd=None, **env):
    return subprocess.run([sys.executable, "-m", "glassnet", *map(str, argv)],
                          capture_output=True, text=True, cwd=cwd, env=_env(**env),
                          timeout=300)


def assert_one_line_error(r, command, excerpt):
    """Exit code 2, stderr is exactly one line "glassnet <command>: error: ..." holding
    ``excerpt``, no traceback."""
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert "Traceback" not in r.stderr
    assert len(lines) == 1, r.stderr
    prefix = f"glassnet {command}: error: " if command else "glassnet: error: "
    assert lines[0].startswith(prefix), lines[0]
    assert excerpt in lines[0], lines[0]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A classifier trained by the command (1 epoch on digits), broken copies of it, an
    autoencoder file and sample files, good and bad."""
    d = tmp_path_factory.mktemp("cli_errors")
    assert main(["train", "--epochs", "1", "--out", str(d / "run"), "--verbose", "0"]) == 0
    model = d / "run" / "model.safetensors"
    raw = model.read_bytes()
    (d / "garbage.safetensors").write_bytes(b"not a model at all")
    flipped = bytearray(raw)
    flipped[-100] ^= 0xFF                     # a byte of the tensor data
    (d / "flipped.safetensors").write_bytes(bytes(flipped))
    (d / "truncated.safetensors").write_bytes(raw[:len(raw) // 2])
    (d / "empty.safetensors").write_bytes(b"")
    rng = np.random.default_rng(0)
    np.save(d / "x.npy", rng.random((5, 64)))
    np.save(d / "wide.npy", rng.random((5, 10)))
    np.save(d / "none.npy", np.zeros((0, 64)))
    np.save(d / "nan.npy", np.full((2, 64), np.nan))
    np.save(d / "words.npy", np.array(["a", "b"]))
    (d / "junk.npy").write_bytes(b"\x93NUMPYxx")
    (d / "letters.csv").write_text("1,2,x\n")
    (d / "corpus.txt").write_text("to be or not to be, that is the question.\n" * 40)
    return d


# ------------------------------------------------------------------ bad option values
BAD_VALUES = [
    (["train", "--epochs", "0"], "argument --epochs: expected a positive integer, got '0'"),
    (["train", "--epochs", "-3"], "argument --epochs: expected a positive integer, got '-3'"),
    (["train", "--epochs", "2.5"], "argument --epochs: expected an integer, got '2.5'"),
    (["train", "--batch-size", "0"], "argument --batch-size: expected a positive integer"),
    (["train", "--lr", "-0.1"], "argument --lr: expected a positive finite number, got '-0.1'"),
    (["train", "--lr", "0"], "argument --lr: expected a positive finite number, got '0'"),
    (["train", "--lr", "nan"], "argument --lr: expected a positive finite number, got 'nan'"),
    (["train", "--lr", "inf"], "argument --lr: expected a positive finite number, got 'inf'"),
    (["train", "--dropout", "1"], "argument --dropout: expected a number in [0, 1), got '1'"),
    (["train", "--task", "autoencoder", "--denoise", "-0.1"],
     "argument --denoise: expected a number in [0, 1)"),
    (["train", "--hidden", "0"], "argument --hidden: expected comma-separated positive "
                                 "integers, got '0'"),
    (["train", "--hidden", ","], "argument --hidden: expected comma-separated positive"),
    (["train", "--hidden", "8,x"], "argument --hidden: expected comma-separated integers"),
    (["train", "--limit", "0"], "argument --limit: expected a positive integer"),
    (["train", "--seed", "-1"], "argument --seed: expected an integer >= 0, got '-1'"),
    (["train", "--patience", "-1"], "argument --patience: expected an integer >= 0"),
    (["train", "--verbose", "5"], "argument --verbose: invalid choice: 5"),
    (["train", "--dataset", "cifar"], "argument --dataset: invalid choice: 'cifar'"),
    (["train", "--model", "resnet"], "argument --model: invalid choice: 'resnet'"),
    (["train", "--task", "regress"], "argument --task: invalid choice: 'regress'"),
    (["train", "--epochs"], "argument --epochs: expected one argument"),
    (["train", "--no-such-option"], "unrecognized arguments: --no-such-option"),
    (["sample", "m.safetensors", "--length", "0"], "argument --length: expected a positive"),
    (["sample", "m.safetensors", "--temperature", "0"],
     "argument --temperature: expected a positive finite number"),
    (["inspect", "exploding"], "argument what: invalid choice: 'exploding'"),
    (["evaluate"], "the following arguments are required: model"),
]


@pytest.mark.parametrize("argv, excerpt", BAD_VALUES, ids=[" ".join(a) for a, _ in BAD_VALUES])
def test_bad_values_are_one_line(argv, excerpt, tmp_path):
    r = glassnet(*argv, cwd=tmp_path)
    assert_one_line_error(r, argv[0], excerpt)
    assert f"(see glassnet {argv[0]} --help)" in r.stderr
    assert not (tmp_path / "runs").exists()     # refused before a run folder is made


def test_unknown_command_and_no_command():
    assert_one_line_error(glassnet("bogus"), None, "argument COMMAND: invalid choice: 'bogus'")
    r = glassnet()
    assert r.returncode == 0 and r.stdout.startswith("usage: glassnet") and not r.stderr


# ------------------------------------------------------------------ values the library refuses
def test_library_refusals_are_one_line_and_leave_no_empty_run_folder(tmp_path):
    out = tmp_path / "o"
    assert_one_line_error(glassnet("train", "--optimizer", "adamz", "--out", out, "--verbose",
                                   "0"), "train", "optim.get: unknown optimizer 'adamz'")
    assert_one_line_error(glassnet("train", "--activation", "bogus", "--verbose", "0",
                                   cwd=tmp_path), "train", "unknown activation 'bogus'")
    assert not out.exists() and list((tmp_path / "runs").iterdir()) == []
    out.mkdir()     # a folder that was there before is left alone
    assert glassnet("train", "--optimizer", "adamz", "--out", out).returncode == 2
    assert out.is_dir()


def test_training_that_meets_nan_is_one_line(tmp_path):
    """A learning rate of 1e30 overflows in the second step: the Trainer's NonFiniteError
    is the one line (NumPy's overflow warnings on the way are left out)."""
    r = glassnet("train", "--optimizer", "sgd", "--lr", "1e30", "--epochs", "2", "--out",
                 tmp_path / "o", "--verbose", "0")
    assert_one_line_error(r, "train", "Trainer: the loss became nan at epoch 1, step ")
    assert "the model keeps its last finite weights" in r.stderr


# ------------------------------------------------------------------ options a run would ignore
IGNORED = [
    (["--model", "cnn", "--dropout", "0.5"],
     "--dropout does not apply to a convolutional classifier (it is read by: MLP classifier)"),
    (["--model", "cnn", "--hidden", "64"], "--hidden does not apply to a convolutional "
                                           "classifier"),
    (["--model", "lenet", "--activation", "tanh"], "--activation does not apply to a "
                                                   "convolutional classifier"),
    (["--task", "autoencoder", "--patience", "3"], "--patience does not apply to an "
                                                   "autoencoder"),
    (["--task", "autoencoder", "--dropout", "0.1"], "--dropout does not apply to an "
                                                    "autoencoder"),
    (["--task", "autoencoder", "--report"], "--report does not apply to an autoencoder"),
    (["--task", "autoencoder", "--stacked", "16,8", "--hidden", "4"],
     "--hidden does not apply with --stacked (the widths come from --stacked 16,8)"),
    (["--dataset", "text", "--report"], "--report does not apply to a language model"),
    (["--dataset", "text", "--denoise", "0.1"], "--denoise does not apply to a language model"),
    (["--dataset", "text", "--task", "classify"], "--task does not apply to a language model"),
    (["--model", "gru", "--activation", "tanh"], "--activation does not apply to a language "
                                                 "model"),
    (["--denoise", "0.2"], "--denoise does not apply to an MLP classifier (it is read by: "
                           "autoencoder)"),
    (["--stacked", "16,8"], "--stacked does not apply to an MLP classifier"),
    (["--dataset", "mnist", "--text", "corpus.txt"], "--text does not apply to an MLP "
                                                     "classifier (it is read by: language "
                                                     "model)"),
    (["--data-dir", "."], "--data-dir does not apply to --dataset digits (embedded in "
                          "glassnet)"),
    (["--task", "autoencoder", "--data-dir", "."], "--data-dir does not apply to --dataset "
                                                   "digits"),
    (["--text", "corpus.txt", "--data-dir", "."], "give --text FILE or --data-dir FOLDER, not "
                                                  "both"),
    (["--dataset", "mnist", "--model", "lstm"], "recurrent models train on --dataset text, "
                                                "not mnist"),
    (["--dataset", "digits", "--model", "lstm"], "recurrent models train on --dataset text, "
                                                 "not digits"),
]


@pytest.mark.parametrize("argv, excerpt", IGNORED, ids=[" ".join(a) for a, _ in IGNORED])
def test_an_option_the_run_would_ignore_is_an_error(argv, excerpt, tmp_path):
    r = glassnet("train", *argv, "--out", tmp_path / "o", "--verbose", "0", cwd=tmp_path)
    assert_one_line_error(r, "train", excerpt)
    assert not (tmp_path / "o").exists()


def test_given_values_are_used_as_given(tmp_path, files):
    """--patience 0 (no early stopping), --batch-size, --lr, --limit reach the run as typed:
    the history shows the batch size, the learning rate and every epoch."""
    out = tmp_path / "o"
    r = glassnet("train", "--epochs", "3", "--patience", "0", "--batch-size", "7", "--lr",
                 "0.0123", "--limit", "70", "--out", out, "--verbose", "0")
    assert r.returncode == 0, r.stderr
    h = json.loads((out / "history.json").read_text())
    assert h["params"]["batch_size"] == 7 and h["params"]["samples"] == 70
    assert h["params"]["epochs"] == 3 and len(h["history"]["lr"]) == 3
    assert h["history"]["lr"] == [0.0123] * 3
    # --text alone means --dataset text
    r = glassnet("train", "--text", files / "corpus.txt", "--epochs", "1", "--hidden", "8",
                 "--out", tmp_path / "t", "--verbose", "0")
    assert r.returncode == 0, r.stderr
    assert json.loads((tmp_path / "t" / "config.json").read_text())["dataset"] == "text"


def test_no_or_default_fallbacks_in_the_cli_source():
    """`args.x or default` (and `option(...) or default`) replaces a 0 the user typed."""
    offenders = []
    for p in sorted((SRC / "glassnet" / "cli").glob("*.py")):
        for n, line in enumerate(p.read_text().splitlines(), 1):
            if re.search(r"\b(args\.\w+|option\([^)]*\)|one_width\([^)]*\)\)?|hidden|limit|"
                         r"batch_size|lr|epochs) or\b", line) or \
                    re.search(r"if (args\.)?(limit|hidden|epochs|lr|batch_size|patience):",
                              line):
                offenders.append(f"{p.name}:{n}: {line.strip()}")
    assert offenders == []


# ------------------------------------------------------------------ model and data files
MODEL_COMMANDS = [["evaluate"], ["predict", "{d}/x.npy"], ["sample"], ["info"]]


@pytest.mark.parametrize("cmd", MODEL_COMMANDS, ids=lambda c: c[0])
@pytest.mark.parametrize("name, excerpt", [
    ("missing.safetensors", "no model file at"),
    ("garbage.safetensors", "is not a readable safetensors file"),
    ("empty.safetensors", "is not a readable safetensors file"),
    ("truncated.safetensors", "is not a readable safetensors file"),
    ("flipped.safetensors", "SHA-256"),
])
def test_missing_or_corrupt_model_file_is_one_line(cmd, name, excerpt, files):
    extra = [a.format(d=files) for a in cmd[1:]]
    r = glassnet(cmd[0], files / name, *extra)
    assert_one_line_error(r, cmd[0], excerpt)
    assert name in r.stderr


@pytest.mark.parametrize("name, excerpt", [
    ("missing.npy", "no input file at"),
    ("wide.npy", "has 10 values (shape (5, 10)), the model takes 64 (1x8x8 images)"),
    ("none.npy", "holds no samples"),
    ("nan.npy", "holds NaN or infinite values"),
    ("words.npy", "holds <U1 values, expected numbers"),
    ("junk.npy", "cannot read the input"),
    ("letters.csv", "cannot read the input"),
])
def test_bad_predict_input_is_one_line(name, excerpt, files):
    r = glassnet("predict", files / "run" / "model.safetensors", files / name)
    assert_one_line_error(r, "predict", excerpt)
    assert name in r.stderr and not r.stdout


def test_model_of_the_wrong_kind_or_dataset(files, tmp_path):
    model = files / "run" / "model.safetensors"
    assert_one_line_error(glassnet("sample", model), "sample",
                          "holds a MLP, not a character language model")
    assert_one_line_error(glassnet("evaluate", model, "--dataset", "mnist", "--data-dir",
                                   tmp_path), "evaluate",
                          "--dataset mnist has images of shape [1, 28, 28], the model ")
    assert_one_line_error(glassnet("evaluate", model, "--data-dir", tmp_path), "evaluate",
                          "--data-dir does not apply to --dataset digits")


def test_missing_data_is_one_line(tmp_path):
    assert_one_line_error(glassnet("train", "--dataset", "mnist", "--data-dir",
                                   tmp_path / "nowhere", "--out", tmp_path / "o", "--verbose",
                                   "0"), "train", "nowhere")
    assert_one_line_error(glassnet("train", "--text", tmp_path / "none.txt", "--out",
                                   tmp_path / "o", "--verbose", "0"), "train", "none.txt")


def test_predict_still_works(files):
    r = glassnet("predict", files / "run" / "model.safetensors", files / "x.npy")
    assert r.returncode == 0 and not r.stderr
    assert len(r.stdout.split()) == 5


# ------------------------------------------------------------------ broken pipe, Ctrl-C, bugs
@pytest.mark.parametrize("argv", [["--help"], ["train", "--help"], ["--version"],
                                  ["info", "{d}/run/model.safetensors"],
                                  ["predict", "{d}/run/model.safetensors", "{d}/x.npy"],
                                  ["train", "--epochs", "1", "--out", "{d}/piped", "--verbose",
                                   "0"]], ids=lambda a: " ".join(a[:2]))
def test_a_reader_gone_is_a_quiet_exit_141(argv, files):
    """As in `glassnet ... | head -1` after head has left: stdout's pipe is closed before
    the command writes; it exits with 128 + SIGPIPE and writes nothing to stderr."""
    p = subprocess.Popen([sys.executable, "-m", "glassnet", *(a.format(d=files) for a in argv)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env())
    p.stdout.close()
    err = p.stderr.read().decode()
    p.wait(timeout=300)
    p.stderr.close()
    assert p.returncode == 141 and err == "", (p.returncode, err)


def test_ctrl_c_is_one_line_and_130(tmp_path):
    out = tmp_path / "o"
    p = subprocess.Popen([sys.executable, "-m", "glassnet", "train", "--epochs", "100000",
                          "--patience", "0", "--out", str(out), "--verbose", "0"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env())
    deadline = time.time() + 120
    while not out.exists() and time.time() < deadline:   # the run has started
        time.sleep(0.05)
    time.sleep(0.5)
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=120)
    assert p.returncode == 130 and err.strip() == "glassnet train: interrupted", err


BUG = ("import sys, glassnet.cli.main as m\n"
       "def boom(args): raise RuntimeError('boom\\nsecond line')\n"
       "m.COMMANDS['info'] = boom\n"
       "sys.exit(m.main(['info', 'x']))\n")


def test_an_unexpected_exception_is_one_line_unless_debugging():
    r = subprocess.run([sys.executable, "-c", BUG], capture_output=True, text=True, env=_env())
    assert_one_line_error(r, "info", "unexpected RuntimeError: boom second line "
                                     "(GLASSNET_DEBUG=1 shows the traceback)")
    r = subprocess.run([sys.executable, "-c", BUG], capture_output=True, text=True,
                       env=_env(GLASSNET_DEBUG="1"))
    assert r.returncode == 2
    assert "Traceback" in r.stderr and "RuntimeError: boom" in r.stderr
    assert r.stderr.strip().splitlines()[-1].startswith("glassnet info: error: unexpected ")


def test_debug_shows_the_traceback_of_a_reported_error_too(files):
    r = glassnet("info", files / "missing.safetensors", GLASSNET_DEBUG="1")
    assert r.returncode == 2 and "Traceback" in r.stderr
    assert r.stderr.strip().splitlines()[-1].startswith("glassnet info: error: ")


def test_in_process_main_returns_2_for_a_usage_error(capsys):
    assert main(["train", "--epochs", "0"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("glassnet train: error: argument --epochs")
