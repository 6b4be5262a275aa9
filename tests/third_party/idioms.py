"""The PyTorch idioms the cited scripts in tests/third_party use, each checked on glassnet
against real PyTorch.

Each idiom is a few lines written the way the scripts write them, run twice: once with
``torch``, ``nn``, ``F``, ``optim`` bound to PyTorch, once bound to glassnet (``F`` is
``glassnet.nn.functional``). The value left in ``out`` is compared: tensors by type,
shape, dtype and values (``compare="shape"`` for random draws: type, shape and dtype
only), Python values by equality. The status is

  ok       same result
  missing  glassnet raised (AttributeError, ImportError, TypeError, ...)
  differs  both ran but the results differ (the silent kind: worst)
  n/a      PyTorch side cannot run here (torchvision is not installed)

This is groundwork for the parity suite of issue 14, not that suite: it covers exactly
what these scripts call, so the team can see which gaps block which script. ``scripts``
names them by the codes in SCRIPT_CODES; an entry in parentheses is an idiom of a
well-known script that is not stored here (today's mnist/main.py, yunjey/pytorch-tutorial,
the examples' regression/main.py) or one of issue 14's own cases.

    PYTHONPATH=src python tests/third_party/idioms.py             # table on stdout
    PYTHONPATH=src python tests/third_party/idioms.py --json out.json
"""
from __future__ import annotations

import argparse
import importlib
import io
import json
import math
import os
import sys
import tempfile
import textwrap
import traceback
from dataclasses import dataclass

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run_script import rewrite_imports  # noqa: E402

# script codes used below
SCRIPT_CODES = {
    "MN": "pytorch_examples_mnist", "VAE": "pytorch_examples_vae",
    "TS": "pytorch_examples_time_sequence", "QS": "tutorials_quickstart",
    "NN": "tutorials_neural_networks", "PN": "tutorials_polynomial_nn",
    "PC": "tutorials_polynomial_custom_function", "SM": "tutorials_sequence_models",
    "WE": "tutorials_word_embeddings", "MG": "micrograd_test_engine",
    "BG": "ngvl_bigram", "GPT": "ngvl_gpt",
}


@dataclass
class Idiom:
    id: str
    area: str
    scripts: str            # space-separated script codes
    code: str
    compare: str = "value"  # "value", "shape" (random values), "type" (kind of object only)
    module: str | None = None  # an import idiom: the module path to import


