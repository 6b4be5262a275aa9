"""The factory functions against torch 2.13: dtype inference, shapes and values (issue 14:
``torch.tensor(float64 array)`` keeps float64; ``full`` / ``arange`` take their dtype from
the values; ``randint`` / ``randperm`` with a seeded generator give PyTorch's numbers)."""
import numpy as np
import pytest

import glassnet as gn
from glassnet.errors import ArgumentError, ArgumentTypeError

from ._compare import TORCH_REASON, assert_same

# each idiom is evaluated with `lib` = glassnet and `lib` = torch
DETERMINISTIC = [
    # tensor(): dtype inference
    "lib.tensor([1, 2, 3])",
    "lib.tensor([1.0, 2.0])",
    "lib.tensor([1, 2.5])",
    "lib.tensor([True, False])",
    "lib.tensor([True, 1])",
    "lib.tensor(3)",
    "lib.tensor(2.5)",
    "lib.tensor(True)",
    "lib.tensor([[1, 2], [3, 4]])",
    "lib.tensor([])",
    "lib.tensor(np.arange(4.0))",
    "lib.tensor(np.arange(4, dtype=np.float32))",
    "lib.tensor(np.arange(4, dtype=np.int32))",
    "lib.tensor(np.float64(1.5))",
    "lib.tensor([np.float64(1.5), np.float64(2.0)])",
    "lib.tensor([np.float32(1.5)])",
    "lib.tensor(np.array([1, 2], dtype=np.uint8))",
    "lib.tensor([1, 2], dtype=lib.float64)",
    "lib.tensor([1.7, -1.7], dtype=lib.int64)",
    "lib.tensor([[1.0, 2.0]], dtype=lib.float16)",
    "lib.tensor((1, 2, 3))",
    "lib.tensor([1j, 2])",
    "lib.tensor(lib.tensor([1.0, 2.0]))",
    "lib.tensor(lib.arange(3, dtype=lib.float64))",
    # as_tensor / from_numpy keep the array's dtype
    "lib.as_tensor(np.arange(3.0))",
    "lib.as_tensor(np.arange(3))",
    "lib.as_tensor([1, 2])",
    "lib.as_tensor([1.0, 2.0])",
    "lib.as_tensor(np.arange(3.0), dtype=lib.float32)",
    "lib.from_numpy(np.arange(3.0))",
    "lib.from_numpy(np.arange(6, dtype=np.int16).reshape(2, 3))",
    "lib.from_numpy(np.array([True, False]))",
    # filled
    "lib.zeros(2, 3)",
    "lib.zeros((2, 3))",
    "lib.zeros([4])",
    "lib.zeros(())",
    "lib.zeros(2, dtype=lib.long)",
    "lib.zeros(size=(2, 2))",
    "lib.zeros(2, dtype=float)",
    "lib.zeros(2, dtype=int)",
    "lib.tensor([1, 2], dtype=float)",
    "lib.arange(3, dtype=float)",
    "lib.ones(2, dtype=bool)",
    "lib.rand(2, dtype=float).dtype",
    "lib.ones(3, dtype=lib.bool)",
    "lib.ones(2, 1, dtype=lib.float64)",
    "lib.ones(0, 3)",
    "lib.full((2, 3), 7)",
    "lib.full((2,), 1.5)",
    "lib.full((2,), True)",
    "lib.full((2,), 3, dtype=lib.float32)",
    "lib.full((), -1)",
    "lib.eye(3)",
    "lib.eye(2, 4)",
    "lib.eye(3, dtype=lib.int64)",
    "lib.empty(2, 3).shape",
    "lib.empty((4,), dtype=lib.int32).dtype",
    # ranges
    "lib.arange(5)",
    "lib.arange(2, 7)",
    "lib.arange(10, 0, -3)",
    "lib.arange(0, 1, 0.25)",
    "lib.arange(5.0)",
    "lib.arange(1, 4, dtype=lib.float64)",
    "lib.arange(0, 2.5, 0.5)",
    "lib.arange(end=4)",
    "lib.arange(0)",
    "lib.linspace(0, 1, 5)",
    "lib.linspace(-3, 3, 7)",
    "lib.linspace(0, 10, 5, dtype=lib.int64)",
    "lib.linspace(1, 1, 1)",
    "lib.linspace(0, 1, 0)",
    "lib.linspace(0, 1, 4, dtype=lib.float64)",
    "lib.logspace(0, 2, 3)",
    "lib.logspace(0, 3, 4, base=2)",
    # *_like
    "lib.zeros_like(lib.ones(2, 3))",
    "lib.zeros_like(lib.arange(3))",
    "lib.ones_like(lib.arange(3), dtype=lib.float64)",
    "lib.full_like(lib.zeros(2, dtype=lib.int64), 2.7)",
    "lib.full_like(lib.zeros(2, 2), 0.5)",
    "lib.empty_like(lib.zeros(2, 5, dtype=lib.float64)).dtype",
    "lib.rand_like(lib.zeros(3, 2, dtype=lib.float64)).shape",
    "lib.rand_like(lib.zeros(3, 2, dtype=lib.float64)).dtype",
    "lib.randn_like(lib.zeros(4)).dtype",
    "lib.randint_like(lib.zeros(2, dtype=lib.float64), 5).dtype",
    "lib.randint_like(lib.zeros(3, dtype=lib.int32), 2, 5).shape",
    # random: shapes and dtypes
    "lib.rand(2, 3).shape",
    "lib.rand((4,)).dtype",
    "lib.randn(3, dtype=lib.float64).dtype",
    "lib.randn(size=(2, 2)).shape",
    "lib.randint(10, (3, 2)).dtype",
    "lib.randint(3, 5, (4,)).shape",
    "lib.randperm(6).dtype",
    "sorted(lib.randperm(6).tolist())",
    "lib.normal(0.0, 1.0, (3,)).dtype",
    "lib.normal(lib.zeros(2, dtype=lib.float64), lib.ones(2, dtype=lib.float64)).dtype",
    "lib.normal(lib.zeros(2, 3), 1.0).shape",
    "lib.bernoulli(lib.tensor([0.0, 1.0, 1.0]))",
    "lib.bernoulli(lib.zeros(2, dtype=lib.float64)).dtype",
    "lib.multinomial(lib.tensor([0.0, 1.0, 0.0]), 2, replacement=True)",
    "lib.multinomial(lib.tensor([[0.0, 5.0], [3.0, 0.0]]), 1)",
    "sorted(lib.multinomial(lib.tensor([1.0, 2.0, 3.0]), 3).tolist())",
    "lib.tensor([1.0], requires_grad=True).requires_grad",
    "lib.zeros(2, requires_grad=True).requires_grad",
    "lib.zeros(2, device='cpu').dtype",
    "lib.manual_seed(7).initial_seed()",
]


