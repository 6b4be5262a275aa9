"""glassnet.inspect.attribution: each method against its formula on models small enough to
compute it by hand, completeness of integrated gradients, and Adebayo et al.'s sanity check
(a trained model's maps differ from those of the same architecture with random weights)."""
from __future__ import annotations

import numpy as np
import pytest

import glassnet as gn
from glassnet import nn
from glassnet.data import load_digits
from glassnet.errors import ArgumentError
from glassnet.inspect.attribution import (grad_cam, integrated_gradients, occlusion,
                                          plot_attributions, randomized_copy,
                                          rank_correlation, resize_bilinear, saliency,
                                          smoothgrad)
from glassnet.training import Trainer


def mlp(seed=0):
    gn.manual_seed(seed)
    return nn.Sequential(nn.Linear(5, 7, dtype="float64"), nn.Tanh(),
                         nn.Linear(7, 3, dtype="float64"), nn.Sigmoid())


def test_saliency_of_a_linear_model_is_its_weight_row():
    gn.manual_seed(0)
    model = nn.Linear(5, 3, dtype="float64")
    x = np.random.default_rng(0).normal(size=(4, 5))
    t = np.array([0, 1, 2, 1])
    assert np.allclose(saliency(model, x, t), model.weight.numpy()[t])
    assert np.allclose(saliency(model, x, 2, absolute=True), np.abs(model.weight.numpy()[2]))
    # no target: the predicted class of each sample
    pred = (x @ model.weight.numpy().T + model.bias.numpy()).argmax(1)
    assert np.allclose(saliency(model, x), model.weight.numpy()[pred])
    assert model.weight.grad is None          # parameters' gradients are left alone


def test_saliency_matches_finite_differences():
    model = mlp()
    x = np.random.default_rng(1).normal(size=(3, 5))
    g = saliency(model, x, [0, 2, 1])
    eps = 1e-6
    f = lambda z: model(gn.tensor(z)).numpy()          # noqa: E731
    for i, c in enumerate([0, 2, 1]):
        for j in range(5):
            e = np.zeros(5)
            e[j] = eps
            num = (f(x[i:i + 1] + e)[0, c] - f(x[i:i + 1] - e)[0, c]) / (2 * eps)
            assert g[i, j] == pytest.approx(num, abs=1e-7)


def test_smoothgrad_averages_gradients_of_noisy_copies():
    model = mlp()
    x = np.random.default_rng(2).normal(size=(3, 5))
    assert np.allclose(smoothgrad(model, x, 1, noise_level=0.0, n_samples=3),
                       saliency(model, x, 1))
    sg = smoothgrad(model, x, 1, n_samples=8, noise_level=0.2, seed=4)
    # the same draws by hand: sigma = 0.2 * (max - min) of each sample
    rng = np.random.default_rng(4)
    sigma = 0.2 * np.ptp(x, axis=1)[:, None]
    noisy = x[None] + sigma[None] * rng.standard_normal((8, 3, 5))
    want = np.mean([saliency(model, z, 1) for z in noisy], axis=0)
    assert np.allclose(sg, want)
    gn.manual_seed(0)
    lin = nn.Linear(5, 2, dtype="float64")                    # constant gradient
    assert np.allclose(smoothgrad(lin, x, 0, noise_level=1.0), lin.weight.numpy()[0])


@pytest.mark.parametrize("method", ["riemann_trapezoid", "riemann_middle", "riemann_left",
                                    "riemann_right"])
def test_integrated_gradients_completeness(method):
    model = mlp()
    x = np.random.default_rng(3).normal(size=(6, 5))
    base = np.full(5, 0.3)
    attr, gap = integrated_gradients(model, x, 2, baseline=base, steps=400, method=method,
                                     return_delta=True)
    f = model(gn.tensor(x)).numpy()[:, 2] - model(gn.tensor(np.tile(base, (6, 1)))).numpy()[:, 2]
    tol = 1e-6 if method in ("riemann_trapezoid", "riemann_middle") else 2e-3
    assert np.allclose(attr.sum(1), f, atol=tol)
    assert np.allclose(gap, attr.sum(1) - f)
    assert attr.shape == x.shape
    # with few steps the gap is larger: it is the integration error
    _, coarse = integrated_gradients(model, x, 2, baseline=base, steps=3, method=method,
                                     return_delta=True)
    assert np.abs(coarse).max() > np.abs(gap).max()


