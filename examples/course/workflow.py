"""The training workflow the decks teach, on the embedded digits: online / full-batch /
mini-batch updates, early stopping with patience, convergence criteria, k-fold selection
of the hidden layer, the k or log2 k output codings, weight and activation penalties,
dropout and Monte-Carlo dropout, denoising and stacked autoencoders with greedy
pre-training then fine-tuning, anomaly detection, one-vs-rest and one-vs-one.

Decks: 000 (modes, convergence, early stopping, model selection, penalties, dropout,
design of the output layer), 001 (layer-wise pre-training), 002 (one-vs-one and
one-vs-all), 003 (autoencoders, anomaly detection, model selection).
Run: ``python examples/course/workflow.py`` (about a minute on two cores).
"""
from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _course import Checks  # noqa: E402

import glassnet as gn  # noqa: E402
from glassnet import data, metrics, models, nn, selection, training  # noqa: E402
from glassnet.multiclass import OneVsOneClassifier, OneVsRestClassifier  # noqa: E402


def digits() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    X, y = data.load_digits()
    X = (X / 16.0).astype(np.float32)
    rng = np.random.default_rng(0)
    idx = rng.permutation(len(X))
    tr, te = idx[:1400], idx[1400:]
    return X[tr], y[tr], X[te], y[te]


def mlp(hidden: int = 32, dropout: float = 0.0) -> nn.Module:
    return nn.Sequential(nn.Linear(64, hidden), nn.ReLU(), nn.Dropout(dropout),
                         nn.Linear(hidden, 10))


def modes(c: Checks, X: np.ndarray, y: np.ndarray) -> None:
    n = 200
    for name, bs, want in (("online", 1, n), ("full batch", n, 1), ("mini-batch 32", 32, math.ceil(n / 32))):
        steps = []
        gn.manual_seed(0)
        t = training.Trainer(mlp(), nn.CrossEntropyLoss(), "sgd", lr=0.01)
        t.fit(X[:n], y[:n], epochs=1, batch_size=bs, verbose=0,
              callbacks=[training.LambdaCallback(on_batch_end=lambda tr, s, logs: steps.append(s))])
        c.check("000 modes", f"{name}: weight updates per epoch of {n} records", want, len(steps))


def early_stopping(c: Checks, X: np.ndarray, y: np.ndarray, Xt: np.ndarray, yt: np.ndarray) -> None:
    gn.manual_seed(0)
    es = training.EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True)
    t = training.Trainer(mlp(256), nn.CrossEntropyLoss(), "adam", lr=3e-3)
    hist = t.fit(X[:300], y[:300], validation_data=(X[1000:], y[1000:]), epochs=200,
                 batch_size=32, callbacks=[es], verbose=0)
    val = np.array(hist["val_loss"])
    best = int(val.argmin())
    c.check("000 early", "stops `patience` epochs after the best validation loss",
            best + 3 + 1, len(val))
    t.model.eval()
    with gn.no_grad():
        restored = float(nn.CrossEntropyLoss()(t.model(gn.tensor(X[1000:])), gn.tensor(y[1000:])).item())
    c.check("000 early", "restores the best epoch's weights (its val_loss)", val[best], restored, 1e-4)
    conv = training.ConvergenceCriterion(loss_change_tol=1e-3, patience=2)
    gn.manual_seed(0)
    t = training.Trainer(mlp(), nn.CrossEntropyLoss(), "adam", lr=1e-2)
    h = t.fit(X, y, epochs=300, batch_size=len(X), callbacks=[conv], verbose=0)
    c.check("000 conv", "change of the loss below 1e-3 twice: converged", True,
            bool(conv.converged) and len(h["loss"]) < 300)
    c.note("000 conv", "epochs until converged (full batch, Adam)", len(h["loss"]))