def _run(lib, src):
    return eval(src, {"lib": lib, "np": np})  # noqa: S307 - the idioms above


def _norm(x):
    """torch.dtype / torch.Size -> comparable plain values."""
    if type(x).__name__ == "dtype" and type(x).__module__ == "torch":
        return str(x).replace("torch.", "")
    if isinstance(x, np.dtype):
        return x.name
    return x


@pytest.mark.parametrize("src", DETERMINISTIC)
def test_factory_idiom_matches_torch(src):
    torch = pytest.importorskip("torch", reason=TORCH_REASON)
    t = _run(torch, src)
    g = _run(gn, src)
    if isinstance(t, torch.Tensor) or type(t).__name__ == "Size":
        assert_same(g, t, what=src)
    else:
        assert _norm(g) == _norm(t), f"{src}: {g!r} vs torch {t!r}"


@pytest.mark.parametrize("seed", [0, 1, 42, 2024])
@pytest.mark.parametrize("src", [
    "lib.randperm(10, generator=g)",
    "lib.randperm(1, generator=g)",
    "lib.randint(10, (5,), generator=g)",
    "lib.randint(3, 10, (2, 4), generator=g)",
    "lib.randint(-5, 5, (6,), generator=g)",
    "lib.randint(0, 2**31, (3,), generator=g)",
    "lib.randint(0, 2**28 - 1, (3,), generator=g)",
    "lib.randint(-2**62, 2**62, (4,), generator=g)",
    "lib.randint(0, 2**40, (2, 2), generator=g)",
])
def test_seeded_generator_draws_torch_numbers(src, seed):
    torch = pytest.importorskip("torch", reason=TORCH_REASON)
    t = eval(src, {"lib": torch, "g": torch.Generator().manual_seed(seed)})  # noqa: S307
    g = eval(src, {"lib": gn, "g": gn.Generator().manual_seed(seed)})  # noqa: S307
    assert_same(g, t, what=src)


