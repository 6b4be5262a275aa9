"""A user's script on glassnet.nn and glassnet.optim, PyTorch style: parameter groups,
schedulers, containers, recurrent layers and LBFGS. tests/typing/test_nn_optim_types.py
checks it with mypy (the annotations of nn and optim must accept it) and runs it."""
from __future__ import annotations

import numpy as np

import glassnet as gn
from glassnet import nn, optim
from glassnet.optim import lr_scheduler as sch


def main() -> list[float]:
    gn.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Dropout(0.1), nn.Linear(8, 2))
    first: nn.Module = model[0]
    tail: nn.Sequential = model[1:]
    layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    rest: nn.ModuleList = layers[1:]
    heads = nn.ModuleDict({"a": nn.Linear(2, 2)})
    heads["b"] = nn.Linear(2, 3)
    names = [k for k in heads]
    opt = optim.Adam([{"params": model[0].parameters(), "lr": 1e-3},
                      {"params": model[3].parameters()}], lr=1e-2, betas=(0.9, 0.99))
    sgd = optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True)
    by_name = optim.get("adam", model.named_parameters(), lr=1e-3)
    one_cycle = sch.OneCycleLR(sgd, max_lr=0.1, total_steps=100)
    warm_cos = sch.SequentialLR(opt, [sch.LinearLR(opt, 0.1, total_iters=5),
                                      sch.CosineAnnealingLR(opt, 10)], [5])
    plateau = sch.ReduceLROnPlateau(by_name, factor=0.5)
    x = gn.randn(5, 4)
    loss = nn.CrossEntropyLoss(label_smoothing=0.1)(model(x), gn.tensor(np.array([0, 1, 0, 1, 1])))
    loss.backward()
    total: gn.Tensor = nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    opt.zero_grad()
    one_cycle.step()
    warm_cos.step()
    plateau.step(float(loss))
    out, (h, c) = nn.LSTM(4, 6, batch_first=True)(gn.randn(2, 3, 4))
    seq, h_n = nn.GRU(4, 6)(gn.randn(3, 2, 4))
    h1, c1 = nn.LSTMCell(4, 5)(gn.randn(2, 4))
    w = nn.init.kaiming_uniform_(nn.Parameter(np.zeros((3, 3))), a=5 ** 0.5)
    fan_in, fan_out = nn.init.calculate_fan_in_and_fan_out(w)
    keys = model.load_state_dict(model.state_dict())
    lbfgs = optim.LBFGS(model.parameters(), lr=0.5)

    def closure() -> gn.Tensor:
        lbfgs.zero_grad()
        value = model(x).sum()
        value.backward()
        return value
    first_loss: gn.Tensor = lbfgs.step(closure)
    pooled = nn.AdaptiveAvgPool2d((None, 2))(gn.randn(1, 3, 5, 4))
    handle = model.register_forward_hook(lambda mod, args, output: None)
    handle.remove()
    lrs: list[float] = one_cycle.get_last_lr() + warm_cos.get_last_lr()
    assert isinstance(first, nn.Linear) and len(tail) == 3 and len(rest) == 2
    assert names == ["a", "b"] and not keys.missing_keys and fan_in == fan_out == 3
    assert out.shape == (2, 3, 6) and h.shape == c.shape == (1, 2, 6) and seq.shape == (3, 2, 6)
    assert h_n.shape == (1, 2, 6) and h1.shape == c1.shape == (2, 5)
    assert pooled.shape == (1, 3, 5, 2) and float(total) >= 0 and float(first_loss) == float(first_loss)
    return lrs


if __name__ == "__main__":
    print("learning rates", main())
