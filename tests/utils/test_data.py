"""glassnet.utils.data against torch.utils.data (torch 2.13 when installed) and hand-made cases:
collate outputs, sampler and split orders given a seed, DataLoader options and their errors,
the batch fast path, and worker processes (the Generator is in tests/utils/test_generator.py)."""
from __future__ import annotations

import collections
import os
import time
import warnings

import numpy as np
import pytest

import glassnet as gn
from glassnet.autograd.tensor import Tensor
from glassnet.utils import Generator
from glassnet.utils.data import (BatchSampler, ChainDataset, ConcatDataset, DataLoader, Dataset,
                                 IterableDataset, RandomSampler, SequentialSampler, Subset,
                                 SubsetRandomSampler, TensorDataset, WeightedRandomSampler,
                                 default_collate, default_convert, get_worker_info, random_split)



Point = collections.namedtuple("Point", "x y")


def _tdata(torch):
    return torch.utils.data


# ------------------------------------------------------------------ comparing to torch
def assert_same(ours, theirs, torch, path="batch"):
    """Same nesting, container types, dtypes, shapes and values."""
    if isinstance(theirs, torch.Tensor):
        assert isinstance(ours, Tensor), f"{path}: {type(ours).__name__} is not a Tensor"
        assert str(ours.dtype) == str(theirs.dtype).replace("torch.", ""), \
            f"{path}: dtype {ours.dtype} vs {theirs.dtype}"
        assert tuple(ours.shape) == tuple(theirs.shape), f"{path}: shape"
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy(), err_msg=path)
        return
    assert type(ours).__name__ == type(theirs).__name__, \
        f"{path}: {type(ours).__name__} vs {type(theirs).__name__}"
    if isinstance(theirs, dict):
        assert list(ours) == list(theirs), path
        for k in theirs:
            assert_same(ours[k], theirs[k], torch, f"{path}[{k!r}]")
    elif isinstance(theirs, (list, tuple)):
        assert len(ours) == len(theirs), path
        for i, (a, b) in enumerate(zip(ours, theirs)):
            assert_same(a, b, torch, f"{path}[{i}]")
    else:
        assert ours == theirs, path


def _samples():
    """Sample lists both libraries collate (only NumPy and Python values in them)."""
    f64 = [np.arange(3, dtype=np.float64) + i for i in range(4)]
    return {
        "ints": [1, 2, 3],
        "bools": [True, False],
        "floats": [1.0, 2.5],
        "int then float": [1, 2.5],
        "float then int": [1.0, 2],
        "np float32 scalars": [np.float32(1), np.float32(2)],
        "np float64 scalars": [np.float64(1), np.float64(2)],
        "np int32 scalars": [np.int32(1), np.int32(2)],
        "np bool scalars": [np.bool_(True), np.bool_(False)],
        "mixed np float scalars": [np.float32(1), np.float64(2)],
        "float64 arrays": f64,
        "float32 arrays": [a.astype(np.float32) for a in f64],
        "uint8 images": [np.full((2, 2), i, np.uint8) for i in range(3)],
        "int32 arrays": [np.array([i, i], np.int32) for i in range(3)],
        "0-d arrays": [np.array(1.5), np.array(2.5)],
        "strings": ["a", "b"],
        "bytes": [b"a", b"b"],
        "tuples (x, label)": [(f64[i].astype(np.float32), i) for i in range(3)],
        "lists": [[1, 2.0], [3, 4.0]],
        "dicts": [{"img": f64[i], "label": i, "name": f"s{i}"} for i in range(2)],
        "namedtuples": [Point(np.float32(i), i) for i in range(3)],
        "nested": [({"a": (i, float(i))}, [np.int64(i)]) for i in range(2)],
    }


@pytest.mark.parametrize("name", list(_samples()))
def test_default_collate_matches_torch(torch, name):
    batch = _samples()[name]
    assert_same(default_collate(batch), _tdata(torch).default_collate(batch), torch, name)


def test_default_collate_of_tensors_matches_torch(torch):
    xs = [np.random.rand(2, 3).astype(np.float32) for _ in range(4)]
    ours = default_collate([(Tensor(x), Tensor(np.array(i))) for i, x in enumerate(xs)])
    theirs = _tdata(torch).default_collate([(torch.from_numpy(x), torch.tensor(i))
                                            for i, x in enumerate(xs)])
    assert_same(ours, theirs, torch)


