"""one_hot, binary_encode, StandardScaler, MinMaxScaler (against scikit-learn)."""
from __future__ import annotations

import numpy as np
import pytest

from glassnet import data


def test_one_hot():
    y = np.array([[0, 2], [1, 2]])
    out = data.one_hot(y, 4)
    assert out.shape == (2, 2, 4) and out.dtype == np.float32
    np.testing.assert_array_equal(out.argmax(-1), y)
    np.testing.assert_array_equal(out.sum(-1), 1)
    assert data.one_hot(np.array([0, 3])).shape == (2, 4)
    with pytest.raises(ValueError, match=r"labels must be in \[0, 3\)"):
        data.one_hot(np.array([0, 3]), 3)
    with pytest.raises(TypeError, match="integer"):
        data.one_hot(np.array([0.5]), 3)


@pytest.mark.parametrize("k,bits", [(1, 0), (2, 1), (3, 2), (4, 2), (5, 3), (8, 3), (9, 4),
                                    (100, 7)])
def test_binary_encode_bit_count_and_round_trip(k, bits):
    r = np.random.default_rng(k)
    cats = [f"c{i:03d}" for i in range(k)]
    values = np.array(cats)[r.integers(0, k, 150)]
    values[:k] = cats  # every category present
    codes, found = data.binary_encode(values)
    assert codes.shape == (150, bits) and found == cats
    np.testing.assert_array_equal(data.binary_decode(codes, found), values)
    if k > 1:  # distinct categories get distinct codes
        assert len({tuple(c) for c in codes[:k]}) == k


def test_binary_encode_given_categories_and_errors():
    codes, cats = data.binary_encode(np.array([3, 1, 2]), categories=[1, 2, 3])
    np.testing.assert_array_equal(codes, [[1, 0], [0, 0], [0, 1]])
    assert cats == [1, 2, 3]
    with pytest.raises(ValueError, match=r"values \['x'\] are not among"):
        data.binary_encode(["a", "x"], categories=["a", "b"])


def test_standard_scaler_matches_sklearn():
    sk = pytest.importorskip("sklearn.preprocessing")
    r = np.random.default_rng(0)
    X = r.normal(3.0, 2.0, size=(50, 4))
    X[:, 2] = 5.0  # a constant column
    ours = data.StandardScaler().fit(X)
    ref = sk.StandardScaler().fit(X)
    np.testing.assert_allclose(ours.transform(X), ref.transform(X), atol=1e-12)
    np.testing.assert_allclose(ours.inverse_transform(ours.transform(X)), X, atol=1e-12)
    np.testing.assert_allclose(data.StandardScaler().fit_transform(X), ref.transform(X),
                               atol=1e-12)
    with pytest.raises(ValueError, match="features"):
        ours.transform(X[:, :3])
    with pytest.raises(RuntimeError, match="fit"):
        data.StandardScaler().transform(X)


def test_minmax_scaler_matches_sklearn():
    sk = pytest.importorskip("sklearn.preprocessing")
    r = np.random.default_rng(1)
    X = r.uniform(-4, 9, size=(40, 3))
    for fr in [(0, 1), (-1, 1)]:
        ours = data.MinMaxScaler(fr).fit(X)
        ref = sk.MinMaxScaler(feature_range=fr).fit(X)
        np.testing.assert_allclose(ours.transform(X), ref.transform(X), atol=1e-12)
        np.testing.assert_allclose(ours.inverse_transform(ours.transform(X)), X, atol=1e-12)
    x32 = data.MinMaxScaler().fit_transform(X.astype(np.float32))
    assert x32.dtype == np.float32