def test_integrated_gradients_of_a_linear_model_and_trivial_baseline():
    gn.manual_seed(0)
    lin = nn.Linear(4, 2, dtype="float64")
    x = np.random.default_rng(0).normal(size=(3, 4))
    assert np.allclose(integrated_gradients(lin, x, 1, steps=2), x * lin.weight.numpy()[1])
    x5 = np.random.default_rng(1).normal(size=(3, 5))
    assert np.allclose(integrated_gradients(mlp(), x5, 0, baseline=x5), 0.0)


def _occlusion_by_hand(model, x, c, patch, stride, fill):
    """Every window position in a Python loop (fine in a test)."""
    N, C, H, W = x.shape
    f = lambda z: model(gn.tensor(z)).numpy()[:, c]          # noqa: E731
    total, count = np.zeros_like(x), np.zeros(x.shape[1:])
    for i in range(0, H - patch + 1, stride):
        for j in range(0, W - patch + 1, stride):
            z = x.copy()
            z[:, :, i:i + patch, j:j + patch] = fill
            total[:, :, i:i + patch, j:j + patch] += (f(x) - f(z))[:, None, None, None]
            count[:, i:i + patch, j:j + patch] += 1
    return np.where(count > 0, total / np.maximum(count, 1), 0.0)


@pytest.mark.parametrize("patch,stride", [(2, 1), (2, 2), (3, 2)])
def test_occlusion_equals_the_hand_computation(patch, stride):
    gn.manual_seed(1)
    model = nn.Sequential(nn.Flatten(), nn.Linear(2 * 5 * 5, 3, dtype="float64"), nn.Tanh())
    x = np.random.default_rng(5).normal(size=(3, 2, 5, 5))
    got = occlusion(model, x, 1, patch=patch, stride=stride, baseline=0.5, batch_size=7)
    assert np.allclose(got, _occlusion_by_hand(model, x, 1, patch, stride, 0.5))
    if (5 - patch) % stride:     # the last row and column lie under no patch
        assert np.all(got[:, :, -1, :] == 0)


def test_occlusion_of_a_linear_model_with_disjoint_patches():
    gn.manual_seed(2)
    model = nn.Sequential(nn.Flatten(), nn.Linear(16, 1, dtype="float64"))
    x = np.random.default_rng(6).normal(size=(2, 1, 4, 4))
    w = model[1].weight.numpy().reshape(4, 4)
    got = occlusion(model, x, patch=2, stride=2)            # one output: no target needed
    # each 2x2 patch's drop is sum over the patch of w x, spread over its 4 pixels
    blocks = (w * x[:, 0]).reshape(2, 2, 2, 2, 2).sum(axis=(2, 4))
    assert np.allclose(got[:, 0], np.kron(blocks, np.ones((2, 2))))


def _cam_net():
    gn.manual_seed(3)
    conv = nn.Conv2d(2, 3, 3, padding=1, dtype="float64")
    return nn.Sequential(conv, nn.ReLU(), nn.GlobalAvgPool2d(), nn.Flatten(),
                         nn.Linear(3, 4, dtype="float64"))


def test_grad_cam_matches_the_formula_with_global_average_pooling():
    model = _cam_net()
    x = np.random.default_rng(7).normal(size=(5, 2, 6, 6))
    t = np.array([0, 1, 2, 3, 1])
    A = model[1](model[0](gn.tensor(x))).numpy()                     # (5, 3, 6, 6)
    W = model[4].weight.numpy()                                      # (4, 3)
    # S_c = sum_k W_ck mean_ij A_kij + b_c, so alpha_k = W_ck / 36
    alpha = W[t] / 36.0
    want = np.maximum(np.einsum("nk,nkhw->nhw", alpha, A), 0)
    for layer in ("1", model[1]):
        assert np.allclose(grad_cam(model, x, layer, t), want)
    assert np.allclose(grad_cam(model, x, "1", t, relu=False),
                       np.einsum("nk,nkhw->nhw", alpha, A))
    model.requires_grad_(False)                 # a frozen model still has a graph to x
    assert np.allclose(grad_cam(model, x, "1", t), want)
    assert np.allclose(saliency(model, x[:1], 0), saliency(_cam_net(), x[:1], 0))


