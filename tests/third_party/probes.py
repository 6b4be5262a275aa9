"""User-side workarounds that walk each cited script past its glassnet failures, one at a
time, so FINDINGS.md can list every failure and not only the first.

TEST TOOLING, not glassnet and not the short versions: each entry is an exact substitution
within one line of the script (the edit a user would have to make today), applied in memory
by ``run_script.py NAME --probes N`` (the first N entries), never to the stored file. The
order is the order the failures appear. ``probe_chain.py NAME`` runs N = 0, 1, 2, ... and
records the failure each time. "@vision-standin" points torchvision at the test stand-in.

Entry: (file, line, old text, new text, gap keys): ``old`` -> ``new`` within that line only
(so the script's line numbers stay the same); the keys name entries of ``GAPS``.

A workaround uses only what glassnet has today (glassnet.functional, glassnet.utils.data,
glassnet.io, NumPy); where glassnet has nothing (LBFGS, ctx-style Functions), it changes
what the script does, and GAPS says so. Measured against main at 8a437d0 (glassnet.vision
and glassnet.utils.data present).
"""

GAPS = {
    # imports and modules
    "F-module": "`import torch.nn.functional as F` fails: glassnet.nn.functional is an "
                "attribute, not an importable module",
    "vision-checksum": "glassnet.vision.datasets.MNIST / FashionMNIST refuse IDX files whose "
                       "SHA-256 is not the published one (DataChecksumError), so a subset in "
                       "root/MNIST/raw/ (the short versions' data) cannot be read; torchvision "
                       "reads whatever IDX files are there. The workaround points torchvision "
                       "at the test stand-in",
    # devices
    "cuda": "torch.cuda missing (torch.cuda.is_available())",
    "backends": "torch.backends missing (torch.backends.mps.is_available())",
    "device": "torch.device missing",
    "Module.to": "Module.to(device) missing",
    "Tensor.to": "Tensor.to(device) missing",
    "Tensor.cpu": "Tensor.cpu() missing",
    "device-kw": "factory functions refuse the device= keyword (torch.zeros / arange(..., "
                 "device=device))",
    # dtypes and construction
    "dtype-aliases": "dtype aliases missing: torch.float, torch.long, torch.double",
    "LongTensor": "torch.LongTensor missing",
    "Variable": "torch.autograd.Variable missing (a no-op wrapper in torch >= 0.4, still in "
                "many tutorials)",
    "from_numpy": "torch.from_numpy missing; torch.tensor(float64 array) silently gives float32 "
                  "(torch keeps float64), so the workaround passes dtype='float64'",
    "factories": "factories missing: torch.linspace, torch.full, torch.randint, "
                 "torch.randn_like, torch.tril",
    "math-fns": "top-level math missing: torch.sin (none anywhere in glassnet), torch.exp, "
                "torch.sigmoid, torch.sum",
    "cat-stack": "torch.cat / torch.stack missing (glassnet.functional.cat(axis=) exists)",
    "flatten": "torch.flatten missing",
    "multinomial": "torch.multinomial missing",
    # Tensor methods
    "size()": "Tensor.size is a property (numel), not size(dim) / size() -> torch.Size",
    "split": "Tensor.split(size, dim) missing",
    "relu-method": "Tensor.relu() missing",
    "masked_fill": "Tensor.masked_fill missing",
    "eq-view_as": "Tensor.eq and Tensor.view_as missing",
    "type()": "Tensor.type(dtype) missing",
    "max-indices": "Tensor.max(dim, keepdim=True) refused; max(dim) returns values only, no "
                   "(values, indices)",
    "setitem": "item assignment (t[k] = v) unsupported",
    "__index__": "a 0-d integer Tensor is no index (no __index__): list[t], data[t:t + k]",
    "__format__": "format spec on a 0-d Tensor (f'{t:.4f}') unsupported",
    # autograd
    "isub-leaf": "`t -= lr * t.grad` under no_grad rebinds the name to a new tensor that does "
                 "not require grad; the next backward() raises (or, for a Module parameter, "
                 "see isub-param)",
    "isub-param": "SILENT: `param -= lr * param.grad` under no_grad rebinds the loop variable; "
                  "the model's parameters never change and the loss stays flat, no error",
    "ctx-Function": "ctx-style autograd.Function (@staticmethod forward(ctx, x), "
                    "ctx.save_for_backward, ctx.saved_tensors) unsupported; the workaround "
                    "drops the custom Function (autograd differentiates the formula instead)",
    "next_functions": "grad_fn.next_functions missing (the workaround prints grad_fn)",
    # functional and nn
    "dim-kw": "F.log_softmax / F.softmax refuse dim= (glassnet spells it axis=)",
    "size_average": "F.nll_loss(size_average=False) refused (legacy; torch 2.13 still accepts "
                    "it with a warning)",
    "Flatten-end_dim": "nn.Flatten(start_dim, end_dim): end_dim not accepted",
    "LBFGS": "optim.LBFGS missing; the workaround trains with Adam instead (a different "
             "experiment: one closure call a step)",
    # save / load
    "save-obj": "torch.save(obj, f) takes only a whole Module: a state dict, a NumPy array or "
                "a file object is refused (glassnet.io.save_state_dict writes a state dict)",
    "load-obj": "torch.load(f, weights_only=...) returns only a Module of a glassnet or "
                "registered class: no state dict, no array, no weights_only= "
                "(glassnet.io.load_state_dict reads a state dict)",
}

