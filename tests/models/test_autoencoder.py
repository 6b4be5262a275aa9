"""Autoencoder, DenoisingAutoencoder (models/autoencoder.py): maps, tied weights, corruption
while training, training through the Trainer, save/load of every kind (the corruption itself
is tested in test_noise.py, the convolutional one in test_conv_autoencoder.py)."""
import numpy as np
import pytest

import glassnet as gn
from glassnet import data, io, nn
from glassnet.autograd.gradcheck import numerical_grad
from glassnet.models import (AnomalyDetector, Autoencoder, ConvAutoencoder, DenoisingAutoencoder,
                             StackedAutoencoder)
from glassnet.models.autoencoder import TiedLinear
from glassnet.models.noise import corrupt


@pytest.fixture(scope="module")
def digits():
    X, y = data.load_digits()
    return (X / 16.0).astype(np.float32), y


# ------------------------------------------------------------------ plain / tied
def test_shapes_and_maps(digits):
    X = digits[0][:50]
    ae = Autoencoder(64, [32, 8])
    assert ae(X).shape == (50, 64)
    code = ae.encode(X)
    assert code.shape == (50, 8) and code.min() >= 0 and code.max() <= 1
    np.testing.assert_allclose(ae.decode(code), ae.reconstruct(X), rtol=1e-6)
    with pytest.raises(ValueError, match=r"expected input of shape \(N, 64\)"):
        ae(np.zeros((3, 10), np.float32))


def test_reconstruction_error_is_per_sample_loss(digits):
    X = digits[0][:20]
    for loss in ("mse", "bce"):
        ae = Autoencoder(64, 16, loss=loss)
        err = ae.reconstruction_error(X)
        assert err.shape == (20,)
        ae.eval()
        for i in (0, 7, 19):   # each value is the loss of that sample alone
            ref = float(ae.loss()(ae(X[i:i + 1]), X[i:i + 1]).numpy())
            assert err[i] == pytest.approx(ref, rel=1e-5)
    # the target can differ from the input (error of reconstructing corrupted inputs)
    Xc = corrupt(X, "mask", 0.5, seed=0)
    ae2 = Autoencoder(64, 16)
    d = ae2.reconstruct(Xc) - X
    np.testing.assert_allclose(ae2.reconstruction_error(Xc, target=X), (d ** 2).mean(1),
                               rtol=1e-5)


def test_tied_weights_share_one_parameter():
    ae = Autoencoder(12, [6, 3], tied=True)
    enc0, dec_last = ae.encoder[0], ae.decoder[2]
    assert isinstance(dec_last, TiedLinear) and dec_last.weight is enc0.weight
    untied = Autoencoder(12, [6, 3])
    # the decoder holds only biases: the shared weights are counted once
    assert ae.num_parameters() == untied.num_parameters() - (12 * 6 + 6 * 3)
    names = [n for n, _ in ae.named_parameters()]
    assert not any(n.startswith("decoder") and n.endswith("weight") for n in names)


def test_tied_gradient_is_sum_of_both_uses_gradcheck():
    """Backprop gradient of the one tied Parameter against central differences (float64),
    and against the sum of the encoder's and the (transposed) decoder's gradients of an
    untied twin with W' = W^T."""
    gn.manual_seed(3)
    ae = Autoencoder(7, 4, tied=True).double()
    x = np.random.default_rng(0).random((5, 7))
    w = np.random.default_rng(1).standard_normal((5, 7))
    ae.train()
    out = ae(x)
    out.backward(w)
    params = dict(ae.named_parameters())
    for name, p in params.items():
        def f(arr, p=p):
            with gn.no_grad():
                return float((ae(x).numpy() * w).sum())
        num = numerical_grad(f, [p.numpy()], 0)
        np.testing.assert_allclose(p.grad.numpy(), num, rtol=1e-6, atol=1e-9, err_msg=name)
    # untied twin with the same numbers
    twin = Autoencoder(7, 4).double()
    twin.encoder[0].load_state_dict(ae.encoder[0].state_dict())
    twin.decoder[0].weight.numpy()[...] = ae.encoder[0].weight.numpy().T
    twin.decoder[0].bias.numpy()[...] = ae.decoder[0].bias.numpy()
    twin(x).backward(w)
    W = ae.encoder[0].weight
    np.testing.assert_allclose(W.grad.numpy(), twin.encoder[0].weight.grad.numpy()
                               + twin.decoder[0].weight.grad.numpy().T, rtol=1e-10)
    assert np.abs(twin.decoder[0].weight.grad.numpy()).max() > 1e-3  # both uses contribute


def test_tied_autoencoder_matches_torch(torch):
    gn.manual_seed(0)
    ae = Autoencoder(10, 4, tied=True, loss="bce")
    x = np.random.default_rng(0).random((6, 10)).astype(np.float32)
    loss = ae.loss()(ae(x), x)
    loss.backward()
    W = torch.tensor(ae.encoder[0].weight.numpy(), requires_grad=True)
    b = torch.tensor(ae.encoder[0].bias.numpy(), requires_grad=True)
    c = torch.tensor(ae.decoder[0].bias.numpy(), requires_grad=True)
    xt = torch.tensor(x)
    z = torch.sigmoid(torch.sigmoid(xt @ W.T + b) @ W + c)
    ref = torch.nn.functional.binary_cross_entropy(z, xt)
    ref.backward()
    assert float(loss.numpy()) == pytest.approx(ref.item(), rel=1e-5)
    np.testing.assert_allclose(ae.encoder[0].weight.grad.numpy(), W.grad.numpy(), rtol=1e-4,
                               atol=1e-6)
    np.testing.assert_allclose(ae.decoder[0].bias.grad.numpy(), c.grad.numpy(), rtol=1e-4,
                               atol=1e-6)


