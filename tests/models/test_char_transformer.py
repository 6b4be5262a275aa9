"""models.CharTransformer: causality, training, sampling, files, PyTorch parity."""
from __future__ import annotations

import numpy as np
import pytest

import glassnet as gn
from glassnet.errors import ArgumentError
from glassnet.models import CharTransformer

TEXT = "to be or not to be, that is the question. " * 30


def small(**kw):
    gn.manual_seed(0)
    args = dict(d_model=16, nhead=2, num_layers=2, context=16)
    args.update(kw)
    return CharTransformer(sorted(set(TEXT)), **args)


def test_a_position_never_sees_the_future():
    lm = small()
    lm.eval()
    ids = lm.encode("to be or not to ")[None]
    other = ids.copy()
    other[0, 10:] = lm.encode("zzzzzz".replace("z", "q"))[:6] if "q" in lm.vocab else ids[0, 0]
    a, b = lm(ids).numpy(), lm(other).numpy()
    np.testing.assert_allclose(a[0, :10], b[0, :10], rtol=1e-5, atol=1e-6)
    assert not np.allclose(a[0, 10:], b[0, 10:])


def test_training_lowers_the_loss_and_sampling_is_seeded():
    lm = small()
    h = lm.fit_text(TEXT, epochs=3, steps_per_epoch=40, batch_size=16, lr=3e-3, verbose=0)
    assert h["val_loss"][-1] < h["val_loss"][0] - 0.5
    assert len(h["loss"]) == 3 and h.params["context"] == 16
    a = lm.sample("to be", 20, seed=3)
    assert a == lm.sample("to be", 20, seed=3) and a.startswith("to be") and len(a) == 25
    assert lm.sample("to", 10, greedy=True) == lm.sample("to", 10, greedy=True)


def test_save_and_load_keep_the_model(tmp_path):
    lm = small()
    gn.save(lm, tmp_path / "lm")
    back = gn.load(tmp_path / "lm")
    ids = lm.encode("to be")[None]
    np.testing.assert_array_equal(back(ids).numpy(), lm(ids).numpy())
    assert back.vocab == lm.vocab


def test_errors_name_the_argument():
    lm = small()
    with pytest.raises(ArgumentError, match="longer than context=16"):
        lm(np.zeros((1, 17), dtype=np.int64))
    with pytest.raises(ArgumentError, match="integer ids of shape"):
        lm(np.zeros((1, 3)))
    with pytest.raises(ArgumentError, match="not in the vocabulary"):
        lm.encode("TO BE")
    with pytest.raises(ArgumentError, match="repeated"):
        CharTransformer("aab")


def test_state_dict_loads_into_the_same_model_built_from_torch():
    torch = pytest.importorskip("torch")
    from torch import nn
    lm = small()
    V, d, T = lm.vocab_size, 16, 16

    class Mirror(nn.Module):
        def __init__(self):
            super().__init__()
            self.tok, self.pos = nn.Embedding(V, d), nn.Embedding(T, d)
            self.drop = nn.Dropout(0.0)
            layer = nn.TransformerEncoderLayer(d, 2, 4 * d, dropout=0.0, activation="gelu",
                                               batch_first=True, norm_first=True)
            self.blocks = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
            self.ln_f, self.head = nn.LayerNorm(d), nn.Linear(d, V)

        def forward(self, x):
            t = x.shape[1]
            m = nn.Transformer.generate_square_subsequent_mask(t)
            h = self.tok(x) + self.pos(torch.arange(t))
            return self.head(self.ln_f(self.blocks(self.drop(h), mask=m, is_causal=True)))

    mirror = Mirror()
    mirror.load_state_dict({k: torch.from_numpy(v.numpy().copy())
                            for k, v in lm.state_dict().items()})
    ids = lm.encode("to be or not to ")[None]
    np.testing.assert_allclose(lm(ids).numpy(), mirror(torch.from_numpy(ids)).detach().numpy(),
                               atol=1e-5)
