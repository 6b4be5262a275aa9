"""``glassnet.save`` / ``glassnet.load`` the torch way (without pickle): what comes back
from a round trip is what ``torch.load(torch.save(...))`` gives back, for state dicts,
checkpoints and nestings of tensors and plain values, through paths and file objects."""
import io
import json
from collections import OrderedDict

import numpy as np
import pytest

import glassnet as gn
from glassnet import nn
from glassnet.errors import ArgumentError, ModelFileError

from ._compare import TORCH_REASON, assert_same

# each object is built with `lib` = glassnet and `lib` = torch
OBJECTS = [
    "lib.arange(6).reshape(2, 3)",
    "lib.tensor([1.5, -2.0])",
    "lib.tensor(3.0)",
    "lib.zeros(0, 4)",
    "lib.tensor([True, False])",
    "lib.tensor([1, 2], dtype=lib.uint8)",
    "lib.tensor([1.0, 2.0], dtype=lib.float64)",
    "lib.tensor([1.0, 2.0], dtype=lib.float16)",
    "lib.tensor([1, 2], dtype=lib.int32)",
    "lib.tensor([1.0 + 2j])",
    "{'w': lib.ones(2, 2), 'b': lib.zeros(2)}",
    "OrderedDict([('0.weight', lib.ones(3, 2)), ('0.bias', lib.zeros(3))])",
    "[lib.ones(2), lib.zeros(3)]",
    "(lib.ones(1), 2, 'x')",
    "{'epoch': 3, 'loss': 0.2, 'model_state_dict': OrderedDict(w=lib.ones(2)),"
    " 'optimizer_state_dict': {'state': {0: {'step': lib.tensor(4.0),"
    " 'exp_avg': lib.zeros(2)}}, 'param_groups': [{'lr': 0.001, 'betas': (0.9, 0.999),"
    " 'params': [0]}]}}",
    "{1: 'a', 2.5: 'b', None: 'c', True: 'd', (1, 2): 'e'}",
    "{'nested': {'deeper': [{'t': lib.arange(3)}, None]}}",
    "[1, 2.0, 'three', None, True, [4, (5, 6)]]",
    "{'inf': float('inf'), 'nan_free': -0.0, 'big': 2**70}",
    "{'t': lib.tensor([1.0, 2.0], requires_grad=True)}",
    "lib.arange(12).reshape(3, 4).transpose(0, 1)",
    "lib.arange(10)[::2]",
    "{}",
    "[]",
    "'just a string'",
    "42",
    "None",
]


def _build(lib, src):
    return eval(src, {"lib": lib, "OrderedDict": OrderedDict})  # noqa: S307


def _same(g, t, what):
    import torch
    if isinstance(t, torch.Tensor):
        assert_same(g, t, what=what)
        assert g.requires_grad == t.requires_grad, f"{what}: requires_grad"
    elif isinstance(t, dict):
        assert type(g) is type(t), f"{what}: {type(g)} vs torch {type(t)}"
        assert list(g) == list(t), f"{what}: keys {list(g)} vs {list(t)}"
        for k in t:
            _same(g[k], t[k], f"{what}[{k!r}]")
    elif isinstance(t, (list, tuple)):
        assert type(g) is type(t) and len(g) == len(t), f"{what}: {g!r} vs torch {t!r}"
        for i, (a, b) in enumerate(zip(g, t)):
            _same(a, b, f"{what}[{i}]")
    else:
        assert type(g) is type(t) and g == t, f"{what}: {g!r} vs torch {t!r}"


@pytest.mark.parametrize("target", ["path", "bytesio"])
@pytest.mark.parametrize("src", OBJECTS)
def test_round_trip_matches_torch(src, target, tmp_path):
    torch = pytest.importorskip("torch", reason=TORCH_REASON)
    back = {}
    for name, lib in (("gn", gn), ("torch", torch)):
        obj = _build(lib, src)
        if target == "path":
            p = tmp_path / f"{name}.pt"
            lib.save(obj, p)
            back[name] = lib.load(p)
        else:
            buf = io.BytesIO()
            lib.save(obj, buf)
            buf.seek(0)
            back[name] = lib.load(buf)
    _same(back["gn"], back["torch"], src)


def test_state_dict_round_trip_into_a_fresh_model(tmp_path):
    gn.manual_seed(0)
    m = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    gn.save(m.state_dict(), tmp_path / "weights.pt")
    m2 = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    m2.load_state_dict(gn.load(tmp_path / "weights.pt"))
    x = gn.randn(5, 4)
    np.testing.assert_array_equal(m(x).numpy(), m2(x).numpy())
    assert (tmp_path / "weights.pt").exists()       # exactly the path given, as torch


def test_training_checkpoint_resumes_model_and_optimizer(tmp_path):
    gn.manual_seed(0)
    m = nn.Linear(3, 2)
    opt = gn.optim.Adam(m.parameters(), lr=0.01)
    for _ in range(3):
        opt.zero_grad()
        (m(gn.randn(4, 3)) ** 2).sum().backward()
        opt.step()
    with open(tmp_path / "ck.tar", "wb") as f:
        gn.save({"epoch": 3, "model_state_dict": m.state_dict(),
                 "optimizer_state_dict": opt.state_dict(), "loss": 0.25}, f)
    with open(tmp_path / "ck.tar", "rb") as f:
        ck = gn.load(f, map_location="cpu", weights_only=True)
    m2 = nn.Linear(3, 2)
    opt2 = gn.optim.Adam(m2.parameters(), lr=0.01)
    m2.load_state_dict(ck["model_state_dict"])
    opt2.load_state_dict(ck["optimizer_state_dict"])
    assert ck["epoch"] == 3 and ck["loss"] == 0.25
    x = gn.randn(4, 3)
    for mod, o in ((m, opt), (m2, opt2)):
        o.zero_grad()
        (mod(x) ** 2).sum().backward()
        o.step()
    np.testing.assert_allclose(m.weight.numpy(), m2.weight.numpy(), rtol=1e-6)


