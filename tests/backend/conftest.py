"""Fixtures of the backend tests."""
import numpy as np
import pytest


@pytest.fixture
def recurrent_args():
    """make(kind, seed, T, N, I, H): float64 inputs of LSTMFunction / GRUFunction: x, the
    initial state(s), W_ih, W_hh, b_ih, b_hh."""
    def make(kind, seed, T=4, N=3, I=2, H=3):
        rng = np.random.default_rng(seed)
        G = 4 if kind == "lstm" else 3
        args = [rng.standard_normal((T, N, I))] + [rng.standard_normal((N, H)) * 0.5
                                                   for _ in range(G - 2)]
        args += [rng.standard_normal((G * H, I)) * 0.6, rng.standard_normal((G * H, H)) * 0.6,
                 rng.standard_normal(G * H) * 0.4, rng.standard_normal(G * H) * 0.4]
        return args
    return make
