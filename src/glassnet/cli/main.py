"""``glassnet``: train, evaluate, predict, sample and inspect from the shell.

    glassnet train                                  # MLP on the embedded digits
    glassnet train --dataset fashion-mnist --model cnn --epochs 5
    glassnet train --dataset text --text input.txt --model lstm
    glassnet train --task autoencoder --dataset mnist --denoise 0.3
    glassnet evaluate runs/<stamp>/model.safetensors
    glassnet predict runs/<stamp>/model.safetensors samples.npy
    glassnet sample runs/<stamp>/model.safetensors --prime "ROMEO:"
    glassnet inspect vanishing

Every ``train`` writes a run folder (``runs/<timestamp>/`` unless ``--out``) with the model
(safetensors + JSON architecture), ``history.json``, ``metrics.json``, ``config.json`` and
the learning-curve PNG.

Errors: every failure is one line on stderr, ``glassnet <command>: error: <what>``, and
exit code 2 (a bad option value, an option the chosen model does not use, a missing or
corrupt model or data file, training that met a NaN); never a traceback unless
``GLASSNET_DEBUG=1``, which prints it above the line (and lets NumPy's floating-point
warnings through, which the commands otherwise silence: a NaN or Inf in training is
reported as the error itself). Ctrl-C prints
``glassnet <command>: interrupted`` and exits 130 (128 + SIGINT). When the reader of
stdout goes away (``glassnet predict ... | head -1``) the command stops quietly with exit
code 141 (128 + SIGPIPE), the status with which ``yes | head -1``'s ``yes`` and every other
tool killed by SIGPIPE ends, so ``set -o pipefail`` scripts see the usual value.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import sys
import traceback
from pathlib import Path

import numpy as np

from .. import __version__
from ..backend import config
from ..errors import GlassnetError
from . import autoencoder, classify, gan, inspect_cmd, runs, text
from . import rbm as rbm_cmd, vae as vae_cmd   # issue 19: --task rbm, vae
from . import export as export_cmd  # `glassnet export` (onnx helper)
from . import search as search_cmd   # glassnet search (issue 16, scale)
from . import info as info_cmd
from . import dqn as dqn_cmd    # glassnet train --task dqn, glassnet play (issue 19)
from . import playground as playground_cmd   # glassnet playground (issue 20)
from .argtypes import fraction, non_negative_int, positive_float, positive_int
from .argtypes import int_list as _int_list

__all__ = ["main", "build_parser", "COMMANDS", "EXIT_ERROR", "EXIT_INTERRUPTED",
           "EXIT_BROKEN_PIPE", "EXIT_TERMINATED"]

EXIT_ERROR = 2            # argparse's own code for a usage error
EXIT_INTERRUPTED = 130    # 128 + SIGINT, as a shell reports Ctrl-C
EXIT_BROKEN_PIPE = 141    # 128 + SIGPIPE, as a shell reports `yes | head -1`'s yes


class UsageError(Exception):
    """A command line argparse refused; its text is the whole one-line message."""


class _Parser(argparse.ArgumentParser):
    """argparse, except that a usage error is one line (``glassnet train: error: ...``)
    raised to :func:`main` instead of the usage text and ``sys.exit`` (subparsers are
    made with the same class)."""

    def error(self, message):
        raise UsageError(f"{self.prog}: error: {message} (see {self.prog} --help)")

    def _print_message(self, message, file=None):
        # argparse swallows a failed write; a reader gone must reach main's handler
        if message:
            (file or sys.stderr).write(message)


DATA_DIR_HELP = ("the data folder: the one holding mnist/, fashion-mnist/, tinyshakespeare/ "
                 "(as GLASSNET_DATA and ../shared/data), or one dataset's own folder; "
                 "default: GLASSNET_DATA, ../shared/data, ~/.cache/glassnet")
PREDICT_HELP = ("Print the predicted class of every sample in INPUT, one line each. The "
                "samples are in the scale the model was trained on: a glassnet train "
                "classifier takes values in [0, 1] (digits: pixel values 0..16 divided by 16; "
                "MNIST, Fashion-MNIST: bytes 0..255 divided by 255), or with --raw the raw "
                "values, which predict scales as training did. Input outside that range, or of "
                "another shape, is refused with the shape and range expected. `glassnet info "
                "MODEL` shows what a model file expects.")


def build_parser() -> argparse.ArgumentParser:
    """The ``glassnet`` argument parser with its six subcommands.

    Every option of ``train`` that not every model uses defaults to None ("not given"),
    so :func:`train` can refuse one that the chosen model would ignore."""
    p = _Parser(prog="glassnet", description="glassnet: transparent neural "
                "networks on NumPy. Train, evaluate and look inside models.",
                epilog="Errors are one line on stderr with exit code 2 (130 on Ctrl-C, 141 "
                "when stdout's reader has gone); GLASSNET_DEBUG=1 adds the traceback.")
    p.add_argument("--version", action="version", version=f"glassnet {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    t = sub.add_parser("train", help="train a model and write a run folder",
                       description="Train a model and write its run folder. Classifiers "
                       "stop early by default: when the validation loss has not improved for "
                       "10 epochs (--patience) training ends and the best epoch's weights are "
                       "kept; --patience 0 turns it off and trains all --epochs.")
    t.add_argument("--dataset", default=None, choices=list(runs.IMAGE_DATASETS) + ["text"],
                   help="default: digits (embedded); text with --text or a recurrent model")
    t.add_argument("--task", default=None,
                   choices=["classify", "autoencoder", "rbm", "vae", "gan", "dqn"],
                   help="default: classify (image datasets); rbm: a Bernoulli RBM (CD-k / PCD); "
                   "vae: a variational autoencoder (--hidden: latent size); gan: a DCGAN; "
                   "dqn: deep Q-learning on --env")
    t.add_argument("--model", default=None,
                   choices=["mlp", *classify.CONV, *text.MODELS],
                   help="default: mlp (lstm for --dataset text; transformer: a character "
                        "Transformer)")
    t.add_argument("--epochs", type=positive_int, default=None,
                   help="default depends on the model")
    t.add_argument("--batch-size", type=positive_int, default=None)
    t.add_argument("--lr", type=positive_float, default=None)
    t.add_argument("--hidden", type=_int_list, default=None,
                   help="hidden sizes, e.g. 256 or 256,128 (MLP); one width (RNN units, "
                   "autoencoder code)")
    t.add_argument("--activation", default=None, help="hidden activation of the MLP and "
                   "the autoencoders (relu, tanh, sigmoid, leaky_relu, elu, ...); default relu")
    t.add_argument("--dropout", type=fraction, default=None,
                   help="MLP classifier dropout, default 0.2")
    t.add_argument("--optimizer", default=None,
                   help="adam, sgd, momentum, rmsprop, ...; default adam")
    # newuser: early stopping is on by default; say so and how to turn it off
    t.add_argument("--patience", type=non_negative_int, default=None,
                   help="classifiers stop early by default: training ends when the "
                   "validation loss has not improved for this many epochs and the best "
                   "epoch's weights are kept (default 10; --patience 0 turns early "
                   "stopping off and trains all --epochs)")
    t.add_argument("--seed", type=non_negative_int, default=0)
    t.add_argument("--out", type=Path, default=None, help="run folder (default runs/<time>)")
    t.add_argument("--data-dir", default=None, help=DATA_DIR_HELP)
    t.add_argument("--limit", type=positive_int, default=None,
                   help="use at most N training samples (characters for text)")
    t.add_argument("--text", default=None, help="text file for --dataset text")
    t.add_argument("--denoise", type=fraction, default=None,
                   help="masking noise (autoencoder)")
    t.add_argument("--stacked", type=_int_list, default=None, help="e.g. 256,64 (autoencoder)")
    t.add_argument("--cd-k", type=positive_int, default=None,
                   help="Gibbs steps of contrastive divergence (rbm), default 1")
    t.add_argument("--persistent", action="store_true", help="persistent CD (rbm)")
    t.add_argument("--report", action="store_true", help="also write an HTML report "
                   "(classifiers)")
    # --log (loggers helper): per-epoch logs in the run folder
    t.add_argument("--log", type=classify.log_kinds, default=None, metavar="KINDS",
                   help="write the logs of every epoch: comma-separated csv (log.csv), "
                        "jsonl (log.jsonl), tensorboard (tensorboard/)")
    t.add_argument("--verbose", type=int, default=1, choices=[0, 1, 2],
                   help="0 silent, 1 bars, 2 lines")
    t.add_argument("--env", default=None, help="Gymnasium environment (dqn), default CartPole-v1")
    t.add_argument("--steps", type=positive_int, default=None,
                   help="environment steps at most (dqn), default 100000")

    e = sub.add_parser("evaluate", help="evaluate a saved classifier on its test split")
    e.add_argument("model", type=Path, help="a model file, or a run folder")
    e.add_argument("--dataset", default=None, choices=list(runs.IMAGE_DATASETS))
    e.add_argument("--data-dir", default=None, help=DATA_DIR_HELP)

    # newuser: predict says what input it expects, and --raw applies the recorded scaling
    r = sub.add_parser("predict", help="predict classes for samples in a .npy or .csv file",
                       description=PREDICT_HELP)
    r.add_argument("model", type=Path, help="a model file, or a run folder")
    r.add_argument("input", type=Path, help="a .npy or .csv file, one sample a row (or a "
                   "(N, C, H, W) .npy array)")
    r.add_argument("--proba", action="store_true", help="print probabilities")
    r.add_argument("--raw", action="store_true", help="the input is in the raw scale the "
                   "model file records (digits: pixel values 0..16; MNIST, Fashion-MNIST: "
                   "bytes 0..255); predict scales it as training did")

    s = sub.add_parser("sample", help="write text with a trained character model")
    s.add_argument("model", type=Path, help="a model file, or a run folder")
    s.add_argument("--prime", default="\n")
    s.add_argument("--length", type=positive_int, default=500)
    s.add_argument("--temperature", type=positive_float, default=0.8)
    s.add_argument("--seed", type=non_negative_int, default=None)

    i = sub.add_parser("inspect", help="demonstrations that look inside training")
    i.add_argument("what", choices=inspect_cmd.DEMOS)
    i.add_argument("--out", type=Path, default=None)
    i.add_argument("--seed", type=non_negative_int, default=0)
    i.add_argument("--verbose", type=int, default=1, choices=[0, 1, 2])

    # newuser: info takes a run folder too, prints a layer table; --json the raw metadata
    n = sub.add_parser("info", help="show a model's layers, expected input and run metrics")
    n.add_argument("model", type=Path, help="a model file, or a run folder")
    n.add_argument("--json", action="store_true", help="print the raw metadata as JSON")

    export_cmd.add_parser(sub)   # glassnet export MODEL --onnx
    search_cmd.add_parser(sub)   # glassnet search CONFIG.toml
    dqn_cmd.add_play_parser(sub)  # glassnet play POLICY (a DQN policy)
    playground_cmd.add_parser(sub)   # glassnet playground [--port N] [--no-browser]
    return p


# The options of `glassnet train` beyond those every run reads (--seed, --out, --verbose,
# --epochs, --batch-size, --lr, --limit, --data-dir, --dataset, --model), and the runs
# that read them; any other run refuses them rather than ignore them.
_USED_BY = {
    "task": ("classifier", "autoencoder", "RBM", "VAE", "gan", "dqn"),
    "hidden": ("MLP classifier", "autoencoder", "language model", "RBM", "VAE", "dqn"),
    "activation": ("MLP classifier", "autoencoder", "VAE", "dqn"),
    "dropout": ("MLP classifier",),
    "optimizer": ("MLP classifier", "convolutional classifier", "autoencoder",
                  "language model", "VAE"),
    "cd_k": ("RBM",),
    "persistent": ("RBM",),
    "patience": ("MLP classifier", "convolutional classifier"),
    "report": ("MLP classifier", "convolutional classifier"),
    "log": ("MLP classifier", "convolutional classifier"),
    "denoise": ("autoencoder",),
    "stacked": ("autoencoder",),
    "text": ("language model",),
    "env": ("dqn",),
    "steps": ("dqn",),
}


def _a(noun: str) -> str:
    return ("an " if noun.startswith(("a", "e", "i", "o", "u", "MLP", "RBM")) else "a ") + noun


def _refuse_unused(args, run: str) -> None:
    """Refuse every option given on the command line that ``run`` does not read."""
    for name, users in _USED_BY.items():
        value = getattr(args, name, None)
        if value is None or value is False or any(u in run for u in users):
            continue
        flag = "--" + name.replace("_", "-")
        raise UsageError(f"glassnet train: error: {flag} does not apply to {_a(run)} (it is "
                         f"read by: {', '.join(users)})")


def _refuse_data_dir(args) -> None:
    """The embedded digits read no folder: a --data-dir given with them would be ignored."""
    if args.dataset == "digits" and args.data_dir is not None:
        raise UsageError(f"glassnet {args.command}: error: --data-dir does not apply to "
                         "--dataset digits (embedded in glassnet)")


def train(args) -> int:
    """``glassnet train``: route to the language-model, autoencoder or classifier run.

    A language ``--model`` (lstm, gru, rnn, transformer) or ``--text FILE`` means ``--dataset text`` (any other dataset
    given with them is an error); an option the chosen run does not read is an error."""
    if args.task == "dqn":
        _refuse_unused(args, "dqn agent")
        return dqn_cmd.run(args)
    if args.dataset is None and (args.model in text.MODELS or args.text is not None):
        args.dataset = "text"
    if args.dataset == "text" or args.model in text.MODELS:
        if args.dataset != "text":
            kind = "recurrent models train" if args.model in text.CELLS else \
                "the transformer language model trains"
            raise ValueError(f"{kind} on --dataset text, not {args.dataset}")
        _refuse_unused(args, "language model")
        if args.text is not None and args.data_dir is not None:
            raise UsageError("glassnet train: error: give --text FILE or --data-dir FOLDER, "
                             "not both (--text is read, --data-dir would be ignored)")
        args.model = runs.option(args, "model", "lstm")
        return text.run(args)
    args.dataset = runs.option(args, "dataset", "digits")
    _refuse_data_dir(args)
    if args.task == "gan":
        _refuse_unused(args, "gan")
        return gan.run(args)
    if args.task == "autoencoder":
        _refuse_unused(args, "autoencoder")
        if args.stacked is not None and args.hidden is not None:
            raise UsageError("glassnet train: error: --hidden does not apply with --stacked "
                             f"(the widths come from --stacked {','.join(map(str, args.stacked))})")
        return autoencoder.run(args)
    if args.task in ("rbm", "vae"):
        _refuse_unused(args, "RBM" if args.task == "rbm" else "VAE")
        return (rbm_cmd if args.task == "rbm" else vae_cmd).run(args)
    _refuse_unused(args, "MLP classifier" if runs.option(args, "model", "mlp") == "mlp"
                   else "convolutional classifier")
    return classify.train(args)


def info(args) -> int:
    """``glassnet info``: a model file's (or run folder's) layers, input and metrics; with
    ``--json`` its raw metadata (see :mod:`glassnet.cli.info`)."""
    return info_cmd.run(args)


def _model_or_run_folder(command):
    """``command`` with its MODEL argument also taking a run folder (its model file)."""
    def run(args) -> int:
        args.model = info_cmd.find_model_file(args.model)
        return command(args)
    run.__doc__ = command.__doc__
    return run


COMMANDS = {"train": train, "evaluate": _model_or_run_folder(classify.evaluate),
            "predict": _model_or_run_folder(classify.predict),
            "sample": _model_or_run_folder(text.sample), "inspect": inspect_cmd.run, "info": info}
COMMANDS["export"] = export_cmd.run
COMMANDS["search"] = search_cmd.run
COMMANDS["play"] = dqn_cmd.play
COMMANDS["playground"] = playground_cmd.run


def _one_line(text) -> str:
    return " ".join(str(text).split()) or "(no message)"


def _fail(who, error) -> int:
    """Print ``error`` as one line (after its traceback with GLASSNET_DEBUG=1)."""
    if config.get("debug"):
        traceback.print_exc()
    if isinstance(error, UsageError):
        line = str(error)
    elif isinstance(error, (GlassnetError, OSError, ValueError)):
        line = f"{who}: error: {_one_line(error)}"
    else:   # a bug, or a failure glassnet did not foresee: still one line
        line = (f"{who}: error: unexpected {type(error).__name__}: {_one_line(error)} "
                f"(GLASSNET_DEBUG=1 shows the traceback)")
    print(_one_line(line), file=sys.stderr)
    return EXIT_ERROR


@contextlib.contextmanager
def _no_empty_run_folder(args):
    """A command that fails (an error, Ctrl-C, SIGTERM) before writing anything into the
    run folder it created (``args.out``, set by ``runs.run_dir``) removes that folder
    again, and the empty parents that ``--out a/b/c`` created with it; a folder that holds
    anything (a saved model, a checkpoint, a log) is kept, and so is one that was there
    before the command."""
    out = getattr(args, "out", None)
    existed = out is not None and Path(out).exists()
    top = None                  # the outermost folder that --out will create
    if out is not None and not existed:
        top = Path(out).absolute()
        while not top.parent.exists():
            top = top.parent
    try:
        yield
    except BaseException:
        out = getattr(args, "out", None)
        if out is not None and not existed:
            folder = Path(out).absolute()
            with contextlib.suppress(OSError):   # not empty, or gone: leave it
                folder.rmdir()
                while top is not None and folder != top and top in folder.parents:
                    folder = folder.parent
                    folder.rmdir()
        raise


class _Terminated(BaseException):
    """SIGTERM (``kill``, ``timeout``), raised so the command unwinds as on Ctrl-C."""


EXIT_TERMINATED = 143    # 128 + SIGTERM


@contextlib.contextmanager
def _sigterm_unwinds():
    """While a command runs in the main thread, SIGTERM raises :class:`_Terminated`, so
    that its run folder is cleaned up as on Ctrl-C (the previous handler is restored)."""
    import signal
    import threading
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise _Terminated()
    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _quiet_stdout() -> None:
    """After a broken pipe: point stdout at /dev/null, so that the flush at exit does not
    fail again (what Python's documentation of SIGPIPE recommends)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):   # no real file (a test's capture)
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - lives until exit