# ---------------------------------------------------------------- issue 17: log2 k decoding
def test_binary_decode_unused_code_goes_to_the_nearest_category_per_row():
    cats = ["a", "b", "c", "d", "e"]           # 3 bits; codes 5, 6, 7 stand for nothing
    codes = np.array([[0, 1, 0],               # 2 -> c
                      [1, 1, 1],               # 7: Hamming 1 from 3 (d) and 5? 5 unused -> d
                      [1, 0, 1],               # 5: Hamming 1 from 1 (b) and 4 (e); L1 tie -> b
                      [0.9, 0.3, 0.8],         # 5 again, but raw values nearer to 4 (e)
                      [0.7, 0.6, 0.1]])        # 6: Hamming 1 from 2 (c) and 4 (e); raw: e
    got = data.binary_decode(codes, cats)
    assert got.tolist() == ["c", "d", "b", "e", "e"]
    # brute force over the valid codes: the same choice for random probabilities
    r = np.random.default_rng(0)
    p = r.random((200, 3))
    table = np.array([[(i >> b) & 1 for b in (2, 1, 0)] for i in range(5)])
    ham = ((p >= 0.5)[:, None, :] != table[None]).sum(-1)
    l1 = np.abs(p[:, None, :] - table[None]).sum(-1)
    want = [min(range(5), key=lambda i, h=h, d=d: (h[i], d[i], i)) for h, d in zip(ham, l1)]
    np.testing.assert_array_equal(data.binary_decode(p, cats), np.array(cats)[want])


def test_binary_decode_flag_and_error_options():
    codes = np.array([[0, 0, 1], [1, 1, 0], [1, 0, 0]])
    np.testing.assert_array_equal(data.binary_decode(codes, [10, 20, 30, 40, 50], unused="flag"),
                                  [20, -1, 50])
    out = data.binary_decode(codes, ["a", "b", "c", "d", "e"], unused="flag", flag=None)
    assert out.tolist() == ["b", None, "e"]
    with pytest.raises(ValueError, match=r"rows \[1\] decode to unused codes \[6\]"):
        data.binary_decode(codes, list("abcde"), unused="error")
    with pytest.raises(ValueError, match="unused must be one of"):
        data.binary_decode(codes, list("abcde"), unused="drop")


# ---------------------------------------------------------------- issue 17: NaN in scalers
def _with_nans(seed=0):
    r = np.random.default_rng(seed)
    X = r.standard_normal((40, 5)) * [1, 2, 3, 4, 5] + [0, 1, 2, 3, 4]
    X[r.random(X.shape) < 0.15] = np.nan
    X[:, 4] = np.nan                       # a column with no value at all
    return X


@pytest.mark.parametrize("name", ["StandardScaler", "MinMaxScaler"])
def test_scalers_refuse_nan_naming_x_and_the_columns(name):
    X = _with_nans()
    with pytest.raises(ValueError, match=rf"{name}.fit: X contains NaN .*column\(s\) \[0, 1, 2, 3, 4\].*allow_nan=True"):
        getattr(data, name)().fit(X)
    inf = np.ones((3, 2))
    inf[1, 1] = np.inf
    with pytest.raises(ValueError, match="X contains infinity"):
        getattr(data, name)(allow_nan=True).fit(inf)


@pytest.mark.parametrize("name", ["StandardScaler", "MinMaxScaler"])
def test_scalers_allow_nan_match_sklearn(name):
    import warnings
    sk = pytest.importorskip("sklearn.preprocessing")
    X, X2 = _with_nans(0), _with_nans(1)
    ours = getattr(data, name)(allow_nan=True).fit(X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        theirs = getattr(sk, name)().fit(X)
        want, want_inv = theirs.transform(X2), theirs.inverse_transform(X2)
    got = ours.transform(X2)
    np.testing.assert_allclose(got, want, equal_nan=True)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(X2))    # NaN kept, nothing else
    np.testing.assert_allclose(ours.inverse_transform(X2), want_inv, equal_nan=True)
    attrs = ("mean_", "scale_") if name == "StandardScaler" else ("data_min_", "data_max_",
                                                                   "scale_", "min_")
    for a in attrs:
        np.testing.assert_allclose(getattr(ours, a), getattr(theirs, a), equal_nan=True)
    assert ours.get_params()["allow_nan"] is True