I = Idiom
IDIOMS = [
    # --- imports -------------------------------------------------------------------------
    I("import torch.nn.functional as F", "import", "MN NN SM WE", "", module="torch.nn.functional"),
    I("from torch.nn import functional as F", "import", "VAE BG GPT",
      "from torch.nn import functional as F2\nout = callable(F2.relu)"),
    I("import torch.utils.data", "import", "VAE", "", module="torch.utils.data"),
    I("from torch.utils.data import DataLoader", "import", "QS", "", module="torch.utils.data"),
    I("import torch.autograd as autograd", "import", "SM", "", module="torch.autograd"),
    I("import torch.optim as optim", "import", "MN TS SM WE", "", module="torch.optim"),
    I("from torch.optim.lr_scheduler import StepLR", "import", "(modern MN)", "",
      module="torch.optim.lr_scheduler"),
    I("from torchvision import datasets, transforms", "import", "MN VAE QS", "",
      module="torchvision"),
    I("from torchvision.utils import save_image", "import", "VAE", "", module="torchvision.utils"),

    # --- devices ------------------------------------------------------------------------
    I("torch.cuda.is_available()", "device", "MN VAE QS BG GPT", "out = torch.cuda.is_available()"),
    I("torch.backends.mps.is_available()", "device", "QS",
      "out = torch.backends.mps.is_available()"),
    I("torch.device('cpu')", "device", "MN VAE PC", "out = str(torch.device('cpu'))"),
    I("tensor.to(torch.device('cpu'))", "device", "MN VAE",
      "out = torch.tensor([1.0, 2.0]).to(torch.device('cpu'))"),
    I("tensor.to('cpu') (a string)", "device", "QS BG GPT",
      "out = torch.tensor([1.0, 2.0]).to('cpu')"),
    I("module.to(device) returns the module", "device", "MN VAE QS BG GPT",
      "m = nn.Linear(2, 2)\nout = m.to('cpu') is m"),
    I("tensor.cpu()", "device", "VAE", "out = torch.tensor([1.0]).cpu()"),
    I("factory device= keyword", "device", "PC BG GPT",
      "out = torch.zeros((1, 1), device='cpu')"),

    # --- dtypes and construction ---------------------------------------------------------
    I("torch.float", "dtype", "PC QS", "out = str(torch.float).replace('torch.', '')"),
    I("torch.long", "dtype", "BG GPT WE", "out = str(torch.long).replace('torch.', '')"),
    I("torch.double", "dtype", "TS", "out = str(torch.double).replace('torch.', '')"),
    I("torch.tensor(list of ints) is int64", "tensor", "PN",
      "out = torch.tensor([1, 2, 3])"),
    I("torch.tensor(list, dtype=torch.long)", "tensor", "BG GPT WE",
      "out = torch.tensor([3, 1, 2], dtype=torch.long)"),
    I("torch.Tensor([floats]) constructor", "tensor", "MG", "out = torch.Tensor([-4.0])"),
    I("torch.LongTensor(list)", "tensor", "SM", "out = torch.LongTensor([0, 2, 1])"),
    I("autograd.Variable(t)", "autograd", "SM",
      "import torch.autograd as ag\nout = ag.Variable(torch.tensor([1.0, 2.0]))"),
    I("torch.from_numpy(float64 array) keeps float64", "tensor", "TS",
      "out = torch.from_numpy(np.array([[0.5, 1.5]], dtype=np.float64))"),
    I("torch.zeros(n, m, dtype=torch.double)", "tensor", "TS",
      "out = torch.zeros(2, 3, dtype=torch.double)"),
    I("torch.zeros(n) then losses[k] = float", "tensor", "BG GPT",
      "z = torch.zeros(3)\nz[1] = 2.5\nout = z"),
    I("torch.ones(n, n)", "tensor", "GPT", "out = torch.ones(2, 3)"),
    I("torch.randn(shape tuple)", "tensor", "SM", "out = torch.randn((1, 3))", "shape"),
    I("torch.randn(*sizes)", "tensor", "NN VAE", "out = torch.randn(1, 1, 4, 4)", "shape"),
    I("torch.randn_like(t)", "tensor", "VAE", "out = torch.randn_like(torch.zeros(2, 3))", "shape"),
    I("torch.randint(high, (n,))", "tensor", "BG GPT", "out = torch.randint(10, (4,))", "shape"),
    I("torch.linspace(a, b, n)", "tensor", "PN", "out = torch.linspace(-math.pi, math.pi, 5)"),
    I("torch.linspace(..., device=, dtype=)", "tensor", "PC",
      "out = torch.linspace(-1.0, 1.0, 5, device=torch.device('cpu'), dtype=torch.float)"),
    I("torch.full((), v, dtype=, requires_grad=True)", "tensor", "PC",
      "out = torch.full((), 0.3, dtype=torch.float, requires_grad=True)"),
    I("torch.arange(T)", "tensor", "GPT", "out = torch.arange(4)"),
    I("torch.arange(12.) is float32", "tensor", "(common)", "out = torch.arange(6.)"),
    I("torch.tril(torch.ones(T, T))", "tensor", "GPT", "out = torch.tril(torch.ones(3, 3))"),
    I("torch.manual_seed(s)", "tensor", "MN VAE TS SM WE BG GPT",
      "torch.manual_seed(1)\nout = True"),
    I("tensor.double()", "dtype", "MG", "out = torch.tensor([1.5]).double()"),
    I("t.type(torch.float)", "dtype", "QS", "out = torch.tensor([True, False]).type(torch.float)"),
    I("print(y.dtype) of labels shows torch.int64", "print", "QS",
      "out = str(torch.tensor([1, 2]).dtype)"),
    I("print(X.shape) shows torch.Size([...])", "print", "QS",
      "out = str(torch.zeros(2, 3).shape)"),
    I("print(tensor) of floats", "print", "NN SM WE",
      "out = repr(torch.tensor([[0.1, -0.018, 2.0]]))"),
    I("torch.tensor(float64 ndarray) keeps float64", "dtype", "TS",
      "out = torch.tensor(np.array([0.5, 1.5]))"),

    # --- shapes and views ----------------------------------------------------------------
    I("x.shape is a torch.Size (tuple)", "shape", "QS BG GPT",
      "s = torch.zeros(2, 3).shape\nB, T = s\nout = (isinstance(s, tuple), B, T)"),
    I("x.size() / params[0].size()", "shape", "NN", "out = tuple(torch.zeros(2, 3).size())"),
    I("x.size(0)", "shape", "VAE TS", "out = torch.zeros(2, 3).size(0)"),
    I("x.view(-1, n)", "shape", "MN VAE", "out = seq(12).view(-1, 4)"),
    I("x.view(B*T, C) on a non-leaf", "shape", "BG GPT",
      "x = seq(2, 3, 4) * 1.0\nout = x.view(6, 4)"),
    I("x.view((1, -1)) (a tuple)", "shape", "WE", "out = seq(6).view((1, -1))"),
    I("x.view(1, 1, -1)", "shape", "SM", "out = seq(3).view(1, 1, -1)"),
    I("target.view_as(pred)", "shape", "MN",
      "out = torch.tensor([1, 2]).view_as(torch.zeros(2, 1))"),
    I("x.reshape(-1, a, b)", "shape", "(yunjey RNN)", "out = seq(12).reshape(-1, 2, 3)"),
    I("torch.flatten(x, 1)", "shape", "NN (modern MN)",
      "out = torch.flatten(seq(2, 3, 4), 1)"),
    I("x.unsqueeze(-1)", "shape", "PN", "out = seq(3).unsqueeze(-1)"),
    I("x.split(1, dim=1)", "shape", "TS",
      "out = seq(2, 3).split(1, dim=1)"),
    I("torch.cat(list) (dim 0)", "shape", "SM VAE",
      "out = torch.cat([torch.zeros(1, 3), torch.ones(1, 3)])"),
    I("torch.cat(list, dim=1)", "shape", "TS BG GPT",
      "out = torch.cat([torch.zeros(2, 1), torch.ones(2, 2)], dim=1)"),
    I("torch.cat(tuple, dim=-1)", "shape", "GPT",
      "out = torch.cat((torch.zeros(2, 1), torch.ones(2, 2)), dim=-1)"),
    I("torch.stack(list of slices)", "shape", "BG GPT",
      "d = torch.arange(10)\nout = torch.stack([d[i:i + 3] for i in [0, 4]])"),
    I("for i in tensor: d[i:i+k] (0-d tensor as slice bound)", "index", "BG GPT",
      "d = torch.arange(10)\nout = [d[i:i + 2].tolist() for i in torch.tensor([1, 5])]"),
    I("k.transpose(-2, -1)", "shape", "GPT",
      "out = seq(2, 3, 4).transpose(-2, -1)"),
    I("x.transpose(0, 1) on a matrix", "shape", "(issue 14)",
      "out = seq(2, 3).transpose(0, 1)"),
    I("len(tensor)", "shape", "MN SM BG GPT", "out = len(torch.zeros(5, 2))"),
    I("t.numel()", "shape", "GPT", "out = torch.zeros(3, 4).numel()"),

    # --- indexing ------------------------------------------------------------------------
    I("x[:n] slicing", "index", "VAE BG GPT", "out = seq(5)[:3]"),
    I("x[:, -1, :]", "index", "BG GPT", "out = seq(2, 3, 4)[:, -1, :]"),
    I("x[:, -k:]", "index", "GPT", "out = seq(2, 6)[:, -2:]"),
    I("pred[:, :-k]", "index", "TS", "out = seq(2, 6)[:, :-2]"),
    I("w[:, 0].item()", "index", "PN", "out = torch.tensor([[1.5, 2.5, 3.5]])[:, 0].item()"),
    I("tril[:T, :T] == 0 (bool mask)", "index", "GPT",
      "out = torch.tril(torch.ones(3, 3))[:2, :2] == 0"),
    I("list[0-d tensor] (argmax as an index)", "index", "QS",
      "out = ['a', 'b', 'c'][torch.tensor([0.1, 0.9, 0.3]).argmax(0)]"),
    I("tensor[0][0] of a dataset sample tuple", "index", "QS",
      "pair = (torch.zeros(1, 2), 3)\nout = pair[0][0]"),

    # --- elementwise math ----------------------------------------------------------------
    I("scalar + tensor, scalar * tensor", "math", "MG VAE PC",
      "x = torch.tensor([-4.0]).double()\nout = 2 * x + 2 + x"),
    I("10.0 / tensor (rtruediv)", "math", "MG", "out = 10.0 / torch.tensor([4.0]).double()"),
    I("tensor ** int, -tensor", "math", "MG PC",
      "b = torch.tensor([2.0]).double()\nout = b ** 3 + (-b)"),
    I("tensor.pow(int)", "math", "VAE PC", "out = torch.tensor([1.0, 2.0]).pow(2)"),
    I("x.pow(p) with a tensor exponent (broadcast)", "math", "PN",
      "out = torch.tensor([2.0, 3.0]).unsqueeze(-1).pow(torch.tensor([1, 2, 3]))"),
    I("tensor.relu()", "math", "MG", "out = torch.tensor([-1.0, 2.0]).relu()"),
    I("tensor.exp()", "math", "VAE", "out = torch.tensor([0.0, 1.0]).exp()"),
    I("torch.exp(t)", "math", "VAE", "out = torch.exp(torch.tensor([0.0, 1.0]))"),
    I("torch.sin(t)", "math", "PN PC", "out = torch.sin(torch.tensor([0.0, 1.0]))"),
    I("torch.sigmoid(t)", "math", "VAE", "out = torch.sigmoid(torch.tensor([0.0, 1.0]))"),
    I("torch.sum(t)", "math", "VAE", "out = torch.sum(torch.tensor([1.0, 2.0]))"),
    I("t.sum() / t.mean()", "math", "PC BG GPT",
      "t = torch.tensor([1.0, 2.0, 4.0])\nout = (t.sum(), t.mean())"),
    I("k.shape[-1] ** -0.5 * (q @ k^T) (batched @)", "math", "GPT",
      "q = torch.ones(2, 3, 4); k = torch.ones(2, 3, 4)\n"
      "out = q @ k.transpose(-2, -1) * k.shape[-1] ** -0.5"),
    I("wei @ v (3-D @ 3-D)", "math", "GPT",
      "out = torch.ones(2, 3, 3) @ seq(2, 3, 4)"),
    I("x.mm(W)", "math", "(examples regression)",
      "out = torch.ones(2, 3).mm(torch.ones(3, 1))"),
    I("(B,T,C) + (T,C) broadcasting", "math", "GPT",
      "out = torch.zeros(2, 3, 4) + seq(3, 4)"),
    I("t.masked_fill(mask, float('-inf'))", "math", "GPT",
      "m = torch.tensor([[1.0, 0.0], [1.0, 1.0]]) == 0\n"
      "out = torch.zeros(2, 2).masked_fill(m, float('-inf'))"),
    I("pred.eq(target).sum().item()", "compare", "MN",
      "out = torch.tensor([[1], [2]]).eq(torch.tensor([[1], [3]])).sum().item()"),
    I("(a == b) gives a bool tensor", "compare", "QS BG",
      "out = torch.tensor([1, 2]) == torch.tensor([1, 3])"),
    I("out.max(1, keepdim=True)[1] (indices)", "reduce", "MN",
      "out = torch.tensor([[0.1, 0.7, 0.2], [0.5, 0.2, 0.3]]).max(1, keepdim=True)[1]"),
    I("_, predicted = torch.max(out.data, 1)", "reduce", "(yunjey CNN)",
      "_, out = torch.max(torch.tensor([[0.1, 0.7, 0.2], [0.5, 0.2, 0.3]]), 1)"),
    I("pred.argmax(1)", "reduce", "QS", "out = torch.tensor([[0.1, 0.7], [0.5, 0.2]]).argmax(1)"),
    I("output.argmax(dim=1, keepdim=True)", "reduce", "(modern MN)",
      "out = torch.tensor([[0.1, 0.7], [0.5, 0.2]]).argmax(dim=1, keepdim=True)"),
    I("torch.multinomial(probs, num_samples=1)", "random", "BG GPT",
      "out = torch.multinomial(torch.tensor([[0.0, 1.0, 0.0]]), num_samples=1)"),
    I("f'{t:.4f}' on a 0-d tensor", "format", "BG GPT",
      "out = f'{torch.tensor([1.0, 2.0]).mean():.4f}'"),
    I("t.item()", "convert", "all", "out = torch.tensor([[2.5]]).item()"),
    I("t.tolist()", "convert", "BG GPT", "out = torch.tensor([[1, 2]])[0].tolist()"),
    I("t.detach().numpy()", "convert", "TS", "out = torch.tensor([1.0, 2.0]).detach().numpy()"),
    I("np.asarray(t) is a numeric array (t.__array__)", "convert", "(NumPy / matplotlib code)",
      "out = np.asarray(torch.tensor([1.0, 2.0]))"),
    I("t.data.item() / t.grad.item()", "convert", "MG",
      "x = torch.tensor([3.0]).double()\nx.requires_grad = True\n(x * x).backward()\n"
      "out = (x.data.item(), x.grad.item())"),
    I("t.data is a Tensor (t.data.view(-1), t.data.add_)", "convert", "(examples regression)",
      "t = torch.tensor([[1.0, 2.0]])\nout = (type(t.data).__name__, t.data.view(-1))"),

    # --- autograd ------------------------------------------------------------------------
    I("x.requires_grad = True then backward of a 1-element tensor", "autograd", "MG",
      "x = torch.tensor([-4.0]).double()\nx.requires_grad = True\n(x * x).backward()\n"
      "out = x.grad"),
    I("out.backward(torch.randn(1, 10)) (explicit gradient)", "autograd", "NN",
      "x = torch.ones(1, 3, requires_grad=True)\n(x * 2).backward(torch.ones(1, 3))\n"
      "out = x.grad"),
    I("with torch.no_grad(): param -= lr * param.grad", "autograd", "PN",
      "m = nn.Linear(2, 1)\nw0 = m.weight.detach().numpy().copy()\n"
      "m(torch.ones(3, 2)).sum().backward()\nwith torch.no_grad():\n"
      "    for p in m.parameters():\n        p -= 0.1 * p.grad\n"
      "out = ('weight updated', bool((m.weight.detach().numpy() != w0).all()), "
      "m.weight.requires_grad)"),
    I("with torch.no_grad(): a -= lr * a.grad (a plain leaf)", "autograd", "PC",
      "a = torch.tensor(1.0, requires_grad=True)\n(a * a).backward()\n"
      "a0 = a\nwith torch.no_grad():\n    a -= 0.5 * a.grad\n    a.grad = None\n"
      "out = ('same tensor', a is a0, 'requires_grad', a.requires_grad, a.item())"),
    I("@torch.no_grad() as a decorator", "autograd", "BG GPT",
      "@torch.no_grad()\ndef f(x):\n    return x * 2\n"
      "out = f(torch.ones(2, requires_grad=True)).requires_grad"),
    I("torch.autograd.Function with ctx (forward/backward staticmethods, apply)",
      "autograd", "PC",
      "class P3(torch.autograd.Function):\n    @staticmethod\n    def forward(ctx, x):\n"
      "        ctx.save_for_backward(x)\n        return 0.5 * (5 * x ** 3 - 3 * x)\n"
      "    @staticmethod\n    def backward(ctx, g):\n        x, = ctx.saved_tensors\n"
      "        return g * 1.5 * (5 * x ** 2 - 1)\n"
      "x = torch.tensor([0.5, 1.0], requires_grad=True)\nP3.apply(x).sum().backward()\n"
      "out = x.grad"),
    I("loss.grad_fn.next_functions[0][0]", "autograd", "NN",
      "x = torch.ones(2, requires_grad=True)\ny = (x * 2).sum()\n"
      "out = len(y.grad_fn.next_functions) > 0", "type"),
    I("param.grad is None after zero_grad()", "autograd", "NN",
      "m = nn.Linear(2, 1)\nm(torch.ones(1, 2)).sum().backward()\nm.zero_grad()\n"
      "out = m.bias.grad is None"),

    # --- nn layers -----------------------------------------------------------------------
    I("nn.Conv2d(1, 10, kernel_size=5)", "nn", "MN NN",
      "c = nn.Conv2d(1, 10, kernel_size=5)\nout = (c(torch.zeros(2, 1, 28, 28)).shape, "
      "tuple(c.weight.shape))"),
    I("nn.Dropout2d() in train mode keeps the shape", "nn", "MN",
      "d = nn.Dropout2d()\nout = d(torch.ones(2, 4, 3, 3))", "shape"),
    I("nn.Dropout2d() zeroes whole channels, scales the rest by 2", "nn", "MN",
      "y = nn.Dropout2d()(torch.ones(4, 8, 3, 3)).detach().numpy().reshape(32, 9)\n"
      "out = bool(all((r == 0).all() or (r == 2).all() for r in y))"),
    I("F.dropout(x, training=True) scales kept values by 1/(1-p)", "functional", "MN",
      "y = F.dropout(torch.ones(1000), training=True).detach().numpy()\n"
      "out = sorted(set(y.tolist()))"),
    I("len(list(module.parameters()))", "nn", "NN",
      "out = len(list(nn.Conv2d(1, 6, 5).parameters()))"),
    I("nn.Linear(a, b, bias=False)", "nn", "GPT",
      "out = nn.Linear(3, 2, bias=False).bias is None"),
    I("nn.Linear on a 3-D input", "nn", "GPT",
      "out = nn.Linear(4, 2)(torch.zeros(2, 3, 4)).shape"),
    I("nn.Flatten() / nn.Flatten(0, 1)", "nn", "QS PN",
      "out = (nn.Flatten()(torch.zeros(2, 3, 4)).shape, "
      "nn.Flatten(0, 1)(torch.zeros(5, 1)).shape)"),
    I("nn.Flatten() on an unbatched (1, 28, 28) image", "nn", "QS",
      "out = nn.Flatten()(torch.zeros(1, 28, 28)).shape"),
    I("nn.Sequential indexing model[0]", "nn", "PN",
      "s = nn.Sequential(nn.Linear(3, 1), nn.ReLU())\nout = type(s[0]).__name__"),
    I("nn.Sequential(*list)", "nn", "GPT",
      "out = len(nn.Sequential(*[nn.ReLU() for _ in range(3)]))"),
    I("nn.ModuleList([...]) registers parameters", "nn", "GPT",
      "class M(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
      "        self.h = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])\n"
      "out = len(list(M().parameters()))"),
    I("nn.LayerNorm(n) on (B, T, C)", "nn", "GPT",
      "out = nn.LayerNorm(4)(seq(2, 3, 4))"),
    I("nn.Embedding(n, d)(LongTensor (B, T))", "nn", "BG GPT SM WE",
      "e = nn.Embedding(10, 3)\nout = e(torch.tensor([[1, 2], [3, 4]])).shape"),
    I("nn.LSTM(3, 3) on (seq, batch, feat) with (h, c)", "nn", "SM",
      "l = nn.LSTM(3, 3)\no, (h, c) = l(torch.zeros(5, 1, 3), (torch.zeros(1, 1, 3), "
      "torch.zeros(1, 1, 3)))\nout = (o.shape, h.shape, c.shape)"),
    I("nn.LSTMCell(1, 51)(x, (h, c)) in float64", "nn", "TS",
      "l = nn.LSTMCell(1, 4)\nl.double()\nh, c = l(torch.zeros(2, 1).double(), "
      "(torch.zeros(2, 4).double(), torch.zeros(2, 4).double()))\n"
      "out = (h.shape, str(h.dtype).replace('torch.', ''))"),
    I("module.double()", "nn", "TS",
      "m = nn.Linear(2, 1)\nm.double()\nout = str(m.weight.dtype).replace('torch.', '')"),
    I("self.register_buffer('tril', t)", "nn", "GPT",
      "class M(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
      "        self.register_buffer('tril', torch.ones(2, 2))\nout = M().tril"),
    I("model.apply(fn) + isinstance(m, nn.Linear)", "nn", "GPT",
      "seen = []\nnn.Sequential(nn.Linear(2, 2), nn.ReLU()).apply("
      "lambda m: seen.append(isinstance(m, nn.Linear)))\nout = seen"),
    I("torch.nn.init.normal_(w, mean=0.0, std=0.02)", "nn", "GPT",
      "w = nn.Linear(50, 40).weight\ntorch.nn.init.normal_(w, mean=0.0, std=0.02)\n"
      "out = abs(float(w.detach().numpy().std()) - 0.02) < 0.003"),
    I("torch.nn.init.zeros_(bias)", "nn", "GPT",
      "b = nn.Linear(2, 3).bias\ntorch.nn.init.zeros_(b)\nout = b"),
    I("model.train() / model.eval() / self.training", "nn", "MN VAE QS BG GPT",
      "m = nn.Linear(2, 2)\nm.eval()\na = m.training\nm.train()\nout = (a, m.training)"),
    I("print(model) (repr)", "nn", "QS NN",
      "out = repr(nn.Sequential(nn.Linear(2, 3), nn.ReLU()))"),
    I("model.state_dict() keys", "nn", "QS",
      "out = list(nn.Sequential(nn.Linear(2, 3), nn.ReLU()).state_dict().keys())"),
    I("model.zero_grad()", "nn", "NN PN SM WE",
      "m = nn.Linear(2, 1)\nm(torch.ones(1, 2)).sum().backward()\nm.zero_grad()\nout = True"),

    # --- functional ----------------------------------------------------------------------
    I("F.relu", "functional", "MN NN VAE WE",
      "out = F.relu(torch.tensor([-1.0, 2.0]))"),
    I("F.max_pool2d(x, 2)", "functional", "MN NN",
      "out = F.max_pool2d(seq(1, 1, 4, 4), 2)"),
    I("F.max_pool2d(x, (2, 2))", "functional", "NN",
      "out = F.max_pool2d(seq(1, 1, 4, 4), (2, 2))"),
    I("F.dropout(x, training=False) is the identity", "functional", "MN",
      "out = F.dropout(torch.ones(2, 3), training=False)"),
    I("F.log_softmax(x, dim=1)", "functional", "MN SM WE",
      "out = F.log_softmax(torch.tensor([[1.0, 2.0, 3.0]]), dim=1)"),
    I("F.softmax(x, dim=-1)", "functional", "BG GPT",
      "out = F.softmax(torch.tensor([[1.0, 2.0, 3.0]]), dim=-1)"),
    I("F.nll_loss(logp, target)", "functional", "MN",
      "lp = torch.tensor([[-2.4076, -1.4076, -0.4076], [-0.5514, -1.5514, -1.5514]])\n"
      "out = F.nll_loss(lp, torch.tensor([2, 0]))"),
    I("F.nll_loss(..., size_average=False) (legacy sum)", "functional", "MN",
      "lp = torch.tensor([[-2.4076, -1.4076, -0.4076], [-0.5514, -1.5514, -1.5514]])\n"
      "import warnings\nwith warnings.catch_warnings():\n    warnings.simplefilter('ignore')\n"
      "    out = F.nll_loss(lp, torch.tensor([2, 0]), size_average=False)"),
    I("F.nll_loss(..., reduction='sum')", "functional", "(modern MN)",
      "lp = torch.tensor([[-2.4076, -1.4076, -0.4076], [-0.5514, -1.5514, -1.5514]])\n"
      "out = F.nll_loss(lp, torch.tensor([2, 0]), reduction='sum')"),
    I("F.cross_entropy(logits (N, C), targets (N,))", "functional", "BG GPT",
      "out = F.cross_entropy(torch.tensor([[1.0, 2.0, 3.0], [1.0, 0.0, 0.0]]), "
      "torch.tensor([2, 0]))"),
    I("F.binary_cross_entropy(p, x, reduction='sum')", "functional", "VAE",
      "out = F.binary_cross_entropy(torch.tensor([0.2, 0.9]), torch.tensor([0.0, 1.0]), "
      "reduction='sum')"),

    # --- losses --------------------------------------------------------------------------
    I("nn.CrossEntropyLoss()", "loss", "QS",
      "out = nn.CrossEntropyLoss()(torch.tensor([[1.0, 2.0, 3.0]]), torch.tensor([2]))"),
    I("nn.NLLLoss()", "loss", "SM WE",
      "out = nn.NLLLoss()(torch.tensor([[-1.0, -2.0, -0.5]]), torch.tensor([2]))"),
    I("nn.MSELoss()", "loss", "NN TS",
      "out = nn.MSELoss()(torch.tensor([[1.0, 2.0]]), torch.tensor([[0.0, 0.0]]))"),
    I("nn.MSELoss(reduction='sum') with (N,) vs (N,)", "loss", "PN",
      "out = torch.nn.MSELoss(reduction='sum')(torch.tensor([1.0, 2.0]), "
      "torch.tensor([0.0, 0.0]))"),

    # --- optim ---------------------------------------------------------------------------
    I("optim.SGD(params, lr, momentum)", "optim", "MN SM WE QS",
      "m = nn.Linear(2, 1)\nopt = optim.SGD(m.parameters(), lr=0.01, momentum=0.5)\n"
      "m(torch.ones(1, 2)).sum().backward()\nopt.step()\nopt.zero_grad()\nout = True"),
    I("optim.Adam(params, lr=1e-3)", "optim", "VAE",
      "m = nn.Linear(2, 1)\nopt = optim.Adam(m.parameters(), lr=1e-3)\nout = True"),
    I("torch.optim.AdamW(params, lr)", "optim", "BG GPT",
      "m = nn.Linear(2, 1)\nopt = torch.optim.AdamW(m.parameters(), lr=1e-2)\nout = True"),
    I("optimizer.zero_grad(set_to_none=True)", "optim", "BG GPT",
      "m = nn.Linear(2, 1)\nopt = optim.SGD(m.parameters(), lr=0.1)\n"
      "m(torch.ones(1, 2)).sum().backward()\nopt.zero_grad(set_to_none=True)\n"
      "out = m.weight.grad is None"),
    I("optim.LBFGS(params, lr=0.8).step(closure)", "optim", "TS",
      "m = nn.Linear(1, 1)\nopt = optim.LBFGS(m.parameters(), lr=0.8)\n"
      "x = torch.tensor([[1.0], [2.0]]); y = torch.tensor([[2.0], [4.0]])\n"
      "def closure():\n    opt.zero_grad()\n    l = ((m(x) - y) ** 2).mean()\n"
      "    l.backward()\n    return l\nopt.step(closure)\n"
      "out = ((m(x) - y) ** 2).mean().item() < 1e-3"),
    I("StepLR(optimizer, step_size=1, gamma=0.7)", "optim", "(modern MN)",
      "from torch.optim.lr_scheduler import StepLR\nopt = optim.SGD(nn.Linear(1, 1)"
      ".parameters(), lr=1.0)\ns = StepLR(opt, step_size=1, gamma=0.7)\nopt.step()\ns.step()\n"
      "out = round(opt.param_groups[0]['lr'], 6)"),

    # --- data ----------------------------------------------------------------------------
    I("torch.utils.data.DataLoader(ds, batch_size, shuffle=True) over (img, int) pairs",
      "data", "MN VAE QS",
      "class DS:\n    def __len__(self): return 5\n"
      "    def __getitem__(self, i): return torch.ones(1, 2, 2) * i, i\n"
      "import torch.utils.data as tud\nb = list(tud.DataLoader(DS(), batch_size=2))\n"
      "out = (len(b), b[0][0].shape, b[0][1], str(b[0][1].dtype).replace('torch.', ''))"),
    I("len(loader), len(loader.dataset)", "data", "MN VAE QS",
      "class DS:\n    def __len__(self): return 5\n"
      "    def __getitem__(self, i): return torch.ones(2), i\n"
      "import torch.utils.data as tud\nl = tud.DataLoader(DS(), batch_size=2)\n"
      "out = (len(l), len(l.dataset))"),

    # --- save / load ---------------------------------------------------------------------
    I("torch.save(model.state_dict(), path); load_state_dict(torch.load(path, "
      "weights_only=True))", "io", "QS",
      "m = nn.Linear(2, 3)\np = os.path.join(tmp, 'm.pth')\ntorch.save(m.state_dict(), p)\n"
      "m2 = nn.Linear(2, 3)\nm2.load_state_dict(torch.load(p, weights_only=True))\n"
      "out = bool((m2.weight == m.weight).all()) and bool((m2.bias == m.bias).all())"),
    I("torch.save(ndarray, open(f, 'wb')); torch.load(f)", "io", "TS",
      "a = np.arange(6.).reshape(2, 3)\np = os.path.join(tmp, 'a.pt')\n"
      "torch.save(a, open(p, 'wb'))\nb = torch.load(p, weights_only=False)\nout = np.asarray(b)"),
]


