"""Greedy layer-wise pre-training (any stack of Linear layers) and StackedAutoencoder."""
import numpy as np
import pytest

import glassnet as gn
from glassnet import data, io, models, nn, training
from glassnet.models import StackedAutoencoder, greedy_pretrain
from glassnet.models.pretrain import linear_stack


@pytest.fixture(scope="module")
def digits():
    X, y = data.load_digits()
    return (X / 16.0).astype(np.float32), y


def _copy(m):
    return {k: v.numpy().copy() for k, v in m.state_dict().items()}


def test_linear_stack_segments():
    mlp = models.MLP([8, 6, 4, 3], activation="tanh", dropout=0.1)
    prefix, segs = linear_stack(mlp)
    assert prefix == [] and len(segs) == 3
    assert [type(m).__name__ for m in segs[0]] == ["Linear", "Tanh", "Dropout"]
    seq = nn.Sequential(nn.Flatten(), nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    prefix, segs = linear_stack(seq)
    assert [type(m).__name__ for m in prefix] == ["Flatten"] and len(segs) == 2
    with pytest.raises(ValueError, match="no nn.Linear"):
        linear_stack(nn.Sequential(nn.ReLU()))


def test_greedy_pretrain_mlp_trains_hidden_layers_not_head(digits):
    X = digits[0]
    mlp = models.MLP([64, 32, 16, 10], activation="sigmoid")
    before = _copy(mlp)
    hists = greedy_pretrain(mlp, X, epochs=2, batch_size=64, denoise=0.2, seed=0)
    after = mlp.state_dict()
    assert len(hists) == 2 and all(len(h) == 2 for h in hists)
    for k in ("net.0.weight", "net.2.weight"):
        assert not np.allclose(before[k], after[k]), k
    np.testing.assert_array_equal(before["net.4.weight"], after["net.4.weight"])
    with pytest.raises(ValueError, match=r"n_layers must be an int in \[1, 3\]"):
        greedy_pretrain(mlp, X, n_layers=4)
    with pytest.raises(TypeError, match="optimizer must be a name"):
        greedy_pretrain(mlp, X, optimizer=gn.optim.SGD(mlp.parameters(), lr=0.1))
    with pytest.raises(ValueError, match="expects 32 features"):
        greedy_pretrain([nn.Linear(32, 4)], X)


def test_level_two_is_trained_on_the_clean_code_of_level_one(digits):
    X = digits[0][:600]
    seq = nn.Sequential(nn.Linear(64, 20), nn.Sigmoid(), nn.Linear(20, 8), nn.Sigmoid())
    seen = []
    hook = seq[2].register_forward_hook(lambda m, inp, out: seen.append(inp[0].numpy().copy()))
    # level 1 heavily corrupted (denoising), level 2 plain: what layer 2 sees must be the
    # level-1 code of the *clean* data, computed with the final level-1 weights
    greedy_pretrain(seq, X, n_layers=2, epochs=[2, 1], denoise=[0.7, 0.0], batch_size=100,
                    seed=0)
    hook.remove()
    with gn.no_grad():
        code = nn.Sequential(seq[0], seq[1]).eval()(X).numpy()
    first = seen[0]
    d = ((first[:, None, :] - code[None, :, :]) ** 2).sum(-1).min(1)
    assert first.shape == (100, 20) and d.max() < 1e-10


def test_stacked_pretrain_greedy_and_deep(digits):
    X = digits[0]
    sae = StackedAutoencoder([64, 32, 12], denoise=0.2)
    assert sae.n_levels == 2
    enc, dec = sae.level(1)
    assert enc[0] is sae.encoder[2] and dec[0] is sae.decoder[0]
    err0 = sae.reconstruction_error(X).mean()
    b = _copy(sae)
    hists = sae.pretrain(X, epochs=3, batch_size=32, lr=3e-3, seed=0)
    assert len(hists) == 2 and sae.pretrain_history_ is hists
    changed = {k for k, v in sae.state_dict().items() if not np.allclose(v, b[k])}
    assert changed == set(b)   # every level's encoder and decoder were trained
    err1 = sae.reconstruction_error(X).mean()
    assert err1 < 0.7 * err0
    deep = sae.pretrain(X, epochs=2, batch_size=32, lr=1e-3, deep=True, seed=0)
    assert len(deep) == 1 and len(deep[0]) == 2
    assert sae.reconstruction_error(X).mean() < err1
    with pytest.raises(IndexError):
        sae.level(2)


def test_to_classifier_copies_encoder_and_round_trips(digits, tmp_path):
    X, y = digits
    sae = StackedAutoencoder([64, 24, 12], activation="relu", output_activation="sigmoid")
    sae.pretrain(X, epochs=1, seed=0)
    clf = sae.to_classifier(10, dropout=0.1)
    assert [type(m).__name__ for m in clf] == ["Linear", "ReLU", "Dropout", "Linear", "ReLU",
                                               "Dropout", "Linear"]
    np.testing.assert_array_equal(clf[0].weight.numpy(), sae.encoder[0].weight.numpy())
    assert clf[0].weight is not sae.encoder[0].weight
    w = sae.encoder[0].weight.numpy().copy()
    tr = training.Trainer(clf, nn.CrossEntropyLoss(), "adam", metrics=["accuracy"])
    tr.fit((X[:1200], y[:1200]), epochs=25, batch_size=32, verbose=0, seed=0)
    np.testing.assert_array_equal(sae.encoder[0].weight.numpy(), w)   # the SAE is untouched
    assert tr.evaluate(X[1200:], y[1200:])["accuracy"] > 0.85
    io.save(clf, tmp_path / "clf.safetensors")
    clf2 = io.load(tmp_path / "clf.safetensors")
    np.testing.assert_allclose(tr.predict(X[:50]), training.Trainer(
        clf2, nn.CrossEntropyLoss()).predict(X[:50]), rtol=1e-6)
    with pytest.raises(ValueError, match="n_classes"):
        sae.to_classifier(1)


def test_stacked_save_load(digits, tmp_path):
    X = digits[0][:300]
    sae = StackedAutoencoder([64, 16, 8], tied=True, loss="bce", denoise=0.1)
    sae.pretrain(X, epochs=1)
    io.save(sae, tmp_path / "sae.safetensors")
    sae2 = io.load(tmp_path / "sae.safetensors")
    assert sae2.denoise == 0.1 and sae2.tied and sae2.sizes == [64, 16, 8]
    np.testing.assert_allclose(sae2.reconstruct(X), sae.reconstruct(X), rtol=1e-6)


def test_pretrained_features_beat_random_features_digits(digits):
    """Short, fast check of what pre-training buys: with the encoder frozen, a softmax head
    on greedily pre-trained (denoising) features beats one on random features, from 100
    labels. The full fine-tuning comparison on Fashion-MNIST lives in
    examples/autoencoder_pretraining.py (docs/results/autoencoders.md)."""
    X, y = digits
    Xu, Xt, yt = X[:1400], X[1400:], y[1400:]
    rng = np.random.default_rng(0)
    idx = np.concatenate([rng.choice(np.flatnonzero(y[:1400] == c), 10, replace=False)
                          for c in range(10)])
    accs = {}
    for pre in (True, False):
        gn.manual_seed(0)
        sae = StackedAutoencoder([64, 48, 24], denoise=0.2, loss="bce")
        if pre:
            sae.pretrain(Xu, epochs=20, batch_size=32, lr=3e-3, seed=0)
        clf = sae.to_classifier(10)
        for layer in list(clf)[:-1]:
            layer.freeze()
        tr = training.Trainer(clf, nn.CrossEntropyLoss(), gn.optim.Adam(
            [p for p in clf.parameters() if p.requires_grad], lr=1e-2), metrics=["accuracy"])
        tr.fit((X[idx], y[idx]), epochs=60, batch_size=20, verbose=0, seed=0)
        accs[pre] = tr.evaluate(Xt, yt)["accuracy"]
    assert accs[True] > accs[False] + 0.05, accs
