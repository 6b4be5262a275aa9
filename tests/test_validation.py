"""glassnet.validation: every check accepts what it should and refuses the rest with the
documented message, as an exception that is both a GlassnetError and a ValueError (or, for
a name that is not a string, a TypeError); and ``as_array`` beside Tensor."""
import ast
import math
import re
from pathlib import Path

import numpy as np
import pytest

import glassnet as gn
from glassnet import validation as V
from glassnet.autograd.tensor import as_array
from glassnet.errors import ArgumentError, ArgumentTypeError, GlassnetError


def _refused(fn, *args, match, **kwargs):
    """Call fn, expect an ArgumentError whose message matches; return the exception."""
    with pytest.raises(ArgumentError, match=match) as info:
        fn(*args, **kwargs)
    e = info.value
    assert isinstance(e, GlassnetError) and isinstance(e, ValueError)
    return e


def re_repr(v):
    return re.escape(repr(v))


# ----------------------------------------------------------------------- is_int / check_int
def test_is_int():
    for v in (0, 3, -2, np.int64(4), np.uint8(1)):
        assert V.is_int(v), v
    for v in (True, False, np.bool_(True), 3.0, np.float32(2), "3", None, [1], 1 + 0j):
        assert not V.is_int(v), v


def test_check_int_accepts_integers_and_returns_int():
    assert V.check_int(3, "n", "W") == 3
    out = V.check_int(np.int64(7), "n", "W")
    assert out == 7 and type(out) is int
    assert V.check_int(0, "n", "W", min=0) == 0
    assert V.check_int(-5, "n", "W", min=None) == -5
    assert V.check_int(3, "n", "W", min=1, max=3) == 3
    assert V.check_int(None, "n", "W", allow_none=True) is None


@pytest.mark.parametrize("bad", [True, False, 3.0, np.float64(2.0), 2.5, "3", None, [3], 0, -1])
def test_check_int_refuses_bools_floats_and_non_positive(bad):
    _refused(V.check_int, bad, "in_features", "Linear",
             match=rf"^Linear: in_features must be a positive integer, got {re_repr(bad)}$")


def test_check_int_messages_for_other_bounds():
    _refused(V.check_int, -1, "patience", "EarlyStopping", min=0,
             match=r"^EarlyStopping: patience must be an integer >= 0, got -1$")
    _refused(V.check_int, 1, "samples", "mc_predict", min=2,
             match=r"^mc_predict: samples must be an integer >= 2, got 1$")
    _refused(V.check_int, 10, "padding_idx", "Embedding", min=-10, max=9,
             match=r"^Embedding: padding_idx must be an integer in \[-10, 9\], got 10$")
    _refused(V.check_int, 4, "k", "f", min=None, max=3,
             match=r"^f: k must be an integer <= 3, got 4$")
    _refused(V.check_int, 1.5, "k", "f", min=None, match=r"^f: k must be an integer, got 1.5$")
    _refused(V.check_int, 0, "batch_size", "DataLoader", allow_none="full batch",
             match=r"^DataLoader: batch_size must be a positive integer or None \(full batch\), "
                   r"got 0$")
    _refused(V.check_int, -1, "seed", "DataLoader", min=0, allow_none=True,
             match=r"^DataLoader: seed must be an integer >= 0 or None, got -1$")
    # None is refused unless allowed
    _refused(V.check_int, None, "n", "W", match=r"must be a positive integer, got None")


# --------------------------------------------------------------------------- check_real
def test_check_real_accepts_numbers_in_the_interval_and_returns_float():
    out = V.check_real(1, "lr", "SGD", 0)
    assert out == 1.0 and type(out) is float
    assert V.check_real(np.float32(0.5), "p", "x", 0, 1) == 0.5
    assert V.check_real(0, "a", "x", 0, 1) == 0.0            # closed ends are inside
    assert V.check_real(1, "a", "x", 0, 1) == 1.0
    assert V.check_real(-3.5, "a", "x") == -3.5              # no bound
    assert V.check_real(math.inf, "a", "x", 0) == math.inf   # no upper bound excludes it
    assert V.check_real(None, "a", "x", allow_none=True) is None


@pytest.mark.parametrize("bad", [float("nan"), np.nan, True, False, "0.5", None, [0.5],
                                 np.array(0.5)])
def test_check_real_refuses_nan_bools_and_non_numbers(bad):
    _refused(V.check_real, bad, "lr", "Adam", 0,
             match=rf"^Adam: lr must be a non-negative number, got {re_repr(bad)}$")