# ---------------------------------------------------------------------------------------

def _namespaces():
    import torch
    import torch.nn as tnn
    import torch.nn.functional as tF
    import torch.optim as toptim
    import glassnet
    gF = getattr(glassnet.nn, "functional", None)
    return {
        "torch": {"torch": torch, "nn": tnn, "F": tF, "optim": toptim},
        "glassnet": {"torch": glassnet, "nn": glassnet.nn, "F": gF, "optim": glassnet.optim},
    }


def _canon(x, depth=0):
    """A comparable picture of a result: tensors by (shape, dtype, values)."""
    if depth > 4:
        return ("deep",)
    if x is None or isinstance(x, (bool, str)):
        return x
    if isinstance(x, (int, float, np.integer, np.floating)):
        return float(x) if isinstance(x, (float, np.floating)) else int(x)
    if isinstance(x, np.ndarray):
        return ("array", x.shape, str(x.dtype), x.astype(np.float64) if x.dtype.kind in "biuf"
                else x)
    if type(x).__name__ in ("Tensor", "Parameter") or (hasattr(x, "shape") and hasattr(x, "dtype")
                                                       and hasattr(x, "backward")):
        if hasattr(x, "detach"):
            arr = x.detach()
            arr = arr.numpy() if hasattr(arr, "numpy") else np.asarray(arr.data)
        else:
            arr = np.asarray(x.data)
        arr = np.asarray(arr)
        return ("tensor", tuple(int(s) for s in x.shape), str(x.dtype).replace("torch.", ""),
                arr.astype(np.float64) if arr.dtype.kind in "biuf" else arr)
    if isinstance(x, (tuple, list)):
        return ("seq", tuple(_canon(v, depth + 1) for v in x))
    return ("object", type(x).__name__)


