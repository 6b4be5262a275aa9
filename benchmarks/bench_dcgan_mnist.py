"""MNIST DCGAN: glassnet vs PyTorch, same architecture, same protocol, judged by a glassnet
MNIST classifier.

1. ``classifier``: the judge, a glassnet CNN (conv 32 - pool - conv 64 - pool - dropout -
   dense 128 - dropout - 10, Adam 1e-3 with StepLR, batch 128, 10 epochs) trained on the
   60,000 training images (99.34% test accuracy; its weights are cached under
   benchmarks/results/cache/, gitignored); its 128-d penultimate (ReLU) activations are
   the features of the Frechet distance.
2. ``glassnet`` / ``torch``: Radford et al.'s DCGAN recipe, glassnet's
   ``DCGANGenerator(100, (128, 64), output="tanh")`` and ``DCGANDiscriminator((64, 128))``
   (pixels scaled to [-1, 1]), the non-saturating loss, Adam(2e-4, betas (0.5, 0.999)),
   batch 128, ``--epochs`` epochs over the first ``--train-limit`` training images;
   PyTorch builds the same layers and starts from the same initial weights (glassnet's,
   copied by parameter name through state_dict), trains on the same batch order; the
   latent codes come from each library's own generator. Each library runs in its own
   process with one thread (BLAS included); the two may run at the same time. Both
   write 10,000 samples after every epoch (``samples_<lib>_e<k>.npy``).
3. ``evaluate``: 10,000 samples of each generator (eval mode, after the last epoch or
   ``--at-epoch``) -> the judge: the class histogram (all 10 classes covered?), the
   fraction classified with confidence >= 0.9 (also per epoch), the Frechet distance of
   the penultimate features against the 10,000 MNIST test images (and, as a floor, of
   10,000 training images against the test images).

    GLASSNET_DATA=/path/to/data python benchmarks/bench_dcgan_mnist.py all --epochs 10

Writes docs/results/dcgan_mnist.{json,md,png}.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
            "GLASSNET_NUM_THREADS", "GLASSNET_BLAS_THREADS"):   # glassnet's fit policy
    # would otherwise give BLAS every idle core
    os.environ[var] = "1"
import numpy as np  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
LATENT, GCH, DCH, LR, BETAS, BATCH = 100, (128, 64), (64, 128), 2e-4, (0.5, 0.999), 128
OUTPUT = "tanh"        # the generator's last activation; real images scaled to [-1, 1]
SMOOTH = 0.0           # one-sided label smoothing: D's target for real images is 1 - SMOOTH
NAME = "dcgan_mnist"   # the result files' name
CLASSES = 0            # --conditional: 10 (G gets the one-hot label with z, D as 10 planes)


def to_gan(X):
    """MNIST pixels in [0, 1] -> the generator's range."""
    return X * 2 - 1 if OUTPUT == "tanh" else X


def from_gan(S):
    """Generator samples -> pixels in [0, 1] (what the judge reads)."""
    return (S + 1) / 2 if OUTPUT == "tanh" else S


def make_gan():
    from glassnet.models.gan import DCGANDiscriminator, DCGANGenerator, GAN
    return GAN(DCGANGenerator(LATENT, GCH, output=OUTPUT, num_classes=CLASSES),
               DCGANDiscriminator(DCH, num_classes=CLASSES), LATENT,
               label_smoothing=SMOOTH, num_classes=CLASSES or None)


def mnist(split):
    from glassnet.data import load_mnist
    X, y = load_mnist(split=split)
    return X.astype(np.float32), y


# ------------------------------------------------------------------ the judge
def classifier_model():
    from glassnet import nn
    features = nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Dropout(0.25), nn.Linear(64 * 7 * 7, 128), nn.ReLU())
    return nn.Sequential(features, nn.Sequential(nn.Dropout(0.25), nn.Linear(128, 10)))


CACHE = REPO / "benchmarks" / "results" / "cache"     # gitignored


