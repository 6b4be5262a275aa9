"""inspect.timesteps: gradient norms per time step, the tanh-RNN vs LSTM vanishing demo."""
import numpy as np
import pytest

import glassnet as gn
from glassnet import nn
from glassnet.inspect.timesteps import (plot_timestep_gradients, timestep_gradient_norms,
                                        timestep_vanishing_demo)
from glassnet.models import CharLM

# small GEMMs: one BLAS thread (the fixture's docstring in tests/conftest.py says why)
pytestmark = pytest.mark.usefixtures("one_blas_thread")


# ------------------------------------------------------------- vanishing gradient
def test_vanishing_gradient_tanh_rnn_vs_lstm(tmp_path):
    norms = timestep_vanishing_demo(T=50, hidden_size=32, seed=0)
    rnn, lstm = norms["tanh RNN"], norms["LSTM"]
    assert rnn.shape == lstm.shape == (50,)
    assert lstm[0] >= 100 * rnn[0]              # orders of magnitude more reaches step 1
    assert rnn[0] < 1e-6 * rnn[-1]              # the RNN's gradient vanishes over 50 steps
    fig = plot_timestep_gradients(norms, tmp_path / "v.png")
    assert (tmp_path / "v.png").stat().st_size > 1000
    import matplotlib.pyplot as plt
    plt.close(fig)


def test_timestep_gradient_norms_on_a_model_and_batch_first_layer():
    gn.manual_seed(0)
    lm = CharLM("abc", embedding_dim=4, hidden_size=8)
    g = timestep_gradient_norms(lm, np.array([[0, 1, 2, 0, 1]]))
    assert g.shape == (5,) and np.all(g > 0)
    layer = nn.GRU(2, 4, batch_first=True)
    g2 = timestep_gradient_norms(layer, np.ones((3, 6, 2), dtype=np.float32))
    assert g2.shape == (6,) and g2[-1] > g2[0]