def test_check_real_refuses_nan_without_bounds():
    _refused(V.check_real, float("nan"), "x", "f", match=r"^f: x must be a real number, got nan$")


@pytest.mark.parametrize("kwargs, value, text", [
    (dict(low=0, high=1), 1.5, "in [0, 1]"),
    (dict(low=0, high=1, high_open=True), 1.0, "in [0, 1)"),
    (dict(low=0, high=1, low_open=True), 0.0, "in (0, 1]"),
    (dict(low=0, high=1, low_open=True, high_open=True), 0, "in (0, 1)"),
    (dict(low=0), -0.1, "a non-negative number"),
    (dict(low=0, low_open=True), 0.0, "a positive number"),
    (dict(low=2), 1.5, "a number >= 2"),
    (dict(low=0.5, low_open=True), 0.5, "a number > 0.5"),
    (dict(high=1), 2.0, "a number <= 1"),
    (dict(high=1e-8, high_open=True), 1e-8, "a number < 1e-08"),
    (dict(low=0, high=1), math.inf, "in [0, 1]"),
    (dict(low=0, high=1), -math.inf, "in [0, 1]"),
])
def test_check_real_interval_messages(kwargs, value, text):
    _refused(V.check_real, value, "factor", "ReduceLROnPlateau", **kwargs,
             match=rf"^ReduceLROnPlateau: factor must be {re.escape(text)}, got {re_repr(value)}$")


def test_check_probability():
    assert V.check_probability(0, "p", "Dropout") == 0.0
    assert V.check_probability(1, "p", "Dropout") == 1.0
    assert V.check_probability(np.float64(0.25), "p", "Dropout") == 0.25
    for bad in (1.5, -0.1, float("nan"), True, "0.5", None):
        _refused(V.check_probability, bad, "p", "Dropout",
                 match=rf"^Dropout: p must be a probability in \[0, 1\], got {re_repr(bad)}$")
    _refused(V.check_probability, 1.0, "dropout", "LSTM", high_open=True,
             match=r"^LSTM: dropout must be a probability in \[0, 1\), got 1.0$")
    _refused(V.check_probability, 0.0, "ci", "f", low_open=True,
             match=r"^f: ci must be a probability in \(0, 1\], got 0.0$")


# -------------------------------------------------------------------------- check_choice
def test_check_choice():
    assert V.check_choice("sum", "reduction", "L1Loss", ("mean", "sum", "none")) == "sum"
    assert V.check_choice(None, "average", "f1", (None, "macro")) is None
    assert V.check_choice(2, "p", "MultiMarginLoss", (1, 2)) == 2
    assert V.check_choice("b", "x", "f", {"a": 1, "b": 2}) == "b"     # any container
    _refused(V.check_choice, "avg", "reduction", "L1Loss", ("mean", "sum", "none"),
             match=r"^L1Loss: reduction must be one of \['mean', 'sum', 'none'\], got 'avg'$")
    _refused(V.check_choice, 3, "p", "MultiMarginLoss", (1, 2),
             match=r"^MultiMarginLoss: p must be one of \[1, 2\], got 3$")


def test_check_choice_keeps_bools_and_numbers_apart_and_survives_arrays():
    _refused(V.check_choice, True, "p", "f", (1, 2), match=r"must be one of \[1, 2\], got True")
    _refused(V.check_choice, 1, "flag", "f", (True, False), match=r"got 1$")
    _refused(V.check_choice, np.array(["mean", "sum"]), "reduction", "f", ("mean", "sum"),
             match="must be one of")
    _refused(V.check_choice, ["mean"], "reduction", "f", ("mean",), match="must be one of")


# ------------------------------------------------------------------ check_ints / pair
def test_check_pair_and_check_ints():
    assert V.check_pair(3, "kernel_size", "Conv2d") == (3, 3)
    assert V.check_pair((1, 2), "stride", "Conv2d") == (1, 2)
    assert V.check_pair([np.int64(2), 3], "stride", "Conv2d") == (2, 3)
    out = V.check_pair(np.int32(2), "stride", "Conv2d")
    assert out == (2, 2) and all(type(v) is int for v in out)
    assert V.check_pair(0, "padding", "Conv2d", min=0) == (0, 0)
    assert V.check_ints(4, "kernel_size", "Conv1d", 1) == (4,)
    assert V.check_ints((4,), "kernel_size", "Conv1d", 1) == (4,)
    assert V.check_ints(2, "size", "f", 3) == (2, 2, 2)