def test_default_collate_by_hand():
    """Without torch: the rules that matter most for training scripts."""
    xb, yb = default_collate([(np.zeros(3, np.float64), 1), (np.ones(3, np.float64), 2)])
    assert xb.dtype == np.float64 and xb.shape == (2, 3)      # NumPy arrays keep their dtype
    assert yb.dtype == np.int64 and yb.tolist() == [1, 2]      # int labels stay int64
    assert default_collate([0.5, 1.5]).dtype == np.float64     # Python floats: float64
    assert default_collate([1, 2.5]).dtype == np.float32       # ints with floats: default dtype
    assert isinstance(default_collate([(1, 2), (3, 4)]), list)  # tuples of fields -> a list


@pytest.mark.parametrize("batch, error", [
    ([np.array(["a"]), np.array(["b"])], TypeError),
    ([object(), object()], TypeError),
    ([[1, 2], [3]], RuntimeError),
    ([np.zeros(2), np.zeros(3)], RuntimeError),
])
def test_default_collate_errors_match_torch(torch, batch, error):
    with pytest.raises(error) as ours:
        default_collate(batch)
    with pytest.raises(error) as theirs:
        _tdata(torch).default_collate(batch)
    if error is TypeError and isinstance(batch[0], np.ndarray):
        assert str(ours.value) == str(theirs.value)


@pytest.mark.parametrize("data", [
    1, 2.5, "s", np.arange(3), np.float32(2.0), (np.zeros(2), 1), [np.ones(2), "x"],
    {"a": np.arange(2), "b": 3}, Point(np.zeros(1), 2), np.array(["a", "b"]),
])
def test_default_convert_matches_torch(torch, data):
    ours, theirs = default_convert(data), _tdata(torch).default_convert(data)
    if isinstance(theirs, np.ndarray):                # str arrays are left alone
        assert ours is data
    else:
        assert_same(ours, theirs, torch)


# ------------------------------------------------------------------ samplers and splits
def test_random_sampler_orders_match_torch(torch):
    td = _tdata(torch)
    cases = [dict(), dict(num_samples=23), dict(num_samples=4), dict(replacement=True),
             dict(replacement=True, num_samples=70)]
    for kw in cases:
        ours = RandomSampler(range(10), generator=Generator().manual_seed(3), **kw)
        theirs = td.RandomSampler(range(10), generator=torch.Generator().manual_seed(3), **kw)
        assert len(ours) == len(theirs)
        for epoch in range(2):             # the generator advances the same way
            assert list(ours) == list(theirs), (kw, epoch)
    idx = [5, 9, 11, 2, 40]
    ours = SubsetRandomSampler(idx, generator=Generator().manual_seed(1))
    theirs = td.SubsetRandomSampler(idx, generator=torch.Generator().manual_seed(1))
    assert list(ours) == list(theirs) and list(ours) == list(theirs)


def test_random_sampler_without_generator_is_seeded_by_manual_seed():
    s = RandomSampler(range(50))
    gn.manual_seed(3)
    a, b = list(s), list(s)
    gn.manual_seed(3)
    assert list(s) == a and a != b                  # reproducible, new order each epoch
    assert sorted(a) == list(range(50)) and sorted(b) == list(range(50))


def test_sequential_and_batch_sampler_match_torch(torch):
    td = _tdata(torch)
    for bs in (1, 3, 7, 10, 11):
        for drop in (False, True):
            ours = BatchSampler(SequentialSampler(range(10)), bs, drop)
            theirs = td.BatchSampler(td.SequentialSampler(range(10)), bs, drop)
            assert list(ours) == list(theirs) and len(ours) == len(theirs)
            # any iterable of indices works as the sampler, as in torch
            assert list(BatchSampler(range(10), bs, drop)) == list(theirs)


@pytest.mark.parametrize("kwargs, error", [
    (dict(batch_size=0, drop_last=False), ValueError),
    (dict(batch_size=True, drop_last=False), ValueError),
    (dict(batch_size=2, drop_last=1), ValueError),
])
def test_batch_sampler_errors_match_torch(torch, kwargs, error):
    with pytest.raises(error) as ours:
        BatchSampler(range(4), **kwargs)
    with pytest.raises(error) as theirs:
        _tdata(torch).BatchSampler(range(4), **kwargs)
    assert str(ours.value) == str(theirs.value)