def test_constructor_errors():
    with pytest.raises(ValueError, match="loss must be one of"):
        Autoencoder(4, 2, loss="l1")
    with pytest.raises(ValueError, match="needs output_activation='sigmoid'"):
        Autoencoder(4, 2, loss="bce", output_activation="identity")
    with pytest.raises(ValueError, match="in_features and hidden"):
        Autoencoder(4)
    with pytest.raises(ValueError, match="both encoder and decoder"):
        Autoencoder(encoder=nn.Linear(4, 2))
    with pytest.raises(ValueError, match="noise must be one of"):
        DenoisingAutoencoder(4, 2, noise="blur")
    with pytest.raises(ValueError, match=r"noise_level .* \[0, 1\)"):
        DenoisingAutoencoder(4, 2, noise="mask", noise_level=1.5)
    with pytest.raises(ValueError, match="multiple of 4"):
        ConvAutoencoder(1, 10)


def test_denoising_corrupts_only_in_training(digits):
    X = digits[0][:64]
    dae = DenoisingAutoencoder(64, 16, noise="mask", noise_level=0.5)
    plain = Autoencoder(64, 16)
    plain.load_state_dict(dae.state_dict())
    dae.eval()
    np.testing.assert_array_equal(dae(X).numpy(), plain(X).numpy())
    np.testing.assert_array_equal(dae(X).numpy(), dae(X).numpy())
    dae.train()
    a, b = dae(X).numpy(), dae(X).numpy()
    assert not np.allclose(a, b)   # a fresh corruption on every call
    # the corrupted input is what the encoder saw: masked pixels contribute nothing
    seen = []
    h = dae.encoder[0].register_forward_hook(lambda m, inp, out: seen.append(inp[0].numpy()))
    dae(X)
    h.remove()
    zero = (seen[0] == 0) & (X != 0)
    assert 0.4 < zero.sum() / (X != 0).sum() < 0.6


def test_fit_goes_through_trainer_and_learns(digits):
    X = digits[0]
    ae = Autoencoder(64, 32, activation="relu")
    before = ae.reconstruction_error(X[1500:]).mean()
    hist = ae.fit(X[:1500], epochs=8, batch_size=32, validation=X[1500:], lr=3e-3, seed=0)
    assert set(hist.history) >= {"loss", "val_loss", "lr"} and len(hist) == 8
    assert ae.trainer_.model is ae and ae.history_ is hist
    assert hist["val_loss"][-1] < 0.5 * hist["val_loss"][0]
    after = ae.reconstruction_error(X[1500:]).mean()
    assert after == pytest.approx(hist["val_loss"][-1], rel=1e-4)
    assert after < 0.35 * before


@pytest.mark.parametrize("make", [
    lambda: Autoencoder(64, [16, 8], tied=True, loss="bce"),
    lambda: DenoisingAutoencoder(64, 16, noise="salt_pepper", noise_level=0.1),
    lambda: ConvAutoencoder(1, 8, channels=[4, 2], code=6, batch_norm=True),
    lambda: Autoencoder(encoder=nn.Sequential(nn.Linear(64, 5), nn.Tanh()),
                        decoder=nn.Sequential(nn.Linear(5, 64), nn.Sigmoid())),
])
def test_save_load_round_trip(make, digits, tmp_path):
    X = digits[0][:100]
    m = make()
    m.fit(X, epochs=1, batch_size=50)
    io.save(m, tmp_path / "ae.safetensors")
    m2 = io.load(tmp_path / "ae.safetensors")
    assert type(m2) is type(m)
    np.testing.assert_allclose(m2.reconstruct(X), m.reconstruct(X), rtol=1e-6, atol=1e-7)
    if m.tied:
        assert m2.decoder[0].weight is m2.encoder[2].weight


def _rename_classes(spec, old_module):
    """The architecture ``spec`` as a file written before the split names it: the classes
    now in stacked_autoencoder, conv_autoencoder and anomaly under models.autoencoder."""
    if isinstance(spec, dict):
        spec = {k: _rename_classes(v, old_module) for k, v in spec.items()}
        if isinstance(spec.get("class"), str) and spec["class"].startswith("glassnet.models."):
            mod, _, cls = spec["class"].rpartition(".")
            if mod in ("glassnet.models.stacked_autoencoder", "glassnet.models.conv_autoencoder",
                       "glassnet.models.anomaly"):
                spec["class"] = f"{old_module}.{cls}"
        return spec
    return [_rename_classes(v, old_module) for v in spec] if isinstance(spec, list) else spec


@pytest.mark.parametrize("make", [
    lambda: StackedAutoencoder([64, 16, 8], denoise=0.2),
    lambda: ConvAutoencoder(1, 8, channels=[4, 2], code=6),
    lambda: AnomalyDetector(Autoencoder(64, 8), threshold=0.5),
])
def test_files_written_before_the_split_still_load(make, digits, tmp_path):
    from glassnet.io import serialize
    X = digits[0][:20]
    m = make()
    io.save(m, tmp_path / "new.safetensors")
    tensors, meta = serialize.read_file(tmp_path / "new.safetensors")
    meta["architecture"] = _rename_classes(meta["architecture"], "glassnet.models.autoencoder")
    assert meta["architecture"]["class"] == f"glassnet.models.autoencoder.{type(m).__name__}"
    serialize.write_file(tmp_path / "old.safetensors", tensors, meta)
    m2 = io.load(tmp_path / "old.safetensors")
    assert type(m2) is type(m)
    m.eval()
    np.testing.assert_allclose(m2(X).numpy(), m(X).numpy(), rtol=1e-6)