PROBES = {}
_NP = '__import__("numpy")'

PROBES["micrograd_test_engine"] = [
    ("original.py", 17, "z.relu()", "torch.functional.relu(z)", "relu-method"),
    ("original.py", 18, "(z * z).relu()", "torch.functional.relu(z * z)", "relu-method"),
    ("original.py", 53, "(b + a).relu()", "torch.functional.relu(b + a)", "relu-method"),
    ("original.py", 54, "(b - a).relu()", "torch.functional.relu(b - a)", "relu-method"),
]

PROBES["tutorials_polynomial_custom_function"] = [
    ("original.py", 54, "torch.float", "torch.float32", "dtype-aliases"),
    ("original.py", 55, 'torch.device("cpu")', '"cpu"', "device"),
    ("original.py", 61, "torch.linspace(-math.pi, math.pi, 2000, device=device, dtype=dtype)",
     f"torch.tensor({_NP}.linspace(-math.pi, math.pi, 2000), dtype=dtype)",
     ("factories", "device-kw")),
    ("original.py", 62, "torch.sin(x)", f"torch.tensor({_NP}.sin(x.numpy()))", "math-fns"),
] + [
    ("original.py", 69 + i, f"torch.full((), {v}, device=device, dtype=dtype, requires_grad=True)",
     f"torch.tensor({v}, dtype=dtype, requires_grad=True)", ("factories", "device-kw"))
    for i, v in enumerate(["0.0", "-1.0", "0.0", "0.3"])
] + [
    ("original.py", 77, "LegendrePolynomial3.apply", "(lambda t: 0.5 * (5 * t ** 3 - 3 * t))",
     "ctx-Function"),
] + [
    ("original.py", 93 + i, f"{v} -= learning_rate * {v}.grad",
     f"{v}.data -= learning_rate * {v}.grad.data", "isub-leaf") for i, v in enumerate("abcd")
]

PROBES["tutorials_polynomial_nn"] = [
    ("original.py", 21, "torch.linspace(-math.pi, math.pi, 2000)",
     f"torch.tensor({_NP}.linspace(-math.pi, math.pi, 2000))", "factories"),
    ("original.py", 22, "torch.sin(x)", f"torch.tensor({_NP}.sin(x.numpy()))", "math-fns"),
    ("original.py", 42, "torch.nn.Flatten(0, 1)", "torch.nn.Flatten(0)", "Flatten-end_dim"),
    ("original.py", 78, "param -= learning_rate * param.grad",
     "param.data -= learning_rate * param.grad.data", "isub-param"),
]

PROBES["tutorials_neural_networks"] = [
    ("original.py", 42, "import torch.nn.functional as F", "from torch.nn import functional as F",
     "F-module"),
    ("original.py", 74, "torch.flatten(s4, 1)", "torch.functional.flatten(s4, 1)", "flatten"),
    ("original.py", 100, "params[0].size()", "params[0].shape", "size()"),
    ("original.py", 196, "loss.grad_fn.next_functions[0][0]", "loss.grad_fn", "next_functions"),
    ("original.py", 197, "loss.grad_fn.next_functions[0][0].next_functions[0][0]", "loss.grad_fn",
     "next_functions"),
]

