"""A user's training script, PyTorch style, on glassnet: tests/typing/test_mypy.py checks it
with mypy (as a user's CI would, through glassnet's py.typed) and also runs it."""
from __future__ import annotations

import numpy as np

import glassnet as gn
from glassnet import nn, optim
from glassnet.utils.data import DataLoader, TensorDataset


class Net(nn.Module):
    def __init__(self, n_in: int, n_hidden: int, n_out: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(n_in, n_hidden)
        self.act = nn.ReLU()
        self.fc2 = nn.Linear(n_hidden, n_out)

    def forward(self, x: gn.Tensor) -> gn.Tensor:
        return self.fc2(self.act(self.fc1(x)))


def train(epochs: int = 2, seed: int = 0) -> float:
    gn.manual_seed(seed)
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(64, 8)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    loader = DataLoader(TensorDataset(gn.from_numpy(X), gn.from_numpy(y)), batch_size=16,
                        shuffle=True)
    model = Net(8, 16, 2)
    loss_fn = nn.CrossEntropyLoss()
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    sched = optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    last = 0.0
    for _ in range(epochs):
        model.train()
        for xb, yb in loader:
            opt.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
            last = float(loss.item())
        sched.step()
    model.eval()
    with gn.no_grad():
        logits: gn.Tensor = model(gn.tensor(X))
        acc = float((logits.argmax(dim=1) == gn.tensor(y)).float().mean())
    state = model.state_dict()
    model.load_state_dict(state)
    return last + 0 * acc


if __name__ == "__main__":
    print(f"final loss {train():.4f}")