def test_random_sampler_errors_match_torch(torch):
    for kw in (dict(replacement=1), dict(num_samples=0), dict(num_samples=2.0)):
        with pytest.raises((TypeError, ValueError)) as ours:
            RandomSampler(range(3), **kw)
        with pytest.raises((TypeError, ValueError)) as theirs:
            _tdata(torch).RandomSampler(range(3), **kw)
        assert type(ours.value) is type(theirs.value) and str(ours.value) == str(theirs.value)


@pytest.mark.parametrize("lengths", [[3, 7], [0.7, 0.2, 0.1], [0.5, 0.5], [1 / 3] * 3, [40, 61]])
def test_random_split_matches_torch(torch, lengths):
    n = 101 if sum(lengths) == 101 or sum(lengths) < 2 else 10
    ours = random_split(range(n), lengths, generator=Generator().manual_seed(42))
    theirs = _tdata(torch).random_split(range(n), lengths,
                                        generator=torch.Generator().manual_seed(42))
    assert [len(s) for s in ours] == [len(s) for s in theirs]
    assert [list(s.indices) for s in ours] == [list(s.indices) for s in theirs]
    assert [list(s) for s in ours] == [list(s) for s in theirs]


def test_random_split_lengths_and_errors():
    parts = random_split(range(10), [0.34, 0.33, 0.33])
    assert [len(p) for p in parts] == [4, 3, 3]        # remainder dealt from the first split
    assert sorted(i for p in parts for i in p.indices) == list(range(10))
    with pytest.raises(ValueError, match="Sum of input lengths"):
        random_split(range(10), [3, 3])
    with pytest.raises(ValueError, match="Fraction at index 0"):
        random_split(range(10), [1.5, -0.5])
    with pytest.raises(ValueError, match="Fraction at index 1"):
        random_split(range(10), [0.5, -0.5, 1.0])
    with pytest.warns(UserWarning) as caught:
        random_split(range(2), [0.9, 0.05, 0.05])
    assert [str(w.message)[:31] for w in caught] == ["Length of split at index 1 is 0",
                                                     "Length of split at index 2 is 0"]
    with pytest.raises(TypeError, match="glassnet Generator"):
        random_split(range(10), [5, 5], generator=np.random.default_rng(0))


def test_weighted_random_sampler_distribution():
    s = WeightedRandomSampler([0.0, 1.0, 3.0], num_samples=4000, generator=Generator().manual_seed(0))
    counts = np.bincount(list(s), minlength=3)
    assert counts[0] == 0 and abs(counts[2] / counts[1] - 3.0) < 0.4
    no_rep = list(WeightedRandomSampler([1.0, 1.0, 1.0, 0.0], 3, replacement=False))
    assert sorted(no_rep) == [0, 1, 2]
    with pytest.raises(RuntimeError, match="without replacement"):
        WeightedRandomSampler([1.0, 0.0], 2, replacement=False)


# ------------------------------------------------------------------ datasets
def test_tensor_dataset_subset_concat():
    x, y = np.arange(20, dtype=np.float64).reshape(10, 2), np.arange(10)
    ds = TensorDataset(Tensor(x), y)
    a, b = ds[3]
    assert isinstance(a, Tensor) and a.dtype == np.float64 and b.dtype == np.int64 and b.item() == 3
    assert len(ds) == 10 and ds.tensors[1].dtype == np.int64
    with pytest.raises(AssertionError, match="Size mismatch"):
        TensorDataset(np.zeros(3), np.zeros(4))
    sub = Subset(ds, [9, 0, 4])
    assert len(sub) == 3 and sub[0][1].item() == 9 and [s[1].item() for s in sub.__getitems__([2, 1])] == [4, 0]
    cat = ds + sub
    assert isinstance(cat, ConcatDataset) and len(cat) == 13 and cat.cumulative_sizes == [10, 13]
    assert cat[10][1].item() == 9 and cat[-1][1].item() == 4
    with pytest.raises(ValueError, match="absolute value"):
        cat[-14]

    class Count(IterableDataset):
        def __init__(self, n):
            self.n = n

        def __iter__(self):
            return iter(range(self.n))

        def __len__(self):
            return self.n

    chain = Count(2) + Count(3)
    assert isinstance(chain, ChainDataset) and list(chain) == [0, 1, 0, 1, 2] and len(chain) == 5
    with pytest.raises(AssertionError):
        ConcatDataset([Count(2)])

    class BadSubset(Subset):
        def __getitem__(self, i):
            return 0
    with pytest.raises(NotImplementedError, match="__getitems__"):
        BadSubset(ds, [0])
    with pytest.raises(NotImplementedError):
        Dataset()[0]