_V = "autograd.Variable"
PROBES["tutorials_sequence_models"] = [
    ("original.py", 58, "import torch.nn.functional as F", "from torch.nn import functional as F",
     "F-module"),
    ("original.py", 66, f"{_V}(torch.randn((1, 3)))", "torch.randn((1, 3))", "Variable"),
    ("original.py", 70, f"{_V}(torch.randn(1, 1, 3))", "torch.randn(1, 1, 3)", "Variable"),
    ("original.py", 71, f"{_V}(torch.randn((1, 1, 3)))", "torch.randn((1, 1, 3))", "Variable"),
    ("original.py", 86, "torch.cat(inputs)", "torch.functional.cat(inputs)", "cat-stack"),
    ("original.py", 87, f"{_V}(torch.randn(1, 1, 3)), {_V}(", "torch.randn(1, 1, 3), (",
     "Variable"),
    ("original.py", 175, f"{_V}(torch.zeros(1, 1, self.hidden_dim))",
     "torch.zeros(1, 1, self.hidden_dim)", "Variable"),
    ("original.py", 176, f"{_V}(torch.zeros(1, 1, self.hidden_dim))",
     "torch.zeros(1, 1, self.hidden_dim)", "Variable"),
    ("original.py", 129, "torch.LongTensor(idxs)", "torch.tensor(idxs)", "LongTensor"),
    ("original.py", 130, f"{_V}(tensor)", "tensor", "Variable"),
    ("original.py", 183, "F.log_softmax(tag_space, dim=1)", "F.log_softmax(tag_space, axis=1)",
     "dim-kw"),
]

PROBES["tutorials_word_embeddings"] = [
    ("original.py", 163, "import torch.nn.functional as F", "from torch.nn import functional as F",
     "F-module"),
    ("original.py", 172, "dtype=torch.long", "dtype='int64'", "dtype-aliases"),
    ("original.py", 247, "dtype=torch.long", "dtype='int64'", "dtype-aliases"),
    ("original.py", 232, "F.log_softmax(out, dim=1)", "F.log_softmax(out, axis=1)", "dim-kw"),
    ("original.py", 260, "dtype=torch.long", "dtype='int64'", "dtype-aliases"),
    ("original.py", 339, "dtype=torch.long", "dtype='int64'", "dtype-aliases"),
]


def _lm_probes(o):
    """bigram.py and gpt.py share their data / sampling code; ``o`` maps a line of
    bigram.py to the same line of gpt.py."""
    mult = ('torch.tensor([[__import__("numpy").random.choice(probs.shape[1], p=probs.numpy()[0]'
            '.astype("float64") / probs.numpy()[0].astype("float64").sum())]])')
    return {
        "cuda": ("original.py", 11, "torch.cuda.is_available()", "False", "cuda"),
        "long": ("original.py", o[31], "dtype=torch.long", "dtype='int64'", "dtype-aliases"),
        "to_model": ("original.py", o[99], "model.to(device)", "model", "Module.to"),
        "randint": ("original.py", o[40], "torch.randint(len(data) - block_size, (batch_size,))",
                    f"torch.tensor({_NP}.random.randint(len(data) - block_size, "
                    "size=(batch_size,)))", "factories"),
        "stack_x": ("original.py", o[41], "torch.stack([data[i:i+block_size] for i in ix])",
                    "torch.functional.stack([data[i:i+block_size] for i in ix.tolist()])",
                    ("cat-stack", "__index__")),
        "stack_y": ("original.py", o[42], "torch.stack([data[i+1:i+block_size+1] for i in ix])",
                    "torch.functional.stack([data[i+1:i+block_size+1] for i in ix.tolist()])",
                    ("cat-stack", "__index__")),
        "to_xy": ("original.py", o[43], "x.to(device), y.to(device)", "x, y", "Tensor.to"),
        "setitem": ("original.py", o[55], "losses[k] = loss.item()", "losses.data[k] = loss.item()",
                    "setitem"),
        "format": ("original.py", o[109], "{losses['train']:.4f}, val loss {losses['val']:.4f}",
                   "{losses['train'].item():.4f}, val loss {losses['val'].item():.4f}",
                   "__format__"),
        "zeros_long": ("original.py", o[121],
                       "torch.zeros((1, 1), dtype=torch.long, device=device)",
                       "torch.zeros((1, 1), dtype='int64')", ("dtype-aliases", "device-kw")),
        "softmax": ("original.py", o[91], "F.softmax(logits, dim=-1)", "F.softmax(logits, axis=-1)",
                    "dim-kw"),
        "multinomial": ("original.py", o[93], "torch.multinomial(probs, num_samples=1)", mult,
                        "multinomial"),
        "cat": ("original.py", o[95], "torch.cat((idx, idx_next), dim=1)",
                "torch.functional.cat((idx, idx_next), axis=1)", "cat-stack"),
    }


