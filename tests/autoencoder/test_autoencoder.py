"""Autoencoder, DenoisingAutoencoder, ConvAutoencoder: maps, tied weights, corruption,
the Upsample Function, training through the Trainer, save/load."""
import numpy as np
import pytest

import glassnet as gn
from glassnet import data, io, nn
from glassnet.autograd.gradcheck import numerical_grad
from glassnet.models import Autoencoder, ConvAutoencoder, DenoisingAutoencoder
from glassnet.models.autoencoder import TiedLinear, Upsample, corrupt, upsample_nearest


@pytest.fixture(scope="module")
def digits():
    X, y = data.load_digits()
    return (X / 16.0).astype(np.float32), y


# ------------------------------------------------------------------ Upsample
def test_upsample_gradcheck():
    x = np.random.default_rng(0).standard_normal((2, 3, 3, 4))
    gn.gradcheck(lambda t: upsample_nearest(t, 2), [x])
    gn.gradcheck(lambda t: upsample_nearest(t, (1, 3)), [x])


def test_upsample_matches_torch(torch):
    x = np.random.default_rng(1).standard_normal((2, 3, 5, 4)).astype(np.float32)
    ours = Upsample(2)(x).data
    ref = torch.nn.functional.interpolate(torch.tensor(x), scale_factor=2, mode="nearest")
    np.testing.assert_array_equal(ours, ref.numpy())


def test_upsample_rejects_bad_input():
    with pytest.raises(ValueError, match="scale_factor"):
        upsample_nearest(gn.randn(1, 1, 2, 2), 1.5)
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        upsample_nearest(gn.randn(2, 2), 2)


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
            ref = float(ae.loss()(ae(X[i:i + 1]), X[i:i + 1]).data)
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
                return float((ae(x).data * w).sum())
        num = numerical_grad(f, [p.data], 0)
        np.testing.assert_allclose(p.grad.data, num, rtol=1e-6, atol=1e-9, err_msg=name)
    # untied twin with the same numbers
    twin = Autoencoder(7, 4).double()
    twin.encoder[0].load_state_dict(ae.encoder[0].state_dict())
    twin.decoder[0].weight.data[...] = ae.encoder[0].weight.data.T
    twin.decoder[0].bias.data[...] = ae.decoder[0].bias.data
    twin(x).backward(w)
    W = ae.encoder[0].weight
    np.testing.assert_allclose(W.grad.data, twin.encoder[0].weight.grad.data
                               + twin.decoder[0].weight.grad.data.T, rtol=1e-10)
    assert np.abs(twin.decoder[0].weight.grad.data).max() > 1e-3  # both uses contribute


def test_tied_autoencoder_matches_torch(torch):
    gn.manual_seed(0)
    ae = Autoencoder(10, 4, tied=True, loss="bce")
    x = np.random.default_rng(0).random((6, 10)).astype(np.float32)
    loss = ae.loss()(ae(x), x)
    loss.backward()
    W = torch.tensor(ae.encoder[0].weight.data, requires_grad=True)
    b = torch.tensor(ae.encoder[0].bias.data, requires_grad=True)
    c = torch.tensor(ae.decoder[0].bias.data, requires_grad=True)
    xt = torch.tensor(x)
    z = torch.sigmoid(torch.sigmoid(xt @ W.T + b) @ W + c)
    ref = torch.nn.functional.binary_cross_entropy(z, xt)
    ref.backward()
    assert float(loss.data) == pytest.approx(ref.item(), rel=1e-5)
    np.testing.assert_allclose(ae.encoder[0].weight.grad.data, W.grad.numpy(), rtol=1e-4,
                               atol=1e-6)
    np.testing.assert_allclose(ae.decoder[0].bias.grad.data, c.grad.numpy(), rtol=1e-4,
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


# ------------------------------------------------------------------ corruption
def test_corruption_statistics():
    X = np.full((400, 250), 0.5, np.float32)
    m = corrupt(X, "mask", 0.3, seed=0)
    assert abs((m == 0).mean() - 0.3) < 0.01 and set(np.unique(m)) == {0.0, 0.5}
    g = corrupt(X, "gaussian", 0.2, seed=0)
    assert abs((g - X).std() - 0.2) < 0.005 and abs((g - X).mean()) < 0.005
    s = corrupt(X, "salt_pepper", 0.4, seed=0)
    assert abs((s == 0).mean() - 0.2) < 0.01 and abs((s == 1).mean() - 0.2) < 0.01
    assert abs((s == 0.5).mean() - 0.6) < 0.01
    np.testing.assert_array_equal(corrupt(X, "mask", 0.3, seed=5), corrupt(X, "mask", 0.3,
                                                                          seed=5))
    assert X.min() == 0.5   # the input is not modified


def test_corruption_keeps_gradient():
    x = gn.tensor(np.ones((3, 8)), requires_grad=True)
    gn.manual_seed(0)
    y = corrupt(x, "mask", 0.5)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, (y.data != 0).astype(float))


def test_denoising_corrupts_only_in_training(digits):
    X = digits[0][:64]
    dae = DenoisingAutoencoder(64, 16, noise="mask", noise_level=0.5)
    plain = Autoencoder(64, 16)
    plain.load_state_dict(dae.state_dict())
    dae.eval()
    np.testing.assert_array_equal(dae(X).data, plain(X).data)
    np.testing.assert_array_equal(dae(X).data, dae(X).data)
    dae.train()
    a, b = dae(X).data, dae(X).data
    assert not np.allclose(a, b)   # a fresh corruption on every call
    # the corrupted input is what the encoder saw: masked pixels contribute nothing
    seen = []
    h = dae.encoder[0].register_forward_hook(lambda m, inp, out: seen.append(inp[0].data))
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


def test_conv_autoencoder_flat_and_image_inputs(digits):
    X = digits[0][:200]
    cae = ConvAutoencoder(1, 8, channels=[4, 4], code=8, noise_level=0.2)
    assert cae(X.reshape(-1, 1, 8, 8)).shape == (200, 1, 8, 8)
    assert cae(X).shape == (200, 64)
    with pytest.raises(ValueError, match=r"expected input \(N, 1, 8, 8\)"):
        cae(np.zeros((2, 1, 7, 7), np.float32))
    cae.eval()
    np.testing.assert_allclose(cae.reconstruct(X).reshape(200, 1, 8, 8),
                               cae.reconstruct(X.reshape(-1, 1, 8, 8)), rtol=1e-6)
    hist = cae.fit(X, epochs=6, batch_size=32, lr=3e-3, seed=0)
    assert hist["loss"][-1] < hist["loss"][0]


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


def test_encode_decode_use_evaluation_mode(digits):
    X = digits[0][:40]
    cae = ConvAutoencoder(1, 8, channels=[4, 2], code=6, batch_norm=True, noise_level=0.3)
    cae.fit(X, epochs=1, batch_size=20)
    cae.train()
    z = cae.decode(cae.encode(X))        # BatchNorm running statistics, no corruption
    assert cae.training                  # the mode is restored
    np.testing.assert_allclose(z.reshape(40, -1), cae.reconstruct(X), rtol=1e-5, atol=1e-6)