def test_grad_cam_with_a_dense_head_and_upsampling():
    gn.manual_seed(4)
    model = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1, dtype="float64"), nn.ReLU(),
                          nn.MaxPool2d(2), nn.Flatten(), nn.Linear(2 * 3 * 3, 2, dtype="float64"))
    x = np.random.default_rng(8).normal(size=(4, 1, 6, 6))
    A = model[2](model[1](model[0](gn.tensor(x)))).numpy()          # (4, 2, 3, 3)
    Wc = model[4].weight.numpy()[1].reshape(2, 3, 3)                # dS_1/dA
    small = np.maximum(np.einsum("k,nkhw->nhw", Wc.mean(axis=(1, 2)), A), 0)
    assert np.allclose(grad_cam(model, x, "2", 1, upsample=False), small)
    big = grad_cam(model, x, "2", 1)
    assert big.shape == (4, 6, 6)
    assert np.allclose(big, resize_bilinear(small, (6, 6)))


def test_resize_bilinear_matches_pytorch():
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(9).normal(size=(2, 3, 5))
    for size in [(7, 11), (6, 10), (2, 2), (3, 5)]:
        want = torch.nn.functional.interpolate(torch.tensor(a)[:, None], size=size,
                                               mode="bilinear", align_corners=False)
        assert np.allclose(resize_bilinear(a, size), want[:, 0].numpy())


def test_rank_correlation_is_spearman():
    stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(10)
    a = rng.normal(size=(4, 30))
    b = a + rng.normal(size=(4, 30))
    b[0, :5] = b[0, 5]                      # ties
    got = rank_correlation(a, b, absolute=False)
    want = [stats.spearmanr(a[i], b[i]).statistic for i in range(4)]
    assert np.allclose(got, want)
    assert np.allclose(rank_correlation(a, -a), 1.0)          # magnitudes by default
    assert np.allclose(rank_correlation(a, -a, absolute=False), -1.0)


@pytest.fixture(scope="module")
def trained_digits_cnn():
    X, y = load_digits()
    X = (X / 16).astype(np.float32).reshape(-1, 1, 8, 8)
    gn.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(),
                        nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Flatten(), nn.Linear(16 * 4 * 4, 10))
    Trainer(net, "cross_entropy", "adam", lr=3e-3).fit(X[:1200], y[:1200], epochs=4,
                                                        batch_size=64, verbose=0, seed=0)
    acc = np.mean(Trainer(net, "cross_entropy").predict(X[1500:]).argmax(1) == y[1500:])
    assert acc > 0.85
    return net, X[1500:1548], y[1500:1548]


def test_sanity_check_trained_vs_randomised_weights(trained_digits_cnn):
    net, xs, ts = trained_digits_cnn
    rnd = randomized_copy(net, seed=1)
    assert not np.allclose(rnd[0].weight.numpy(), net[0].weight.numpy())
    # magnitudes of gradient maps and Grad-CAM share (almost) nothing with random weights'
    for f in (lambda m: saliency(m, xs, ts), lambda m: smoothgrad(m, xs, ts, n_samples=5),
              lambda m: grad_cam(m, xs, "3", ts)):
        assert rank_correlation(f(net), f(rnd)).mean() < 0.3
    # integrated gradients and occlusion are products with the input (zero background ->
    # zero attribution whatever the weights), so only their signs are compared
    for f in (lambda m: integrated_gradients(m, xs, ts, steps=16),
              lambda m: occlusion(m, xs, ts, patch=2)):
        assert rank_correlation(f(net), f(rnd), absolute=False).mean() < 0.3
    # and the same trained model agrees with itself
    assert np.allclose(rank_correlation(saliency(net, xs, ts), saliency(net, xs, ts)), 1.0)


