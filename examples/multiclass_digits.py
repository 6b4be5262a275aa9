"""One-vs-rest and one-vs-one on the 8x8 digits: glassnet's wrappers around a logistic
unit (nn.Linear(64, 1) trained with binary cross-entropy) and around glassnet's
NeuralNetClassifier, beside scikit-learn's wrappers around LogisticRegression.

    OMP_NUM_THREADS=1 python examples/multiclass_digits.py
"""
from __future__ import annotations

import time

import numpy as np

from glassnet import nn
from glassnet.data import load_digits
from glassnet.multiclass import OneVsOneClassifier, OneVsRestClassifier


def main() -> dict:
    X, y = load_digits()
    X = X / 16.0
    order = np.random.default_rng(0).permutation(len(X))
    tr, te = order[:1257], order[1257:]
    fast = dict(epochs=30, lr=0.05, batch_size=128, random_state=0)
    rows = {}
    def logistic() -> nn.Module:
        return nn.Linear(64, 1)

    candidates: list = [
        ("glassnet OvR, logistic unit", OneVsRestClassifier(logistic, **fast)),
        ("glassnet OvO, logistic unit", OneVsOneClassifier(logistic, **fast))]
    try:
        from sklearn import multiclass
        from sklearn.linear_model import LogisticRegression

        from glassnet.sklearn import NeuralNetClassifier
        mlp = NeuralNetClassifier(hidden_layer_sizes=(32,), max_epochs=20, lr=0.01,
                                  random_state=0)
        candidates += [
            ("glassnet OvR, NeuralNetClassifier", OneVsRestClassifier(mlp)),
            ("glassnet OvO, NeuralNetClassifier", OneVsOneClassifier(mlp)),
            ("sklearn OvR, LogisticRegression",
             multiclass.OneVsRestClassifier(LogisticRegression(max_iter=2000))),
            ("sklearn OvO, LogisticRegression",
             multiclass.OneVsOneClassifier(LogisticRegression(max_iter=2000)))]
    except ImportError:
        print("scikit-learn is not installed: only glassnet's wrappers run")
    print(f"{'':>36} {'classifiers':>11} {'test acc':>9} {'fit s':>6}")
    for name, clf in candidates:
        t = time.perf_counter()
        clf.fit(X[tr], y[tr])
        seconds = time.perf_counter() - t
        acc = float(np.mean(clf.predict(X[te]) == y[te]))
        rows[name] = {"estimators": len(clf.estimators_), "accuracy": acc, "fit_s": seconds}
        print(f"{name:>36} {len(clf.estimators_):>11} {acc:>9.4f} {seconds:>6.1f}")
    return rows


if __name__ == "__main__":
    main()