# ------------------------------------------------------------------ DataLoader
class Squares(Dataset):
    """A plain map-style dataset: (float32 array, int label)."""

    def __init__(self, n=10):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return np.full(2, i * i, np.float32), i


def test_dataloader_batches_match_torch(torch):
    td = _tdata(torch)
    for kw in (dict(batch_size=3), dict(batch_size=3, drop_last=True), dict(batch_size=1),
               dict(batch_size=None), dict(batch_size=4, shuffle=True),
               dict(batch_sampler=[[3, 1], [0]]), dict(batch_size=2, sampler=[4, 4, 2])):
        ours = DataLoader(Squares(), **kw, generator=Generator().manual_seed(0))
        theirs = td.DataLoader(Squares(), **kw, generator=torch.Generator().manual_seed(0))
        assert len(ours) == len(theirs), kw
        assert_same(list(ours), list(theirs), torch, str(kw))


def test_shuffle_with_generator_gives_torchs_order_every_epoch(torch):
    x, y = np.random.rand(37, 3).astype(np.float32), np.arange(37)
    ours = DataLoader(TensorDataset(x, y), batch_size=8, shuffle=True,
                      generator=Generator().manual_seed(7))
    theirs = _tdata(torch).DataLoader(_tdata(torch).TensorDataset(torch.from_numpy(x),
                                                                  torch.from_numpy(y)),
                                      batch_size=8, shuffle=True,
                                      generator=torch.Generator().manual_seed(7))
    for _ in range(3):
        assert_same(list(ours), list(theirs), torch)


def test_dataloader_without_batching_and_drop_last():
    items = list(DataLoader(Squares(3), batch_size=None))
    assert [int(lbl) for _, lbl in items] == [0, 1, 2]
    assert isinstance(items[0], list) and isinstance(items[0][0], Tensor) and items[0][1] == 0
    assert len(DataLoader(Squares(10), batch_size=4, drop_last=True)) == 2
    assert [len(b[1]) for b in DataLoader(Squares(10), batch_size=4)] == [4, 4, 2]
    custom = DataLoader(Squares(4), batch_size=2, collate_fn=lambda b: [s[1] for s in b])
    assert list(custom) == [[0, 1], [2, 3]]


@pytest.mark.parametrize("kwargs", [
    dict(sampler=[0, 1], shuffle=True),
    dict(batch_sampler=[[0]], batch_size=2),
    dict(batch_sampler=[[0]], shuffle=True),
    dict(batch_sampler=[[0]], sampler=[0]),
    dict(batch_sampler=[[0]], drop_last=True),
    dict(batch_size=None, drop_last=True),
    dict(num_workers=-1),
    dict(timeout=-1),
    dict(prefetch_factor=2),
    dict(persistent_workers=True),
    dict(multiprocessing_context="fork"),
    dict(batch_size=0),
])
def test_exclusive_options_raise_like_torch(torch, kwargs):
    with pytest.raises(ValueError) as ours:
        DataLoader(Squares(), **kwargs)
    with pytest.raises(ValueError) as theirs:
        _tdata(torch).DataLoader(Squares(), **kwargs)
    assert str(ours.value) == str(theirs.value)


def test_iterable_dataset_options_and_batches(torch):
    class Stream(IterableDataset):
        def __iter__(self):
            return iter([np.float32(i) for i in range(7)])

    class TStream(_tdata(torch).IterableDataset):
        def __iter__(self):
            return iter([np.float32(i) for i in range(7)])

    for kw in (dict(shuffle=True), dict(sampler=[0]), dict(batch_sampler=[[0]])):
        with pytest.raises(ValueError) as ours:
            DataLoader(Stream(), **kw)
        with pytest.raises(ValueError) as theirs:
            _tdata(torch).DataLoader(TStream(), **kw)
        assert str(ours.value).split(", but")[0] == str(theirs.value).split(", but")[0]
    for kw in (dict(batch_size=3), dict(batch_size=3, drop_last=True), dict(batch_size=None)):
        assert_same(list(DataLoader(Stream(), **kw)), list(_tdata(torch).DataLoader(TStream(), **kw)),
                    torch, str(kw))


def test_attributes_are_frozen_and_pin_memory_warns():
    dl = DataLoader(Squares(), batch_size=2)
    with pytest.raises(ValueError, match="batch_size attribute should not be set"):
        dl.batch_size = 4
    dl.num_workers = 0        # not frozen in torch either
    with pytest.warns(UserWarning, match="pin_memory"):
        iter(DataLoader(Squares(), pin_memory=True))


