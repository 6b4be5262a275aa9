"""functional.recurrent: float64 gradient checks of the RNN / LSTM / GRU sequence Functions
(reversed, masked, without bias) and of the single-step cells."""
import numpy as np
import pytest

import glassnet as gn
from glassnet.functional import recurrent as R

# small GEMMs: one BLAS thread (the fixture's docstring in tests/conftest.py says why)
pytestmark = pytest.mark.usefixtures("one_blas_thread")

T, N, I, H = 4, 3, 2, 3


GATES = {"rnn": 1, "lstm": 4, "gru": 3}


def _weights(rng, gates, bias=True):
    w = [rng.standard_normal((gates * H, I)) * 0.6, rng.standard_normal((gates * H, H)) * 0.6]
    if bias:
        w += [rng.standard_normal(gates * H) * 0.4, rng.standard_normal(gates * H) * 0.4]
    return w


def _apply(kind, *arrays, **kw):
    if kind == "lstm":
        return R.LSTMFunction.apply(*arrays, **kw)
    if kind == "gru":
        return R.GRUFunction.apply(*arrays, **kw)
    return R.RNNFunction.apply(*arrays, **kw)


# ------------------------------------------------------------------ gradcheck
@pytest.mark.parametrize("kind", ["rnn", "relu", "lstm", "gru"])
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("masked", [False, True])
def test_sequence_functions_gradcheck(kind, reverse, masked):
    rng = np.random.default_rng(1)
    base = "rnn" if kind == "relu" else kind
    x = rng.standard_normal((T, N, I))
    states = [rng.standard_normal((N, H)) * 0.5 for _ in range(2 if base == "lstm" else 1)]
    w = _weights(rng, GATES[base])
    kw = {"reverse": reverse, "mask": R.lengths_to_mask([4, 1, 3], T) if masked else None}
    if base == "rnn":
        kw["nonlinearity"] = "relu" if kind == "relu" else "tanh"
    n_out = 3 if base == "lstm" else 2
    for k in range(n_out):   # every output: sequence, h_n (and c_n)
        rep = gn.gradcheck(lambda *a, k=k: _apply(base, *a, **kw)[k], [x, *states, *w])
        assert len(rep) == 1 + len(states) + 4


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_sequence_functions_gradcheck_without_bias(kind):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((T, N, I))
    states = [rng.standard_normal((N, H)) for _ in range(2 if kind == "lstm" else 1)]
    w = _weights(rng, GATES[kind], bias=False)
    gn.gradcheck(lambda *a: _apply(kind, *a, None, None)[0], [x, *states, *w])


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_cells_gradcheck(kind):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((N, I))
    h = rng.standard_normal((N, H))
    c = rng.standard_normal((N, H))
    w = _weights(rng, GATES[kind])
    if kind == "lstm":
        gn.gradcheck(lambda x, h, c, *w: R.lstm_cell(x, h, c, *w)[0], [x, h, c, *w])
        gn.gradcheck(lambda x, h, c, *w: R.lstm_cell(x, h, c, *w)[1], [x, h, c, *w])
    elif kind == "gru":
        gn.gradcheck(lambda x, h, *w: R.gru_cell(x, h, *w), [x, h, *w])
    else:
        gn.gradcheck(lambda x, h, *w: R.rnn_cell(x, h, *w), [x, h, *w])