def kfold(c: Checks, X: np.ndarray, y: np.ndarray) -> None:
    def build(hidden: int) -> training.Trainer:
        return training.Trainer(mlp(hidden), nn.CrossEntropyLoss(), "adam", lr=3e-3,
                                metrics=["accuracy"])

    res = {h: selection.cross_validate(build, X[:600], y[:600], cv=3, params={"hidden": h},
                                       fit_kwargs=dict(epochs=8, batch_size=32))["mean"]
           for h in (2, 32)}
    c.check("000 select", "3-fold CV picks 32 hidden units over 2", 32, max(res, key=res.get))
    c.note("000 select", "mean CV accuracy, 2 vs 32 hidden units", [res[2], res[32]])


def coding(c: Checks, y: np.ndarray) -> None:
    oh = data.one_hot(y[:5], 10)
    codes, cats = data.binary_encode(y[:5], categories=list(range(10)))
    c.check("000 design", "k = 10 classes: k one-hot outputs, ceil(log2 k) = 4 binary outputs",
            [10, 4], [np.asarray(oh).shape[1], codes.shape[1]])
    c.check("000 design", "the binary code decodes back", y[:5], data.binary_decode(codes, cats))


def penalties(c: Checks) -> None:
    # E' = E + lambda R: R(W) = ||W||_1^2 ... the deck writes the squared norms; glassnet's
    # l1 / l2 are the usual sum |w| and sum w^2 (what torch users add by hand). Check the
    # gradient the penalty adds: l2 -> 2 lambda w, l1 -> lambda sign(w).
    gn.manual_seed(0)
    lin = nn.Linear(3, 2, bias=False, dtype="float64")
    w = lin.weight.detach().numpy().copy()
    lam = 0.1
    for kind, grad in (("l2", 2 * lam * w), ("l1", lam * np.sign(w))):
        lin.zero_grad()
        pen = (lin.weight ** 2).sum() if kind == "l2" else lin.weight.abs().sum()
        (lam * pen).backward()
        c.check("000 reg", f"gradient of lambda R(W), R = {kind}", grad, lin.weight.grad.numpy(), 1e-12)
    z = gn.tensor([[0.5, -1.0, 2.0]], dtype=gn.float64, requires_grad=True)
    (lam * (z ** 2).sum()).backward()
    c.check("000 reg", "penalty on activations R(Z) = ||Z||^2: gradient 2 lambda Z",
            2 * lam * z.detach().numpy(), z.grad.numpy(), 1e-12)


def dropout(c: Checks, X: np.ndarray, y: np.ndarray, Xt: np.ndarray) -> None:
    gn.manual_seed(0)
    d = nn.Dropout(0.4)
    d.train()
    out = d(gn.ones(1000, 100)).numpy()
    c.check("000 drop", "dropout p = 0.4: fraction of units turned off", 0.4, (out == 0).mean(), 0.01)
    c.check("000 drop", "kept units scaled by 1/(1 - p) (inverted dropout)", 1 / 0.6, out[out > 0].mean(), 1e-6)
    d.eval()
    c.check("000 drop", "prediction phase: identity", 1.0, d(gn.ones(3, 3)).numpy().mean())
    gn.manual_seed(0)
    t = training.Trainer(mlp(64, dropout=0.4), nn.CrossEntropyLoss(), "adam", lr=3e-3)
    t.fit(X, y, epochs=5, batch_size=32, verbose=0)
    model = t.model
    model.train()                    # Monte-Carlo dropout: keep dropping at prediction time
    with gn.no_grad():
        draws = np.stack([nn.functional.softmax(model(gn.tensor(Xt[:50])), dim=1).numpy()
                          for _ in range(30)])
    mean, std = draws.mean(0), draws.std(0)
    lo, hi = mean - 1.96 * std / np.sqrt(30), mean + 1.96 * std / np.sqrt(30)
    c.check("000 drop", "MC dropout: 95% intervals have positive width and hold the mean",
            True, bool((hi > lo).any() and np.all((lo <= mean) & (mean <= hi))))
    c.note("000 drop", "mean half-width of the interval of the predicted class",
           float(((hi - lo) / 2)[np.arange(50), mean.argmax(1)].mean()))