def test_tensor_dataset_batches_are_one_fancy_index():
    x = np.random.rand(50, 4)                      # float64 stays float64
    y = np.arange(50)
    ds = TensorDataset(x, y)
    calls = []

    class Counting(TensorDataset):                 # a subclass with its own __getitem__ ...
        def __getitem__(self, i):
            calls.append(i)
            return super().__getitem__(i)

    fast = list(DataLoader(ds, batch_size=16, shuffle=True, generator=Generator().manual_seed(1)))
    slow = list(DataLoader(Counting(x, y), batch_size=16, shuffle=True,
                           generator=Generator().manual_seed(1)))
    assert len(calls) == 50                        # ... is asked sample by sample
    for (fx, fy), (sx, sy) in zip(fast, slow):
        assert fx.dtype == np.float64 and fy.dtype == np.int64
        np.testing.assert_array_equal(fx.numpy(), sx.numpy())
        np.testing.assert_array_equal(fy.numpy(), sy.numpy())
    assert isinstance(fast[0], list)               # as default_collate of tuples gives
    sub = Subset(ds, list(range(49, -1, -2)))
    xb, yb = next(iter(DataLoader(sub, batch_size=5)))
    assert yb.tolist() == [49, 47, 45, 43, 41]


def test_fast_path_is_much_faster_than_per_sample():
    x = np.random.rand(20000, 64).astype(np.float32)
    y = np.arange(20000)

    class PerSample(TensorDataset):
        def __getitem__(self, i):
            return super().__getitem__(i)

    def epoch(ds):
        t = time.perf_counter()
        for _ in DataLoader(ds, batch_size=64, shuffle=True):
            pass
        return time.perf_counter() - t
    fast = min(epoch(TensorDataset(x, y)) for _ in range(2))
    slow = epoch(PerSample(x, y))
    assert fast * 5 < slow, (fast, slow)


# ------------------------------------------------------------------ workers
class SlowPid(Dataset):
    """Sample i after a delay that varies, so workers finish out of order."""

    def __init__(self, n=24, fail_at=None):
        self.n, self.fail_at = n, fail_at

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if i == self.fail_at:
            raise KeyError(f"no sample {i}")
        time.sleep(0.002 * ((i * 7) % 5))
        info = get_worker_info()
        return np.float32(i), os.getpid(), -1 if info is None else info.id


def test_workers_are_processes_and_keep_order():
    batches = list(DataLoader(SlowPid(), batch_size=3, num_workers=2))
    values = [v for b in batches for v in b[0].tolist()]
    assert values == list(range(24))
    pids = {p for b in batches for p in b[1].tolist()}
    assert len(pids) == 2 and os.getpid() not in pids
    assert [b[2].tolist()[0] for b in batches] == [0, 1] * 4      # round-robin
    single = list(DataLoader(SlowPid(), batch_size=3))
    assert [b[0].tolist() for b in single] == [b[0].tolist() for b in batches]
    assert get_worker_info() is None


def test_worker_error_is_reraised_naming_the_worker():
    with pytest.raises(KeyError, match=r"Caught KeyError in DataLoader worker process 1") as e:
        list(DataLoader(SlowPid(fail_at=2), batch_size=2, num_workers=2))
    assert "no sample 2" in str(e.value) and "Traceback" in str(e.value)