def test_whole_module_save_keeps_the_model_format_and_loads_through_load(tmp_path):
    gn.manual_seed(1)
    m = nn.Sequential(nn.Linear(2, 2), nn.Tanh())
    p = gn.save(m, tmp_path / "model")
    assert p.suffix == ".safetensors"
    for f in (p, tmp_path / "model"):
        m2 = gn.load(f)
        assert isinstance(m2, nn.Sequential) and not m2.training
    buf = io.BytesIO()
    gn.save(m, buf)
    buf.seek(0)
    x = gn.randn(3, 2)
    np.testing.assert_array_equal(gn.load(buf)(x).numpy(), m.eval()(x).numpy())
    both = gn.load(gn.save({"model": m, "step": 2}, tmp_path / "both.pt"))
    assert isinstance(both["model"], nn.Sequential) and both["step"] == 2


def test_a_safetensors_state_dict_from_elsewhere_loads_as_tensors(tmp_path):
    from safetensors.numpy import save_file
    save_file({"weight": np.ones((2, 2), np.float32)}, str(tmp_path / "w.safetensors"))
    sd = gn.load(tmp_path / "w.safetensors")
    assert isinstance(sd, OrderedDict) and isinstance(sd["weight"], gn.Tensor)


def test_arrays_and_numpy_scalars_keep_their_types(tmp_path):
    obj = {"a": np.arange(3.0), "s": np.float32(1.5), "i": np.int64(4), "d": gn.float64}
    back = gn.load(gn.save(obj, tmp_path / "o.pt"))
    assert isinstance(back["a"], np.ndarray) and back["a"].dtype == np.float64
    assert type(back["s"]) is np.float32 and back["s"] == 1.5
    assert type(back["i"]) is np.int64 and back["d"] == np.float64


def test_parameters_stay_parameters(tmp_path):
    p = nn.Parameter(gn.ones(2))
    back = gn.load(gn.save([p], tmp_path / "p.pt"))[0]
    assert isinstance(back, nn.Parameter) and back.requires_grad


class _Opaque:
    pass


@pytest.mark.parametrize("obj, where", [
    ({"a": [1, _Opaque()]}, "obj['a'][1]"),
    (_Opaque(), "obj"),
    ({"f": lambda x: x}, "obj['f']"),
    ({"s": {1, 2}}, "obj['s']"),
    ([b"bytes"], "obj[0]"),
    ({object(): 1}, "dict key"),
])
def test_objects_that_cannot_be_stored_safely_are_named(obj, where, tmp_path):
    with pytest.raises(ModelFileError, match=r"cannot store") as info:
        gn.save(obj, tmp_path / "x.pt")
    assert where in str(info.value)
    assert not (tmp_path / "x.pt").exists()


def test_corrupt_files_are_model_file_errors(tmp_path):
    p = tmp_path / "ck.pt"
    gn.save({"w": gn.arange(100.0), "epoch": 1}, p)
    raw = bytearray(p.read_bytes())
    raw[-5] ^= 0xFF                                  # a tensor byte
    (tmp_path / "bytes.pt").write_bytes(bytes(raw))
    with pytest.raises(ModelFileError, match="SHA-256"):
        gn.load(tmp_path / "bytes.pt")
    for junk in (b"", b"short", b"\xff" * 64, p.read_bytes()[:40]):
        with pytest.raises(ModelFileError, match="not a readable safetensors"):
            gn.load(io.BytesIO(junk))
    # the JSON tree edited: checksum mismatch
    raw = p.read_bytes()
    n = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8:8 + n])
    meta = json.loads(header["__metadata__"]["glassnet"])
    meta["tree"]["epoch"] = 7
    header["__metadata__"]["glassnet"] = json.dumps(meta)
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    with pytest.raises(ModelFileError, match="object metadata"):
        gn.load(io.BytesIO(len(h).to_bytes(8, "little") + h + raw[8 + n:]))
    with pytest.raises(FileNotFoundError):
        gn.load(tmp_path / "missing.pt")


@pytest.mark.parametrize("loc", [None, "cpu", gn.device("cpu"), {"cuda:0": "cpu"},
                                 lambda storage, loc: storage])
def test_map_location_to_the_cpu_is_accepted(loc, tmp_path):
    gn.save([gn.ones(2)], tmp_path / "a.pt")
    assert gn.load(tmp_path / "a.pt", map_location=loc)[0].tolist() == [1.0, 1.0]


@pytest.mark.parametrize("loc", ["cuda", "cuda:0", gn.device("meta"), {"cpu": "cuda:1"}])
def test_map_location_elsewhere_is_a_clear_error(loc, tmp_path):
    gn.save([gn.ones(2)], tmp_path / "a.pt")
    with pytest.raises(ArgumentError, match="map_location"):
        gn.load(tmp_path / "a.pt", map_location=loc)


def test_pickle_arguments_are_refused():
    import pickle
    with pytest.raises(ArgumentError, match="without pickle"):
        gn.save({}, io.BytesIO(), pickle_module=pickle)


def test_non_contiguous_and_shared_tensors_round_trip(tmp_path):
    base = gn.arange(12.0).reshape(3, 4)
    obj = {"t": base.T, "same": [base, base]}
    back = gn.load(gn.save(obj, tmp_path / "v.pt"))
    assert back["t"].tolist() == base.T.tolist()
    assert back["same"][0].tolist() == back["same"][1].tolist() == base.tolist()