@pytest.mark.parametrize("src, torch_exc, gn_exc", [
    ("lib.from_numpy([1, 2])", TypeError, TypeError),
    ("lib.zeros(2, dtype=lib.int64, requires_grad=True)", RuntimeError, RuntimeError),
    ("lib.arange(0, 5, 0)", RuntimeError, RuntimeError),
    ("lib.randint(5, 2, (3,))", RuntimeError, RuntimeError),
    ("lib.randperm(-1)", RuntimeError, RuntimeError),
    ("lib.linspace(0, 1, -1)", RuntimeError, RuntimeError),
    ("lib.multinomial(lib.tensor([1.0, 0.0]), 3)", RuntimeError, RuntimeError),
    ("lib.multinomial(lib.tensor([-1.0, 2.0]), 1)", RuntimeError, RuntimeError),
    ("lib.tensor([1.0], [2.0])", TypeError, TypeError),
    ("lib.tensor([[1, 2], [3]])", ValueError, ValueError),
    ("lib.tensor(['a', 'b'])", ValueError, ValueError),
    ("lib.tensor('a')", TypeError, TypeError),
    ("lib.full(3, 1.0)", TypeError, TypeError),
    ("lib.zeros(2, device='cuda')", (AssertionError, RuntimeError), ArgumentError),
])
def test_factory_errors_where_torch_raises(src, torch_exc, gn_exc):
    torch = pytest.importorskip("torch", reason=TORCH_REASON)
    if "cuda" in src and torch.cuda.is_available():
        pytest.skip("torch has CUDA here")
    with pytest.raises(torch_exc):
        _run(torch, src)
    with pytest.raises(gn_exc):
        _run(gn, src)


def test_from_numpy_and_as_tensor_share_memory():
    a = np.arange(4.0)
    t, u = gn.from_numpy(a), gn.as_tensor(a)
    a[0] = 9
    assert t[0].item() == 9 and u[0].item() == 9 and t.dtype == np.float64
    x = gn.ones(2)
    assert gn.as_tensor(x) is x
    b = np.arange(3.0)
    c = gn.tensor(b)
    b[0] = 5
    assert c[0].item() == 0          # tensor() copies


def test_random_factories_follow_the_global_seed_and_generators():
    gn.manual_seed(3)
    a = gn.randn(5)
    gn.manual_seed(3)
    assert np.array_equal(a.numpy(), gn.randn(5).numpy())
    g1, g2 = gn.Generator().manual_seed(1), gn.Generator().manual_seed(1)
    assert np.array_equal(gn.rand(4, generator=g1).numpy(), gn.rand(4, generator=g2).numpy())
    r = gn.rand(10000).numpy()
    assert r.min() >= 0 and r.max() < 1 and abs(r.mean() - 0.5) < 0.02
    n = gn.normal(2.0, 3.0, size=(20000,)).numpy()
    assert abs(n.mean() - 2) < 0.1 and abs(n.std() - 3) < 0.1


def test_multinomial_without_replacement_draws_distinct_indices():
    w = gn.tensor([[1.0, 2.0, 3.0, 4.0]] * 50)
    idx = gn.multinomial(w, 4).numpy()
    assert idx.shape == (50, 4) and all(sorted(r) == [0, 1, 2, 3] for r in idx.tolist())
    first = gn.multinomial(gn.tensor([1.0, 0.0, 9.0]), 1, replacement=True)
    assert first.item() in (0, 2)


def test_bad_arguments_are_clear_errors():
    with pytest.raises(ArgumentTypeError, match="size"):
        gn.zeros("3")
    with pytest.raises(ArgumentTypeError, match="full: size"):
        gn.full(3, 1.0)
    with pytest.raises(ArgumentTypeError, match="generator"):
        gn.randperm(3, generator=np.random.default_rng(0))
    with pytest.raises(ArgumentTypeError, match="floating"):
        gn.rand(2, dtype=gn.int64)
    with pytest.raises(ArgumentError, match="cpu"):
        gn.tensor([1.0], device="mps")


@pytest.mark.parametrize("seed", [0, 3, 123])
@pytest.mark.parametrize("src", [
    "lib.randperm(8)",
    "lib.randint(100, (6,))",
    "[lib.randperm(5), lib.randint(2, 9, (3,)), lib.randperm(3)]",
])
def test_manual_seed_then_default_generator_draws_torch_numbers(src, seed):
    torch = pytest.importorskip("torch", reason=TORCH_REASON)
    torch.manual_seed(seed)
    t = _run(torch, src)
    g = gn.manual_seed(seed)
    assert isinstance(g, gn.Generator) and g.initial_seed() == seed
    assert_same(_run(gn, src), t, what=src)