def test_worker_init_info_and_seeds():
    class Info(Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            w = get_worker_info()
            return w.id, w.num_workers, w.seed, float(gn.backend.rng().random())

    def run():
        g = Generator().manual_seed(11)
        return [list(b) for b in DataLoader(Info(), batch_size=None, num_workers=2,
                                               generator=g)]
    first, again = run(), run()
    assert first == again                                   # seeded by the generator
    base = Generator().manual_seed(11).random_int64()
    assert [row[2] for row in first] == [base, base + 1, base, base + 1]
    assert first[0][3] != first[1][3]                       # each worker its own stream


class Tagged(Dataset):
    """Returns the tag its worker_init_fn gave this worker's copy of the dataset."""

    tag = None

    def __len__(self):
        return 4

    def __getitem__(self, i):
        return self.tag


def _tag(worker_id):
    get_worker_info().dataset.tag = 100 + worker_id


def _fail_in_worker_1(worker_id):
    if worker_id == 1:
        raise ValueError(f"init {worker_id}")


def test_worker_init_fn_runs_in_each_worker():
    assert list(DataLoader(Tagged(), batch_size=None, num_workers=2, worker_init_fn=_tag)) == \
        [100, 101, 100, 101]
    with pytest.raises(ValueError, match="init 1"):
        list(DataLoader(Tagged(), batch_size=None, num_workers=2,
                        worker_init_fn=_fail_in_worker_1))


def test_iterable_dataset_sharded_across_workers(torch):
    class Shards(IterableDataset):
        def __iter__(self):
            w = get_worker_info()
            lo, step = (0, 1) if w is None else (w.id, w.num_workers)
            return iter([np.int64(i) for i in range(lo, 11, step)])

    class TShards(_tdata(torch).IterableDataset):
        def __iter__(self):
            w = _tdata(torch).get_worker_info()
            lo, step = (0, 1) if w is None else (w.id, w.num_workers)
            return iter([np.int64(i) for i in range(lo, 11, step)])

    ours = [b.tolist() for b in DataLoader(Shards(), batch_size=2, num_workers=2)]
    theirs = [b.tolist() for b in _tdata(torch).DataLoader(TShards(), batch_size=2, num_workers=2)]
    assert ours == theirs


def test_persistent_workers_are_reused():
    dl = DataLoader(SlowPid(8), batch_size=4, num_workers=2, persistent_workers=True)
    pids = []
    for _ in range(2):
        it = iter(dl)
        assert [v for b in it for v in b[0].tolist()] == list(range(8))
        pids.append(it.worker_pids)
    assert pids[0] == pids[1]
    it = iter(dl)          # leave an epoch early: the next one still starts from the start
    next(it)
    assert [v for b in iter(dl) for v in b[0].tolist()] == list(range(8))
    dl._iterator._stop()


def test_dead_worker_and_timeout_raise():
    class Dies(Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            if get_worker_info() is not None:
                os._exit(3)
            return i

    with pytest.raises(RuntimeError, match="exited unexpectedly"):
        list(DataLoader(Dies(), num_workers=1))

    class Slow(Dataset):
        def __len__(self):
            return 2

        def __getitem__(self, i):
            time.sleep(3)
            return i
    with pytest.raises(RuntimeError, match="timed out after 0.5 seconds"):
        list(DataLoader(Slow(), num_workers=1, timeout=0.5))


def test_unsendable_sample_is_a_clear_error():
    class Local(Dataset):
        def __len__(self):
            return 2

        def __getitem__(self, i):
            return lambda: i                       # cannot be pickled to the main process

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(Exception, match="DataLoader worker process 0"):
            list(DataLoader(Local(), batch_size=None, num_workers=1))


def test_workers_with_the_fast_path_give_torchs_shuffle(torch):
    x, y = np.random.rand(45, 3).astype(np.float32), np.arange(45)
    ours = DataLoader(TensorDataset(x, y), batch_size=8, shuffle=True, num_workers=2,
                      generator=Generator().manual_seed(3))
    theirs = _tdata(torch).DataLoader(
        _tdata(torch).TensorDataset(torch.from_numpy(x), torch.from_numpy(y)), batch_size=8,
        shuffle=True, generator=torch.Generator().manual_seed(3))
    for _ in range(2):
        assert_same(list(ours), list(theirs), torch)


def test_iterable_dataset_with_persistent_workers_restarts_each_epoch():
    class Shards(IterableDataset):
        def __iter__(self):
            w = get_worker_info()
            return iter(range(w.id, 9, w.num_workers))

    dl = DataLoader(Shards(), batch_size=2, num_workers=2, persistent_workers=True)
    epochs = [[b.tolist() for b in dl] for _ in range(2)]
    assert epochs[0] == epochs[1] == [[0, 2], [1, 3], [4, 6], [5, 7], [8]]
    dl._iterator._stop()


def test_import_glassnet_as_torch_idioms(torch):
    import glassnet as gtorch
    split = gtorch.utils.data.random_split(range(20), [0.75, 0.25],
                                           generator=gtorch.Generator().manual_seed(42))
    ref = torch.utils.data.random_split(range(20), [0.75, 0.25],
                                        generator=torch.Generator().manual_seed(42))
    assert [s.indices for s in split] == [s.indices for s in ref]
    sub = Subset(TensorDataset(np.arange(10.0), np.arange(10)), Tensor(np.array([8, 1, 3])))
    assert [int(v) for v in next(iter(DataLoader(sub, batch_size=3)))[1].tolist()] == [8, 1, 3]
    assert sub[0][1].item() == 8