def train_classifier(work, epochs, limit=0):
    import glassnet as gn
    from glassnet import nn
    from glassnet.optim.lr_scheduler import StepLR
    from glassnet.training import Trainer
    from glassnet.training.callbacks import LRSchedulerCallback
    cached = CACHE / f"judge_e{epochs}_l{limit}.safetensors"
    if cached.exists():
        import shutil
        shutil.copyfile(cached, work / "classifier.safetensors")
        shutil.copyfile(cached.with_suffix(".json"), work / "classifier.json")
        print("classifier from the cache", cached, flush=True)
        return
    gn.manual_seed(0)
    X, y = mnist("train")
    if limit:
        X, y = X[:limit], y[:limit]
    Xt, yt = mnist("test")
    model = classifier_model()
    t0 = time.time()
    trainer = Trainer(model, nn.CrossEntropyLoss(), "adam", lr=1e-3)
    sched = StepLR(trainer.optimizer, step_size=max(1, epochs // 2), gamma=0.2)
    trainer.fit(X, y, epochs=epochs, batch_size=128, verbose=2, seed=0,
                callbacks=[LRSchedulerCallback(sched)])
    acc = float((predict(model, Xt)[0].argmax(1) == yt).mean())
    gn.save(model.state_dict(), str(work / "classifier.safetensors"))
    json.dump({"test_accuracy": acc, "epochs": epochs, "time_s": time.time() - t0},
              open(work / "classifier.json", "w"))
    CACHE.mkdir(parents=True, exist_ok=True)
    import shutil
    shutil.copyfile(work / "classifier.safetensors", cached)
    shutil.copyfile(work / "classifier.json", cached.with_suffix(".json"))
    print("classifier test accuracy", acc, flush=True)


def predict(model, X, batch=1000):
    """(softmax probabilities, penultimate features) of images X."""
    import glassnet as gn
    model.eval()
    probs, feats = [], []
    with gn.no_grad():
        for i in range(0, len(X), batch):
            f = model[0](gn.tensor(X[i:i + batch]))
            p = gn.nn.functional.softmax(model[1](f), dim=1)
            probs.append(p.numpy())
            feats.append(f.numpy())
    return np.concatenate(probs), np.concatenate(feats)


# ------------------------------------------------------------------ the two GANs
def initial(work, train_limit, epochs):
    import glassnet as gn
    gn.manual_seed(0)
    gan = make_gan()
    state = {k: v.numpy().copy() for k, v in gan.state_dict().items()}
    rng = np.random.default_rng(0)
    order = np.stack([rng.permutation(train_limit) for _ in range(epochs)])
    np.savez(work / "init.npz", order=order, **state)


def batches(order_row):
    return [order_row[i:i + BATCH] for i in range(0, len(order_row), BATCH)]


def train_glassnet(work, train_limit, epochs):
    import glassnet as gn
    from glassnet.data import DataLoader, Dataset
    from glassnet.models.gan import GANTrainer
    init = np.load(work / "init.npz")
    gn.manual_seed(1)
    gan = make_gan()
    gan.load_state_dict({k: init[k] for k in gan.state_dict()})
    X, Y = mnist("train")
    X, Y = to_gan(X[:train_limit]), Y[:train_limit]
    order = init["order"]

    class Epochs:   # the shared batch order, one row per epoch
        def __init__(self):
            self.epoch = 0

        def __len__(self):
            return len(batches(order[0]))

        def __iter__(self):
            rows = batches(order[self.epoch])
            self.epoch += 1
            return iter([(X[b], Y[b]) if CLASSES else (X[b],) for b in rows])

    from glassnet.training.callbacks import Callback
    hist = {k: [] for k in ("d_loss", "g_loss", "d_real", "d_fake", "time_s")}

    class Snapshot(Callback):   # samples after every epoch: a late run still has a result
        def __init__(self):
            self.t0, self.sampling = time.time(), 0.0

        def on_epoch_end(self, trainer, epoch, logs):
            t = time.time()
            samples = gan.sample(10000, generator=gn.Generator().manual_seed(123))
            np.save(work / f"samples_glassnet_e{epoch + 1}.npy", from_gan(samples).astype(np.float32))
            self.sampling += time.time() - t
            for k in ("d_loss", "g_loss", "d_real", "d_fake"):
                hist[k].append(float(logs[k]))
            hist["time_s"].append(time.time() - self.t0 - self.sampling)
            json.dump({"time_s": hist["time_s"][-1], "epochs": epoch + 1,
                       "history": hist}, open(work / "glassnet.json", "w"))

    trainer = GANTrainer(gan, lr=LR, betas=BETAS)
    trainer.fit(Epochs(), epochs=epochs, verbose=2, callbacks=[Snapshot()])


def train_torch(work, train_limit, epochs):
    import torch
    from torch import nn
    import torch.nn.functional as F
    torch.set_num_threads(1)
    torch.manual_seed(1)
    init = np.load(work / "init.npz")

    class G(nn.Module):
        def __init__(self):
            super().__init__()
            c0, c1 = GCH
            self.net = nn.Sequential(
                nn.Linear(LATENT + CLASSES, c0 * 49), nn.BatchNorm1d(c0 * 49), nn.ReLU(),
                nn.Unflatten(1, (c0, 7, 7)),
                nn.ConvTranspose2d(c0, c1, 4, 2, 1), nn.BatchNorm2d(c1), nn.ReLU(),
                nn.ConvTranspose2d(c1, 1, 4, 2, 1),
                nn.Tanh() if OUTPUT == "tanh" else nn.Sigmoid())

        def forward(self, z, y=None):
            if CLASSES:
                z = torch.cat([z, F.one_hot(y, CLASSES).to(z.dtype)], 1)
            return self.net(z)

    class D(nn.Module):
        def __init__(self):
            super().__init__()
            c0, c1 = DCH
            self.net = nn.Sequential(
                nn.Conv2d(1 + CLASSES, c0, 4, 2, 1), nn.LeakyReLU(0.2),
                nn.Conv2d(c0, c1, 4, 2, 1), nn.BatchNorm2d(c1), nn.LeakyReLU(0.2),
                nn.Flatten(), nn.Linear(c1 * 49, 1))

        def forward(self, x, y=None):
            if CLASSES:
                planes = F.one_hot(y, CLASSES).to(x.dtype)[:, :, None, None]
                x = torch.cat([x, planes.expand(-1, -1, *x.shape[2:])], 1)
            return self.net(x)

    g, d = G(), D()
    for prefix, m in (("generator.", g), ("discriminator.", d)):
        sd = m.state_dict()
        m.load_state_dict({k: torch.from_numpy(np.asarray(init[prefix + k])).to(v.dtype)
                           .reshape(v.shape) for k, v in sd.items()})
    opt_d = torch.optim.Adam(d.parameters(), lr=LR, betas=BETAS)
    opt_g = torch.optim.Adam(g.parameters(), lr=LR, betas=BETAS)
    X, Y = mnist("train")
    X = torch.from_numpy(to_gan(X[:train_limit]))
    Y = torch.from_numpy(Y[:train_limit].astype(np.int64))
    order = init["order"]
    hist = {k: [] for k in ("d_loss", "g_loss", "d_real", "d_fake")}
    t0, sampling, times = time.time(), 0.0, []
    for epoch in range(epochs):
        sums, count = np.zeros(4), 0
        for b in batches(order[epoch]):
            real = X[torch.from_numpy(b)]
            y = Y[torch.from_numpy(b)] if CLASSES else None
            n = len(real)
            fake = g(torch.randn(n, LATENT), y).detach()
            lr_, lf = d(real, y), d(fake, y)
            d_loss = ((1 - SMOOTH) * F.softplus(-lr_) + SMOOTH * F.softplus(lr_)).mean() \
                + F.softplus(lf).mean()
            opt_d.zero_grad()
            d_loss.backward()
            opt_d.step()
            g_loss = F.softplus(-d(g(torch.randn(n, LATENT), y), y)).mean()
            opt_g.zero_grad()
            g_loss.backward()
            opt_g.step()
            sums += n * np.array([d_loss.item(), g_loss.item(),
                                  torch.sigmoid(lr_).mean().item(),
                                  torch.sigmoid(lf).mean().item()])
            count += n
        for k, v in zip(hist, sums / count):
            hist[k].append(float(v))
        print(f"torch epoch {epoch + 1}: " + ", ".join(f"{k} {v[-1]:.4f}" for k, v in hist.items())
              + f" ({time.time() - t0 - sampling:.0f}s)", flush=True)
        t = time.time()     # samples after every epoch: a late run still has a result
        g.eval()
        gen = torch.Generator().manual_seed(123)
        with torch.no_grad():
            lab = torch.arange(1000) % 10 if CLASSES else None   # glassnet's default order
            samples = torch.cat([g(torch.randn(1000, LATENT, generator=gen), lab)
                                 for _ in range(10)])
        g.train()
        np.save(work / f"samples_torch_e{epoch + 1}.npy",
                from_gan(samples.numpy()).astype(np.float32))
        sampling += time.time() - t
        times.append(time.time() - t0 - sampling)
        json.dump({"time_s": times[-1], "epochs": epoch + 1, "history": {**hist, "time_s": times}},
                  open(work / "torch.json", "w"))


# ------------------------------------------------------------------ judging
def evaluate(work, out, argv, at_epoch=0):
    import glassnet as gn
    from glassnet.models.gan import frechet_distance, plot_samples
    model = classifier_model()
    model.load_state_dict(gn.load(str(work / "classifier.safetensors")))
    clf = json.load(open(work / "classifier.json"))
    Xt, _ = mnist("test")
    _, ft = predict(model, Xt)
    _, ftrain = predict(model, mnist("train")[0][:10000])
    res = {"command": "python benchmarks/bench_dcgan_mnist.py " + " ".join(argv),
           "classifier": clf,
           "fid_train_vs_test": frechet_distance(ftrain, ft),
           "protocol": {"latent_dim": LATENT, "g_channels": GCH, "d_channels": DCH,
                        "output": OUTPUT, "label_smoothing": SMOOTH, "conditional": bool(CLASSES),
                        "lr": LR, "betas": BETAS, "batch_size": BATCH, "threads": 1}}
    from glassnet.inspect._common import figure, save
    fig = figure(figsize=(10, 5))
    for i, lib in enumerate(("glassnet", "torch")):
        info = json.load(open(work / f"{lib}.json"))
        k = at_epoch or info["epochs"]
        s = np.load(work / f"samples_{lib}_e{k}.npy")
        info = {"epochs": k, "time_s": info["history"]["time_s"][k - 1],
                "history": {n: v[:k] for n, v in info["history"].items()}}
        p, f = predict(model, s)
        pred = p.argmax(1)
        hist = np.bincount(pred, minlength=10)
        if CLASSES:     # the judge's class against the label the sample was made for
            res.setdefault("label_agreement", {})[lib] = float(
                (pred == np.arange(len(pred)) % CLASSES).mean())
        res[lib] = {"class_histogram": hist.tolist(),
                    "classes_covered": int((hist > 0).sum()),
                    "confident_fraction": float((p.max(1) >= 0.9).mean()),
                    "fid": frechet_distance(f, ft), "train_time_s": info["time_s"],
                    "epochs": k,
                    "history": info["history"]}
        curve = []
        for e in range(1, k + 1):
            f_e = work / f"samples_{lib}_e{e}.npy"
            if f_e.exists():
                curve.append(round(float((predict(model, np.load(f_e))[0].max(1) >= 0.9).mean()), 4))
        res[lib]["confident_fraction_per_epoch"] = curve
        plot_samples(s[:64], work / f"grid_{lib}.png")
        ax = fig.add_subplot(1, 2, i + 1)
        from glassnet.inspect.pictures import montage
        ax.imshow(montage(np.clip(s[:64, 0], 0, 1), ncols=8), cmap="gray", vmin=0, vmax=1)
        ax.set_title(f"{lib}: FID {res[lib]['fid']:.2f}, "
                     f"{100 * res[lib]['confident_fraction']:.1f}% confident", fontsize=9)
        ax.set_axis_off()
    out.mkdir(parents=True, exist_ok=True)
    save(fig, out / f"{NAME}.png")
    json.dump(res, open(out / f"{NAME}.json", "w"), indent=1)
    rows = []
    for lib in ("glassnet", "torch"):
        r = res[lib]
        rows.append(f"| {lib} | {r['classes_covered']}/10 | {100 * r['confident_fraction']:.1f}% "
                    f"| {r['fid']:.2f} | {r['history']['d_loss'][-1]:.3f} | "
                    f"{r['history']['g_loss'][-1]:.3f} | {r['train_time_s']:.0f} s |")
    md = f"""# MNIST DCGAN: glassnet and PyTorch

Command: `{res['command']}` (one thread per library).

Judge: a glassnet CNN classifier, test accuracy {100 * clf['test_accuracy']:.2f}%
({clf['epochs']} epochs). Frechet distance (FID) on its 128-d penultimate features,
10,000 samples against the 10,000 MNIST test images (10,000 training images against the
test images: {res['fid_train_vs_test']:.2f}, the floor).

Same generator and discriminator (DCGAN, generator channels {GCH}, discriminator
{DCH}, latent {LATENT}, {OUTPUT} output, label smoothing {SMOOTH}), {res['glassnet']['epochs']}
epochs, same initial weights, same batch order, non-saturating loss,
Adam({LR}, betas {BETAS}), batch {BATCH}.

| library | classes covered | confidence >= 0.9 | FID | final d_loss | final g_loss | training time |
|---|---|---|---|---|---|---|
{chr(10).join(rows)}

Fraction of the 10,000 samples classified with confidence >= 0.9 after each epoch:
glassnet {res['glassnet']['confident_fraction_per_epoch']},
PyTorch {res['torch']['confident_fraction_per_epoch']}.

Class histograms of the 10,000 samples (digits 0-9):
glassnet {res['glassnet']['class_histogram']}, PyTorch {res['torch']['class_histogram']}.

![samples]({NAME}.png)
"""
    if CLASSES:
        la = res["label_agreement"]
        md = md.replace("# MNIST DCGAN: glassnet and PyTorch", "# MNIST conditional DCGAN: glassnet and PyTorch") + f"""
Class-conditional: the generator gets the one-hot label with z, the discriminator the
label as 10 constant planes; sample k is made for class k mod 10. The judge's class
equals that label for {100 * la['glassnet']:.1f}% of glassnet's samples and
{100 * la['torch']:.1f}% of PyTorch's.
"""
    (out / f"{NAME}.md").write_text(md)
    print(md)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("stage", choices=["all", "classifier", "init", "glassnet", "torch", "evaluate"])
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--classifier-epochs", type=int, default=10)
    ap.add_argument("--classifier-limit", type=int, default=0, help="a quick look only")
    ap.add_argument("--at-epoch", type=int, default=0,
                    help="evaluate the samples written after this epoch (default: the last)")
    ap.add_argument("--train-limit", type=int, default=60000)
    ap.add_argument("--work", default="/tmp/dcgan_mnist")
    ap.add_argument("--out", default=str(REPO / "docs" / "results"))
    ap.add_argument("--conditional", action="store_true",
                    help="class-conditional G and D; writes dcgan_mnist_conditional.*")
    a = ap.parse_args(argv)
    global CLASSES, NAME
    if a.conditional:
        CLASSES, NAME = 10, "dcgan_mnist_conditional"
    work = Path(a.work)
    work.mkdir(parents=True, exist_ok=True)
    if a.stage == "classifier":
        train_classifier(work, a.classifier_epochs, a.classifier_limit)
    elif a.stage == "init":
        initial(work, a.train_limit, a.epochs)
    elif a.stage == "glassnet":
        train_glassnet(work, a.train_limit, a.epochs)
    elif a.stage == "torch":
        train_torch(work, a.train_limit, a.epochs)
    elif a.stage == "evaluate":
        evaluate(work, Path(a.out), argv, a.at_epoch)
    else:
        common = ["--epochs", str(a.epochs), "--train-limit", str(a.train_limit),
                  "--work", a.work, "--classifier-epochs", str(a.classifier_epochs),
                  "--classifier-limit", str(a.classifier_limit)] + (
                      ["--conditional"] if a.conditional else [])
        me = [sys.executable, __file__]
        subprocess.run(me + ["init"] + common, check=True)
        procs = [subprocess.Popen(me + [s] + common) for s in ("glassnet", "torch")]
        subprocess.run(me + ["classifier"] + common, check=True)
        for p in procs:
            if p.wait():
                raise SystemExit(f"a training failed: {p.args}")
        evaluate(work, Path(a.out), argv)


if __name__ == "__main__":
    main()