def test_completeness_on_the_trained_cnn(trained_digits_cnn):
    net, xs, ts = trained_digits_cnn
    attr, gap = integrated_gradients(net, xs[:8], ts[:8], steps=64, return_delta=True)
    logits = Trainer(net, "cross_entropy").predict(xs[:8])[np.arange(8), ts[:8]]
    zero = Trainer(net, "cross_entropy").predict(np.zeros_like(xs[:1]))[0, ts[:8]]
    assert np.allclose(attr.reshape(8, -1).sum(1), logits - zero, atol=0.05 + 0.02 * np.abs(logits - zero))


def test_plot_attributions(tmp_path, trained_digits_cnn):
    pytest.importorskip("matplotlib")
    net, xs, ts = trained_digits_cnn
    maps = {"saliency": saliency(net, xs[:3], ts[:3]),
            "Grad-CAM": grad_cam(net, xs[:3], "3", ts[:3])}
    fig = plot_attributions(xs[:3], maps, tmp_path / "a.png", labels=ts[:3].tolist())
    assert (tmp_path / "a.png").stat().st_size > 1000
    assert len(fig.axes) >= 9


def test_bad_input_is_named():
    model = _cam_net()
    x = np.zeros((2, 2, 6, 6))
    with pytest.raises(ArgumentError, match="target must be in 0..3"):
        saliency(model, x, 4)
    with pytest.raises(ArgumentError, match="target has 3 entries"):
        saliency(model, x, [0, 1, 2])
    with pytest.raises(ArgumentError, match="batch"):
        saliency(model, np.zeros(3))
    with pytest.raises(ArgumentError, match="method must be"):
        integrated_gradients(model, x, method="simpson")
    with pytest.raises(ArgumentError, match="baseline"):
        integrated_gradients(model, x, baseline=np.zeros(5))
    with pytest.raises(ArgumentError, match="no sub-module 'nope'"):
        grad_cam(model, x, "nope")
    with pytest.raises(ArgumentError, match=r"feature maps \(N, K, h, w\)"):
        grad_cam(model, x, "4")
    with pytest.raises(ArgumentError, match="not a sub-module"):
        grad_cam(model, x, nn.ReLU())
    with pytest.raises(ArgumentError, match="patch"):
        occlusion(model, x, patch=7)
    with pytest.raises(ArgumentError, match="stride"):
        occlusion(model, x, patch=2, stride=0)
    with pytest.raises(TypeError, match="nn.Module"):
        saliency(lambda z: z, x)


@pytest.mark.torch
def test_saliency_and_grad_cam_match_pytorch_autograd():
    torch = pytest.importorskip("torch")
    gn.manual_seed(5)
    model = nn.Sequential(nn.Conv2d(1, 3, 3, padding=1, dtype="float64"), nn.ReLU(),
                          nn.MaxPool2d(2), nn.Flatten(), nn.Linear(3 * 4 * 4, 4, dtype="float64"))
    ref = torch.nn.Sequential(torch.nn.Conv2d(1, 3, 3, padding=1), torch.nn.ReLU(),
                              torch.nn.MaxPool2d(2), torch.nn.Flatten(),
                              torch.nn.Linear(3 * 4 * 4, 4)).double()
    ref.load_state_dict({k: torch.tensor(v.numpy()) for k, v in model.state_dict().items()})
    x = np.random.default_rng(11).normal(size=(3, 1, 8, 8))
    t = np.array([0, 3, 1])
    xt = torch.tensor(x, requires_grad=True)
    acts = {}
    ref[1].register_forward_hook(lambda m, i, o: acts.update(A=o))
    out = ref(xt)
    score = out[torch.arange(3), torch.tensor(t)].sum()
    gx, gA = torch.autograd.grad(score, [xt, acts["A"]])
    assert np.allclose(saliency(model, x, t), gx.numpy())
    alpha = gA.mean(dim=(2, 3), keepdim=True)
    cam = torch.relu((alpha * acts["A"]).sum(1)).detach().numpy()
    assert np.allclose(grad_cam(model, x, "1", t), cam)
