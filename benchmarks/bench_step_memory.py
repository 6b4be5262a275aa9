"""Peak NumPy memory of one training step, and the cost of recording many tiny ops.

Memory: for each model, two warm-up steps, then one step (forward, backward, Adam) under
``tracemalloc`` (NumPy reports its array allocations to it, so the figure is exact and does
not depend on how the C heap reuses freed blocks, unlike the resident memory that
``scaling.py`` reports): the step's peak of traced memory above what was live before it.
Models, float32: the pytorch/examples MNIST net (batch 64), a CNN of four conv-ReLU-pool
blocks of 16..128 channels (batch 64, 28x28), an MLP 784-1024-1024-1024-10 with a Tanh
(batch 512).

Tiny ops: a graph of 200 ops on 8 x 8 float64 tensors (matmul, add, tanh, mul, fifty times)
and its backward, median of 15 blocks of 20: the bookkeeping autograd adds per op.

    python benchmarks/bench_step_memory.py
    PYTHONPATH=<other checkout>/src python benchmarks/bench_step_memory.py   # compare
"""
from __future__ import annotations

import statistics
import time
import tracemalloc
import warnings

import numpy as np

import glassnet as gn
from glassnet import nn, optim


class MnistNet(nn.Module):
    """The network of pytorch/examples' mnist/main.py (dropout left out: no randomness)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1, self.conv2 = nn.Conv2d(1, 32, 3, 1), nn.Conv2d(32, 64, 3, 1)
        self.fc1, self.fc2 = nn.Linear(9216, 128), nn.Linear(128, 10)

    def forward(self, x):
        F = nn.functional
        x = F.max_pool2d(F.relu(self.conv2(F.relu(self.conv1(x)))), 2)
        x = F.relu(self.fc1(gn.flatten(x, 1)))
        return F.log_softmax(self.fc2(x), dim=1)


def cnn4() -> nn.Module:
    layers, cin = [], 1
    for i in range(4):
        layers += [nn.Conv2d(cin, 16 << i, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]
        cin = 16 << i
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(cin, 10))


def mlp() -> nn.Module:
    return nn.Sequential(nn.Linear(784, 1024), nn.ReLU(), nn.Linear(1024, 1024), nn.ReLU(),
                         nn.Linear(1024, 1024), nn.Tanh(), nn.Linear(1024, 10))


MODELS = {"pytorch/examples MNIST net, batch 64": (MnistNet, (64, 1, 28, 28), nn.NLLLoss),
          "4-block CNN, batch 64": (cnn4, (64, 1, 28, 28), nn.CrossEntropyLoss),
          "MLP 784-1024x3-10, batch 512": (mlp, (512, 784), nn.CrossEntropyLoss)}


def step_peak_mib(build, shape, loss_cls) -> float:
    gn.manual_seed(0)
    model = build()
    opt = optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = loss_cls()
    rng = np.random.default_rng(0)
    x = gn.tensor(rng.standard_normal(shape).astype(np.float32))
    y = gn.tensor(rng.integers(10, size=shape[0]))

    def step():
        loss = loss_fn(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    step()
    step()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    step()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return (peak - base) / 2 ** 20


def tiny_ops_ms() -> float:
    rng = np.random.default_rng(0)
    x = gn.tensor(rng.standard_normal((8, 8)), requires_grad=True)
    w = gn.tensor(rng.standard_normal((8, 8)) * 0.1, requires_grad=True)

    def graph():
        h = x
        for _ in range(50):
            h = gn.tanh(h @ w + 1.0) * 0.5
        h.sum().backward()
    for _ in range(20):
        graph()
    blocks = []
    for _ in range(15):
        t = time.perf_counter()
        for _ in range(20):
            graph()
        blocks.append((time.perf_counter() - t) / 20)
    return statistics.median(blocks) * 1e3


def main() -> None:
    warnings.simplefilter("ignore")     # pooling's tiling note for odd map sizes
    print(f"glassnet from {gn.__file__}")
    for name, (build, shape, loss_cls) in MODELS.items():
        print(f"  {name:40s} one step's NumPy peak {step_peak_mib(build, shape, loss_cls):6.1f} MiB")
    print(f"  200 tiny ops + backward: {tiny_ops_ms():.3f} ms")


if __name__ == "__main__":
    main()