@pytest.mark.parametrize("bad", [True, 1.5, (1, 2.0), (1, True), (1, 2, 3), (1,), "3", None])
def test_check_pair_refuses(bad):
    _refused(V.check_pair, bad, "kernel_size", "MaxPool2d",
             match=rf"^MaxPool2d: kernel_size must be an int or a pair of ints, got "
                   rf"{re_repr(bad)}$")


def test_check_pair_and_ints_bounds_messages():
    _refused(V.check_pair, (2, 0), "stride", "Conv2d", min=1,
             match=r"^Conv2d: stride must be an int or a pair of ints, each >= 1, got \(2, 0\)$")
    _refused(V.check_ints, 0, "dilation", "Conv1d", 1, min=1,
             match=r"^Conv1d: dilation must be an int >= 1, got 0$")
    _refused(V.check_ints, (1, 2), "size", "f", 3,
             match=r"^f: size must be an int or a tuple of 3 ints, got \(1, 2\)$")


def test_check_samples():
    a = np.zeros((3, 2))
    assert V.check_samples(a, "X", "f") is a
    _refused(V.check_samples, np.array(1.0), "y_true", "accuracy",
             match=r"^accuracy: y_true must be an array of samples \(with a first dimension\), "
                   r"got a scalar$")


# -------------------------------------------------------------------------------- lookup
def test_lookup_is_forgiving_about_case_dashes_and_underscores():
    table = {"relu": "R", "leaky_relu": "L", "log_softmax": "S", "adamw": "A"}
    for name, want in [("relu", "R"), ("ReLU", "R"), ("leaky_relu", "L"), ("Leaky-ReLU", "L"),
                       ("leakyrelu", "L"), ("LOG_SOFTMAX", "S"), ("adam_w", "A"), ("AdamW", "A")]:
        assert V.lookup(name, table, "activation", "get_activation") == want, name
    assert V.lookup("linear", {"identity": "I"}, "activation", "g", {"linear": "identity"}) == "I"


def test_lookup_unknown_names_list_the_choices_and_aliases():
    _refused(V.lookup, "swishy", {"relu": 1, "tanh": 2}, "activation", "get_activation",
             {"linear": "identity"},
             match=r"^get_activation: unknown activation 'swishy'; choose from "
                   r"\['linear', 'relu', 'tanh'\]$")
    _refused(V.lookup, "acuracy", {"accuracy": 1}, "metric", "Trainer",
             also="a callable f(y_true, output) -> float",
             match=r"^Trainer: unknown metric 'acuracy'; choose from \['accuracy'\] or a "
                   r"callable f\(y_true, output\) -> float$")


@pytest.mark.parametrize("bad", [3, None, 1.5, ["relu"]])
def test_lookup_refuses_non_strings_with_a_type_error(bad):
    with pytest.raises(ArgumentTypeError, match=r"^get_activation: activation must be a string, "
                                                 r"got ") as info:
        V.lookup(bad, {"relu": 1}, "activation", "get_activation")
    assert isinstance(info.value, TypeError) and isinstance(info.value, GlassnetError)
    assert not isinstance(info.value, ValueError)


# ------------------------------------------------------------------------------ as_array
def test_as_array_unwraps_tensors_without_copying():
    t = gn.tensor([1.0, 2.0])
    assert as_array(t) is t.numpy()
    a = np.arange(3)
    assert as_array(a) is a
    assert np.array_equal(as_array([1, 2]), [1, 2])
    out = as_array(t, np.float64)
    assert out.dtype == np.float64 and np.array_equal(out, [1.0, 2.0])
    assert as_array(gn.tensor([1, 0]), bool).dtype == np.bool_
    assert gn.autograd.as_array is as_array


# ----------------------------------------------------------------------------- layering
def _imports(path):
    tree = ast.parse(Path(path).read_text())
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            out.add("." * node.level + (node.module or ""))
    return out


def test_validation_imports_only_numpy_and_errors():
    """The top layer: every layer may import it, so it imports no other part of glassnet
    (in particular not autograd: unwrapping Tensors is as_array's job)."""
    got = _imports(V.__file__) - {"__future__", "math", "numbers", "typing", "collections.abc"}
    assert got == {"numpy", ".errors"}, got


def test_errors_imports_nothing_from_glassnet():
    import glassnet.errors as E
    assert _imports(E.__file__) <= {"__future__"}