def _same(a, b, mode):
    """(True, '') or (False, why)."""
    if mode == "type":
        return (type(a) is type(b) or (isinstance(a, tuple) and isinstance(b, tuple)
                                       and a[:1] == b[:1])), f"{_short(a)} vs {_short(b)}"
    if isinstance(a, tuple) and isinstance(b, tuple) and a[:1] == b[:1] and a and \
            a[0] in ("tensor", "array"):
        if a[1] != b[1]:
            return False, f"shape {a[1]} (torch) vs {b[1]} (glassnet)"
        if a[2] != b[2]:
            return False, f"dtype {a[2]} (torch) vs {b[2]} (glassnet)"
        if a[0] != b[0]:
            return False, f"{a[0]} vs {b[0]}"
        if mode == "shape":
            return True, ""
        va, vb = a[3], b[3]
        if va.dtype.kind in "f" or vb.dtype.kind in "f":
            ok = np.allclose(va, vb, rtol=1e-5, atol=1e-6, equal_nan=True)
        else:
            ok = np.array_equal(va, vb)
        return ok, "" if ok else f"values {np.round(va, 4).tolist()} vs {np.round(vb, 4).tolist()}"
    if isinstance(a, tuple) and isinstance(b, tuple) and a[:1] == b[:1] == ("seq",):
        if len(a[1]) != len(b[1]):
            return False, f"{len(a[1])} items (torch) vs {len(b[1])} (glassnet)"
        for u, v in zip(a[1], b[1]):
            ok, why = _same(u, v, mode)
            if not ok:
                if all(not isinstance(w, tuple) for w in a[1] + b[1]):   # plain values: show all
                    return False, f"{_short(a)} (torch) vs {_short(b)} (glassnet)"
                return False, why
        return True, ""
    if isinstance(a, float) and isinstance(b, (int, float)):
        return math.isclose(a, b, rel_tol=1e-5, abs_tol=1e-6), f"{a!r} vs {b!r}"
    return a == b, f"{_short(a)} (torch) vs {_short(b)} (glassnet)"