def main(argv=None) -> int:
    """Parse ``argv`` (default: the command line), run the command, return its exit code:
    0, or :data:`EXIT_ERROR` (2) after a one-line message on stderr for any failure,
    :data:`EXIT_INTERRUPTED` (130) on Ctrl-C, :data:`EXIT_BROKEN_PIPE` (141), silently,
    when stdout's reader has gone. ``GLASSNET_DEBUG=1`` adds the traceback."""
    who = "glassnet"
    try:
        try:
            args, extra = build_parser().parse_known_args(argv)
            if extra:   # named after the command they were given to
                prog = " ".join(["glassnet"] + ([args.command] if args.command else []))
                raise UsageError(f"{prog}: error: unrecognized arguments: {' '.join(extra)} "
                                 f"(see {prog} --help)")
        except SystemExit as e:     # --help and --version: their text is written
            code = e.code if isinstance(e.code, int) else (0 if e.code is None else EXIT_ERROR)
        else:
            if args.command is None:
                build_parser().print_help()
                code = 0
            else:
                who = f"glassnet {args.command}"
                # NaN/Inf are reported by the Trainer's one-line NonFiniteError, so NumPy's
                # floating-point warnings on the way there are left out (unless debugging)
                with np.errstate(all="warn" if config.get("debug") else "ignore"), \
                        _sigterm_unwinds(), _no_empty_run_folder(args):
                    code = COMMANDS[args.command](args)
        sys.stdout.flush()          # a reader gone shows here, inside the handlers
        return code
    except BrokenPipeError:
        _quiet_stdout()
        return EXIT_BROKEN_PIPE
    except KeyboardInterrupt:
        if config.get("debug"):
            traceback.print_exc()
        print(f"{who}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except _Terminated:
        print(f"{who}: terminated", file=sys.stderr)
        return EXIT_TERMINATED
    except Exception as e:  # noqa: BLE001 - every failure becomes one line
        return _fail(who, e)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