_BG = _lm_probes({n: n for n in range(200)})
PROBES["ngvl_bigram"] = [_BG[k] for k in (
    "cuda", "long", "to_model", "randint", "stack_x", "stack_y", "to_xy", "setitem", "format",
    "zeros_long", "softmax", "multinomial", "cat")]

_GPT = _lm_probes({31: 35, 99: 199, 40: 44, 41: 45, 42: 46, 43: 47, 55: 59, 109: 211, 121: 223,
                   91: 191, 93: 193, 95: 195})
PROBES["ngvl_gpt"] = [_GPT[k] for k in ("cuda", "long")] + [
    ("original.py", 72, "torch.tril(torch.ones(block_size, block_size))",
     f"torch.tensor({_NP}.tril({_NP}.ones((block_size, block_size), 'float32')))", "factories"),
] + [_GPT[k] for k in ("to_model", "randint", "stack_x", "stack_y", "to_xy")] + [
    ("original.py", 165, "torch.arange(T, device=device)", "torch.arange(T)", "device-kw"),
    # the callee torch.cat is looked up before its argument list runs the heads
    ("original.py", 102, "torch.cat([h(x) for h in self.heads], dim=-1)",
     "torch.functional.cat([h(x) for h in self.heads], axis=-1)", "cat-stack"),
    ("original.py", 84, "wei.masked_fill(self.tril[:T, :T] == 0, float('-inf'))",
     "torch.functional.where(self.tril[:T, :T] == 0, float('-inf'), wei)", "masked_fill"),
    ("original.py", 85, "F.softmax(wei, dim=-1)", "F.softmax(wei, axis=-1)", "dim-kw"),
] + [_GPT[k] for k in ("setitem", "format", "zeros_long", "softmax", "multinomial", "cat")]

PROBES["pytorch_examples_time_sequence"] = [
    ("generate_sine_wave.py", 13, "torch.save(data, open('traindata.pt', 'wb'))",
     f"{_NP}.save(open('traindata.pt', 'wb'), data)", "save-obj"),
    # line 47 as the always-applied torch 2.13 patch leaves it (see run_script.py)
    ("original.py", 47, "torch.load('traindata.pt', weights_only=False)",
     f"{_NP}.load('traindata.pt')", "load-obj"),
] + [
    ("original.py", 48 + i, f"torch.from_numpy(data[{s}])",
     f"torch.tensor(data[{s}], dtype='float64')", "from_numpy")
    for i, s in enumerate(["3:, :-1", "3:, 1:", ":3, :-1", ":3, 1:"])
] + [
    ("original.py", 57, "optim.LBFGS(seq.parameters(), lr=0.8)",
     "optim.Adam(seq.parameters(), lr=0.01)", "LBFGS"),
] + [
    ("original.py", 20 + i, "torch.zeros(input.size(0), 51, dtype=torch.double)",
     "torch.zeros(input.shape[0], 51, dtype='float64')", ("size()", "dtype-aliases"))
    for i in range(4)
] + [
    ("original.py", 25, "input.split(1, dim=1)",
     "[input[:, j:j + 1] for j in range(input.shape[1])]", "split"),
    ("original.py", 35, "torch.cat(outputs, dim=1)", "torch.functional.cat(outputs, axis=1)",
     "cat-stack"),
    ("original.py", 84, "np.arange(input.size(1)), yi[:input.size(1)]",
     "np.arange(input.shape[1]), yi[:input.shape[1]]", "size()"),
    ("original.py", 85, "np.arange(input.size(1), input.size(1) + future), yi[input.size(1):]",
     "np.arange(input.shape[1], input.shape[1] + future), yi[input.shape[1]:]", "size()"),
]

