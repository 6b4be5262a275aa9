"""The nn.Module models of the chart round-trip through glassnet.save / glassnet.load
(safetensors + JSON): same class, same hyper-parameters, same outputs."""
import numpy as np
import pytest

import glassnet as gn
from glassnet.models.classic import (ContractiveAutoencoder, DeconvNetwork, LinearSVM,
                                     RBFNetwork, SparseAutoencoder)


@pytest.mark.parametrize("make, inp", [
    (lambda X, y: LinearSVM(64, 10, C=0.5, seed=0).fit(X, y, epochs=1), 64),
    (lambda X, y: RBFNetwork(64, 8, 10).fit(X, y, seed=0), 64),
    (lambda X, y: SparseAutoencoder(64, 8, rho=0.2, beta=0.5), 64),
    (lambda X, y: ContractiveAutoencoder(64, 8, lam=0.3), 64),
    (lambda X, y: DeconvNetwork(4, channels=(4, 2)), 4),
])
def test_save_load_round_trip(make, inp, tmp_path):
    X, y = gn.data.load_digits()
    model = make(X[:200] / 16, y[:200])
    gn.save(model, tmp_path / "m")
    back = gn.load(tmp_path / "m")
    assert type(back) is type(model)
    for attr in ("C", "rho", "beta", "lam", "n_centres", "code_size"):
        assert getattr(back, attr, None) == getattr(model, attr, None)
    x = gn.tensor(np.random.default_rng(0).random((5, inp)).astype(np.float32))
    model.eval(); back.eval()
    with gn.no_grad():
        np.testing.assert_array_equal(back(x).numpy(), model(x).numpy())
