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
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .. import __version__, io
from . import autoencoder, classify, inspect_cmd, runs, text

__all__ = ["main", "build_parser", "COMMANDS"]


def _int_list(value):
    try:
        return [int(t) for t in value.split(",") if t.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {value!r}")


def build_parser() -> argparse.ArgumentParser:
    """The ``glassnet`` argument parser with its six subcommands."""
    p = argparse.ArgumentParser(prog="glassnet", description="glassnet: transparent neural "
                                "networks on NumPy. Train, evaluate and look inside models.")
    p.add_argument("--version", action="version", version=f"glassnet {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    t = sub.add_parser("train", help="train a model and write a run folder")
    t.add_argument("--dataset", default="digits",
                   choices=list(runs.IMAGE_DATASETS) + ["text"], help="default: digits (embedded)")
    t.add_argument("--task", default="classify", choices=["classify", "autoencoder"])
    t.add_argument("--model", default=None,
                   choices=["mlp", *classify.CONV, *text.CELLS],
                   help="default: mlp (lstm for --dataset text)")
    t.add_argument("--epochs", type=int, default=None, help="default depends on the model")
    t.add_argument("--batch-size", type=int, default=None)
    t.add_argument("--lr", type=float, default=None)
    t.add_argument("--hidden", type=_int_list, default=None,
                   help="hidden sizes, e.g. 256 or 256,128 (MLP); one width (RNN units, "
                   "autoencoder code)")
    t.add_argument("--activation", default="relu", help="hidden activation of the MLP "
                   "(relu, tanh, sigmoid, leaky_relu, elu, ...)")
    t.add_argument("--dropout", type=float, default=0.2, help="MLP dropout")
    t.add_argument("--optimizer", default="adam", help="adam, sgd, momentum, rmsprop, ...")
    t.add_argument("--patience", type=int, default=10,
                   help="early-stopping patience in epochs (0: no early stopping)")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--out", type=Path, default=None, help="run folder (default runs/<time>)")
    t.add_argument("--data-dir", default=None, help="dataset folder (else GLASSNET_DATA, "
                   "../shared/data, ...)")
    t.add_argument("--limit", type=int, default=None, help="use at most N training samples")
    t.add_argument("--text", default=None, help="text file for --dataset text")
    t.add_argument("--denoise", type=float, default=None, help="masking noise (autoencoder)")
    t.add_argument("--stacked", type=_int_list, default=None, help="e.g. 256,64 (autoencoder)")
    t.add_argument("--report", action="store_true", help="also write an HTML report")
    t.add_argument("--verbose", type=int, default=1, help="0 silent, 1 bars, 2 lines")

    e = sub.add_parser("evaluate", help="evaluate a saved classifier on its test split")
    e.add_argument("model", type=Path)
    e.add_argument("--dataset", default=None, choices=list(runs.IMAGE_DATASETS))
    e.add_argument("--data-dir", default=None)

    r = sub.add_parser("predict", help="predict classes for samples in a .npy or .csv file")
    r.add_argument("model", type=Path)
    r.add_argument("input", type=Path)
    r.add_argument("--proba", action="store_true", help="print probabilities")

    s = sub.add_parser("sample", help="write text with a trained character model")
    s.add_argument("model", type=Path)
    s.add_argument("--prime", default="\n")
    s.add_argument("--length", type=int, default=500)
    s.add_argument("--temperature", type=float, default=0.8)
    s.add_argument("--seed", type=int, default=None)

    i = sub.add_parser("inspect", help="demonstrations that look inside training")
    i.add_argument("what", choices=inspect_cmd.DEMOS)
    i.add_argument("--out", type=Path, default=None)
    i.add_argument("--seed", type=int, default=0)
    i.add_argument("--verbose", type=int, default=1)

    n = sub.add_parser("info", help="show a model file's architecture and metadata")
    n.add_argument("model", type=Path)
    return p


def train(args) -> int:
    """``glassnet train``: route to the language-model, autoencoder or classifier run."""
    if args.dataset == "text" or args.model in text.CELLS:
        if args.dataset not in ("text", "digits"):   # digits: --dataset was left at its default
            raise ValueError(f"recurrent models train on --dataset text, not {args.dataset}")
        args.dataset = "text"
        args.model = args.model or "lstm"
        return text.run(args)
    if args.task == "autoencoder":
        return autoencoder.run(args)
    return classify.train(args)


def info(args) -> int:
    """``glassnet info``: a model file's architecture and metadata as JSON."""
    print(json.dumps(io.read_metadata(args.model), indent=1))
    return 0


COMMANDS = {"train": train, "evaluate": classify.evaluate, "predict": classify.predict,
            "sample": text.sample, "inspect": inspect_cmd.run, "info": info}


def main(argv=None) -> int:
    """Parse ``argv`` (default: the command line), run the command, return its exit code
    (2 with a one-line message for a missing file or a bad value)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        return COMMANDS[args.command](args)
    except (FileNotFoundError, ValueError) as e:
        print(f"glassnet {args.command}: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