PROBES["pytorch_examples_mnist"] = [
    ("original.py", 5, "import torch.nn.functional as F", "from torch.nn import functional as F",
     "F-module"),
    ("original.py", 78, "torch.cuda.is_available()", "False", "cuda"),
    ("original.py", 82, 'torch.device("cuda" if use_cuda else "cpu")', '"cpu"', "device"),
    ("original.py", 86, "@vision-standin", "", "vision-checksum"),
    ("original.py", 100, "Net().to(device)", "Net()", "Module.to"),
    ("original.py", 30, "data.to(device), target.to(device)", "data, target", "Tensor.to"),
    ("original.py", 25, "F.log_softmax(x, dim=1)", "F.log_softmax(x, axis=1)", "dim-kw"),
    ("original.py", 47, "data.to(device), target.to(device)", "data, target", "Tensor.to"),
    ("original.py", 49, "size_average=False", "reduction='sum'", "size_average"),
    ("original.py", 50, "output.max(1, keepdim=True)[1]", "output.argmax(1).reshape(-1, 1)",
     "max-indices"),
    ("original.py", 51, "pred.eq(target.view_as(pred))", "(pred == target.reshape(*pred.shape))",
     "eq-view_as"),
]

PROBES["pytorch_examples_vae"] = [
    ("original.py", 23, "torch.cuda.is_available()", "False", "cuda"),
    ("original.py", 27, 'torch.device("cuda" if args.cuda else "cpu")', '"cpu"', "device"),
    ("original.py", 31, "@vision-standin", "", "vision-checksum"),
    ("original.py", 68, "VAE().to(device)", "VAE()", "Module.to"),
    ("original.py", 89, "data.to(device)", "data", "Tensor.to"),
    ("original.py", 54, "torch.exp(0.5*logvar)", "(0.5*logvar).exp()", "math-fns"),
    ("original.py", 55, "torch.randn_like(std)", "torch.randn(*std.shape)", "factories"),
    ("original.py", 60, "torch.sigmoid(self.fc4(h3))", "torch.functional.sigmoid(self.fc4(h3))",
     "math-fns"),
    ("original.py", 80, "torch.sum(1 + logvar - mu.pow(2) - logvar.exp())",
     "(1 + logvar - mu.pow(2) - logvar.exp()).sum()", "math-fns"),
    ("original.py", 111, "data.to(device)", "data", "Tensor.to"),
    ("original.py", 115, "data.size(0)", "data.shape[0]", "size()"),
    ("original.py", 116, "torch.cat([data[:n],", "torch.functional.cat([data[:n],", "cat-stack"),
    ("original.py", 118, "comparison.cpu()", "comparison", "Tensor.cpu"),
    ("original.py", 129, "torch.randn(64, 20).to(device)", "torch.randn(64, 20)", "Tensor.to"),
    ("original.py", 130, "model.decode(sample).cpu()", "model.decode(sample)", "Tensor.cpu"),
]

PROBES["tutorials_quickstart"] = [
    ("original.py", 42, "@vision-standin", "", "vision-checksum"),
    ("original.py", 92, "torch.cuda.is_available()", "False", "cuda"),
    ("original.py", 94, "torch.backends.mps.is_available()", "False", "backends"),
    ("original.py", 117, "NeuralNetwork().to(device)", "NeuralNetwork()", "Module.to"),
    ("original.py", 148, "X.to(device), y.to(device)", "X, y", "Tensor.to"),
    ("original.py", 173, "X.to(device), y.to(device)", "X, y", "Tensor.to"),
    ("original.py", 176, ".type(torch.float)", ".float()", "type()"),
    ("original.py", 206, 'torch.save(model.state_dict(), "model.pth")',
     'torch.io.save_state_dict(model.state_dict(), "model.pth")', "save-obj"),
    ("original.py", 218, "NeuralNetwork().to(device)", "NeuralNetwork()", "Module.to"),
    ("original.py", 219, 'torch.load("model.pth", weights_only=True)',
     'torch.io.load_state_dict("model.pth")', "load-obj"),
    ("original.py", 240, "x.to(device)", "x", "Tensor.to"),
    ("original.py", 242, "classes[pred[0].argmax(0)]", "classes[pred[0].argmax(0).item()]",
     "__index__"),
]


def gap_keys(entry) -> tuple:
    """The GAPS keys of a probe entry (one key or a tuple of them)."""
    keys = entry[4]
    return (keys,) if isinstance(keys, str) else tuple(keys)


assert all(k in GAPS for probes in PROBES.values() for e in probes for k in gap_keys(e))
