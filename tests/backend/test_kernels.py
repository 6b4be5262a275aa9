"""The fused Numba kernels of the LSTM and GRU (glassnet.backend.kernels) against the NumPy
step functions they stand in for."""
import os
import subprocess
import sys

import numpy as np
import pytest

import glassnet as gn
from glassnet.backend import kernels
from glassnet.functional import recurrent as R

pytestmark = pytest.mark.usefixtures("one_blas_thread")   # small GEMMs: see tests/conftest.py
needs_numba = pytest.mark.skipif(not kernels.available(),
                                 reason="Numba is not installed (pip install 'glassnet[jit]')")


@pytest.fixture
def kernels_on():
    prev = kernels.set_enabled(True)
    yield
    kernels.set_enabled(prev)


def _lstm_run(enabled, dtype, reverse, T=7, N=5, I=4, H=6, seed=0, nan_at=None, kind="lstm"):
    """Outputs and all gradients of one LSTMFunction (or GRUFunction) call, kernels on or
    off."""
    rng = np.random.default_rng(seed)
    G = 4 if kind == "lstm" else 3
    arrays = [rng.standard_normal((T, N, I))] + [rng.standard_normal((N, H)) * 0.5
                                                 for _ in range(G - 2)]
    arrays += [rng.standard_normal((G * H, I)) * 0.7, rng.standard_normal((G * H, H)) * 0.7,
               rng.standard_normal(G * H) * 0.5, rng.standard_normal(G * H) * 0.5]
    if nan_at is not None:
        arrays[0][nan_at] = np.nan
    ts = [gn.Tensor(a.astype(dtype), requires_grad=True) for a in arrays]
    prev = kernels.set_enabled(enabled)
    try:
        fn = R.LSTMFunction if kind == "lstm" else R.GRUFunction
        outs = fn.apply(*ts, reverse=reverse)
        w = [rng.standard_normal(o.shape).astype(dtype) for o in outs]
        sum((o * wi).sum() for o, wi in zip(outs, w)).backward()
    finally:
        kernels.set_enabled(prev)
    return [o.numpy() for o in outs] + [t.grad.numpy() for t in ts]


@needs_numba
@pytest.mark.parametrize("kind", ["lstm", "gru"])
@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-12), (np.float32, 3e-6)])
@pytest.mark.parametrize("reverse", [False, True])
def test_kernels_match_the_numpy_code(kind, dtype, tol, reverse):
    # N = 5 and H = 6: no multiple of the 8-wide vectors, so the loop tails run too
    fused = _lstm_run(True, dtype, reverse, kind=kind)
    plain = _lstm_run(False, dtype, reverse, kind=kind)
    for a, b in zip(fused, plain):
        assert a.dtype == dtype
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


@needs_numba
@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_kernels_are_used_when_on_and_not_when_off(kernels_on, monkeypatch, kind):
    calls = []
    real = (kernels.lstm_kernels if kind == "lstm" else kernels.gru_kernels)(np.float64)

    def spy(name, fn):
        def wrapped(*a):
            calls.append(name)
            return fn(*a)
        return wrapped
    monkeypatch.setitem(kernels._kernels, (kind, np.dtype(np.float64)), type(real)(
        spy("forward", real.forward_step), spy("backward", real.backward_step), real.one))
    _lstm_run(True, np.float64, False, T=3, kind=kind)
    assert calls == ["forward"] * 3 + ["backward"] * 3
    calls.clear()
    _lstm_run(False, np.float64, False, T=3, kind=kind)
    assert calls == []
    # a mask (variable lengths) runs the NumPy code
    G = 4 if kind == "lstm" else 3
    x = np.random.default_rng(0).standard_normal((3, 2, 4))
    w = np.random.default_rng(1).standard_normal((G * 6, 4)), np.zeros((G * 6, 6))
    if kind == "lstm":
        R.lstm(gn.Tensor(x), None, None, *w, lengths=np.array([3, 1]))
    else:
        R.gru(gn.Tensor(x), None, *w, lengths=np.array([3, 1]))
    assert calls == []


@needs_numba
@pytest.mark.parametrize("kind", ["lstm", "gru"])
@pytest.mark.parametrize("reverse", [False, True])
def test_fused_gradcheck_float64(kernels_on, recurrent_args, kind, reverse):
    G = 4 if kind == "lstm" else 3
    args = recurrent_args(kind, 3)
    fn = R.LSTMFunction if kind == "lstm" else R.GRUFunction
    assert (kernels.lstm_kernels if kind == "lstm" else kernels.gru_kernels)(np.float64) is not None
    for k in range(G - 1):     # every output: the sequence, h_n (and c_n)
        gn.gradcheck(lambda *a, k=k: fn.apply(*a, reverse=reverse)[k], args)


@needs_numba
def test_float32_exp_accuracy_and_special_values():
    x = np.concatenate([np.linspace(-87, 88, 400_001), np.linspace(-1e-3, 1e-3, 2001),
                        [0.0, -0.0, 1e-30, -1e-30]]).astype(np.float32)
    ref = np.exp(x.astype(np.float64))
    rel = np.abs(kernels.exp(x) - ref) / ref
    assert rel.max() < 2e-7           # the documented bound (about 1 float32 ulp is 6e-8)
    y = kernels.exp(np.array([np.nan, np.inf, -np.inf, 1000, -1000], dtype=np.float32))
    assert np.isnan(y[0])
    # beyond [-87, 88] the input is clamped: e^88 and e^-87 (both normal floats)
    np.testing.assert_allclose(y[1:], np.float32([np.exp(88.0), np.exp(-87.0)] * 2), rtol=1e-6)
    assert np.array_equal(kernels.exp(np.array([0.5, 2.0])), np.exp([0.5, 2.0]))  # float64: libm