def autoencoders(c: Checks, X: np.ndarray, y: np.ndarray, Xt: np.ndarray, yt: np.ndarray) -> None:
    gn.manual_seed(0)
    dae = models.DenoisingAutoencoder(64, [48], noise="gaussian", noise_level=0.2)
    dae.fit(X, epochs=40, batch_size=32, lr=1e-2, seed=0)
    noisy = np.clip(Xt + np.random.default_rng(1).normal(0, 0.2, Xt.shape), 0, 1).astype(np.float32)
    with gn.no_grad():
        dae.eval()
        rec = dae(gn.tensor(noisy)).numpy()
    c.check("003 ae", "denoising AE: its output is closer to the clean test image than the input",
            True, bool(((rec - Xt) ** 2).mean() < ((noisy - Xt) ** 2).mean()))
    # stacked: greedy layer-wise pre-training, then fine-tuning as a classifier, with few labels
    accs = {}
    for pre in (True, False):
        gn.manual_seed(0)
        sae = models.StackedAutoencoder([64, 48, 24])
        if pre:
            sae.pretrain(X, epochs=10, batch_size=32, lr=3e-3, seed=0)
        clf = sae.to_classifier(10)
        t = training.Trainer(clf, nn.CrossEntropyLoss(), "adam", lr=3e-3)
        t.fit(X[:100], y[:100], epochs=30, batch_size=20, verbose=0, seed=0)
        clf.eval()
        with gn.no_grad():
            accs[pre] = metrics.accuracy(yt, clf(gn.tensor(Xt)).argmax(1).numpy())
    c.check("001 pretrain", "100 labels: greedy pre-training beats random init", True,
            bool(accs[True] > accs[False]))
    c.note("001 pretrain", "test accuracy with / without pre-training", [accs[True], accs[False]])
    # anomaly detection: an AE trained on the 1s only; every other digit is an anomaly and
    # should reconstruct worse
    gn.manual_seed(0)
    det = models.AnomalyDetector(models.Autoencoder(64, [16]), quantile=0.95)
    det.fit(X[y == 1], epochs=40, batch_size=32, lr=3e-3)
    auc = metrics.roc_auc((yt != 1).astype(int), np.asarray(det.score(Xt)))
    c.check("003 anomaly", "AE trained on 1s: other digits score higher, ROC AUC > 0.9", True,
            bool(auc > 0.9))
    c.note("003 anomaly", "ROC AUC of the reconstruction error", auc)
    flagged = np.asarray(det.predict(Xt)).astype(bool)
    c.note("003 anomaly", "flagged at the 95% quantile: 1s, others",
           [flagged[yt == 1].mean(), flagged[yt != 1].mean()])


def one_vs(c: Checks, X: np.ndarray, y: np.ndarray, Xt: np.ndarray, yt: np.ndarray) -> None:
    # deck 002: K(K-1)/2 pairwise classifiers with a vote, or one per class with the
    # highest confidence; on digits with logistic units
    kw = dict(epochs=20, lr=0.05, batch_size=128, random_state=0)
    ovo = OneVsOneClassifier(lambda: nn.Linear(64, 1), **kw).fit(X, y)
    ovr = OneVsRestClassifier(lambda: nn.Linear(64, 1), **kw).fit(X, y)
    c.check("002 ovo", "one-vs-one on K = 10 classes: K(K-1)/2 = 45 classifiers", 45,
            len(ovo.estimators_))
    c.check("002 ovo", "one-vs-all: K = 10 classifiers", 10, len(ovr.estimators_))
    a_ovo, a_ovr = ovo.score(Xt, yt), ovr.score(Xt, yt)
    c.check("002 ovo", "both reach test accuracy > 0.9 on digits", True,
            bool(a_ovo > 0.9 and a_ovr > 0.9))
    c.note("002 ovo", "test accuracy one-vs-one, one-vs-all", [a_ovo, a_ovr])


def run() -> Checks:
    c = Checks("The training workflow (decks 000, 001, 002, 003)")
    X, y, Xt, yt = digits()
    modes(c, X, y)
    early_stopping(c, X, y, Xt, yt)
    kfold(c, X, y)
    coding(c, y)
    penalties(c)
    dropout(c, X, y, Xt)
    autoencoders(c, X, y, Xt, yt)
    one_vs(c, X, y, Xt, yt)
    return c


if __name__ == "__main__":
    raise SystemExit(run().finish())
