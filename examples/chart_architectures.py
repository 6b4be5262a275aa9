"""The chart of neural networks, runnable: trains each architecture of glassnet.models.classic
on a small real task, prints the metric it reaches and draws docs/images/chart_*.png.

Data: the embedded 8x8 digits (train 1,300 / test 497, one fixed shuffle), the
Mackey-Glass series (tau = 17), Tiny Shakespeare for the Markov chain (skipped with a
message when the file is absent; set GLASSNET_DATA). docs/chart.md lists the results.

    MPLBACKEND=Agg python examples/chart_architectures.py --out docs/images
    python examples/chart_architectures.py --only hopfield som     # a few of them
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

import glassnet as gn
from glassnet.errors import DataFileNotFoundError
from glassnet.models import Autoencoder
from glassnet.models.classic import (BoltzmannMachine, ContractiveAutoencoder, DeconvNetwork,
                                     EchoStateNetwork, ExtremeLearningMachine, HopfieldNetwork,
                                     LinearSVM, MarkovChain, RBFNetwork, SelfOrganizingMap,
                                     SparseAutoencoder, bars_and_stripes, hebbian_error_rate,
                                     mackey_glass, nrmse, random_patterns)
from glassnet.models.classic.regularized_autoencoders import encoder_jacobian_norm


def digits():
    X, y = gn.data.load_digits()
    X = X / 16.0
    p = np.random.default_rng(0).permutation(len(X))
    tr, te = p[:1300], p[1300:]
    return X[tr], y[tr], X[te], y[te]


def tiles(ax, images, rows, cols, side=8, title=None):
    """Draw images (n, side*side) as one rows x cols mosaic on ax."""
    grid = np.full((rows * (side + 1) - 1, cols * (side + 1) - 1), np.nan)   # gaps: NaN
    for k, img in enumerate(images[:rows * cols]):
        r, c = divmod(k, cols)
        grid[r * (side + 1):r * (side + 1) + side, c * (side + 1):c * (side + 1) + side] = \
            np.asarray(img).reshape(side, side)
    import matplotlib
    cmap = matplotlib.colormaps["gray_r"].copy()
    cmap.set_bad("#9db8d9")
    ax.imshow(grid, cmap=cmap, interpolation="nearest")
    ax.set_xticks([]); ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=9)


# ---------------------------------------------------------------------------- models
def run_rbf(plt, out):
    Xtr, ytr, Xte, yte = digits()
    res, curves = {}, {}
    for k in (20, 60):
        net = RBFNetwork(64, k, 10).fit(Xtr, ytr, seed=0)
        res[f"test_accuracy_two_stage_{k}"] = net.score(Xte, yte)
        if k == 60:
            centres = net.centres.numpy().copy()
        curves[k] = net.fine_tune(Xtr, ytr, epochs=20, seed=0)
        res[f"test_accuracy_fine_tuned_{k}"] = net.score(Xte, yte)
    fig, ax = plt.subplots(1, 2, figsize=(9, 3.4))
    tiles(ax[0], centres, 6, 10, title="the 60 k-means centres")
    for k, losses in curves.items():
        ax[1].plot(range(1, len(losses) + 1), losses, marker="o", label=(
            f"{k} units: {res[f'test_accuracy_two_stage_{k}']:.3f} -> "
            f"{res[f'test_accuracy_fine_tuned_{k}']:.3f}"))
    ax[1].set_xlabel("epoch of gradient fine-tuning (Adam, every parameter)")
    ax[1].set_ylabel("cross-entropy"); ax[1].set_yscale("log")
    ax[1].legend(fontsize=8, title="test accuracy, two-stage -> tuned", title_fontsize=8)
    fig.tight_layout(); fig.savefig(out / "chart_rbf.png", dpi=110); plt.close(fig)
    return res


def run_hopfield(plt, out):
    X, y = gn.data.load_digits()
    means = np.stack([X[y == k].mean(0) for k in range(10)])
    proto = np.where(means > means.mean(1, keepdims=True), 1, -1).reshape(10, 8, 8)
    P = np.kron(proto, np.ones((2, 2), int)).reshape(10, 256)   # 16x16 digit prototypes
    rng = np.random.default_rng(0)
    noisy = P * np.where(rng.random(P.shape) < 0.15, -1, 1)      # 15 % of pixels flipped
    res = {}
    recalled = {}
    for rule in ("hebbian", "projection"):
        net = HopfieldNetwork(256).store(P, rule=rule)
        got, _ = net.recall(noisy, seed=0)
        recalled[rule] = got
        res[f"digits_recalled_exactly_{rule}"] = int((got == P).all(1).sum())
    # capacity: random patterns, N = 400, final overlap of recall started at each pattern
    N = 400
    alphas = np.round(np.arange(0.02, 0.30, 0.02), 3)
    overlap, bit_err = [], []
    for a in alphas:
        Xr = random_patterns(int(a * N), N, seed=int(a * 1000))
        net = HopfieldNetwork(N).store(Xr)
        bit_err.append(float((net.step(Xr) != Xr).mean()))
        overlap.append(float(np.diag(net.overlap(net.recall(Xr, seed=0)[0], Xr)).mean()))
    res["capacity_overlap_at_alpha"] = dict(zip(map(float, alphas), overlap))
    fig = plt.figure(figsize=(10, 5.2))
    for r, (title, imgs) in enumerate((("stored", P), ("15% noise", noisy),
                                       ("Hebb recall", recalled["hebbian"]),
                                       ("projection recall", recalled["projection"]))):
        ax = fig.add_subplot(4, 2, 2 * r + 1)
        tiles(ax, (imgs + 1) / 2, 1, 10, side=16)
        ax.set_ylabel(title, fontsize=8, rotation=0, ha="right")
    ax = fig.add_subplot(2, 2, 2)
    ax.plot(alphas, overlap, marker="o")
    ax.axvline(0.138, color="r", ls="--", label="0.138")
    ax.set_xlabel("P / N (random patterns, N = 400)"); ax.set_ylabel("overlap after recall")
    ax.legend(fontsize=8)
    ax = fig.add_subplot(2, 2, 4)
    ax.plot(alphas, bit_err, "o", label="measured")
    ax.plot(alphas, [hebbian_error_rate(int(a * N), N) for a in alphas], "-",
            label="Phi(-sqrt(N/(P-1)))")
    ax.set_xlabel("P / N"); ax.set_ylabel("unstable bits, first step"); ax.legend(fontsize=8)
    fig.tight_layout(); fig.savefig(out / "chart_hopfield.png", dpi=110); plt.close(fig)
    return res


def run_boltzmann(plt, out):
    data = bars_and_stripes(3)                       # 14 patterns of 3x3
    runs = {}
    for method, kw in (("exact", dict(lr=0.3, epochs=400)),
                       ("gibbs", dict(lr=0.3, epochs=400, n_chains=200, sweeps=5))):
        bm = BoltzmannMachine(9, 4, seed=0).fit(data, method=method, track_kl=True, **kw)
        runs[method] = bm
    samples = runs["exact"].sample(24, sweeps=200)
    pv = runs["exact"].visible_distribution()
    codes = (data @ (2 ** np.arange(8, -1, -1))).astype(int)
    fig, ax = plt.subplots(1, 3, figsize=(11, 3.3))
    tiles(ax[0], data, 2, 7, side=3, title="bars and stripes (the data)")
    tiles(ax[1], samples, 3, 8, side=3, title="Gibbs samples of the trained machine")
    for m, bm in runs.items():
        ax[2].plot(bm.history_, label=m)
    ax[2].set_yscale("log"); ax[2].set_xlabel("epoch"); ax[2].set_ylabel("KL(data || model)")
    ax[2].legend(fontsize=8); ax[2].set_title("9 visible + 4 hidden, exact KL", fontsize=9)
    fig.tight_layout(); fig.savefig(out / "chart_boltzmann.png", dpi=110); plt.close(fig)
    return {"kl_exact_learning": runs["exact"].history_[-1],
            "kl_gibbs_learning": runs["gibbs"].history_[-1],
            "kl_at_start": BoltzmannMachine(9, 4, seed=0).kl_from(data),
            "mass_on_the_14_patterns": float(pv[codes].sum())}


def run_som(plt, out):
    X, y = gn.data.load_digits()
    X = X / 16.0
    som = SelfOrganizingMap(12, 12, seed=0).fit(X, epochs=30)
    lm = som.label_map(X, y)
    purity = float((lm.ravel()[som.bmu(X)] == y).mean())
    fig, ax = plt.subplots(1, 2, figsize=(10, 4.8))
    tiles(ax[0], som.weight, 12, 12, title="unit weights of the 12x12 map")
    ax[1].imshow(lm, cmap="tab10", vmin=0, vmax=9)
    for (r, c), v in np.ndenumerate(lm):
        ax[1].text(c, r, str(v), ha="center", va="center", fontsize=7, color="w")
    ax[1].set_xticks([]); ax[1].set_yticks([])
    ax[1].set_title("majority digit of each unit", fontsize=9)
    fig.tight_layout(); fig.savefig(out / "chart_som.png", dpi=110); plt.close(fig)
    return {"quantization_error": som.quantization_error(X),
            "topographic_error": som.topographic_error(X), "label_purity": purity}


def run_elm(plt, out):
    Xtr, ytr, Xte, yte = digits()
    sizes = [10, 25, 50, 100, 200, 400, 800, 1300]
    acc = [ExtremeLearningMachine(64, h, seed=0).fit(Xtr, ytr).score(Xte, yte) for h in sizes]
    fig, ax = plt.subplots(figsize=(5, 3.3))
    ax.semilogx(sizes, acc, marker="o")
    ax.set_xlabel("random hidden units"); ax.set_ylabel("test accuracy (digits)")
    ax.set_title("extreme learning machine, ridge 1e-2", fontsize=9)
    fig.tight_layout(); fig.savefig(out / "chart_elm.png", dpi=110); plt.close(fig)
    return {"test_accuracy_by_hidden": dict(zip(sizes, acc))}


def run_esn(plt, out):
    s = mackey_glass(3000)[:, None]
    tr = 2000
    esn = EchoStateNetwork(1, 400, spectral_radius=1.25, leak=0.3, input_scale=1.0,
                           ridge=1e-7, seed=0).fit(s[:tr - 1], s[1:tr])
    one = esn.predict(s[:-1])[tr:]
    esn.predict(s[:tr])
    free = esn.generate(500, s[tr])
    truth = s[tr + 1:tr + 501]
    fig, ax = plt.subplots(figsize=(9, 3.2))
    ax.plot(np.arange(500), truth[:, 0], label="Mackey-Glass")
    ax.plot(np.arange(500), free[:, 0], "--", label="ESN running freely")
    ax.set_xlabel("steps after the training part"); ax.legend(fontsize=8)
    ax.set_title(f"400-unit reservoir: one-step NRMSE {nrmse(one, s[1:][tr:]):.1e}, "
                 f"free run NRMSE over 84 steps {nrmse(free[:84], truth[:84]):.3f}", fontsize=9)
    fig.tight_layout(); fig.savefig(out / "chart_esn.png", dpi=110); plt.close(fig)
    return {"one_step_nrmse": nrmse(one, s[1:][tr:]),
            "free_run_nrmse_84": nrmse(free[:84], truth[:84]),
            "free_run_nrmse_500": nrmse(free, truth)}


def run_markov(plt, out):
    try:
        text = gn.data.load_text()
    except DataFileNotFoundError as e:
        print(f"markov: skipped ({e})")
        return {"skipped": "Tiny Shakespeare not found"}
    n = int(0.9 * len(text))
    mc = MarkovChain(alpha=0.01).fit(text[:n])
    unigram = np.exp(-np.log(mc.initial_[mc.encode(text[n:])]).mean())
    letters = [c for c in " abcdefghijklmnopqrstuvwxyz"]
    idx = [mc.states_.index(c) for c in letters]
    P = mc.transition_matrix_[np.ix_(idx, idx)]
    pi = mc.stationary_distribution()
    fig, ax = plt.subplots(1, 2, figsize=(10, 4.4))
    ax[0].imshow(P, cmap="viridis")
    ax[0].set_xticks(range(27)); ax[0].set_xticklabels(["_"] + letters[1:], fontsize=6)
    ax[0].set_yticks(range(27)); ax[0].set_yticklabels(["_"] + letters[1:], fontsize=6)
    ax[0].set_title("P(next | current), space and lower-case letters", fontsize=9)
    order = np.argsort(pi)[::-1][:20]
    ax[1].bar(range(20), pi[order], label="stationary pi")
    ax[1].plot(range(20), mc.initial_[order], "r.", label="frequency in the text")
    ax[1].set_xticks(range(20))
    ax[1].set_xticklabels([repr(mc.states_[i])[1:-1] for i in order], fontsize=7)
    ax[1].legend(fontsize=8)
    fig.tight_layout(); fig.savefig(out / "chart_markov.png", dpi=110); plt.close(fig)
    sample = mc.sample(240, start="T", seed=0)
    print("markov sample:\n" + sample)
    return {"test_perplexity": mc.perplexity(text[n:]), "unigram_perplexity": float(unigram),
            "max_abs_stationary_minus_frequency": float(np.abs(pi - mc.initial_).max()),
            "sample": sample}


def run_autoencoders(plt, out):
    Xtr, _, Xte, _ = digits()
    Xtr, Xte = Xtr.astype(np.float32), Xte.astype(np.float32)
    mean_image = float(((Xte - Xtr.mean(0)) ** 2).mean())
    res = {"mean_image_mse": mean_image}
    build = {"plain": lambda: Autoencoder(64, 32),
             "sparse": lambda: SparseAutoencoder(64, 32, rho=0.1, beta=0.3),
             "contractive": lambda: ContractiveAutoencoder(64, 32, lam=0.01)}
    models = {}
    for name, make in build.items():
        gn.manual_seed(0)
        m = models[name] = make()
        m.fit(Xtr, epochs=20, lr=3e-2, batch_size=32, seed=0)
        res[name] = {"test_mse": float(m.reconstruction_error(Xte).mean()),
                     "mean_hidden_activation": float(m.encode(Xte).mean()),
                     "jacobian_frobenius2": float(encoder_jacobian_norm(m, Xte).mean())}
    fig, ax = plt.subplots(1, 3, figsize=(12, 3.6))
    for name in ("plain", "sparse"):
        ax[0].hist(models[name].encode(Xte).mean(0), bins=20, alpha=0.7, label=name)
    ax[0].axvline(0.1, color="k", ls="--", label="rho = 0.1")
    ax[0].set_xlabel("mean activation of a hidden unit"); ax[0].legend(fontsize=8)
    tiles(ax[1], models["sparse"].encoder[0].weight.numpy(), 4, 8,
          title="sparse AE: encoder weights of the 32 units")
    names = list(models)
    ax[2].bar(names, [res[n]["jacobian_frobenius2"] for n in names])
    ax[2].set_yscale("log"); ax[2].set_ylabel("mean ||dh/dx||_F^2 (test)")
    ax[2].set_title("contraction of the encoder", fontsize=9)
    fig.tight_layout(); fig.savefig(out / "chart_autoencoders.png", dpi=110); plt.close(fig)
    return res


def run_deconv(plt, out):
    Xtr, _, Xte, _ = digits()
    mu = Xtr.mean(0)
    V = np.linalg.svd(Xtr - mu, full_matrices=False)[2][:16]
    ctr, cte = (Xtr - mu) @ V.T, (Xte - mu) @ V.T
    scale = ctr.std(0)
    gn.manual_seed(0)
    net = DeconvNetwork(16).fit(ctr / scale, Xtr, epochs=40, seed=0)
    gen = net.generate(cte / scale).reshape(len(Xte), 64)
    lin = cte @ V + mu
    res = {"test_mse_deconv": float(((gen - Xte) ** 2).mean()),
           "test_mse_linear_pca": float(((lin - Xte) ** 2).mean())}
    fig, ax = plt.subplots(3, 1, figsize=(8, 3.6))
    for a, (t, imgs) in zip(ax, (("test digits", Xte), ("linear PCA from 16 numbers", lin),
                                 ("deconvolutional network from the same 16", gen))):
        tiles(a, np.clip(imgs, 0, 1), 1, 16)
        a.set_ylabel(t, rotation=0, ha="right", fontsize=8)
    fig.tight_layout(); fig.savefig(out / "chart_deconv.png", dpi=110); plt.close(fig)
    return res


def run_svm(plt, out):
    from sklearn.svm import LinearSVC
    Xtr, ytr, Xte, yte = digits()
    res = {}
    for mc in ("ovr", "crammer_singer"):
        svm = LinearSVM(64, 10, C=1.0, multi_class=mc, seed=0).fit(Xtr, ytr)
        ref = LinearSVC(C=1.0, multi_class=mc, max_iter=10000).fit(Xtr, ytr)
        res[mc] = {"glassnet_test_accuracy": svm.score(Xte, yte),
                   "sklearn_test_accuracy": float(ref.score(Xte, yte))}
        if mc == "ovr":
            keep = svm
    fig, ax = plt.subplots(1, 2, figsize=(10, 3.2))
    tiles(ax[0], keep.linear.weight.numpy(), 1, 10, title="one-vs-rest SVM: weight of each digit")
    ax[1].plot(keep.losses_, marker=".")
    ax[1].set_xlabel("epoch"); ax[1].set_ylabel("SVM objective (squared hinge + L2)")
    fig.tight_layout(); fig.savefig(out / "chart_svm.png", dpi=110); plt.close(fig)
    return res


def run_residual(plt, out):
    """20 tanh layers of 64 units, trained by the same SGD, with and without shortcuts."""
    from glassnet import nn, optim
    from glassnet.functional.losses import cross_entropy
    Xtr, ytr, Xte, yte = digits()
    Xtr, Xte = Xtr.astype(np.float32), Xte.astype(np.float32)

    def build(residual, depth=20, width=64):
        layers = [nn.Linear(64, width), nn.Tanh()]
        for _ in range(depth):
            block = nn.Sequential(nn.Linear(width, width), nn.Tanh())
            layers.append(nn.Residual(block) if residual else block)
        return nn.Sequential(*layers, nn.Linear(width, 10))

    res, curves = {}, {}
    for name in ("plain", "residual"):
        gn.manual_seed(0)
        net = build(name == "residual")
        opt = optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
        rng = np.random.default_rng(0)
        losses, first_grad = [], None
        for _ in range(15):
            order = rng.permutation(len(Xtr))
            total = 0.0
            for i in range(0, len(order), 32):
                idx = order[i:i + 32]
                loss = cross_entropy(net(gn.tensor(Xtr[idx])), ytr[idx])
                opt.zero_grad()
                loss.backward()
                if first_grad is None:     # the first step's gradient at the first layer
                    first_grad = float(np.abs(net[0].weight.grad.numpy()).mean())
                opt.step()
                total += float(loss) * len(idx)
            losses.append(total / len(Xtr))
        net.eval()
        with gn.no_grad():
            acc = float((net(gn.tensor(Xte)).numpy().argmax(1) == yte).mean())
        curves[name] = losses
        res[name] = {"test_accuracy": acc, "final_train_loss": losses[-1],
                     "first_layer_mean_abs_grad_at_step_1": first_grad}
    fig, ax = plt.subplots(figsize=(5.5, 3.4))
    for name, losses in curves.items():
        ax.plot(range(1, 16), losses, marker="o",
                label=f"{name}: test accuracy {res[name]['test_accuracy']:.3f}")
    ax.set_yscale("log"); ax.set_xlabel("epoch (SGD, lr 0.01, momentum 0.9)")
    ax.set_ylabel("training cross-entropy"); ax.legend(fontsize=8)
    ax.set_title("20 tanh layers of 64 units on the digits", fontsize=9)
    fig.tight_layout(); fig.savefig(out / "chart_residual.png", dpi=110); plt.close(fig)
    return res


RUNS = {"rbf": run_rbf, "hopfield": run_hopfield, "boltzmann": run_boltzmann, "som": run_som,
        "elm": run_elm, "esn": run_esn, "markov": run_markov,
        "autoencoders": run_autoencoders, "deconv": run_deconv, "svm": run_svm,
        "residual": run_residual}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=Path("docs/images"))
    p.add_argument("--json", type=Path, default=None, help="also write the metrics here")
    p.add_argument("--only", nargs="*", choices=sorted(RUNS), default=None)
    args = p.parse_args(argv)
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    args.out.mkdir(parents=True, exist_ok=True)
    results = {}
    for name in args.only or RUNS:
        t0 = time.perf_counter()
        res = RUNS[name](plt, args.out)
        res["seconds"] = round(time.perf_counter() - t0, 1)
        results[name] = res
        shown = {k: v for k, v in res.items() if k != "sample"}
        print(f"{name}: {json.dumps(shown, default=float)}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=float))
    return results


if __name__ == "__main__":
    main()
