"""Convolution and pooling with the decks' own numbers: the 4x4 example, Sobel, the 5x5
examples with and without padding and stride, the curve detector, the RGB convolution
with padding, every output-size formula, the padding modes, and each kind of pooling.

Decks: 004 (mechanics of convolution, padding modes), 001 (kernels, padding, stride,
depth, pooling, layer examples), 000 (the RGB example, output size, pooling summary),
003 (2-D convolution, curve detector, stride and padding formulas, the pooling table).
Run: ``python examples/course/convolution.py``.
"""
from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _course import Checks  # noqa: E402

import glassnet as gn  # noqa: E402
import glassnet.nn.functional as F  # noqa: E402
from glassnet import nn  # noqa: E402
from glassnet.nn import kernels  # noqa: E402


def img(a: object) -> gn.Tensor:
    """A 2-D list as a (1, 1, H, W) float64 tensor."""
    return gn.tensor(np.asarray(a, dtype=np.float64)[None, None])


def conv(x: object, k: object, **kw: object) -> np.ndarray:
    return F.conv2d(img(x), img(k), **kw).numpy()[0, 0]


def single_channel(c: Checks) -> None:
    # deck 004: a 4x4 image and a 2x2 filter; output (4 - 2 + 1) x (4 - 2 + 1)
    image = [[0, 10, 10, 0], [20, 30, 30, 20], [10, 20, 20, 10], [0, 5, 5, 0]]
    out = conv(image, [[1, 0], [0, 2]])
    c.check("004 conv", "4x4 * 2x2: output size", (3, 3), out.shape)
    c.check("004 conv", "first row: 1*0+0*10+0*20+30*2 = 60, 70, 50", [60, 70, 50], out[0])
    c.check("004 conv", "last row", [20, 30, 20], out[2])
    # deck 001: a Sobel kernel on one 3x3 window
    window = [[3, 2, 1], [1, 2, 3], [1, 1, 1]]
    c.check("001 kernel", "Sobel: -3 + 1 - 2 + 6 - 1 + 1 = 2", 2.0,
            conv(window, kernels.sobel_x())[0, 0])
    # deck 001: 5x5 input and 3x3 kernel, without padding, with padding, with stride 2
    x5 = [[1, 2, 0, 3, 1], [1, 0, 0, 2, 2], [2, 1, 2, 1, 1], [0, 0, 1, 0, 0], [1, 2, 1, 1, 1]]
    k3 = [[-1, 1, 2], [1, 1, 0], [-1, -2, 0]]
    c.check("001 pad", "without padding: 3x3 output", (3, 3), conv(x5, k3).shape)
    padded = conv(x5, k3, padding=1)
    c.check("001 pad", "zero padding 1: 5x5 output", (5, 5), padded.shape)
    c.check("001 pad", "... whose first value is -1", -1.0, padded[0, 0])
    c.check("001 pad", "stride 2 with padding: 3x3", (3, 3), conv(x5, k3, padding=1, stride=2).shape)
    c.check("001 pad", "padding='same' equals padding 1 for 3x3", padded, conv(x5, k3, padding="same"))
    # deck 003: the 5x5 binary image and the 3x3 "x" kernel (the deck shows the first
    # window, 1x1 + 1x0 + 1x1 + ... = 4; the full map is the UFLDL tutorial's)
    b5 = [[1, 1, 1, 0, 0], [0, 1, 1, 1, 0], [0, 0, 1, 1, 1], [0, 0, 1, 1, 0], [0, 1, 1, 0, 0]]
    out = conv(b5, [[1, 0, 1], [0, 1, 0], [1, 0, 1]])
    c.check("003 conv", "first value of the convolved feature", 4.0, out[0, 0])
    c.check("003 conv", "convolved feature", [[4, 3, 4], [2, 4, 3], [2, 3, 4]], out)
    # deck 003: a curve detector (30 along a curve) on an image patch holding that curve:
    # (50*30) + (50*30) + (50*30) + (20*30) + (50*30) = 6600
    detector = np.zeros((7, 7))
    for r, col in ((0, 5), (1, 4), (2, 3), (3, 3), (4, 3), (5, 3)):
        detector[r, col] = 30
    patch = np.zeros((7, 7))
    patch[0, 6] = 30
    patch[1, 4:] = 50
    patch[2, 3:5] = [20, 50]
    patch[3:7, 3:5] = 50
    c.check("003 curve", "curve detector on the curve", 6600.0, conv(patch, detector)[0, 0])
    c.check("003 curve", "... and on an empty patch", 0.0, conv(np.zeros((7, 7)), detector)[0, 0])


