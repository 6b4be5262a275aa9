"""A TensorBoard log of a real ``glassnet train --log tensorboard`` run, read back with
tensorboard's own event reader (``EventAccumulator``) and drawn with matplotlib: loss
and val_loss, accuracy and val_accuracy, the learning rate per epoch, and the histogram
of the first layer's weights at three epochs.

    python examples/tensorboard_readback.py [PNG] [RUN_DIR]

Without RUN_DIR it first runs
``python -m glassnet train --log tensorboard --epochs 30 --seed 0 --verbose 0 --out RUN``
(an MLP on the embedded digits, a few seconds) in a temporary folder; with RUN_DIR it
reads that run folder's ``tensorboard/``. PNG defaults to
docs/images/tensorboard_readback.png. Needs ``pip install glassnet[tensorboard,plot]
tensorboard``.
"""
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

png = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/images/tensorboard_readback.png")
if len(sys.argv) > 2:
    run = Path(sys.argv[2])
else:
    run = Path(tempfile.mkdtemp(prefix="glassnet-tb-")) / "run"
    cmd = [sys.executable, "-m", "glassnet", "train", "--log", "tensorboard", "--epochs",
           "30", "--seed", "0", "--verbose", "0", "--out", str(run)]
    print("$", " ".join(cmd[2:]))
    subprocess.run(cmd, check=True)

ea = EventAccumulator(str(run / "tensorboard"), size_guidance={"scalars": 0,
                                                               "histograms": 0})
ea.Reload()
tags = ea.Tags()


def series(tag):
    ev = ea.Scalars(tag)
    return np.array([e.step for e in ev]), np.array([e.value for e in ev])


fig = Figure(figsize=(13, 3.4))
axes = fig.subplots(1, 4)
for ax, keys, title in ((axes[0], ("loss", "val_loss"), "loss"),
                        (axes[1], ("accuracy", "val_accuracy"), "accuracy")):
    for k in keys:
        ax.plot(*series(k), label=k, marker="." if k.startswith("val_") else None)
    ax.set(title=title, xlabel="epoch (TensorBoard step)")
    ax.legend()
axes[2].plot(*series("lr/group_0"), label="lr/group_0")
axes[2].set(title="learning rate", xlabel="epoch (TensorBoard step)")
axes[2].ticklabel_format(axis="y", style="sci", scilimits=(0, 0))
axes[2].legend()

weights = sorted(t for t in tags["histograms"] if t.startswith("weights/")
                 and t.endswith(".weight"))[0]
hist = ea.Histograms(weights)
ax = axes[3]
shown = (hist[0], hist[len(hist) // 2], hist[-1])
lo = min(e.histogram_value.min for e in shown)
hi = max(e.histogram_value.max for e in shown)
grid = np.linspace(lo, hi, 41)        # one set of bins for the three epochs
for e in shown:
    h = e.histogram_value
    edges = np.array([h.min, *h.bucket_limit[:-1], h.max])   # bucket i: (edge i, edge i+1]
    edges = np.maximum.accumulate(np.clip(edges, h.min, h.max))
    counts = np.array(h.bucket)
    # onto the 40 equal bins, each bucket's count spread evenly over its interval (the
    # TensorFlow buckets grow geometrically: equal bins read as a density)
    cum = np.interp(grid, edges, np.concatenate([[0.0], np.cumsum(counts)]))
    dens = np.diff(cum)
    ax.step(grid[:-1], dens, where="post", label=f"epoch {e.step}")
ax.set(title=f"histogram: {weights}", xlabel="weight value", ylabel="weights per bin (40 bins)")
ax.legend()
fig.suptitle(f"read back with tensorboard's EventAccumulator from {run.name}/tensorboard "
             f"({len(ea.Scalars('loss'))} epochs)", fontsize=10)
fig.tight_layout()
png.parent.mkdir(parents=True, exist_ok=True)
fig.savefig(png, dpi=100)
print(f"scalars {sorted(tags['scalars'])}\nhistograms {len(tags['histograms'])} tags -> {png}")