def _short(c):
    if isinstance(c, tuple) and c and c[0] in ("tensor", "array"):
        return f"{c[0]}{c[1]} {c[2]}"
    if isinstance(c, tuple) and c and c[0] == "seq":
        return "(" + ", ".join(_short(v) for v in c[1]) + ")"
    if isinstance(c, tuple) and c and c[0] == "object":
        return c[1]
    return repr(c)[:80]


def _import(module, backend):
    head, _, rest = module.partition(".")
    if head == "torchvision":
        if backend == "torch":
            raise _NA("torchvision is not installed here")
        module = "glassnet.vision" + ("." + rest if rest else "")
    elif backend == "glassnet":
        module = "glassnet" + ("." + rest if rest else "")
    importlib.import_module(module)
    return True


class _NA(Exception):
    pass


def _run_one(idiom, ns, backend, tmp):
    if idiom.module:
        return _import(idiom.module, backend)
    g = dict(ns[backend])
    lib = g["torch"]

    def seq(*shape):
        """0, 1, 2, ... as a float32 tensor of ``shape`` (built from a list: same in both)."""
        n = int(np.prod(shape))
        return lib.tensor(np.arange(n, dtype=np.float32).reshape(shape).tolist())

    g.update({"np": np, "math": math, "os": os, "tmp": tmp, "seq": seq})
    code = textwrap.dedent(idiom.code)
    if backend == "glassnet":       # import lines inside a snippet: as the driver does
        code = rewrite_imports(code, "glassnet", "glassnet.vision")[0]
    if backend == "glassnet" and g["F"] is None:
        g["F"] = _Missing("glassnet.nn.functional")
    exec(code, g)
    return g["out"]