def rgb(c: Checks) -> None:
    # deck 000: a 5x5x3 image, zero padding 1, one 3x3x3 kernel and bias 1. The deck's text
    # keeps the three channels and the green kernel; the red and blue kernels and the final
    # value -25 are those of the figure it reproduces (Saha 2018).
    R = [[156, 155, 156, 158, 158], [153, 154, 157, 159, 159], [149, 151, 155, 158, 159],
         [146, 146, 149, 153, 158], [145, 143, 143, 148, 158]]
    G = [[167, 166, 167, 169, 169], [164, 165, 168, 170, 170], [160, 162, 166, 169, 170],
         [156, 156, 159, 163, 168], [155, 153, 153, 158, 168]]
    B = [[163, 162, 163, 165, 165], [160, 161, 164, 166, 166], [156, 158, 162, 165, 166],
         [155, 155, 158, 162, 167], [154, 152, 152, 157, 167]]
    K = [[[-1, -1, 1], [0, 1, -1], [0, 1, 1]],
         [[1, 0, 0], [1, -1, -1], [1, 0, -1]],
         [[0, 1, 1], [0, 1, 0], [1, -1, 1]]]
    x = gn.tensor(np.array([R, G, B], dtype=np.float64)[None])          # (1, 3, 5, 5)
    w = gn.tensor(np.array(K, dtype=np.float64)[None])                  # (1, 3, 3, 3)
    per_channel = F.conv2d(x, w.reshape(3, 1, 3, 3), padding=1, groups=3) \
        if _has_groups() else gn.cat([F.conv2d(x[:, i:i + 1], w[:, i:i + 1], padding=1)
                                      for i in range(3)], dim=1)
    first = per_channel.numpy()[0, :, 0, 0]
    c.check("000 rgb", "red and green channels' sums at the corner", [308, -498], first[:2])
    c.check("000 rgb", "blue channel's sum", 164, first[2])
    out = F.conv2d(x, w, gn.tensor([1.0], dtype=gn.float64), padding=1).numpy()
    c.check("000 rgb", "308 - 498 + 164 + bias 1", -25, out[0, 0, 0, 0])
    c.check("000 rgb", "output: one 5x5 map per kernel", (1, 1, 5, 5), out.shape)


def _has_groups() -> bool:
    import inspect
    return "groups" in inspect.signature(F.conv2d).parameters


