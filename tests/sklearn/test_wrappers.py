"""glassnet.sklearn in scikit-learn's machinery (clone, Pipeline, searches, CV), the wrappers'
own behaviour (random_state, warm_start, partial_fit, modules and factories), and the digits
must-show in short."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("sklearn")
from scipy.stats import loguniform  # noqa: E402
from sklearn.base import clone  # noqa: E402
from sklearn.exceptions import NotFittedError  # noqa: E402
from sklearn.model_selection import (GridSearchCV, RandomizedSearchCV,  # noqa: E402
                                     cross_val_score, train_test_split)
from sklearn.pipeline import Pipeline, make_pipeline  # noqa: E402

import glassnet as gn  # noqa: E402
from glassnet import data, nn  # noqa: E402
from glassnet.errors import ArgumentError  # noqa: E402
from glassnet.sklearn import (NeuralNetClassifier, NeuralNetRegressor,  # noqa: E402
                              NeuralNetTransformer)


@pytest.fixture(scope="module")
def digits():
    X, y = data.load_digits()
    return train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)


def small_clf(**kw):
    kw = {"hidden_layer_sizes": (32,), "max_epochs": 8, "lr": 3e-3, "random_state": 0, **kw}
    return NeuralNetClassifier(**kw)


def test_digits_pipeline_gridsearch_cv5_short(digits):
    # the must-show in short (the full one: examples/sklearn_digits_gridsearch.py): a
    # Pipeline of glassnet's StandardScaler and the classifier in GridSearchCV(cv=5)
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples"))
    try:
        from sklearn_digits_gridsearch import run
    finally:
        sys.path.pop(0)
    out = run({"net__hidden_layer_sizes": [(8,), (64,)]}, max_epochs=20, cv=5)
    search = out["search"]
    assert len(search.cv_results_["params"]) == 2
    assert len(search.cv_results_["split4_test_score"]) == 2            # 5 folds
    # 8 hidden units are too few (~90% CV accuracy here), 64 are not (~97%): the search
    # must tell them apart, and the refitted best must score on the held-out 20%
    assert out["best_params"] == {"net__hidden_layer_sizes": (64,)}
    assert isinstance(search.best_estimator_.named_steps["scale"], data.StandardScaler)
    assert out["cv_score"] >= 0.95 and out["test_score"] >= 0.95


def test_clone_gives_an_equal_unfitted_estimator(digits):
    Xtr, Xte, ytr, yte = digits
    clf = small_clf(optimizer_params={"weight_decay": 1e-4}).fit(Xtr / 16, ytr)
    twin = clone(clf)
    assert twin.get_params() == clf.get_params() and not hasattr(twin, "module_")
    np.testing.assert_array_equal(twin.fit(Xtr / 16, ytr).predict_proba(Xte / 16),
                                  clf.predict_proba(Xte / 16))
    with pytest.raises(NotFittedError):
        clone(clf).predict(Xte)


def test_random_state_decides_the_fit(digits):
    Xtr, Xte, ytr, _ = digits
    a = small_clf(max_epochs=2).fit(Xtr / 16, ytr).predict_proba(Xte / 16)
    b = small_clf(max_epochs=2).fit(Xtr / 16, ytr).predict_proba(Xte / 16)
    c = small_clf(max_epochs=2, random_state=1).fit(Xtr / 16, ytr).predict_proba(Xte / 16)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)
    # and glassnet's generator is left as it was
    gn.manual_seed(5)
    before = gn.backend.rng().bit_generator.state
    small_clf(max_epochs=1).fit(Xtr / 16, ytr)
    assert gn.backend.rng().bit_generator.state == before


def test_pipeline_cross_val_score_and_randomized_search(digits):
    Xtr, Xte, ytr, yte = digits
    pipe = make_pipeline(data.MinMaxScaler(), small_clf())
    scores = cross_val_score(pipe, Xtr, ytr, cv=data.StratifiedKFold(3, shuffle=True, seed=0))
    assert scores.shape == (3,) and scores.min() > 0.9
    search = RandomizedSearchCV(pipe, {"neuralnetclassifier__lr": loguniform(1e-3, 1e-2),
                                       "minmaxscaler__feature_range": [(0, 1), (-1, 1)]},
                                n_iter=2, cv=2, random_state=0).fit(Xtr, ytr)
    assert search.best_estimator_.score(Xte, yte) > 0.9


def test_string_labels_binary_and_predict_proba():
    X, y = data.make_moons(300, noise=0.1, seed=0)
    labels = np.array(["left", "right"])[y]
    clf = NeuralNetClassifier(hidden_layer_sizes=(32,), max_epochs=60, lr=1e-2,
                              random_state=0).fit(X, labels)
    assert clf.classes_.tolist() == ["left", "right"]
    proba = clf.predict_proba(X)
    assert proba.shape == (300, 2) and proba.dtype == np.float64
    np.testing.assert_allclose(proba.sum(1), 1.0, atol=1e-12)
    np.testing.assert_allclose(np.exp(clf.predict_log_proba(X)), proba, rtol=1e-9)
    assert (clf.predict(X) == clf.classes_[proba.argmax(1)]).all()
    assert clf.score(X, labels) > 0.95


def test_partial_fit_needs_classes_first_and_trains_one_epoch(digits):
    Xtr, Xte, ytr, yte = digits
    clf = small_clf()
    with pytest.raises(ValueError, match="classes"):
        clf.partial_fit(Xtr / 16, ytr)
    for _ in range(4):
        clf.partial_fit(Xtr / 16, ytr, classes=np.arange(10))
    assert clf.n_iter_ == 4 and len(clf.loss_curve_) == 4
    assert clf.loss_curve_[-1] < clf.loss_curve_[0]
    assert clf.score(Xte / 16, yte) > 0.9
    with pytest.raises(ValueError, match=r"not among classes_"):
        clf.partial_fit(Xtr[:5] / 16, np.full(5, 11))
    with pytest.raises(ValueError, match="features"):
        clf.partial_fit(Xtr[:, :10], ytr)


def test_warm_start_continues_training(digits):
    Xtr, _, ytr, _ = digits
    cold = small_clf(max_epochs=3).fit(Xtr / 16, ytr)
    first = cold.module_
    cold.fit(Xtr / 16, ytr)
    assert cold.module_ is not first and cold.n_iter_ == 3     # started over
    warm = small_clf(max_epochs=3, warm_start=True).fit(Xtr / 16, ytr)
    net = warm.module_
    warm.fit(Xtr / 16, ytr)
    assert warm.module_ is net and warm.n_iter_ == 6 and len(warm.loss_curve_) == 6
    # the same as one fit of 6 epochs? no: each fit reshuffles with a new seed, but the
    # loss keeps falling from where it was
    assert warm.loss_curve_[3] < warm.loss_curve_[2] * 1.2


class Net(nn.Module):
    def __init__(self, n_features_in, n_outputs, hidden=8):
        super().__init__()
        self.hidden = hidden
        self.body = nn.Sequential(nn.Linear(n_features_in, hidden), nn.Tanh(),
                                  nn.Linear(hidden, n_outputs))

    def forward(self, x):
        return self.body(x)


def test_module_class_with_params_in_a_grid(digits):
    Xtr, Xte, ytr, yte = digits
    est = NeuralNetClassifier(Net, module_params={"hidden": 4}, max_epochs=6, lr=1e-2,
                              random_state=0)
    search = GridSearchCV(make_pipeline(data.StandardScaler(), est),
                          {"neuralnetclassifier__module_params": [{"hidden": 4},
                                                                  {"hidden": 48}]},
                          cv=3).fit(Xtr, ytr)
    assert search.best_params_ == {"neuralnetclassifier__module_params": {"hidden": 48}}
    assert search.best_estimator_[-1].module_.hidden == 48
    assert search.score(Xte, yte) > 0.9
    with pytest.raises(ArgumentError, match="module_params"):
        NeuralNetClassifier(module_params={"hidden": 3}).fit(Xtr, ytr)
    with pytest.raises(TypeError, match="must return an nn.Module"):
        NeuralNetClassifier(lambda: "net").fit(Xtr, ytr)


def test_module_instance_is_copied_and_reinitialised(digits):
    Xtr, Xte, ytr, _ = digits
    given = nn.Sequential(nn.Linear(64, 16), nn.ReLU(), nn.Linear(16, 10))
    w0 = given[0].weight.numpy().copy()
    a = NeuralNetClassifier(given, max_epochs=2, random_state=0).fit(Xtr / 16, ytr)
    b = NeuralNetClassifier(given, max_epochs=2, random_state=3).fit(Xtr / 16, ytr)
    np.testing.assert_array_equal(given[0].weight.numpy(), w0)   # never trained in place
    assert a.module_ is not given
    assert not np.allclose(a.module_[0].weight.numpy(), b.module_[0].weight.numpy())


def test_regressor_single_and_multi_output():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 4))
    Y = np.stack([X @ [1.0, -1.0, 0.5, 0.0], np.sin(X[:, 0])], axis=1)
    reg = NeuralNetRegressor(hidden_layer_sizes=(32,), max_epochs=60, lr=3e-3,
                             random_state=0).fit(X, Y)
    assert reg.n_outputs_ == 2 and reg.predict(X).shape == (300, 2)
    assert reg.predict(X).dtype == np.float64 and reg.score(X, Y) > 0.9
    one = clone(reg).fit(X, Y[:, 0])
    assert one.predict(X).shape == (300,) and one.score(X, Y[:, 0]) > 0.9
    assert cross_val_score(clone(reg), X, Y[:, 0], cv=3).min() > 0.8


def test_transformer_codes_inverse_and_pipeline(digits):
    Xtr, Xte, ytr, yte = digits
    ae = NeuralNetTransformer(n_components=16, hidden_layer_sizes=(48,), max_epochs=15,
                              lr=3e-3, random_state=0)
    pipe = Pipeline([("scale", data.StandardScaler()), ("ae", ae),
                     ("clf", NeuralNetClassifier(hidden_layer_sizes=(), max_epochs=30,
                                                 lr=1e-2, random_state=0))])
    assert pipe.fit(Xtr, ytr).score(Xte, yte) > 0.85   # 16 learned features suffice
    fitted = pipe.named_steps["ae"]
    Z = fitted.transform(data.StandardScaler().fit(Xtr).transform(Xte))
    assert Z.shape == (len(Xte), 16) and fitted.get_feature_names_out().shape == (16,)
    S = data.StandardScaler().fit(Xtr).transform(Xtr)
    R = fitted.inverse_transform(fitted.transform(S))
    # the reconstruction explains most of the variance of standardised pixels
    assert np.mean((R - S) ** 2) < 0.5 * np.mean(S ** 2)
    assert fitted.score(S) == pytest.approx(-np.mean((fitted.trainer_.predict(S) - S) ** 2))
    assert np.allclose(clone(ae).fit_transform(S), fitted.transform(S))
    # a module without an encoder cannot transform; one without a decoder cannot invert
    with pytest.raises(ValueError, match="encoder"):
        NeuralNetTransformer(nn.Sequential(nn.Linear(64, 64)), max_epochs=1).fit(S)


def test_glassnet_scalers_follow_the_estimator_protocol():
    sc = data.MinMaxScaler(feature_range=(-1, 1))
    assert sc.get_params(deep=False) == sc.get_params(deep=True) == {"feature_range": (-1, 1),
                                                                     "allow_nan": False}
    twin = clone(sc)
    assert twin.feature_range == sc.feature_range and repr(twin) == \
        "MinMaxScaler(feature_range=(-1, 1))"
    assert sc.set_params(feature_range=(0, 2)) is sc and sc.feature_range == (0, 2)
    with pytest.raises(ValueError, match="invalid parameter 'scale'.*feature_range"):
        sc.set_params(scale=2)
    with pytest.raises(ValueError, match="lo < hi"):   # checked by fit, like scikit-learn
        data.MinMaxScaler((1, 0)).fit(np.zeros((3, 2)))
    X = np.random.default_rng(0).normal(size=(20, 3))
    std = data.StandardScaler(with_std=False)
    assert repr(std) == "StandardScaler(with_std=False)" and repr(data.StandardScaler()) == \
        "StandardScaler()"
    np.testing.assert_allclose(std.fit_transform(X, None), X - X.mean(0))
    assert std.get_feature_names_out().tolist() == ["x0", "x1", "x2"]
    pipe = make_pipeline(data.StandardScaler(), data.MinMaxScaler())
    assert pipe.get_params()["standardscaler__with_mean"] is True
    out = pipe.fit_transform(X)
    np.testing.assert_allclose([out.min(0), out.max(0)], [np.zeros(3), np.ones(3)], atol=1e-12)


def test_glassnet_splitters_in_sklearn_and_sklearn_splitters_in_glassnet(digits):
    from sklearn.model_selection import KFold as SkKFold
    from sklearn.model_selection import StratifiedKFold as SkStratified
    X, y = data.load_digits()
    # ours in scikit-learn: the same folds as scikit-learn's for KFold without shuffling
    ours = list(data.KFold(4).split(X, y, groups=np.zeros(len(y))))
    theirs = list(SkKFold(4).split(X, y))
    for (a, b), (c, d) in zip(ours, theirs):
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(b, d)
    assert data.StratifiedKFold(3).get_n_splits(X, y, None) == 3
    search = GridSearchCV(small_clf(max_epochs=3), {"lr": [3e-3]},
                          cv=data.StratifiedKFold(3, shuffle=True, seed=0)).fit(X / 16, y)
    assert search.n_splits_ == 3
    # scikit-learn's in glassnet's cross-validation
    from glassnet import optim, training
    from glassnet.selection import cross_validate

    def build():
        m = nn.Sequential(nn.Linear(64, 10))
        return training.Trainer(m, nn.CrossEntropyLoss(), optim.Adam(m.parameters(), 1e-2),
                                metrics=["accuracy"])

    res = cross_validate(build, X / 16, y, cv=SkStratified(3, shuffle=True, random_state=0),
                         fit_kwargs={"epochs": 3})
    assert len(res["scores"]) == 3 and res["mean"] > 0.85


def test_callbacks_and_validation_split_early_stopping(digits):
    from glassnet.training import EarlyStopping
    Xtr, _, ytr, _ = digits
    stop = EarlyStopping(monitor="val_loss", patience=1, min_delta=10.0)  # never improves
    clf = small_clf(max_epochs=50, validation_split=0.2, callbacks=[stop]).fit(Xtr / 16, ytr)
    assert clf.n_iter_ == 2 and "val_loss" in clf.history_.history
    assert clf.callbacks[0] is stop and stop.state_dict() == EarlyStopping(
        monitor="val_loss", patience=1, min_delta=10.0).state_dict()   # a copy was used


def test_missing_scikit_learn_is_a_clear_import_error():
    import subprocess
    code = ("import sys; sys.modules['sklearn'] = None\n"
            "try:\n    import glassnet.sklearn\nexcept ImportError as e:\n    print(e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert 'pip install "glassnet[sklearn]"' in out


def test_glassnet_scalers_refuse_bad_input_clearly():
    from glassnet.errors import ArgumentError, ArgumentTypeError, NotFittedError
    X = np.arange(12.0).reshape(4, 3)
    with pytest.raises(NotFittedError, match="not fitted yet") as err:
        data.StandardScaler().transform(X)
    assert isinstance(err.value, (RuntimeError, ValueError, AttributeError))
    bad = X.copy()
    bad[1, 2] = np.nan
    with pytest.raises(ArgumentError, match="StandardScaler.fit: X contains NaN"):
        data.StandardScaler().fit(bad)
    with pytest.raises(ArgumentError, match="MinMaxScaler.transform: X contains NaN"):
        data.MinMaxScaler().fit(X).transform(bad)
    with pytest.raises(ArgumentError, match="0 sample"):
        data.StandardScaler().fit(np.zeros((0, 3)))
    with pytest.raises(ArgumentError, match="Reshape your data"):
        data.StandardScaler().fit(X).transform(X[0])
    with pytest.raises(ArgumentError, match="expecting 3 features"):
        data.StandardScaler().fit(X).transform(X[:, :2])
    with pytest.raises(ArgumentTypeError, match="X must hold numbers"):
        data.StandardScaler().fit(np.array([[{"a": 1}]], dtype=object))
    # ints become the default float dtype, as before
    assert data.MinMaxScaler().fit_transform(np.arange(6).reshape(3, 2)).dtype == np.float32


def test_glassnet_encoders_match_scikit_learn_and_round_trip():
    from sklearn.compose import ColumnTransformer
    from sklearn.preprocessing import OneHotEncoder as SkOneHot
    rng = np.random.default_rng(0)
    X = np.stack([rng.choice(["red", "green", "blue"], 50), rng.choice(["a", "b"], 50),
                  rng.choice(["u", "v", "w", "x", "y"], 50)], axis=1)
    ours = data.OneHotEncoder().fit(X)
    ref = SkOneHot(sparse_output=False).fit(X)
    np.testing.assert_array_equal(ours.transform(X), ref.transform(X))
    assert ours.get_feature_names_out().tolist() == ref.get_feature_names_out().tolist()
    np.testing.assert_array_equal(ours.inverse_transform(ours.transform(X)), X)
    with pytest.raises(ValueError, match=r"column 0 holds unknown categories \['pink'\]"):
        ours.transform([["pink", "a", "u"]])
    ignoring = data.OneHotEncoder(handle_unknown="ignore").fit(X)
    row = ignoring.transform([["pink", "a", "u"]])
    assert row[0, :3].sum() == 0 and row.sum() == 2
    assert ignoring.inverse_transform(row).tolist() == [[None, "a", "u"]]
    # binary codes: ceil(log2 k) bits per column (3 -> 2, 2 -> 1, 5 -> 3), the codes of
    # binary_encode, and back
    enc = data.BinaryEncoder().fit(X)
    B = enc.transform(X)
    assert B.shape == (50, 6) and enc.get_feature_names_out()[:3].tolist() == \
        ["x0_bit0", "x0_bit1", "x1_bit0"]
    np.testing.assert_array_equal(B[:, :2], data.binary_encode(X[:, 0])[0])
    np.testing.assert_array_equal(enc.inverse_transform(B), X)
    # in scikit-learn's ColumnTransformer beside a glassnet scaler, cloned and refitted
    Xmix = np.concatenate([X, rng.normal(size=(50, 2)).astype(str)], axis=1).astype(object)
    Xmix[:, 3:] = Xmix[:, 3:].astype(float)
    ct = ColumnTransformer([("cats", data.BinaryEncoder(), [0, 1, 2]),
                            ("nums", data.StandardScaler(), [3, 4])])
    out = clone(ct).fit_transform(Xmix)
    assert out.shape == (50, 8)
    np.testing.assert_allclose(out[:, 6:].mean(0), 0, atol=1e-6)
