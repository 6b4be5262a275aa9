"""Every picture glassnet.inspect draws, written to docs/images (or the folder given).

XOR and two-moons decision regions with the first-layer hyperplanes, a Hinton diagram,
first-layer filters and feature maps of a small CNN on the digits, gradient flow,
activation statistics, learning curves, the vanishing-gradient demonstration, the
computation graph (when Graphviz is installed) and the HTML report.

    python examples/inspect_pictures.py [OUT_DIR]
"""
import shutil
import sys
from pathlib import Path

import numpy as np

import glassnet as gn
import glassnet.inspect as ins
from glassnet import data, metrics, nn, optim, training

out = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/images")
out.mkdir(parents=True, exist_ok=True)
gn.manual_seed(0)

# XOR with a 2-2-1 sigmoid net
X, y = data.make_xor()
xor = nn.Sequential(nn.Linear(2, 2), nn.Sigmoid(), nn.Linear(2, 1), nn.Sigmoid())
tr = training.Trainer(xor, nn.BCELoss(), optim.Adam(xor.parameters(), lr=0.1))
tr.fit((X, y.reshape(-1, 1).astype(np.float32)), epochs=500, batch_size=None, verbose=0)
ins.plot_decision_boundary(xor, X, y, path=out / "xor_boundary.png",
                           title="XOR: 2-2-1 sigmoid net, hidden-unit lines h1, h2")

# two moons with 8 tanh units
Xm, ym = data.make_moons(300, noise=0.15, seed=0)
moons = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 2))
tr = training.Trainer(moons, nn.CrossEntropyLoss(), optim.Adam(moons.parameters(), lr=0.03))
tr.fit((Xm, ym), epochs=200, batch_size=None, verbose=0)
ins.plot_decision_boundary(moons, Xm, ym, path=out / "moons_boundary.png",
                           title="Two moons: 2-8-2 tanh net and its 8 hidden hyperplanes")
ins.hinton(moons[2], out / "hinton.png")

# digits: an MLP with the inspection callbacks, and a small CNN
Xd, yd = data.load_digits()
Xd = (Xd / 16).astype(np.float32)
mlp = nn.Sequential(nn.Linear(64, 64), nn.Sigmoid(), nn.Linear(64, 32), nn.ReLU(),
                    nn.Linear(32, 32), nn.Tanh(), nn.Linear(32, 10))
flow, stats = ins.GradientFlow(), ins.ActivationStats()
tr = training.Trainer(mlp, nn.CrossEntropyLoss(), optim.Adam(mlp.parameters(), lr=2e-3),
                      metrics=["accuracy"])
hist = tr.fit((Xd[:1400], yd[:1400]), validation=(Xd[1400:], yd[1400:]), epochs=15,
              callbacks=[flow, stats], verbose=0)
ins.plot_gradient_flow(flow, out / "gradient_flow.png")
ins.plot_activation_stats(stats, out / "activation_stats.png")
ins.plot_learning_curves(hist, out / "learning_curves.png")
cm = metrics.confusion_matrix(yd[1400:], tr.predict_classes(Xd[1400:]), num_classes=10)
ins.report(hist, mlp, out / "report_example.html", confusion=cm, gradient_flow=flow,
           activation_stats=stats, test_metrics=tr.evaluate(Xd[1400:], yd[1400:]),
           title="glassnet report: digits MLP")

cnn = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                    nn.Linear(16 * 4 * 4, 10))
tr = training.Trainer(cnn, nn.CrossEntropyLoss(), optim.Adam(cnn.parameters(), lr=3e-3))
Xi = Xd.reshape(-1, 1, 8, 8)
tr.fit((Xi, yd), epochs=8, batch_size=32, verbose=0)
ins.plot_filters(cnn, out / "filters.png")
ins.plot_feature_maps(cnn, Xi[0], out / "feature_maps.png")

res = ins.vanishing_gradient_demo()
print(res)
ins.plot_vanishing(res, out / "vanishing.png")

loss = nn.CrossEntropyLoss()(mlp(Xd[:4]), yd[:4])
dot = ins.graph(loss, params=mlp, path=out / "graph.dot")
if shutil.which("dot"):
    ins.render_dot(dot, out / "graph.png")
print(f"pictures written to {out}")
