"""glassnet.device / cuda / accelerator / backends and the dtype names, against PyTorch's
meaning of each (torch itself is compared where installed)."""
import numpy as np
import pytest

import glassnet as gn
from glassnet.backend import devices, dtypes
from glassnet.errors import ArgumentError, ArgumentTypeError


def test_dtype_aliases_follow_pytorch():
    assert gn.float is gn.float32 and gn.double is gn.float64
    assert gn.long is gn.int64 and gn.int is gn.int32 and gn.half is gn.float16
    assert gn.bool == np.dtype(bool) and gn.uint8 == np.uint8
    assert gn.zeros(2).dtype == gn.float32
    assert isinstance(gn.zeros(2).dtype, gn.dtype)
    assert np.zeros(2, dtype=gn.long).dtype == np.int64


@pytest.mark.parametrize("spec, expected", [
    ("long", np.int64), ("torch.float", np.float32), (float, np.float64), (int, np.int64),
    (bool, np.bool_), (np.float64, np.float64), ("float64", np.float64),
    (np.dtype("int8"), np.int8), ("half", np.float16)])
def test_resolve(spec, expected):
    assert dtypes.resolve(spec) == np.dtype(expected)


@pytest.mark.parametrize("bad", ["floaty", 3, None, object])
def test_resolve_refuses_with_the_argument_name(bad):
    with pytest.raises(ArgumentTypeError, match="where: dtype must be a dtype"):
        dtypes.resolve(bad, "dtype", "where")


def test_device_forms():
    assert gn.device("cpu") == "cpu" == gn.device("cpu")
    assert str(gn.device("cuda", 1)) == "cuda:1" and gn.device("cuda:1").index == 1
    assert gn.device(gn.device("cpu")).type == "cpu"
    assert gn.device("cpu") != gn.device("cuda")
    assert len({gn.device("cpu"), gn.device("cpu")}) == 1
    assert devices.check(None) == devices.check("cpu:0") == devices.check(gn.device("cpu"))


@pytest.mark.parametrize("bad", ["cuda", "cuda:0", "mps", gn.device("cuda", 0), 0, "cpu:1"])
def test_absent_devices_are_refused_clearly(bad):
    with pytest.raises(ArgumentError, match=r"Tensor.to: device must be 'cpu'"):
        devices.check(bad, "device", "Tensor.to")


@pytest.mark.parametrize("bad", ["gpu", "cuda:x", "cuda:0:1"])
def test_malformed_device_strings(bad):
    with pytest.raises(ArgumentError, match="device"):
        gn.device(bad)


def test_queries_answer_false_as_pytorch_does_without_cuda():
    assert gn.cuda.is_available() is False and gn.cuda.device_count() == 0
    gn.cuda.manual_seed(1)
    gn.cuda.manual_seed_all(1)
    assert gn.accelerator.is_available() is False
    assert gn.accelerator.current_accelerator() is None
    assert gn.backends.mps.is_available() is False
    gn.backends.cudnn.deterministic = True   # scripts set it; it is a plain switch


def test_same_names_as_torch():
    torch = pytest.importorskip("torch", reason="torch not installed: name parity skipped")
    for name in ["float32", "float", "float64", "double", "int64", "long", "int32", "int",
                 "int16", "short", "int8", "uint8", "bool", "float16", "half"]:
        assert str(getattr(torch, name)) == f"torch.{getattr(gn, name).name}", name
    assert str(torch.device("cuda:1")) == str(gn.device("cuda:1"))
    assert repr(torch.device("cpu")) == repr(gn.device("cpu"))
