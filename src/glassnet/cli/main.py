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
import datetime as _dt
import json
import sys
import time
from pathlib import Path

import numpy as np

IMAGE_DATASETS = ("digits", "mnist", "fashion-mnist")


def _int_list(text):
    try:
        return [int(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}")


def build_parser() -> argparse.ArgumentParser:
    from .. import __version__
    p = argparse.ArgumentParser(prog="glassnet", description="glassnet: transparent neural "
                                "networks on NumPy. Train, evaluate and look inside models.")
    p.add_argument("--version", action="version", version=f"glassnet {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    t = sub.add_parser("train", help="train a model and write a run folder")
    t.add_argument("--dataset", default="digits",
                   choices=list(IMAGE_DATASETS) + ["text"], help="default: digits (embedded)")
    t.add_argument("--task", default="classify", choices=["classify", "autoencoder"])
    t.add_argument("--model", default=None,
                   choices=["mlp", "cnn", "lenet", "vgg", "lstm", "gru", "rnn"],
                   help="default: mlp (lstm for --dataset text)")
    t.add_argument("--epochs", type=int, default=None, help="default depends on the model")
    t.add_argument("--batch-size", type=int, default=None)
    t.add_argument("--lr", type=float, default=None)
    t.add_argument("--hidden", type=_int_list, default=None,
                   help="hidden sizes, e.g. 256 or 256,128 (MLP); units (RNN)")
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
    e.add_argument("--dataset", default=None, choices=list(IMAGE_DATASETS))
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
    i.add_argument("what", choices=["vanishing"])
    i.add_argument("--out", type=Path, default=None)
    i.add_argument("--seed", type=int, default=0)
    i.add_argument("--verbose", type=int, default=1)

    n = sub.add_parser("info", help="show a model file's architecture and metadata")
    n.add_argument("model", type=Path)
    return p


def _run_dir(out) -> Path:
    if out is None:
        stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        out = Path("runs") / stamp
        k = 1
        while out.exists():
            out = Path("runs") / f"{stamp}-{k}"
            k += 1
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    return out


# ------------------------------------------------------------------ datasets
def load_images(name, data_dir=None):
    """(X_train, y_train, X_test, y_test, image_shape) with pixels scaled to [0, 1]."""
    from .. import data
    if name == "digits":
        X, y = data.load_digits()
        X = X / 16.0
        Xtr, Xte, ytr, yte = _split(X, y, 0.2, seed=0)
        return Xtr, ytr, Xte, yte, (1, 8, 8)
    loader = data.load_mnist if name == "mnist" else data.load_fashion_mnist
    Xtr, ytr = loader(data_dir, split="train", flatten=True)
    Xte, yte = loader(data_dir, split="test", flatten=True)
    return Xtr, ytr, Xte, yte, (1, 28, 28)


def _split(X, y, frac, seed):
    from .. import data
    Xa, Xb, _, ya, yb, _ = data.train_val_test_split(X, y, val_size=frac, test_size=0,
                                                     stratify=True, seed=seed)
    return Xa, Xb, ya, yb


def build_model(kind, in_shape, n_classes, hidden=None, activation="relu", dropout=0.2):
    from .. import models, nn
    c, h, w = in_shape
    if kind == "mlp":
        hidden = hidden or [256 if h * w <= 64 else 512]
        return models.MLP([c * h * w, *hidden, n_classes], activation=activation,
                          dropout=dropout)
    if kind in ("cnn", "lenet", "vgg") and (h, w) == (28, 28):
        return models.SmallVGG(c, n_classes) if kind == "vgg" else models.LeNet(c, n_classes)
    if kind in ("cnn", "lenet", "vgg"):   # small images (8x8 digits)
        return nn.Sequential(nn.Conv2d(c, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                             nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                             nn.Flatten(), nn.Linear(64 * (h // 4) * (w // 4), 128), nn.ReLU(),
                             nn.Linear(128, n_classes))
    raise ValueError(f"--model {kind} does not classify images; use mlp, cnn, lenet or vgg")


DEFAULTS = {  # (epochs, batch size, lr) per model family
    "mlp": (60, 32, 1e-3), "cnn": (10, 64, 1e-3), "lenet": (10, 64, 1e-3), "vgg": (10, 64, 1e-3),
}


def plot_curves(history, path):
    """Learning curves (loss and accuracy, train and validation) as a PNG."""
    try:
        from ..inspect import plot_learning_curves
    except ImportError:
        plot_learning_curves = None
    if plot_learning_curves is not None:
        return plot_learning_curves(history, path)
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    h = history.history
    keys = [k for k in ("loss", "accuracy") if k in h]
    fig, axes = plt.subplots(1, len(keys), figsize=(5 * len(keys), 3.5), squeeze=False)
    for ax, k in zip(axes[0], keys):
        ax.plot(np.arange(1, len(h[k]) + 1), h[k], label="train")
        if f"val_{k}" in h:
            ax.plot(np.arange(1, len(h[k]) + 1), h[f"val_{k}"], label="validation")
        ax.set_xlabel("epoch")
        ax.set_ylabel(k)
        ax.legend()
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def _pictures(model, X, shape, out, verbose):
    """First-layer filters and one image's feature maps for convolutional models."""
    try:
        from .. import inspect as ins
        ins.plot_filters(model, out / "filters.png")
        ins.plot_feature_maps(model, X[:1].reshape((1,) + shape), out / "feature_maps.png")
    except (ImportError, AttributeError) as e:
        if verbose:
            print(f"(no filter pictures: {e})", file=sys.stderr)


def train_classifier(args) -> int:
    from .. import backend, data, io, metrics, optim, training, nn
    backend.manual_seed(args.seed)
    kind = args.model or "mlp"
    Xtr, ytr, Xte, yte, shape = load_images(args.dataset, args.data_dir)
    Xtr, Xva, ytr, yva = _split(Xtr, ytr, 0.1, seed=args.seed)
    if args.limit:
        Xtr, ytr = Xtr[:args.limit], ytr[:args.limit]
    n_classes = int(max(ytr.max(), yte.max())) + 1
    model = build_model(kind, shape, n_classes, args.hidden, args.activation, args.dropout)
    conv = kind != "mlp"
    if conv:
        Xtr, Xva, Xte = (a.reshape((-1,) + shape) for a in (Xtr, Xva, Xte))
    epochs, bs, lr = DEFAULTS[kind]
    epochs = args.epochs if args.epochs is not None else epochs
    bs = args.batch_size or bs
    lr = args.lr or lr
    opt = optim.get(args.optimizer, model.parameters(), lr=lr)
    trainer = training.Trainer(model, nn.CrossEntropyLoss(), opt, metrics=["accuracy"])
    callbacks = [training.EarlyStopping("val_loss", patience=args.patience,
                                        restore_best_weights=True)] if args.patience else []
    extra = []
    if args.report:
        try:
            from .. import inspect as ins
            extra = [ins.GradientFlow(), ins.ActivationStats()]
        except (ImportError, AttributeError):
            extra = []
    if args.verbose:
        print(f"glassnet: {kind} on {args.dataset}: {len(Xtr)} train / {len(Xva)} validation / "
              f"{len(Xte)} test samples, {model.num_parameters()} parameters -> {args.out}",
              file=sys.stderr)
    t0 = time.perf_counter()
    history = trainer.fit((Xtr, ytr), validation=(Xva, yva), epochs=epochs, batch_size=bs,
                          callbacks=callbacks + extra, verbose=args.verbose, seed=args.seed)
    seconds = time.perf_counter() - t0
    test = trainer.evaluate(Xte, yte)
    pred = trainer.predict_classes(Xte)
    cm = metrics.confusion_matrix(yte, pred, num_classes=n_classes)
    out = args.out
    meta = {"task": "classify", "dataset": args.dataset, "input_shape": list(shape),
            "flatten": not conv, "seed": args.seed, "classes": n_classes}
    io.save(model, out / "model.safetensors", metadata=meta)
    history.to_json(out / "history.json")
    result = {"test_loss": test["loss"], "test_accuracy": test["accuracy"],
              "test_samples": int(len(yte)),
              "best_val_accuracy": max(v for v in history["val_accuracy"] if v is not None),
              "epochs": len(history), "train_seconds": round(seconds, 2),
              "stop_reason": history.stop_reason, "confusion_matrix": cm.tolist()}
    (out / "metrics.json").write_text(json.dumps(result, indent=1))
    (out / "config.json").write_text(json.dumps(
        {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}, indent=1))
    try:
        plot_curves(history, out / "learning_curve.png")
        if conv:
            _pictures(model, Xte, shape, out, args.verbose)
    except ImportError as e:
        print(f"(no pictures: {e}; pip install glassnet[plot])", file=sys.stderr)
    if args.report:
        try:
            from .. import inspect as ins
            ins.report(history, model, out / "report.html", confusion=cm,
                       gradient_flow=extra[0] if extra else None,
                       activation_stats=extra[1] if extra else None,
                       title=f"glassnet: {kind} on {args.dataset}",
                       test_metrics={"loss": test["loss"], "accuracy": test["accuracy"]})
        except (ImportError, AttributeError) as e:
            print(f"(no report: {e})", file=sys.stderr)
    if args.verbose:
        print(metrics.classification_report(yte, pred, digits=3))
    print(f"test accuracy {test['accuracy']:.4f}  test loss {test['loss']:.4f}  "
          f"({len(history)} epochs, {seconds:.1f} s)  -> {out}")
    return 0


def cmd_train(args) -> int:
    args.out = _run_dir(args.out)
    if args.task == "autoencoder" or args.dataset == "text" or args.model in ("lstm", "gru",
                                                                              "rnn"):
        # recurrent models and autoencoders take one width (--stacked sets autoencoder sizes)
        args.hidden = args.hidden[0] if args.hidden else None
    if args.dataset == "text" or args.model in ("lstm", "gru", "rnn"):
        if args.dataset != "text" and args.dataset != "digits":
            raise SystemExit("glassnet train: recurrent models train on --dataset text")
        args.dataset = "text"
        args.model = args.model or "lstm"
        from . import text
        return text.run(args)
    if args.task == "autoencoder":
        from . import autoencoder
        return autoencoder.run(args)
    return train_classifier(args)


def _load_classifier(path):
    from .. import io
    model = io.load(path)
    meta = getattr(model, "metadata", {}) or {}
    if meta.get("task") != "classify":
        raise SystemExit(f"glassnet: {path} is not a classifier written by `glassnet train`")
    return model, meta


def cmd_evaluate(args) -> int:
    from .. import metrics, training, nn
    model, meta = _load_classifier(args.model)
    dataset = args.dataset or meta["dataset"]
    _, _, Xte, yte, shape = load_images(dataset, args.data_dir)
    if not meta.get("flatten", True):
        Xte = Xte.reshape((-1,) + shape)
    trainer = training.Trainer(model, nn.CrossEntropyLoss(), metrics=["accuracy"])
    res = trainer.evaluate(Xte, yte)
    pred = trainer.predict_classes(Xte)
    print(f"{dataset} test: accuracy {res['accuracy']:.4f}  loss {res['loss']:.4f}  "
          f"({len(yte)} samples)")
    print(metrics.classification_report(yte, pred))
    return 0


def cmd_predict(args) -> int:
    from .. import training, nn
    model, meta = _load_classifier(args.model)
    if args.input.suffix == ".npy":
        X = np.load(args.input, allow_pickle=False)
    else:
        X = np.loadtxt(args.input, delimiter=",", ndmin=2)
    shape = tuple(meta["input_shape"])
    X = X.reshape((len(X), -1) if meta.get("flatten", True) else (len(X),) + shape)
    trainer = training.Trainer(model, nn.CrossEntropyLoss())
    if args.proba:
        np.savetxt(sys.stdout, trainer.predict_proba(X), fmt="%.6f", delimiter=",")
    else:
        print("\n".join(str(int(c)) for c in trainer.predict_classes(X)))
    return 0


def cmd_info(args) -> int:
    from .. import io
    meta = io.read_metadata(args.model)
    print(json.dumps(meta, indent=1))
    return 0


def cmd_sample(args) -> int:
    from . import text
    return text.sample(args)


def cmd_inspect(args) -> int:
    args.out = _run_dir(args.out)
    from . import inspect_cmd
    return inspect_cmd.run(args)


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    cmd = {"train": cmd_train, "evaluate": cmd_evaluate, "predict": cmd_predict,
           "sample": cmd_sample, "inspect": cmd_inspect, "info": cmd_info}[args.command]
    try:
        return cmd(args)
    except (FileNotFoundError, ValueError) as e:
        print(f"glassnet {args.command}: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