class _Missing:
    def __init__(self, what):
        self.what = what

    def __getattr__(self, name):
        raise AttributeError(f"{self.what} does not exist (looked up .{name})")


def check_all(idioms=IDIOMS):
    """Run every idiom on both backends; a list of result dicts."""
    ns = _namespaces()
    import torch
    import glassnet
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for idiom in idioms:
            res = {"id": idiom.id, "area": idiom.area, "scripts": idiom.scripts}
            outs = {}
            for backend in ("torch", "glassnet"):
                torch.manual_seed(0)
                glassnet.manual_seed(0)
                try:
                    with _quiet():
                        outs[backend] = ("ok", _run_one(idiom, ns, backend, tmp))
                except _NA as e:
                    outs[backend] = ("na", str(e))
                except Exception as e:  # noqa: BLE001 - the failure is the finding
                    msg = str(e).strip().splitlines()[0] if str(e).strip() else ""
                    outs[backend] = ("error", f"{type(e).__name__}: {msg}"[:200])
            t, gl = outs["torch"], outs["glassnet"]
            if t[0] == "error":
                res.update(status="torch-error", detail=t[1])
            elif gl[0] == "error":
                res.update(status="missing", detail=gl[1])
            elif t[0] == "na":
                res.update(status="n/a" if gl[0] != "ok" else "ok (glassnet imports)",
                           detail=t[1])
            else:
                ok, why = _same(_canon(t[1]), _canon(gl[1]), idiom.compare)
                res.update(status="ok" if ok else "differs", detail="" if ok else why)
            rows.append(res)
    return rows


class _quiet:
    def __enter__(self):
        self._o, self._e = sys.stdout, sys.stderr
        sys.stdout = sys.stderr = io.StringIO()

    def __exit__(self, *a):
        sys.stdout, sys.stderr = self._o, self._e
        return False


def markdown(rows) -> str:
    lines = ["| idiom | area | scripts | status | glassnet today |", "|---|---|---|---|---|"]
    for r in rows:
        d = r["detail"].replace("|", "\\|").replace("\n", " ")
        lines.append(f"| `{r['id']}` | {r['area']} | {r['scripts']} | {r['status']} | {d} |")
    counts = {}
    for r in rows:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    lines.append("")
    lines.append("Totals: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description="check the scripts' idioms on glassnet vs torch")
    ap.add_argument("--json")
    args = ap.parse_args(argv)
    rows = check_all()
    print(markdown(rows))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception:
        traceback.print_exc()
        sys.exit(2)