def sizes(c: Checks) -> None:
    def out_size(n: int, f: int, s: int = 1, p: int = 0, **kw: object) -> int:
        return F.conv2d(gn.zeros(1, 1, n, n), gn.zeros(1, 1, f, f), stride=s, padding=p).shape[-1]

    for s, want in ((1, 5), (2, 3)):
        c.check("000 size", f"N = 7, F = 3, stride {s}: (7 - 3)/{s} + 1", want, out_size(7, 3, s))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        layer = nn.Conv2d(1, 1, 3, stride=3)
        n3 = layer(gn.zeros(1, 1, 7, 7)).shape[-1]
    c.check("000 size", "stride 3: (7 - 3)/3 + 1 = 2.33 does not fit -> floor 2", 2, n3)
    c.check("000 size", "... and glassnet warns with the arithmetic", True,
            any("2.33" in str(w.message) for w in caught))
    c.check("000 size", "7x7, F = 3, pad 1: 7x7 output", 7, out_size(7, 3, 1, 1))
    for f, p in ((3, 1), (5, 2), (7, 3)):
        c.check("000 size", f"F = {f}, pad (F - 1)/2 = {p} keeps 32", 32, out_size(32, f, 1, p))
    c.check("000 size", "32 -> 28 -> 24 with 5x5 filters", [28, 24],
            [out_size(32, 5), out_size(28, 5)])
    x = gn.zeros(1, 3, 32, 32)
    c.check("000 size", "six 5x5 filters on 32x32x3: 28x28x6", (1, 6, 28, 28),
            nn.Conv2d(3, 6, 5)(x).shape)
    layer = nn.Conv2d(3, 10, 5, stride=1, padding=2)
    c.check("001 size", "ten 5x5 filters, stride 1, pad 2: (32+2*2-5)/1+1 = 32 -> 32x32x10",
            (1, 10, 32, 32), layer(x).shape)
    c.check("001 size", "a 5x5 kernel on RGB: 5x5x3 = 75 weights", 75, layer.weight[0].numel())
    c.check("000 size", "(F*F*D1)*K weights and K biases = 750 + 10", [750, 10],
            [layer.weight.numel(), layer.bias.numel()])
    c.check("003 size", "W = 5, F = 3, stride 2: (5 - 3)/2 + 1 = 2", 2, out_size(5, 3, 2))
    c.check("003 size", "W = 5, F = 3, pad 2, stride 3: (5 - 3 + 2x2)/3 + 1 = 3", 3,
            out_size(5, 3, 3, 2))
    c.check("003 size", "150x150x24 input, n = 8 kernels kxkx24 -> depth 8", 8,
            nn.Conv2d(24, 8, 3)(gn.zeros(1, 24, 150, 150)).shape[1])
    n, k = 9, 3
    c.check("004 pad", "valid N - K + 1, same N, full N + K - 1 (N = 9, K = 3)", [7, 9, 11],
            [out_size(n, k), F.conv2d(gn.zeros(1, 1, n, n), gn.zeros(1, 1, k, k),
                                      padding="same").shape[-1], out_size(n, k, 1, k - 1)])
    fc = 200 * 200 * 3
    c.check("001 size", "fully connected 200x200x3 -> 200x200x3: 14,400,000,000 weights",
            14_400_000_000, fc * fc)
    im = gn.zeros(3, 500, 500, dtype=gn.uint8)
    c.check("004 image", "a 500x500 RGB image in uint8: 750,000 bytes = 6 million bits",
            [750_000, 6_000_000], [im.numel() * im.element_size(), im.numel() * im.element_size() * 8])


def pooling(c: Checks) -> None:
    # the single depth slice of deck 001's 2x2 max pool (input of the cs231n figure it shows)
    x = img([[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]])
    c.check("001 pool", "max pool 2x2 stride 2", [[6, 8], [3, 4]], F.max_pool2d(x, 2, 2).numpy()[0, 0])
    avg = F.avg_pool2d(x, 2, 2).numpy()[0, 0]
    c.check("001 pool", "average pool 2x2 stride 2", [[3.25, 5.25], [2, 2]], avg)
    c.check("003 pool", "max + average (the table's mixed form)", [[9.25, 13.25], [5, 6]],
            nn.MaxAvgPool2d(2)(x).numpy()[0, 0])
    c.check("001 pool", "L2 pool: sqrt of the sum of squares", np.sqrt([[63, 133], [18, 26]]),
            nn.LPPool2d(2, 2)(x).numpy()[0, 0], 1e-12)
    gn.manual_seed(0)
    sp = nn.StochasticPool2d(2)
    sp.train()
    picks = np.stack([sp(x).numpy()[0, 0] for _ in range(200)])
    windows = [[{1, 5, 6}, {2, 4, 7, 8}], [{1, 2, 3}, {0, 1, 3, 4}]]
    inside = all(picks[i, r, q] in windows[r][q] for i in range(200) for r in range(2) for q in range(2))
    c.check("003 pool", "stochastic pool (training) picks a value of its window", True, inside)
    freq = (picks[:, 0, 0] == 6).mean()
    c.check("003 pool", "... with probability x / sum(window): P(6) = 6/13", 6 / 13, freq, 0.1)
    c.check("000 pool", "(W - F)/S + 1 with F = 2, S = 2 on 32: 16; depth kept", (1, 5, 16, 16),
            F.max_pool2d(gn.zeros(1, 5, 32, 32), 2, 2).shape)
    c.check("000 pool", "pooling has zero parameters", 0,
            sum(p.numel() for p in nn.MaxPool2d(2).parameters()))


def run() -> Checks:
    c = Checks("Convolution and pooling (decks 000, 001, 003, 004)")
    single_channel(c)
    rgb(c)
    sizes(c)
    pooling(c)
    return c


if __name__ == "__main__":
    raise SystemExit(run().finish())