@needs_numba
def test_nan_reaches_the_outputs_and_saturated_gates_stay_finite(kernels_on):
    out = _lstm_run(True, np.float32, False, nan_at=(2, 1, 0))
    y = out[0]
    assert np.isnan(y[2:, 1]).all() and np.isfinite(y[:2]).all() and np.isfinite(y[:, 0]).all()
    # huge pre-activations: gates at exactly 0 or 1 as in NumPy, no NaN from inf / inf
    k = kernels.lstm_kernels(np.float32)
    H, N = 2, 3
    # each gate block: row 0 pre-activations +1e30, row 1 -1e30 (gates are 1 / (1 + e^a))
    g = np.tile(np.repeat(np.float32([1e30, -1e30]), N), 4)
    cp, c, tc = np.ones(H * N, np.float32), np.empty(H * N, np.float32), np.empty(H * N, np.float32)
    Zh = np.zeros((H, 2 * N), np.float32)
    k.forward_step(g, cp, c, tc, Zh.reshape(-1), N, 2 * N, N, k.one)
    G = g.reshape(4, H, N)
    assert np.isfinite(g).all() and np.isfinite(Zh).all()
    np.testing.assert_allclose(G[[0, 1, 3], 0], 0, atol=1e-30)
    assert (G[[0, 1, 3], 1] == 1).all()
    assert (G[2, 0] == -1).all() and (G[2, 1] == 1).all()     # tanh gate: -1 and 1
    assert np.array_equal(Zh[:, :N], np.zeros((H, N)))   # other columns untouched


def test_switches_off_with_set_enabled_and_the_environment():
    prev = kernels.set_enabled(False)
    try:
        assert kernels.lstm_kernels(np.float32) is None and not kernels.enabled()
    finally:
        kernels.set_enabled(prev)
    assert kernels.lstm_kernels(np.int64) is None
    for var, value in (("GLASSNET_JIT", "0"), ("NUMBA_DISABLE_JIT", "1")):
        env = dict(os.environ, **{var: value})
        out = subprocess.run([sys.executable, "-c",
                              "from glassnet.backend import kernels; print(kernels.enabled())"],
                             env=env, capture_output=True, text=True, check=True).stdout
        assert out.strip() == "False", var
    if not kernels.available():
        assert kernels.lstm_kernels(np.float32) is None
        with pytest.raises(ImportError, match="glassnet\\[jit\\]"):
            kernels.exp(np.zeros(3))


@needs_numba
def test_a_failing_kernel_turns_itself_off_with_a_warning(monkeypatch):
    import glassnet.backend.kernels._numba_kernels as K

    def broken(*a):
        raise TypeError("no such signature")
    monkeypatch.setattr(K, "lstm_forward_step", broken)
    monkeypatch.setattr(kernels, "_kernels", {})
    prev = kernels.set_enabled(True)
    try:
        with pytest.warns(RuntimeWarning, match="no such signature"):
            assert kernels.lstm_kernels(np.float32) is None
        assert not kernels.enabled()
        ref = _lstm_run(False, np.float32, False)     # and the layer still works, in NumPy
        for a, b in zip(_lstm_run(True, np.float32, False), ref):
            np.testing.assert_array_equal(a, b)
    finally:
        kernels.set_enabled(prev)


@pytest.mark.parametrize("have_numba", [False, True])
def test_text_command_says_how_to_get_the_kernels_when_numba_is_missing(
        tmp_path, capsys, monkeypatch, have_numba):
    import argparse
    from glassnet.cli import text as cli_text
    monkeypatch.setattr(kernels, "available", lambda: have_numba)
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("to be or not to be.\n" * 20)
    args = argparse.Namespace(dataset="text", model="lstm", epochs=1, batch_size=4, lr=0.01,
                              out=tmp_path / "run", seed=0, text=str(corpus), verbose=1,
                              limit=None, hidden=8)
    assert cli_text.run(args) == 0
    err = capsys.readouterr().err
    assert ('pip install "glassnet[jit]"' in err) is (not have_numba)


@pytest.mark.parametrize("kind", ["lstm", "gru"])
@pytest.mark.parametrize("reverse", [False, True])
def test_numpy_steps_gradcheck_float64_unmasked(recurrent_args, kind, reverse):
    # with the kernels off, an unmasked batch runs the NumPy reference step functions
    G = 4 if kind == "lstm" else 3
    args = recurrent_args(kind, 5)
    fn = R.LSTMFunction if kind == "lstm" else R.GRUFunction
    prev = kernels.set_enabled(False)
    try:
        assert R._step_kernels(kind, args[0], None) is R._NUMPY_STEPS[kind]
        for k in range(G - 1):
            gn.gradcheck(lambda *a, k=k: fn.apply(*a, reverse=reverse)[k], args)
    finally:
        kernels.set_enabled(prev)


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_the_numpy_steps_take_the_compiled_kernels_arguments(kind):
    import inspect
    ref = R._NUMPY_STEPS[kind]
    if kernels.available():
        import glassnet.backend.kernels._numba_kernels as K
        compiled = (getattr(K, f"{kind}_forward_step").py_func,
                    getattr(K, f"{kind}_backward_step").py_func)
        for a, b in zip((ref.forward_step, ref.backward_step), compiled):
            assert len(inspect.signature(a).parameters) == len(inspect.signature(b).parameters)
    x = np.zeros((2, 3, 4))
    assert R._step_kernels(kind, x, np.ones((2, 3), bool)) is ref          # masked: NumPy
    assert R._step_kernels(kind, x.astype(np.float16), None) is ref        # no kernel dtype
    prev = kernels.set_enabled(True)
    try:
        got = R._step_kernels(kind, x, None)
        assert (got is not ref) is kernels.available()
    finally:
        kernels.set_enabled(prev)
